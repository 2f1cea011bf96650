"""Address → (grid, building): a per-process index of every building and unit address, rebuilt on changes.

Two layers, the same way :mod:`civicgrid.core.geoindex` is built:

- :class:`AddressIndex` is immutable and knows nothing about the database. It holds the normalised candidate
  strings (building address, name and aliases; unit address and name), who owns each one
  ``(building id, grid id)``, each candidate's (road, house number) pairs and an index from those pairs to the
  candidates. :meth:`AddressIndex.best` / :meth:`AddressIndex.locate` match one free-text address: WRatio
  top 30 (≥ 40, among the candidates sharing a character bigram with it) plus every candidate carrying the
  query's exact road and house number, scored by
  :func:`address_score`, accepted at :data:`ADDRESS_MIN_SCORE`. A query that carries a known (road, house
  number) or equals a candidate scores the maximum (100) without any fuzzy scoring (the same answer, ~100×
  cheaper).

- The process cache (:func:`address_index`) loads the candidates from the database once and keeps them until
  the places revision (``core.revisions``) moves (read at most once per :data:`CHECK_INTERVAL` seconds). Every grid, building
  and unit save/delete bumps the revision (:mod:`civicgrid.places.signals`) and drops this process's index at
  once (:func:`invalidate`); bulk writers call ``signals.bump_revision()`` once when they are done. Readers take
  a reference to an immutable index; rebuilds happen under a lock.

``places.selectors.locate_by_address`` is the scoped, model-returning front door; bulk callers (the 12345
importer) use :func:`address_index` directly and get ids back without any query per address.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from civicgrid.core.revcache import RevisionCache

ADDRESS_MIN_SCORE = 80.0

# fuzzy answers remembered per index (see AddressIndex.best)
FUZZY_MEMO_SIZE = 20_000

# the fuzzy shortlist is taken among the candidates sharing a character bigram with the query (see
# AddressIndex._pool), unless the query is shorter than this or the pool holds more than this share of them all
POOL_MIN_QUERY = 4
POOL_MAX_SHARE = 0.6

# seconds between two revision checks in one process
CHECK_INTERVAL = 1.0

_ADMIN_PREFIXES = [
    re.compile(p)
    for p in (
        r"^中国",
        r"^[\u4e00-\u9fff]{2,7}?(?:省|自治区|特别行政区)",
        r"^[\u4e00-\u9fff]{2,8}?(?:市|自治州|地区|盟)",
        r"^[\u4e00-\u9fff]{1,8}?(?:区|县|旗)",
        r"^[\u4e00-\u9fff]{2,10}?(?:街道|镇|乡)",
    )
]
# what a road name (not an administrative prefix) is followed by: "新区路" is a road, not 新区 + 路
_ROAD_AFTER_PREFIX = re.compile(r"^(?:路|街|道|大道|大街|巷|弄|里|胡同|号|\d)")
_ROAD_NUMBER = re.compile(r"([\u4e00-\u9fffA-Za-z]{1,12}?(?:大道|大街|路|街|巷|弄|胡同|里|道))(\d+)(?:号|弄)")
_NOISE = re.compile(r"[\s,，.。、;；:：'\"“”‘’()（）\[\]【】<>《》\-—_/\\#]+")


def normalise_address(text: str) -> str:
    """Full-width → half-width (NFKC), no spaces/punctuation, lower case, 省/市/区/街道 prefixes stripped."""
    s = _NOISE.sub("", unicodedata.normalize("NFKC", text or "")).lower()
    for pattern in _ADMIN_PREFIXES:
        m = pattern.match(s)
        if m and m.end() < len(s) and not _ROAD_AFTER_PREFIX.match(s[m.end() :]):
            s = s[m.end() :]
    return s


def road_numbers(text: str) -> set[tuple[str, str]]:
    """The (road, house number) pairs in a normalised address: ``"示范路012号"`` → ``{("示范路", "12")}``."""
    return {(road, str(int(no))) for road, no in _ROAD_NUMBER.findall(text)}


def address_score(
    query: str,
    query_roads: set[tuple[str, str]],
    candidate: str,
    candidate_roads: Iterable[tuple[str, str]] | None = None,
) -> float:
    """WRatio, lifted to ≥ 90 when road and house number agree, capped at 60 when only the number differs.

    ``candidate_roads`` is ``road_numbers(candidate)``, passed in when the caller already has it.
    """
    from rapidfuzz import fuzz

    score = float(fuzz.WRatio(query, candidate))
    same_number, other_number = 0.0, False
    if candidate_roads is None:
        candidate_roads = road_numbers(candidate)
    for q_road, q_no in query_roads:
        for c_road, c_no in candidate_roads:
            similarity = fuzz.ratio(q_road, c_road)
            if similarity < 80:
                continue
            if q_no == c_no:
                same_number = max(same_number, similarity)
            else:
                other_number = True
    if same_number:
        return max(score, 90.0 + same_number / 10)
    if other_number:
        return min(score, 60.0)  # the same road, another house number: never the same place
    return score


class AddressMatch(NamedTuple):
    """The best candidate for an address. ``grid_id`` is ``None`` when nothing reached the threshold; ``score``
    (0–100, one decimal) is the best score either way."""

    grid_id: int | None
    building_id: int | None
    score: float


_NO_MATCH = AddressMatch(None, None, 0.0)


class AddressIndex:
    """An immutable address index over ``(text, building id, grid id)`` candidates. See the module docstring.

    Candidates are kept in the order given (ties go to the earlier one), so an index built from the same rows
    always answers the same.
    """

    def __init__(self, candidates: Iterable[tuple[str, int | None, int]]):
        strings: list[str] = []
        owners: list[tuple[int | None, int]] = []
        for raw, building_id, grid_id in candidates:
            norm = normalise_address(raw)
            if len(norm) >= 2:
                strings.append(norm)
                owners.append((building_id, grid_id))
        self.strings: tuple[str, ...] = tuple(strings)
        self.owners: tuple[tuple[int | None, int], ...] = tuple(owners)
        self.roads: tuple[frozenset[tuple[str, str]], ...] = tuple(
            frozenset(road_numbers(s)) for s in strings
        )
        by_road: dict[tuple[str, str], list[int]] = {}
        for i, roads in enumerate(self.roads):
            for road in roads:
                by_road.setdefault(road, []).append(i)
        self.by_road: dict[tuple[str, str], tuple[int, ...]] = {k: tuple(v) for k, v in by_road.items()}
        # the first candidate of each distinct string (the fast path for an address given exactly as stored)
        self.first_exact: dict[str, int] = {}
        for i, s in enumerate(strings):
            self.first_exact.setdefault(s, i)
        # normalised query → answer of the fuzzy scan (~2 ms each over a few thousand candidates); the index is
        # immutable, so an answer never goes stale; bounded (emptied when full) so memory stays flat
        self._fuzzy_memo: dict[str, AddressMatch] = {}
        # character bigram → candidates carrying it (ascending), built on the first fuzzy lookup
        self._by_bigram: dict[str, list[int]] | None = None

    def __len__(self) -> int:
        return len(self.strings)

    def best(self, text: str) -> AddressMatch:
        """The best candidate for ``text``; ``grid_id``/``building_id`` are ``None`` below the threshold."""
        query = normalise_address(text)
        if len(query) < 2 or not self.strings:
            return _NO_MATCH
        query_roads = road_numbers(query)
        # Fast path, no fuzzy scoring: 100 is the highest score there is, and exactly two kinds of candidate reach
        # it — one carrying the query's exact (road, house number) (lifted to 90 + 100/10) and one equal to the
        # query (WRatio 100; it carries the query's road numbers too, if any). Ties go to the earlier candidate,
        # as in the full scan below, so the answer is the one the full scan gives.
        if query_roads:
            first = min((i for road in query_roads for i in self.by_road.get(road, ())), default=None)
        else:
            first = self.first_exact.get(query)
        if first is not None:
            building_id, grid_id = self.owners[first]
            return AddressMatch(grid_id, building_id, 100.0)
        found = self._fuzzy_memo.get(query)
        if found is None:
            if len(self._fuzzy_memo) >= FUZZY_MEMO_SIZE:
                self._fuzzy_memo.clear()
            found = self._fuzzy_memo[query] = self._fuzzy_best(query, query_roads)
        return found

    def _fuzzy_best(self, query: str, query_roads: set[tuple[str, str]]) -> AddressMatch:
        """WRatio top 30 (≥ 40) plus the candidates carrying the query's exact road and number, scored by
        :func:`address_score`; the top 30 are taken among the candidates sharing a character bigram with the
        query (:meth:`_pool`), not all of them — see :data:`POOL_MAX_SHARE`."""
        from rapidfuzz import fuzz, process

        pool = self._pool(query)
        if pool is None:
            hits = process.extract(query, self.strings, scorer=fuzz.WRatio, limit=30, score_cutoff=40)
            shortlist = {i for _s, _score, i in hits}
        else:
            strings = self.strings
            hits = process.extract(
                query, [strings[i] for i in pool], scorer=fuzz.WRatio, limit=30, score_cutoff=40
            )
            shortlist = {pool[j] for _s, _score, j in hits}
        for road in query_roads:  # the exact road + number, wherever the fuzzy shortlist put it
            shortlist.update(self.by_road.get(road, ()))
        best_i, best = None, 0.0
        for i in sorted(shortlist):
            score = address_score(query, query_roads, self.strings[i], self.roads[i])
            if score > best:
                best_i, best = i, score
        if best_i is None or best < ADDRESS_MIN_SCORE:
            return AddressMatch(None, None, round(best, 1))
        building_id, grid_id = self.owners[best_i]
        return AddressMatch(grid_id, building_id, round(best, 1))

    def _pool(self, query: str) -> list[int] | None:
        """The candidates (ascending) that share at least one character bigram with ``query``, or ``None`` to
        scan them all (a short query, or a pool too large to be worth it).

        A candidate that shares no two adjacent characters with the query is at most a weak WRatio neighbour,
        never the place an address names: the scan over this pool answers every address the full scan matched
        with the same building (``tests/places/test_address_fuzzy_pool.py`` compares both on the demo's addresses
        and typo'd variants). An address matching nothing may report a lower best score than the full scan did
        (its best weak neighbour may lie outside the pool); the score of a match is the same."""
        if len(query) < POOL_MIN_QUERY:
            return None
        by_bigram = self._by_bigram
        if by_bigram is None:
            grams: dict[str, list[int]] = {}
            for i, s in enumerate(self.strings):
                for g in {s[k : k + 2] for k in range(len(s) - 1)}:
                    grams.setdefault(g, []).append(i)
            by_bigram = self._by_bigram = grams
        found: set[int] = set()
        for g in {query[k : k + 2] for k in range(len(query) - 1)}:
            found.update(by_bigram.get(g, ()))
        if len(found) > POOL_MAX_SHARE * len(self.strings):
            return None
        return sorted(found)

    def locate(self, text: str) -> AddressMatch | None:
        """The match for ``text`` (ids and score), or ``None`` when nothing reaches :data:`ADDRESS_MIN_SCORE`.

        Unscoped and query-free: the caller decides whether the user may see the grid.
        """
        match = self.best(text)
        return match if match.grid_id is not None else None


def candidates_from_db() -> list[tuple[str, int | None, int]]:
    """Every building's address, name and aliases and every unit's address and name, in a stable order."""
    from civicgrid.places.models import Building, Unit

    rows: list[tuple[str, int | None, int]] = []
    for pk, grid_id, name, address, aliases in Building.objects.values_list(
        "pk", "grid_id", "name", "address", "aliases"
    ):
        for raw in (address, name, *(aliases or "").split("|")):
            rows.append((raw, pk, grid_id))
    for building_id, grid_id, name, address in Unit.objects.values_list(
        "building_id", "grid_id", "name", "address"
    ):
        for raw in (address, name):
            rows.append((raw, building_id, grid_id))
    return rows


def build_from_db() -> AddressIndex:
    """A fresh, uncached index of what the database holds now."""
    return AddressIndex(candidates_from_db())


# --- the per-process cache over the database ---------------------------------------------------------


def invalidate() -> None:
    """Forget the cached index: the next lookup in this process rebuilds it (cheap; no lock needed)."""
    _index_cache.invalidate()


def _read_revision() -> int:
    from civicgrid.places.signals import current_revision

    return current_revision()


_index_cache: RevisionCache[AddressIndex] = RevisionCache(
    load=lambda: build_from_db(), read_revision=lambda: _read_revision(), check_interval=CHECK_INTERVAL
)


def address_index() -> AddressIndex:
    """The process's address index over all buildings and units, built on first use and rebuilt when
    the places revision moved (checked at most once per :data:`CHECK_INTERVAL` seconds) or this process changed
    a building, unit or grid.

    For bulk callers: take it and call ``.locate(text)`` (ids + score, no database query) per address. The
    index is immutable, so holding one reference for a whole batch gives consistent answers.
    """
    return _index_cache.get()
