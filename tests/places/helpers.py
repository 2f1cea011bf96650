"""Builders for boundary files used by the places tests (GeoJSON dicts, zipped Shapefiles)."""

from __future__ import annotations

import io
import json
import zipfile

import shapefile
from pyproj import CRS, Transformer
from shapely.geometry import Polygon, box, mapping, shape

from tests.factories import ORIGIN_LAT, ORIGIN_LNG, STEP

STREET_CODE = "330106001"
COMMUNITY_CODE = "330106001001"


def cell(col: float, row: float, w: float = 1, h: float = 1) -> Polygon:
    """A box in grid-step units from the test origin (see tests.factories)."""
    return box(*point(col, row), *point(col + w, row + h))


def point(col: float, row: float) -> tuple[float, float]:
    return ORIGIN_LNG + col * STEP, ORIGIN_LAT + row * STEP


def feature(geom, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": mapping(geom) if geom is not None else None}


def grid_feature(code: str, geom, *, name: str | None = None, community_code: str = COMMUNITY_CODE, **props):
    return feature(geom, code=code, name=name or f"网格{code[-3:]}", community_code=community_code, **props)


def collection(*features, crs: str | None = None) -> bytes:
    doc = {"type": "FeatureCollection", "features": list(features)}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def two_by_two() -> list[dict]:
    """Four ordinary grids tiling cells (0..2, 0..2) of community 330106001001."""
    return [
        grid_feature(f"330106001001{n:03d}", cell(c, r))
        for n, (c, r) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)], start=1)
    ]


def shapefile_zip(
    records: list[tuple[dict, Polygon]], *, prj_crs: CRS | None, encoding: str = "utf-8"
) -> bytes:
    """A zipped Shapefile (polygons); coordinates are reprojected from WGS84 into ``prj_crs`` if given."""
    to_crs = None
    if prj_crs is not None and prj_crs.to_epsg() != 4326:
        to_crs = Transformer.from_crs(CRS.from_epsg(4326), prj_crs, always_xy=True)
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON, encoding=encoding) as w:
        w.field("CODE", "C", size=15)
        w.field("NAME", "C", size=50)
        w.field("COMM_CODE", "C", size=12)
        w.field("KIND", "C", size=20)
        w.field("PARENT", "C", size=15)
        for props, geom in records:
            ring = list(geom.exterior.coords)[::-1]  # shapefile outer rings are clockwise
            if to_crs is not None:
                ring = [to_crs.transform(x, y) for x, y in ring]
            w.poly([ring])
            w.record(
                props.get("code", ""),
                props.get("name", ""),
                props.get("community_code", ""),
                props.get("kind", ""),
                props.get("parent_code", ""),
            )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("grids/grids.shp", shp.getvalue())
        z.writestr("grids/grids.shx", shx.getvalue())
        z.writestr("grids/grids.dbf", dbf.getvalue())
        z.writestr("grids/grids.cpg", encoding.upper())
        if prj_crs is not None:
            z.writestr("grids/grids.prj", prj_crs.to_wkt("WKT1_ESRI"))
    return buf.getvalue()


def records_of(features: list[dict]) -> list[tuple[dict, Polygon]]:
    return [(f["properties"], shape(f["geometry"])) for f in features]
