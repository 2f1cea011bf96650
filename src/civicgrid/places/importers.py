"""Read boundary files (GeoJSON FeatureCollection, zipped Shapefile) into features in WGS84.

Only reading and reprojection happens here; the rules about codes, parents, overlaps and gaps are in
:mod:`civicgrid.places.services`. Problems with one feature are collected as error dicts
(``{"index", "code", "field", "message"}``, index 1-based); a file that cannot be read at all raises
:class:`~civicgrid.core.errors.ValidationFailed`.

Coordinate reference systems: GeoJSON's ``crs`` member or the Shapefile's ``.prj`` (WKT, also Esri WKT), else
WGS84; an explicit ``crs`` argument (``"EPSG:4490"``, ``"EPSG:4549"``, WKT …) overrides both. Anything pyproj
can transform to EPSG:4326 is accepted: WGS84, CGCS2000 geographic (EPSG:4490) and the CGCS2000 Gauss-Kruger
projections (EPSG:4513–4554) in particular.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import shapefile
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from civicgrid.core.errors import ValidationFailed
from civicgrid.core.validation import short

WGS84 = CRS.from_epsg(4326)

# property names accepted for each field (case-insensitive). DBF field names are at most 10 characters,
# hence the short forms.
PROPERTY_ALIASES: dict[str, tuple[str, ...]] = {
    "level": ("level", "层级"),
    "code": ("code", "grid_code", "gridcode", "网格编码", "编码"),
    "name": ("name", "grid_name", "gridname", "网格名称", "名称"),
    "community_code": ("community_code", "comm_code", "commcode", "community", "社区编码"),
    "parent_code": ("parent_code", "parent", "parentcode", "parent_cod", "所在网格编码", "上级网格编码"),
    "kind": ("kind", "type", "grid_type", "类型", "网格类型"),
    "street_code": ("street_code", "street_cod", "streetcode", "street", "街道编码"),
}
_ALIAS_TO_FIELD = {alias.lower(): name for name, aliases in PROPERTY_ALIASES.items() for alias in aliases}

MAX_FILE_BYTES = 50 * 1024 * 1024
# zipped Shapefiles: what the archive may unpack to (headers can lie: members are also read with a hard limit)
MAX_ZIP_MEMBERS = 64
MAX_ZIP_TOTAL_BYTES = 300 * 1024 * 1024
MAX_MEMBER_BYTES = {
    ".shp": 200 * 1024 * 1024,
    ".dbf": 100 * 1024 * 1024,
    ".shx": 20 * 1024 * 1024,
    ".prj": 64 * 1024,
    ".cpg": 1024,
}
MAX_MESSAGE_CHARS = 300  # one error message; longer text (a .prj, an exception echoing input) is cut


@dataclass
class RawFeature:
    index: int  # 1-based position in the file
    props: dict[str, str | None]  # known fields only, values as stripped strings (None when empty)
    geometry: BaseGeometry | None  # in EPSG:4326, None when absent or unreadable


@dataclass
class ParsedFile:
    features: list[RawFeature]
    crs: str  # human-readable name of the source CRS
    errors: list[dict[str, Any]] = field(default_factory=list)


def feature_error(index: int | None, code: str | None, field_name: str, message: str) -> dict[str, Any]:
    code = short(code, 40) if code is not None else None
    return {"index": index, "code": code, "field": field_name, "message": short(message, MAX_MESSAGE_CHARS)}


def _file_error(message: str) -> ValidationFailed:
    message = short(message, MAX_MESSAGE_CHARS)
    return ValidationFailed(message, field="file", details=[feature_error(None, None, "file", message)])


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _norm_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).strip()
    return text or None


def normalise_properties(raw: dict[str, Any] | None) -> dict[str, str | None]:
    props: dict[str, str | None] = {}
    for key, value in (raw or {}).items():
        name = _ALIAS_TO_FIELD.get(str(key).strip().lower())
        if name and props.get(name) is None:
            props[name] = _norm_value(value)
    return props


def parse_crs(value: Any, *, source: str) -> CRS:
    try:
        if isinstance(value, dict):  # GeoJSON 2008 "crs" member
            props = value.get("properties") or {}
            value = props.get("name") or props.get("code") or props.get("href")
        if value is None:
            raise CRSError("empty")
        return CRS.from_user_input(value)
    except (CRSError, TypeError, ValueError) as exc:
        field_name = "crs" if source == "参数" else "file"
        raise ValidationFailed(
            f"无法识别{source}中的坐标系：{short(value, 80)}（{short(exc, 120)}）",
            field=field_name,
            details=[
                feature_error(None, None, field_name, f"无法识别{source}中的坐标系：{short(value, 80)}")
            ],
        )


def crs_label(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} {crs.name}" if epsg else crs.name


def _is_wgs84(crs: CRS) -> bool:
    return crs.to_epsg() == 4326 or crs.equals(WGS84, ignore_axis_order=True) or crs.name == "WGS 84 (CRS84)"


class _Reprojector:
    def __init__(self, crs: CRS):
        self.crs = crs
        self.identity = _is_wgs84(crs)
        self.transformer = None if self.identity else Transformer.from_crs(crs, WGS84, always_xy=True)

    def __call__(self, geom: BaseGeometry) -> BaseGeometry:
        if self.identity:
            return geom
        return shapely.transform(geom, lambda x, y: self.transformer.transform(x, y), interleaved=False)


def _geometry(
    index: int, props: dict, geo: Any, reproject: _Reprojector, errors: list
) -> BaseGeometry | None:
    code = props.get("code")
    if not geo:
        return None
    try:
        geom = shape(geo)
    except Exception as exc:  # noqa: BLE001 - any malformed geometry is the user's input error
        errors.append(feature_error(index, code, "geometry", f"边界（geometry）无法解析：{short(exc, 120)}"))
        return None
    if geom.is_empty:
        return None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        errors.append(
            feature_error(index, code, "geometry", f"边界（geometry）应为多边形，收到的是 {geom.geom_type}")
        )
        return None
    try:
        out = reproject(geom)
    except Exception as exc:  # noqa: BLE001
        errors.append(
            feature_error(index, code, "geometry", f"边界（geometry）坐标转换失败：{short(exc, 120)}")
        )
        return None
    minx, miny, maxx, maxy = out.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90) or not all(v == v for v in out.bounds):
        hint = "" if not reproject.identity else "；投影坐标请在 .prj 或 crs 中注明坐标系（如 EPSG:4549）"
        errors.append(
            feature_error(
                index,
                code,
                "geometry",
                f"边界（geometry）坐标超出经纬度范围（{minx:.6g}, {miny:.6g}, {maxx:.6g}, {maxy:.6g}）{hint}",
            )
        )
        return None
    return out


# --- GeoJSON -------------------------------------------------------------------------------------------


def _decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_error("文件编码无法识别（请使用 UTF-8）")


def read_geojson(data: bytes, crs: str | None = None) -> ParsedFile:
    try:
        doc = json.loads(_decode_text(data))
    except json.JSONDecodeError as exc:
        raise _file_error(f"GeoJSON 无法解析：第 {exc.lineno} 行第 {exc.colno} 列 {exc.msg}")
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise _file_error("GeoJSON 顶层应为 FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list):
        raise _file_error("GeoJSON 缺少 features 数组")
    if crs:
        src = parse_crs(crs, source="参数")
    elif doc.get("crs"):
        src = parse_crs(doc["crs"], source="GeoJSON crs 成员")
    else:
        src = WGS84  # RFC 7946
    reproject = _Reprojector(src)
    out = ParsedFile(features=[], crs=crs_label(src))
    for i, feat in enumerate(features, start=1):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            out.errors.append(feature_error(i, None, "type", "要素类型（type）应为 Feature"))
            continue
        props = normalise_properties(feat.get("properties"))
        geom = _geometry(i, props, feat.get("geometry"), reproject, out.errors)
        out.features.append(RawFeature(index=i, props=props, geometry=geom))
    return out


# --- Shapefile (zip) -----------------------------------------------------------------------------------

_POLYGON_TYPES = {shapefile.POLYGON, shapefile.POLYGONZ, shapefile.POLYGONM}


def read_shapefile_zip(data: bytes, crs: str | None = None) -> ParsedFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise _file_error("压缩包无法打开（应为包含 .shp/.shx/.dbf/.prj 的 zip 文件）")
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise _file_error(f"压缩包中的文件过多（{len(infos)} 个，最多 {MAX_ZIP_MEMBERS} 个）")
        total = sum(max(i.file_size, 0) for i in infos)
        if total > MAX_ZIP_TOTAL_BYTES:
            raise _file_error(
                f"压缩包解压后过大（{_size(total)}，最多 {_size(MAX_ZIP_TOTAL_BYTES)}），请只打包一个图层的 "
                ".shp/.shx/.dbf/.prj/.cpg"
            )
        members = {
            name: info
            for name, info in ((i.filename, i) for i in infos)
            if not info.is_dir() and not name.startswith("__MACOSX/")
        }
        shps = [n for n in members if n.lower().endswith(".shp")]
        if not shps:
            raise _file_error("压缩包中没有 .shp 文件")
        if len(shps) > 1:
            listed = "、".join(short(PurePosixPath(n).name, 40) for n in sorted(shps)[:5])
            raise _file_error(f"压缩包中有 {len(shps)} 个 .shp 文件（{listed}），请每次只导入一个图层")
        stem = shps[0][:-4]
        budget = [MAX_ZIP_TOTAL_BYTES]

        def part(ext: str) -> bytes | None:
            for name, info in members.items():
                if name[:-4] == stem and name.lower().endswith(ext):
                    return _read_member(archive, info, MAX_MEMBER_BYTES[ext], budget)
            return None

        shp, shx, dbf, prj, cpg = (part(e) for e in (".shp", ".shx", ".dbf", ".prj", ".cpg"))
    if shp is None or dbf is None:
        raise _file_error("压缩包中缺少 .dbf 属性表")

    if crs:
        src = parse_crs(crs, source="参数")
    elif prj:
        src = parse_crs(_decode_text(prj).strip(), source=".prj 文件")
    else:
        src = WGS84
    encodings = [cpg.decode("ascii", "ignore").strip()] if cpg else []
    encodings += [e for e in ("utf-8", "gb18030") if e not in encodings]

    last_exc: Exception | None = None
    for encoding in encodings:
        try:
            return _read_shapes(shp, shx, dbf, encoding, src)
        except LookupError:  # unknown encoding named in .cpg
            continue
        except (UnicodeError, shapefile.ShapefileException, ValueError, struct.error) as exc:
            last_exc = exc  # maybe the wrong text encoding: try the next one
    raise _file_error(f"Shapefile 无法读取：{short(last_exc, 200)}")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, budget: list[int]) -> bytes:
    """A member's bytes, at most ``limit`` (and what is left of the archive's total ``budget``), whatever its
    header claims: reading stops one byte past the limit."""
    name = short(PurePosixPath(info.filename).name, 60)
    too_big = _file_error(f"压缩包中的 {name} 解压后过大（最多 {_size(limit)}）")
    if info.file_size > limit:
        raise too_big
    cap = min(limit, budget[0])
    try:
        with archive.open(info) as fh:
            data = fh.read(cap + 1)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        OSError,
        EOFError,
        RuntimeError,
    ) as exc:
        raise _file_error(f"压缩包中的 {name} 无法解压：{short(exc, 120)}")
    if len(data) > cap:
        if cap < limit:
            raise _file_error(f"压缩包解压后过大（最多 {_size(MAX_ZIP_TOTAL_BYTES)}）")
        raise too_big
    budget[0] -= len(data)
    return data


def _read_shapes(shp: bytes, shx: bytes | None, dbf: bytes, encoding: str, src: CRS) -> ParsedFile:
    reproject = _Reprojector(src)
    out = ParsedFile(features=[], crs=crs_label(src))
    files = {"shp": io.BytesIO(shp), "dbf": io.BytesIO(dbf)}
    if shx:
        files["shx"] = io.BytesIO(shx)
    reader = shapefile.Reader(encoding=encoding, encodingErrors="strict", **files)
    with reader:
        for i, rec in enumerate(reader.iterShapeRecords(), start=1):
            props = normalise_properties(rec.record.as_dict())
            geo = None
            if rec.shape.shapeType in _POLYGON_TYPES and rec.shape.points:
                geo = rec.shape.__geo_interface__
            elif rec.shape.shapeType != shapefile.NULL:
                out.errors.append(
                    feature_error(
                        i,
                        props.get("code"),
                        "geometry",
                        f"边界（geometry）应为多边形，收到的是 {rec.shape.shapeTypeName}",
                    )
                )
            geom = _geometry(i, props, geo, reproject, out.errors)
            out.features.append(RawFeature(index=i, props=props, geometry=geom))
    return out


def read_file(data: bytes, filename: str, crs: str | None = None) -> ParsedFile:
    """Dispatch on the file name (``.zip`` → Shapefile, ``.geojson``/``.json`` → GeoJSON) or the content."""
    if not data:
        raise _file_error("文件为空")
    if len(data) > MAX_FILE_BYTES:
        raise _file_error(f"文件过大（超过 {MAX_FILE_BYTES // 1024 // 1024} MB）")
    name = (filename or "").lower()
    if name.endswith(".zip") or data[:4] == b"PK\x03\x04":
        return read_shapefile_zip(data, crs)
    if name.endswith((".geojson", ".json")) or data.lstrip()[:1] in (b"{", b"\xef"):
        return read_geojson(data, crs)
    raise _file_error("不支持的文件类型：请上传 GeoJSON（.geojson/.json）或压缩的 Shapefile（.zip）")
