"""Point → grid lookup: an in-memory shapely 2 index, one per process, rebuilt when the grids change.

Two layers:

- :class:`GridIndex` is immutable and knows nothing about the database. It is built from ``(ids, polygons,
  ranks)`` with :func:`build_index`; *lower rank wins* where polygons overlap (the places app ranks a 专属网格
  before every ordinary grid, then by grid code, so the most specific grid wins and a point on a shared edge
  always resolves to the lowest code among the grids that cover it). Polygons are closed: a point on an edge or
  a vertex is covered by every polygon that has it on its boundary, so a point on an edge inside a tiling is
  never "nowhere". A point in a hole that no other polygon fills resolves to ``None``.

  Bulk lookups (:meth:`GridIndex.locate_many`) are vectorised. At build time the extent is cut into a raster of
  cells; a cell that no polygon touches answers ``None``, a cell that the highest-ranked polygon touching it
  covers completely answers that polygon, both without any geometry test. Only points in the remaining
  ("mixed") cells are tested, with ``shapely.intersects_xy`` against that cell's few candidate polygons
  (prepared), all in one vectorised call. The result is exactly what the per-point STRtree query gives
  (:meth:`GridIndex.locate_naive`), only much faster.

- The process cache (:func:`get_index`, :func:`locate`, :func:`locate_many`) loads the active grids from the
  database. the places revision (``core.revisions``, ``"places"``) is bumped whenever a grid changes; the cache reads it at most
  once per :data:`CHECK_INTERVAL` seconds and rebuilds when it moved. Saving a grid in this process also
  calls :func:`invalidate`, so this process sees its own change at once. The cache is thread-safe: readers
  take a reference to an immutable index; rebuilds happen under a lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from civicgrid.core.revcache import RevisionCache

logger = logging.getLogger(__name__)

NO_GRID = -1
_EMPTY_CELL = -1
_MIXED_CELL = -2

# seconds between two revision checks in one process
CHECK_INTERVAL = 1.0


class GridIndex:
    """An immutable point-in-polygon index. See the module docstring."""

    def __init__(
        self,
        ids: Sequence[int],
        polygons: Sequence[BaseGeometry],
        ranks: Sequence[float] | None = None,
        *,
        cells_per_polygon: int = 32,
        max_cells: int = 2_000_000,
    ):
        ids_arr = np.asarray(ids, dtype=np.int64)
        polys = np.asarray(polygons, dtype=object)
        if polys.ndim != 1 or len(ids_arr) != len(polys):
            raise ValueError("ids and polygons must be 1-d and of the same length")
        if ranks is None:
            order = np.arange(len(polys))
        else:
            rank_arr = np.asarray(ranks)
            if len(rank_arr) != len(polys):
                raise ValueError("ranks must be as long as polygons")
            order = np.argsort(rank_arr, kind="stable")
        # store by priority: position 0 is the polygon that wins every tie
        self.ids = ids_arr[order]
        self.polygons = polys[order]
        shapely.prepare(self.polygons)
        self.tree = STRtree(self.polygons)
        self._build_raster(cells_per_polygon, max_cells)

    def __len__(self) -> int:
        return len(self.polygons)

    # --- build ---------------------------------------------------------------------------------------

    def _build_raster(self, cells_per_polygon: int, max_cells: int) -> None:
        n = len(self.polygons)
        if n == 0:
            self._bounds = None
            return
        x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(self.polygons))
        w, h = x1 - x0, y1 - y0
        span = max(w, h, 1e-9)
        w, h = max(w, span * 1e-6), max(h, span * 1e-6)
        target = int(min(max_cells, max(64, cells_per_polygon * n)))
        nx = max(1, round((target * w / h) ** 0.5))
        ny = max(1, round(target / nx))
        dx, dy = w / nx, h / ny
        # cells are tested slightly enlarged, so that a point put into a neighbouring cell by float rounding of
        # the cell arithmetic is still inside the cell that answers for it
        eps = max(dx, dy) * 1e-6
        cx, cy = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
        cx, cy = cx.ravel(), cy.ravel()
        boxes = shapely.box(
            x0 + cx * dx - eps, y0 + cy * dy - eps, x0 + (cx + 1) * dx + eps, y0 + (cy + 1) * dy + eps
        )
        cell_idx, poly_pos = self.tree.query(boxes, predicate="intersects")
        order = np.lexsort((poly_pos, cell_idx))
        cell_idx, poly_pos = cell_idx[order], poly_pos[order]
        n_cells = nx * ny
        counts = np.bincount(cell_idx, minlength=n_cells)
        starts = np.zeros(n_cells, dtype=np.int64)
        np.cumsum(counts[:-1], out=starts[1:])

        codes = np.full(n_cells, _EMPTY_CELL, dtype=np.int64)
        touched = np.flatnonzero(counts)
        best = poly_pos[starts[touched]]  # the highest-priority polygon touching each touched cell
        covered = shapely.covers(self.polygons[best], boxes[touched])
        codes[touched] = np.where(covered, best, _MIXED_CELL)

        self._bounds = (x0, y0, x0 + w, y0 + h)
        self._shape = (nx, ny)
        self._inv = (1.0 / dx, 1.0 / dy)
        self._codes = codes
        self._cand_start = starts
        self._cand_count = counts
        self._cand_pos = poly_pos
        self.mixed_cell_fraction = float(np.count_nonzero(codes == _MIXED_CELL)) / n_cells

    # --- queries -------------------------------------------------------------------------------------

    def locate_positions(self, lngs, lats) -> np.ndarray:
        """Positions into :attr:`ids` (priority order) of the winning polygon per point, ``-1`` for none."""
        x = np.asarray(lngs, dtype=np.float64).ravel()
        y = np.asarray(lats, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError("lngs and lats must have the same length")
        out = np.full(x.shape, NO_GRID, dtype=np.int64)
        if self._bounds is None or x.size == 0:
            return out
        x0, y0, x1, y1 = self._bounds
        nx, ny = self._shape
        with np.errstate(invalid="ignore"):
            inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)  # NaN compares False
        pts = np.flatnonzero(inside)
        if pts.size == 0:
            return out
        px, py = x[pts], y[pts]
        ix = np.minimum(((px - x0) * self._inv[0]).astype(np.int64), nx - 1)
        iy = np.minimum(((py - y0) * self._inv[1]).astype(np.int64), ny - 1)
        cells = ix * ny + iy
        codes = self._codes[cells]
        out[pts] = np.where(codes >= 0, codes, NO_GRID)

        mixed = np.flatnonzero(codes == _MIXED_CELL)
        if mixed.size:
            # order the mixed points by cell: consecutive tests then hit the same few prepared polygons, which
            # is several times faster than testing in input order (CPU cache)
            m_cells = cells[mixed]
            by_cell = np.argsort(m_cells, kind="stable")
            m_pts, m_cells = pts[mixed][by_cell], m_cells[by_cell]
            k = self._cand_count[m_cells]
            total = int(k.sum())
            # expand every mixed point into (point, candidate) pairs; candidates are in priority order per cell
            pair_pt = np.repeat(np.arange(m_pts.size), k)
            pair_first = np.repeat(np.cumsum(k) - k, k)
            pair_cand = self._cand_pos[
                np.repeat(self._cand_start[m_cells], k) + np.arange(total) - pair_first
            ]
            pair_xy = m_pts[pair_pt]
            hit = np.flatnonzero(shapely.intersects_xy(self.polygons[pair_cand], x[pair_xy], y[pair_xy]))
            # pairs are grouped by point and by priority inside a point: the first hit of a point wins
            hit_pt = pair_pt[hit]
            first = np.ones(hit.size, dtype=bool)
            first[1:] = hit_pt[1:] != hit_pt[:-1]
            out[m_pts[hit_pt[first]]] = pair_cand[hit[first]]
        return out

    def locate_many_array(self, lngs, lats) -> np.ndarray:
        """Grid ids per point as an int64 array, ``-1`` where no grid covers the point."""
        pos = self.locate_positions(lngs, lats)
        return np.where(pos >= 0, self.ids[np.maximum(pos, 0)] if len(self.ids) else NO_GRID, NO_GRID)

    def locate_many(self, lngs, lats) -> list[int | None]:
        """Grid id (or ``None``) per point."""
        arr = self.locate_many_array(lngs, lats)
        return [None if v < 0 else v for v in arr.tolist()]

    def locate(self, lng: float, lat: float) -> int | None:
        """One point (a request locates one): the arithmetic of :meth:`locate_positions` on plain floats, which
        spares numpy's per-call overhead (most of the cost for a single point); the same answer."""
        if self._bounds is None:
            return None
        x, y = float(lng), float(lat)
        x0, y0, x1, y1 = self._bounds
        if not (x0 <= x <= x1 and y0 <= y <= y1):  # NaN compares False
            return None
        nx, ny = self._shape
        cell = min(int((x - x0) * self._inv[0]), nx - 1) * ny + min(int((y - y0) * self._inv[1]), ny - 1)
        pos = int(self._codes[cell])
        if pos == _MIXED_CELL:
            start = int(self._cand_start[cell])
            # candidates in priority order: the first that covers the point wins
            for cand in self._cand_pos[start : start + int(self._cand_count[cell])].tolist():
                if shapely.intersects_xy(self.polygons[cand], x, y):
                    return int(self.ids[cand])
            return None
        return int(self.ids[pos]) if pos >= 0 else None

    def locate_naive(self, lng: float, lat: float) -> int | None:
        """The per-point reference: one STRtree query per point (benchmark baseline and test oracle)."""
        hits = self.tree.query(shapely.Point(lng, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return int(self.ids[hits.min()])


def build_index(
    ids: Sequence[int], polygons: Sequence[BaseGeometry], ranks: Sequence[float] | None = None, **options
) -> GridIndex:
    """Build a :class:`GridIndex` from ids and (WGS84) polygons; lower ``ranks`` win, default: input order."""
    return GridIndex(ids, polygons, ranks, **options)


# --- the per-process cache over the database ---------------------------------------------------------


# Where the grids come from: the places app (which owns them) registers at ready() a function returning the
# active grids as ``(ids, polygons)`` in rank order, and one returning its revision counter.
_source: dict[str, Callable] = {}


def register_source(
    *, load_grids: Callable[[], tuple[list[int], list[BaseGeometry]]], read_revision: Callable[[], int]
):
    _source["load_grids"] = load_grids
    _source["read_revision"] = read_revision


def _registered(name: str) -> Callable:
    try:
        return _source[name]
    except KeyError:
        raise RuntimeError("grid index has no source: the places app registers it at ready()") from None


def _read_revision() -> int:
    return _registered("read_revision")()


def _load_from_db() -> GridIndex:
    ids, polys = _registered("load_grids")()
    return build_index(ids, polys)


def get_index() -> GridIndex:
    """The current index of active grids, rebuilt when the places revision moved (checked ≤ once a second)."""
    return _index_cache.get()


def invalidate() -> None:
    """Forget the cached index: the next lookup in this process reloads it (cheap; no lock needed)."""
    _index_cache.invalidate()


# module-level functions looked up at call time, so tests can replace them
_index_cache: RevisionCache[GridIndex] = RevisionCache(
    load=lambda: _load_from_db(), read_revision=lambda: _read_revision(), check_interval=CHECK_INTERVAL
)


def locate(lng: float, lat: float) -> int | None:
    """The id of the most specific active grid covering (lng, lat), WGS84; ``None`` outside every grid."""
    return get_index().locate(lng, lat)


def locate_many(lngs, lats) -> list[int | None]:
    """Vectorised :func:`locate` for many points."""
    return get_index().locate_many(lngs, lats)
