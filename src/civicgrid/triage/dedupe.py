"""The near-duplicate index (合并): pure Python + numpy, no Django (the bench builds it from generated records).

A record is a case's id, creation time, location (WGS84; else its grid's centre), grid, category family (the
major category), 街道 and complaint text. The index answers "which records of the last ``window`` days describe
the same problem at (nearly) the same place?":

1. **MinHash LSH, partitioned by place.** The text's character bigrams (after NFKC, lower case, punctuation
   removed) get a 64-value MinHash (:class:`datasketch.MinHash`, CRC32 input hash). The signature is cut into 32
   bands of 2 values; each band is hashed together with the record's ~500 m square cell into one 64-bit key. A
   query looks its 32 band keys up in the 3 × 3 cells around it (and in its 街道's "no location" cell): records
   sharing a band in a nearby cell are the candidates. Two texts with bigram Jaccard 0.3 share a band with
   probability 1 − (1 − 0.3²)³² ≈ 0.95; far-away or unrelated texts are never looked at.
2. **Filters**: inside the window, within ``max_distance_m`` (or the same / a neighbouring grid when a location is
   only known by its grid), not a different category family.
3. **Re-rank** with rapidfuzz (the better of ``ratio`` and a damped ``partial_ratio``, so "the same report with
   extra detail" still scores high) into one score with the distance and the family; candidates at or above
   ``threshold`` are kept.

Storage: the bulk-built part is a sorted ``uint64`` key array with the row of each key (``searchsorted``: no
Python object per key); records added later (intake) go to a small dict until the next compaction. Rows are
numpy columns; texts a list of str.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz

NUM_PERM = 64
ROWS = 2
BANDS = NUM_PERM // ROWS
KEYS = BANDS + 1  # the bands and the category
CELL_M = 500.0
SEED = 20261126
M_PER_DEG_LAT = 110_574.0
_NOLOC = 1 << 40  # cell x of the "no location" cell of a 街道


@functools.cache
def _minhash() -> Callable[[], object]:
    """A maker of empty MinHash sketches sharing one set of permutations. datasketch is imported on first use:
    it imports scipy (half a second), which every process start (CLI commands, workers) would pay otherwise."""
    from datasketch import MinHash

    template = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=zlib.crc32)
    # datasketch ≥ 2.0 wants the permutation scheme named when permutations are passed in
    scheme = {"scheme": template.scheme} if getattr(template, "scheme", None) else {}
    return functools.partial(
        MinHash, num_perm=NUM_PERM, hashfunc=zlib.crc32, permutations=template.permutations, **scheme
    )


_DROP = re.compile(r"[\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")


# the most rows one check text-compares from each end (earliest, latest) of a burst of the same problem
RANK_EACH_END = 200


@dataclass(frozen=True)
class Params:
    window_days: float = 30.0
    max_distance_m: float = 300.0
    min_text: float = 0.15  # rapidfuzz similarity (0–1) below which a record is never a candidate
    min_text_other_category: float = 0.7  # the same, when both cases have a 小类 and they differ
    min_place: float = 0.6  # place score (closeness, address) below which a record is never a candidate
    threshold: float = 0.6  # combined score to show a candidate
    limit: int = 5
    w_text: float = 0.4
    w_place: float = 0.35
    w_category: float = 0.25


DEFAULT = Params()


@dataclass(slots=True)
class Record:
    id: int
    created: float  # epoch seconds
    text: str
    lng: float | None = None
    lat: float | None = None
    grid: int | None = None
    family: int | None = None
    street: int | None = None
    address: str = ""
    category: int | None = None


@dataclass(slots=True)
class Candidate:
    id: int
    score: float
    text_similarity: float
    address_similarity: float | None
    distance_m: float | None
    same_grid: bool
    neighbour_grid: bool
    same_family: bool | None
    same_category: bool | None

    def reasons(self) -> dict:
        return {
            "distance_m": None if self.distance_m is None else round(self.distance_m),
            "text_similarity": round(self.text_similarity, 3),
            "address_similarity": None
            if self.address_similarity is None
            else round(self.address_similarity, 3),
            "same_grid": self.same_grid,
            "neighbour_grid": self.neighbour_grid,
            "same_family": self.same_family,
            "same_category": self.same_category,
        }


@dataclass
class Grids:
    """Grid id → (centre lng, lat) and the neighbours of each grid (bounding boxes touching)."""

    centres: dict[int, tuple[float, float]] = field(default_factory=dict)
    neighbours: dict[int, frozenset[int]] = field(default_factory=dict)

    @classmethod
    def from_boxes(
        cls, boxes: dict[int, tuple[float, float, float, float]], tol_deg: float = 0.0003
    ) -> Grids:
        """``boxes``: grid id → (min_lng, min_lat, max_lng, max_lat)."""
        ids = list(boxes)
        centres = {g: ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for g, b in boxes.items()}
        neighbours: dict[int, set[int]] = {g: set() for g in ids}
        for i, g in enumerate(ids):
            a = boxes[g]
            for h in ids[i + 1 :]:
                b = boxes[h]
                if (
                    a[0] - tol_deg <= b[2]
                    and b[0] - tol_deg <= a[2]
                    and a[1] - tol_deg <= b[3]
                    and b[1] - tol_deg <= a[3]
                ):
                    neighbours[g].add(h)
                    neighbours[h].add(g)
        return cls(centres, {g: frozenset(n) for g, n in neighbours.items()})


def normalize(text: str) -> str:
    return _DROP.sub("", unicodedata.normalize("NFKC", text or "").lower())


def problem_text(text: str, address: str = "") -> str:
    """The normalized complaint text without its address (compared on its own, :func:`address_similarity`)."""
    norm = normalize(text)
    addr = normalize(address)
    if addr and len(addr) >= 4:
        norm = norm.replace(addr, "")
    return norm


def address_similarity(a: str, b: str) -> float:
    """0–1 on normalized addresses: one contained in the other (a shorter form of the same place) is 1; else
    rapidfuzz ``ratio``, halved when both name house numbers and none is shared (23号院 ≠ 25号院)."""
    if not a or not b:
        return 0.0
    if min(len(a), len(b)) >= 5 and (a in b or b in a):
        return 1.0
    sim = fuzz.ratio(a, b) / 100.0
    na, nb = set(_DIGITS.findall(a)), set(_DIGITS.findall(b))
    if na and nb and not na & nb:
        sim *= 0.5
    return sim


def shingles(norm: str) -> list[bytes]:
    if len(norm) < 2:
        return [norm.encode("utf-8")] if norm else [b""]
    return [norm[i : i + 2].encode("utf-8") for i in range(len(norm) - 1)]


def signature(norm: str) -> np.ndarray:
    m = _minhash()()
    m.update_batch(shingles(norm))
    return m.hashvalues


def text_similarity(a: str, b: str) -> float:
    """0–1: rapidfuzz ``ratio`` of the normalized texts, or their ``partial_ratio`` damped by the length ratio
    (one report is the other with more detail)."""
    if not a or not b:
        return 0.0
    r = fuzz.ratio(a, b)
    short, long_ = (len(a), len(b)) if len(a) <= len(b) else (len(b), len(a))
    if short >= 8:
        p = fuzz.partial_ratio(a, b) * (0.85 + 0.15 * short / long_)
        r = max(r, p)
    return r / 100.0


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (uint64 → uint64), vectorised."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


_BAND_SALT = _mix(np.arange(1, BANDS + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))


def band_hashes(sigs: np.ndarray) -> np.ndarray:
    """(n, NUM_PERM) signatures → (n, BANDS) uint64 band hashes (cell not yet mixed in)."""
    s = sigs.astype(np.uint64).reshape(len(sigs), BANDS, ROWS)
    with np.errstate(over="ignore"):
        h = (s[:, :, 0] << np.uint64(32)) | s[:, :, 1]
        return _mix(h ^ _BAND_SALT)


def cell_hash(cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return _mix(
            (cx.astype(np.int64).astype(np.uint64) * np.uint64(0x100000001B3))
            ^ cy.astype(np.int64).astype(np.uint64)
        )


_CATEGORY_SALT = np.uint64(0xC2B2AE3D27D4EB4F)


def _with_category(bands: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """One more "band" per record: its category (records without one get a key nobody else has)."""
    cat = categories.astype(np.int64)
    with np.errstate(over="ignore"):
        extra = np.where(
            cat >= 0,
            _mix(cat.astype(np.uint64) ^ _CATEGORY_SALT),
            _mix(np.arange(len(cat), dtype=np.uint64) + np.uint64(np.random.randint(1, 2**62))),
        )
    return np.hstack([bands, extra[:, None]])


def _keys(bands: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """(n, BANDS) band hashes × (n,) cell hashes → (n, BANDS) keys."""
    with np.errstate(over="ignore"):
        return _mix(bands ^ cells[:, None])


class _Columns:
    """Growable numpy columns of the records (row = position)."""

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self.id = np.zeros(capacity, np.int64)
        self.created = np.zeros(capacity, np.float64)
        self.lng = np.full(capacity, np.nan, np.float64)
        self.lat = np.full(capacity, np.nan, np.float64)
        self.grid = np.full(capacity, -1, np.int64)
        self.family = np.full(capacity, -1, np.int64)
        self.street = np.full(capacity, -1, np.int64)
        self.category = np.full(capacity, -1, np.int64)
        self.text: list[str] = []
        self.address: list[str] = []

    NAMES = ("id", "created", "lng", "lat", "grid", "family", "street", "category")

    def reserve(self, extra: int) -> None:
        need = self.n + extra
        cap = len(self.id)
        if need <= cap:
            return
        new = max(need, cap * 2)
        for name in self.NAMES:
            old = getattr(self, name)
            fill = (
                np.nan
                if old.dtype == np.float64 and name in ("lng", "lat")
                else (-1 if name in ("grid", "family", "street", "category") else 0)
            )
            arr = np.full(new, fill, old.dtype)
            arr[: self.n] = old[: self.n]
            setattr(self, name, arr)


class Index:
    """The in-memory near-duplicate index of one process. Not thread-safe by itself: callers hold a lock."""

    def __init__(self, *, grids: Grids | None = None, params: Params = DEFAULT, cell_m: float = CELL_M):
        self.grids = grids or Grids()
        self.params = params
        self.cell_m = cell_m
        self.cols = _Columns()
        self.rows_by_id: dict[int, int] = {}
        self.base_keys = np.zeros(0, np.uint64)
        self.base_rows = np.zeros(0, np.uint32)
        self.delta: dict[int, list[int]] = {}
        self.delta_count = 0
        self.removed: set[int] = set()

    def __len__(self) -> int:
        return len(self.rows_by_id)

    # --- places ---------------------------------------------------------------------------------

    def _place(self, lng, lat, grid) -> tuple[float | None, float | None]:
        if lng is not None and lat is not None and not (math.isnan(lng) or math.isnan(lat)):
            return float(lng), float(lat)
        if grid is not None and grid in self.grids.centres:
            return self.grids.centres[grid]
        return None, None

    def _cells(self, lng: np.ndarray, lat: np.ndarray, street: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        located = ~np.isnan(lng)
        y = np.where(located, lat, 0.0) * M_PER_DEG_LAT
        x = np.where(located, lng, 0.0) * M_PER_DEG_LAT * np.cos(np.radians(np.where(located, lat, 0.0)))
        cx = np.where(located, np.floor(x / self.cell_m), _NOLOC + street).astype(np.int64)
        cy = np.where(located, np.floor(y / self.cell_m), -7).astype(np.int64)
        return cx, cy

    # --- writes ---------------------------------------------------------------------------------

    def build(self, records: Iterable[Record], *, chunk: int = 50_000) -> None:
        """Bulk load (replaces the index's content)."""
        self.__init__(grids=self.grids, params=self.params, cell_m=self.cell_m)
        all_keys, all_rows = [], []
        batch: list[Record] = []

        def flush():
            if not batch:
                return
            rows0 = self.cols.n
            keys = self._append(batch)
            all_keys.append(keys.ravel())
            all_rows.append(np.repeat(np.arange(rows0, rows0 + len(batch), dtype=np.uint32), KEYS))
            batch.clear()

        for r in records:
            batch.append(r)
            if len(batch) >= chunk:
                flush()
        flush()
        if all_keys:
            keys = np.concatenate(all_keys)
            rows = np.concatenate(all_rows)
            order = np.argsort(keys, kind="stable")
            self.base_keys, self.base_rows = keys[order], rows[order]

    def _append(self, batch: list[Record]) -> np.ndarray:
        c = self.cols
        n = len(batch)
        c.reserve(n)
        s = slice(c.n, c.n + n)
        places = [self._place(r.lng, r.lat, r.grid) for r in batch]
        c.id[s] = [r.id for r in batch]
        c.created[s] = [r.created for r in batch]
        c.lng[s] = [p[0] if p[0] is not None else np.nan for p in places]
        c.lat[s] = [p[1] if p[1] is not None else np.nan for p in places]
        c.grid[s] = [-1 if r.grid is None else r.grid for r in batch]
        c.family[s] = [-1 if r.family is None else r.family for r in batch]
        c.street[s] = [-1 if r.street is None else r.street for r in batch]
        c.category[s] = [-1 if r.category is None else r.category for r in batch]
        norms = [problem_text(r.text, r.address) for r in batch]
        c.text.extend(norms)
        c.address.extend(normalize(r.address) for r in batch)
        sigs = np.vstack([signature(t) for t in norms])
        cx, cy = self._cells(c.lng[s], c.lat[s], c.street[s])
        keys = _keys(_with_category(band_hashes(sigs), c.category[s]), cell_hash(cx, cy))
        for i, r in enumerate(batch):
            self.rows_by_id[r.id] = c.n + i
        c.n += n
        return keys

    def add(self, record: Record) -> None:
        """One new record (intake); a record already indexed is left alone."""
        if record.id in self.rows_by_id:
            return
        row = self.cols.n
        keys = self._append([record])[0]
        for k in keys.tolist():
            self.delta.setdefault(k, []).append(row)
        self.delta_count += 1
        if self.delta_count > max(50_000, len(self.base_keys) // KEYS // 4):
            self.compact()

    def discard(self, record_id: int) -> None:
        """Forget a record (it no longer exists); its row stays but is never returned."""
        row = self.rows_by_id.pop(record_id, None)
        if row is not None:
            self.removed.add(row)

    def compact(self) -> None:
        if not self.delta:
            return
        keys = np.fromiter((k for k, rows in self.delta.items() for _ in rows), np.uint64)
        rows = np.fromiter((r for rs in self.delta.values() for r in rs), np.uint32)
        keys = np.concatenate([self.base_keys, keys])
        rows = np.concatenate([self.base_rows, rows])
        order = np.argsort(keys, kind="stable")
        self.base_keys, self.base_rows = keys[order], rows[order]
        self.delta.clear()
        self.delta_count = 0

    # --- reads ----------------------------------------------------------------------------------

    def query_rows(self, record: Record) -> np.ndarray:
        """Rows sharing a band with ``record`` in its 3 × 3 cells (and its 街道's no-location cell)."""
        lng, lat = self._place(record.lng, record.lat, record.grid)
        street = -1 if record.street is None else record.street
        if lng is None:
            cx, cy = self._cells(np.array([np.nan]), np.array([np.nan]), np.array([street]))
        else:
            cx0, cy0 = self._cells(np.array([lng]), np.array([lat]), np.array([street]))
            dx, dy = np.meshgrid(np.arange(-1, 2), np.arange(-1, 2))
            cx = np.append(cx0[0] + dx.ravel(), _NOLOC + street)
            cy = np.append(cy0[0] + dy.ravel(), -7)
        bands = band_hashes(signature(problem_text(record.text, record.address))[None, :])
        bands = _with_category(bands, np.array([-1 if record.category is None else record.category]))[0]
        keys = _keys(np.broadcast_to(bands, (len(cx), KEYS)), cell_hash(cx, cy)).ravel()
        found = []
        if len(self.base_keys):
            lo = np.searchsorted(self.base_keys, keys, "left")
            hi = np.searchsorted(self.base_keys, keys, "right")
            for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
                if b > a:
                    found.append(self.base_rows[a:b])
        if self.delta:
            extra = [r for k in keys.tolist() for r in self.delta.get(k, ())]
            if extra:
                found.append(np.asarray(extra, np.uint32))
        if not found:
            return np.zeros(0, np.int64)
        return np.unique(np.concatenate(found)).astype(np.int64)

    def check(
        self,
        record: Record,
        *,
        params: Params | None = None,
        exclude: Callable[[int], bool] | None = None,
    ) -> list[Candidate]:
        """The near-duplicates of ``record`` among the indexed records, best first."""
        p = params or self.params
        rows = self.query_rows(record)
        return self.rank(record, rows, params=p, exclude=exclude)

    def rank(self, record: Record, rows: np.ndarray, *, params: Params, exclude=None) -> list[Candidate]:
        p = params
        c = self.cols
        if len(rows) == 0:
            return []
        lng, lat = self._place(record.lng, record.lat, record.grid)
        created = c.created[rows]
        keep = (created >= record.created - p.window_days * 86400) & (created <= record.created + 60)
        keep &= c.id[rows] != record.id
        fam = c.family[rows]
        if record.family is not None:
            keep &= (fam == -1) | (fam == record.family)
        dist = np.full(len(rows), np.nan)
        if lng is not None:
            dist = haversine(lng, lat, c.lng[rows], c.lat[rows])
        grid = c.grid[rows]
        same_grid = (
            (grid == record.grid) & (grid != -1) if record.grid is not None else np.zeros(len(rows), bool)
        )
        nb = self.grids.neighbours.get(record.grid, frozenset()) if record.grid is not None else frozenset()
        near_grid = same_grid | (np.isin(grid, list(nb)) if nb else False)
        located = ~np.isnan(dist)
        keep &= np.where(
            located, dist <= p.max_distance_m, near_grid | (c.street[rows] == (record.street or -2))
        )
        out: list[Candidate] = []
        qtext = problem_text(record.text, record.address)
        qaddr = normalize(record.address)
        picked = np.flatnonzero(keep)
        if len(picked) > 2 * RANK_EACH_END:
            # a burst of the same complaint: each new one matches all the others. Text-compare the earliest
            # (the likely master) and the latest only, so a check stays bounded however big the burst grows.
            order = picked[np.argsort(created[picked], kind="stable")]
            picked = np.concatenate([order[:RANK_EACH_END], order[-RANK_EACH_END:]])
        for i in picked.tolist():
            row = int(rows[i])
            if row in self.removed:
                continue
            rid = int(c.id[row])
            if exclude is not None and exclude(rid):
                continue
            ts = text_similarity(qtext, c.text[row])
            if ts < p.min_text:
                continue
            d = float(dist[i]) if located[i] else None
            if d is not None:
                closeness = 1.0 - d / p.max_distance_m
            else:
                closeness = 0.6 if same_grid[i] else 0.4
            caddr = c.address[row]
            asim = address_similarity(qaddr, caddr) if qaddr and caddr else None
            place = closeness if asim is None else 0.5 * closeness + 0.5 * asim
            if place < p.min_place:
                continue
            f = None if record.family is None or fam[i] == -1 else bool(fam[i] == record.family)
            ccat = int(c.category[row])
            k = None if record.category is None or ccat == -1 else ccat == record.category
            if k is False and ts < p.min_text_other_category:
                continue  # filed under another 小类: only a near-identical text is the same problem
            kind = 1.0 if k else (0.5 if k is None and f is not False else 0.25)
            score = p.w_text * ts + p.w_place * place + p.w_category * kind
            if score < p.threshold:
                continue
            out.append(
                Candidate(
                    rid,
                    round(score, 4),
                    ts,
                    asim,
                    d,
                    bool(same_grid[i]),
                    bool(near_grid[i]) and not bool(same_grid[i]),
                    f,
                    k,
                )
            )
        out.sort(key=lambda x: (-x.score, x.id))
        return out[: p.limit]

    def brute_force(self, record: Record, *, params: Params | None = None) -> list[Candidate]:
        """The same answer without the LSH: rapidfuzz against every record of the window (the bench's baseline)."""
        p = params or self.params
        from rapidfuzz import process

        c = self.cols
        qtext = problem_text(record.text, record.address)
        scores = process.cdist([qtext], c.text, scorer=fuzz.ratio, dtype=np.uint8, workers=1)[0]
        partial = process.cdist([qtext], c.text, scorer=fuzz.partial_ratio, dtype=np.uint8, workers=1)[0]
        best = np.maximum(scores, (partial * 0.85).astype(np.uint8))
        rows = np.flatnonzero(best[: c.n] >= p.min_text * 100 * 0.85)
        return self.rank(record, rows, params=p)

    def memory_bytes(self) -> int:
        c = self.cols
        cols = sum(getattr(c, n).nbytes for n in c.NAMES)
        return int(cols + self.base_keys.nbytes + self.base_rows.nbytes)


def haversine(lng: float, lat: float, lngs: np.ndarray, lats: np.ndarray) -> np.ndarray:
    r = 6_371_000.0
    p1, p2 = math.radians(lat), np.radians(lats)
    dphi = p2 - p1
    dl = np.radians(lngs - lng)
    a = np.sin(dphi / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
