"""Benchmark the point → grid lookup (civicgrid.core.geoindex) on synthetic grids; no database needed.

    .venv/bin/python bench/bench_grid_lookup.py            # 10,000 polygons, 1,000,000 points
    .venv/bin/python bench/bench_grid_lookup.py --quick    # 10,000 polygons,   100,000 points (< 1 min)

The polygons are a 100 x 100 jittered tiling around 杭州 (120.0–120.2°E, 30.2–30.4°N) whose shared edges
are broken lines (every edge has a jittered midpoint, identical in both neighbours), and about 2 % of them
have a hole that no other polygon fills. Measures the vectorised bulk lookup against the naive per-point
STRtree loop, and checks the bulk answers against the naive loop and against brute force on samples
(including points exactly on shared vertices and edge midpoints, which must never resolve to nothing).
The last line is ``RESULT points_per_s=N polygons=N …``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Polygon

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from civicgrid.core.geoindex import build_index  # noqa: E402

X0, Y0, SPAN = 120.0, 30.2, 0.2


def make_tiling(n: int, rng: np.random.Generator, hole_fraction: float = 0.02):
    """n x n polygons; returns (polygons, shared vertex coordinates, edge midpoint coordinates)."""
    step = SPAN / n
    vx, vy = np.meshgrid(np.arange(n + 1) * step + X0, np.arange(n + 1) * step + Y0, indexing="ij")
    inner = (slice(1, -1), slice(1, -1))
    vx[inner] += rng.uniform(-0.22, 0.22, (n - 1, n - 1)) * step
    vy[inner] += rng.uniform(-0.22, 0.22, (n - 1, n - 1)) * step
    # midpoints of "horizontal" edges V[i,j]–V[i+1,j] (pushed in y) and "vertical" edges V[i,j]–V[i,j+1] (in x)
    hx = (vx[:-1, :] + vx[1:, :]) / 2
    hy = (vy[:-1, :] + vy[1:, :]) / 2
    hy[:, 1:-1] += rng.uniform(-0.12, 0.12, (n, n - 1)) * step
    wx = (vx[:, :-1] + vx[:, 1:]) / 2
    wy = (vy[:, :-1] + vy[:, 1:]) / 2
    wx[1:-1, :] += rng.uniform(-0.12, 0.12, (n - 1, n)) * step
    holes = rng.random((n, n)) < hole_fraction
    polygons = []
    for i in range(n):
        for j in range(n):
            ring = [
                (vx[i, j], vy[i, j]),
                (hx[i, j], hy[i, j]),
                (vx[i + 1, j], vy[i + 1, j]),
                (wx[i + 1, j], wy[i + 1, j]),
                (vx[i + 1, j + 1], vy[i + 1, j + 1]),
                (hx[i, j + 1], hy[i, j + 1]),
                (vx[i, j + 1], vy[i, j + 1]),
                (wx[i, j], wy[i, j]),
            ]
            interiors = []
            if holes[i, j]:
                cx = (vx[i, j] + vx[i + 1, j] + vx[i + 1, j + 1] + vx[i, j + 1]) / 4
                cy = (vy[i, j] + vy[i + 1, j] + vy[i + 1, j + 1] + vy[i, j + 1]) / 4
                r = 0.12 * step
                interiors.append([(cx - r, cy - r), (cx - r, cy + r), (cx + r, cy + r), (cx + r, cy - r)])
            polygons.append(Polygon(ring, interiors))
    vertices = np.column_stack([vx[1:-1, 1:-1].ravel(), vy[1:-1, 1:-1].ravel()])
    midpoints = np.vstack(
        [
            np.column_stack([hx[:, 1:-1].ravel(), hy[:, 1:-1].ravel()]),
            np.column_stack([wx[1:-1, :].ravel(), wy[1:-1, :].ravel()]),
        ]
    )
    return polygons, vertices, midpoints, int(holes.sum())


def brute_force(polygons: np.ndarray, ids: np.ndarray, lng: float, lat: float) -> int | None:
    hits = np.flatnonzero(shapely.intersects_xy(polygons, lng, lat))
    return int(ids[hits.min()]) if hits.size else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 points instead of 1,000,000")
    parser.add_argument("--grid", type=int, default=100, help="tiling size n (n x n polygons)")
    parser.add_argument("--points", type=int, default=None)
    parser.add_argument("--naive-sample", type=int, default=20_000)
    parser.add_argument("--brute-sample", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    n_points = args.points or (100_000 if args.quick else 1_000_000)
    rng = np.random.default_rng(args.seed)

    t = time.perf_counter()
    polygons, vertices, midpoints, n_holes = make_tiling(args.grid, rng)
    invalid = sum(not p.is_valid for p in polygons)
    if invalid:
        print(f"error: {invalid} generated polygons are invalid", file=sys.stderr)
        return 2
    ids = np.arange(1, len(polygons) + 1, dtype=np.int64)
    print(f"polygons={len(polygons)} holes={n_holes} generated in {time.perf_counter() - t:.2f}s")

    t = time.perf_counter()
    index = build_index(ids, polygons)
    build_s = time.perf_counter() - t
    print(f"index built in {build_s:.2f}s (mixed raster cells: {index.mixed_cell_fraction:.1%})")

    margin = SPAN * 0.02
    lngs = rng.uniform(X0 - margin, X0 + SPAN + margin, n_points)
    lats = rng.uniform(Y0 - margin, Y0 + SPAN + margin, n_points)

    index.locate_many(lngs[:1000], lats[:1000])  # warm-up
    t = time.perf_counter()
    result = index.locate_many(lngs, lats)
    bulk_s = time.perf_counter() - t
    t = time.perf_counter()
    index.locate_many_array(lngs, lats)
    array_s = time.perf_counter() - t
    points_per_s = n_points / bulk_s
    none_count = sum(r is None for r in result)
    print(
        f"bulk locate_many: {n_points:,} points in {bulk_s:.3f}s = {points_per_s:,.0f} points/s "
        f"(array form {n_points / array_s:,.0f} points/s); outside/holes: {none_count:,}"
    )

    k = min(args.naive_sample, n_points)
    t = time.perf_counter()
    naive = [index.locate_naive(x, y) for x, y in zip(lngs[:k].tolist(), lats[:k].tolist(), strict=True)]
    naive_s = time.perf_counter() - t
    naive_pps = k / naive_s
    speedup = points_per_s / naive_pps
    print(f"naive per-point STRtree.query loop: {k:,} points in {naive_s:.3f}s = {naive_pps:,.0f} points/s")
    print(f"speedup bulk / naive: {speedup:.1f}x")

    mismatches = sum(a != b for a, b in zip(naive, result[:k], strict=True))
    polys_arr = np.asarray(index.polygons, dtype=object)
    sample = rng.choice(n_points, size=min(args.brute_sample, n_points), replace=False)
    brute_bad = sum(brute_force(polys_arr, index.ids, lngs[i], lats[i]) != result[i] for i in sample.tolist())
    edge_pts = np.vstack([vertices, midpoints])
    edge_pts = edge_pts[rng.choice(len(edge_pts), size=min(2_000, len(edge_pts)), replace=False)]
    on_edges = index.locate_many(edge_pts[:, 0], edge_pts[:, 1])
    edge_none = sum(r is None for r in on_edges)
    edge_bad = sum(
        brute_force(polys_arr, index.ids, x, y) != r
        for (x, y), r in zip(edge_pts[:300].tolist(), on_edges[:300], strict=True)
    )
    ok = mismatches == 0 and brute_bad == 0 and edge_none == 0 and edge_bad == 0
    print(
        f"correctness: vs naive {k - mismatches}/{k}, vs brute force {len(sample) - brute_bad}/{len(sample)}, "
        f"shared vertices/edge midpoints resolved {len(on_edges) - edge_none}/{len(on_edges)} "
        f"(brute-force checked {300 - edge_bad}/300): {'OK' if ok else 'FAILED'}"
    )
    print(
        f"RESULT points_per_s={points_per_s:.0f} polygons={len(polygons)} points={n_points} "
        f"speedup_vs_naive={speedup:.1f} naive_points_per_s={naive_pps:.0f} build_s={build_s:.2f} "
        f"correct={'yes' if ok else 'no'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
