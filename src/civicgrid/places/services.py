"""Every write to geography. Keyword-only, typed, takes ``actor``; write + audit in one transaction.

The importer validates the whole file first and writes nothing if anything is wrong: the caller gets a
:class:`~civicgrid.core.errors.ValidationFailed` whose ``details`` list every problem as
``{"index": 1-based feature number, "code": the feature's code, "field": ..., "message": 中文说明}``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import shapely
from django.db import transaction
from pyproj import Geod
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from civicgrid.core import audit, clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.roles import Capability, has_capability
from civicgrid.core.validation import short
from civicgrid.places import importers, signals
from civicgrid.places.importers import feature_error
from civicgrid.places.models import Community, CommunityKind, Grid, GridKind, Street

# tolerances, as fractions of an area
OVERLAP_TOLERANCE = 0.01  # of the smaller of two sibling ordinary grids
GAP_TOLERANCE = 0.01  # of the community
OUTSIDE_PARENT_TOLERANCE = 1e-6  # of a 专属网格 (numerical noise only)

LEVEL_GRID = "grid"
LEVEL_COMMUNITY = "community"
_LEVELS = {
    "grid": LEVEL_GRID,
    "网格": LEVEL_GRID,
    "community": LEVEL_COMMUNITY,
    "社区": LEVEL_COMMUNITY,
    "村": LEVEL_COMMUNITY,
}
_KINDS = {
    "ordinary": GridKind.ORDINARY,
    "普通网格": GridKind.ORDINARY,
    "普通": GridKind.ORDINARY,
    "dedicated": GridKind.DEDICATED,
    "专属网格": GridKind.DEDICATED,
    "专属": GridKind.DEDICATED,
}
_COMMUNITY_KINDS = {
    "community": CommunityKind.COMMUNITY,
    "社区": CommunityKind.COMMUNITY,
    "village": CommunityKind.VILLAGE,
    "村": CommunityKind.VILLAGE,
}
FIELD_LABELS = {
    "file": "文件",
    "crs": "坐标系",
    "type": "要素类型",
    "level": "层级",
    "code": "编码",
    "name": "名称",
    "kind": "类型",
    "community_code": "所属社区编码",
    "parent_code": "所在普通网格编码",
    "street_code": "所属街道编码",
    "geometry": "边界",
}

_geod = Geod(ellps="WGS84")


def geodesic_area(geom: BaseGeometry | None) -> float:
    """Area in m² on the WGS84 ellipsoid (holes subtracted)."""
    if geom is None or geom.is_empty:
        return 0.0
    geom = shapely.orient_polygons(geom)  # exterior CCW, holes CW: pyproj then returns a positive area
    area, _perimeter = _geod.geometry_area_perimeter(geom)
    return abs(area)


def _require_admin(actor) -> None:
    # actor None = the system itself (CLI, demo loader)
    if actor is not None and not has_capability(actor, Capability.SYSTEM_CONFIGURE):
        raise PermissionDenied("只有系统管理员可以导入网格和社区边界")


@dataclass(frozen=True)
class ImportResult:
    filename: str
    crs: str
    dry_run: bool
    features: int
    grids_created: int = 0
    grids_updated: int = 0
    communities_created: int = 0
    communities_updated: int = 0
    codes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Item:
    index: int
    level: str
    code: str | None
    name: str | None
    geom: BaseGeometry | None
    kind: str | None = None
    community_code: str | None = None
    parent_code: str | None = None
    street_code: str | None = None
    ok: bool = True  # False once an error made it unusable for the cross-feature checks
    geometry_reported: bool = False  # the reader already reported a problem with the geometry
    area: float = 0.0  # geodesic, m²


class _Errors(list):
    def add(self, item: _Item | None, field_name: str, message: str) -> None:
        label = FIELD_LABELS.get(field_name, field_name)
        text = message if message.startswith(label) else f"{label}（{field_name}）{message}"
        self.append(
            feature_error(item.index if item else None, item.code if item else None, field_name, text)
        )
        if item is not None:
            item.ok = False


MAX_REPORTED_ERRORS = 200


def capped_errors(errors: list[dict[str, Any]], limit: int = MAX_REPORTED_ERRORS) -> list[dict[str, Any]]:
    """The first ``limit`` problems, then one line ``…另有 N 条错误`` for the rest."""
    if len(errors) <= limit:
        return list(errors)
    rest = len(errors) - limit
    return [*errors[:limit], feature_error(None, None, "file", f"…另有 {rest} 条错误")]


def format_error(err: dict[str, Any]) -> str:
    """One line of the Chinese error report: ``第 3 个要素［330106001001003］边界（geometry）多边形无效：…``."""
    where = f"第 {err['index']} 个要素" if err.get("index") else "文件"
    if err.get("code"):
        where += f"［{err['code']}］"
    return f"{where} {err['message']}"


# --- per-feature checks ----------------------------------------------------------------------------


def _check_geometry(item: _Item, errors: _Errors, *, required: bool) -> None:
    geom = item.geom
    if geom is None:
        if required and not item.geometry_reported:
            errors.add(item, "geometry", "缺失：网格必须有多边形边界")
        return
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        errors.add(item, "geometry", f"多边形无效：{_explain(reason)}")
        item.geom = None
        return
    item.area = geodesic_area(geom)
    if item.area <= 0:
        errors.add(item, "geometry", "面积为 0")
        item.geom = None


_VALIDITY_REASONS = [
    ("Ring Self-intersection", "环自相交"),
    ("Self-intersection", "自相交（如“8”字形多边形）"),
    ("Too few points", "顶点过少"),
    ("Hole lies outside shell", "内环（洞）在外环之外"),
    ("Nested holes", "内环相互嵌套"),
    ("Nested shells", "外环相互嵌套"),
    ("Interior is disconnected", "内部不连通"),
    ("Duplicate Rings", "重复的环"),
    ("Invalid Coordinate", "坐标无效"),
    ("Ring is not closed", "环未闭合"),
]


def _explain(reason: str) -> str:
    for english, chinese in _VALIDITY_REASONS:
        if reason.startswith(english):
            return f"{chinese}，位置 {reason[len(english) :].strip()}（{reason}）"
    return reason


def _items_from(parsed: importers.ParsedFile, default_level: str, errors: _Errors) -> list[_Item]:
    failed = {e["index"] for e in parsed.errors}
    bad_geometry = {e["index"] for e in parsed.errors if e["field"] == "geometry"}
    items = []
    for feat in parsed.features:
        p = feat.props
        item = _Item(
            index=feat.index, level=LEVEL_GRID, code=p.get("code"), name=p.get("name"), geom=feat.geometry
        )
        if feat.index in failed:
            item.ok = False
        item.geometry_reported = feat.index in bad_geometry
        raw_level = p.get("level")
        level = _LEVELS.get((raw_level or default_level).lower())
        if level is None:
            errors.add(item, "level", f"无法识别：{raw_level}（应为 grid/网格 或 community/社区）")
            items.append(item)
            continue
        item.level = level
        item.community_code = p.get("community_code")
        item.parent_code = p.get("parent_code")
        item.street_code = p.get("street_code")
        raw_kind = p.get("kind")
        if level == LEVEL_COMMUNITY:
            item.kind = _COMMUNITY_KINDS.get(raw_kind.lower()) if raw_kind else None
            if raw_kind and item.kind is None:
                errors.add(
                    item, "kind", f"无法识别：{raw_kind}（社区的类型应为 社区/community 或 村/village）"
                )
        else:
            if raw_kind is None:
                item.kind = GridKind.DEDICATED if item.parent_code else GridKind.ORDINARY
            else:
                item.kind = _KINDS.get(raw_kind.lower())
                if item.kind is None:
                    errors.add(
                        item, "kind", f"无法识别：{raw_kind}（应为 普通网格/ordinary 或 专属网格/dedicated）"
                    )
        items.append(item)
    return items


def _check_code(item: _Item, errors: _Errors, digits: int, what: str) -> None:
    if not item.code:
        errors.add(item, "code", f"缺失：请填写 {digits} 位{what}编码")
    elif not (item.code.isascii() and item.code.isdigit() and len(item.code) == digits):
        errors.add(item, "code", f"格式错误：{what}编码应为 {digits} 位数字，收到 {item.code!r}")


def _check_name(item: _Item, errors: _Errors) -> None:
    if not item.name:
        errors.add(item, "name", "缺失：请填写名称")
    elif len(item.name) > 100:
        errors.add(item, "name", "过长：最多 100 个字")


def _check_duplicates(items: list[_Item], errors: _Errors) -> None:
    first: dict[tuple[str, str], _Item] = {}
    for item in items:
        if not item.code:
            continue
        key = (item.level, item.code)
        if key in first:
            errors.add(item, "code", f"重复：与第 {first[key].index} 个要素的编码 {item.code} 相同")
        else:
            first[key] = item


# --- the import ------------------------------------------------------------------------------------


@dataclass
class _Plan:
    communities: list[_Item]
    grids: list[_Item]
    db_communities: dict[str, Community]
    db_grids: dict[str, Grid]


def _geom_of(obj) -> BaseGeometry | None:
    if not obj.geometry:
        return None
    try:
        geom = shape(obj.geometry)
    except Exception:  # noqa: BLE001
        return None
    if geom.is_empty:
        return None
    return geom if geom.is_valid else shapely.make_valid(geom)


def _validate(items: list[_Item], errors: _Errors) -> _Plan:
    communities = [i for i in items if i.level == LEVEL_COMMUNITY]
    grids = [i for i in items if i.level == LEVEL_GRID]

    for c in communities:
        _check_code(c, errors, 12, "社区")
        _check_name(c, errors)
        _check_geometry(c, errors, required=False)
    for g in grids:
        _check_code(g, errors, 15, "网格")
        _check_name(g, errors)
        _check_geometry(g, errors, required=True)
    _check_duplicates(items, errors)

    # communities: their street must exist
    streets = {
        s.code: s
        for s in Street.objects.filter(code__in={c.street_code for c in communities if c.street_code})
    }
    for c in communities:
        if not c.street_code:
            errors.add(c, "street_code", "缺失：请填写所属街道编码")
        elif c.street_code not in streets:
            errors.add(c, "street_code", f"所属街道 {c.street_code} 不存在")
        elif c.code and not c.code.startswith(c.street_code):
            errors.add(c, "code", f"社区编码 {c.code} 应以所属街道编码 {c.street_code} 开头")

    file_communities = {c.code: c for c in communities if c.code}
    file_grids = {g.code: g for g in grids if g.code}
    wanted_communities = {g.community_code for g in grids if g.community_code} | set(file_communities)
    db_communities = {c.code: c for c in Community.objects.filter(code__in=wanted_communities)}
    wanted_grids = {g.parent_code for g in grids if g.parent_code} | set(file_grids)
    db_grids = {g.code: g for g in Grid.objects.filter(code__in=wanted_grids).select_related("community")}

    def community_exists(code: str) -> bool:
        return code in db_communities or (code in file_communities and file_communities[code].ok)

    # ordinary grids: their community; dedicated grids: their parent (and the parent's community)
    for g in grids:
        if g.kind == GridKind.ORDINARY:
            if g.parent_code:
                errors.add(g, "parent_code", "普通网格不应填写所在网格编码（只有专属网格有所在普通网格）")
            if not g.community_code:
                errors.add(g, "community_code", "缺失：普通网格必须填写所属社区编码")
            elif not community_exists(g.community_code):
                errors.add(g, "community_code", f"所属社区 {g.community_code} 在系统和本文件中都不存在")
        elif g.kind == GridKind.DEDICATED:
            parent_code = g.parent_code
            if not parent_code:
                errors.add(g, "parent_code", "缺失：专属网格必须填写所在普通网格编码")
                continue
            in_file = file_grids.get(parent_code)
            in_db = db_grids.get(parent_code)
            if in_file is None and in_db is None:
                errors.add(g, "parent_code", f"所在普通网格 {parent_code} 在系统和本文件中都不存在")
                continue
            parent_kind = in_file.kind if in_file is not None else in_db.kind
            if parent_kind != GridKind.ORDINARY:
                errors.add(g, "parent_code", f"所在网格 {parent_code} 不是普通网格")
                continue
            parent_community = in_file.community_code if in_file is not None else in_db.community.code
            if g.community_code and parent_community and g.community_code != parent_community:
                errors.add(
                    g,
                    "community_code",
                    f"与所在普通网格 {parent_code} 的社区 {parent_community} 不一致",
                )
            g.community_code = g.community_code or parent_community
        if (
            g.code
            and len(g.code) == 15
            and g.code.isascii()
            and g.code.isdigit()
            and g.community_code
            and community_exists(g.community_code)
            and not g.code.startswith(g.community_code)
        ):
            errors.add(g, "code", f"网格编码 {g.code} 的前 12 位应为所属社区编码 {g.community_code}")

    # an ordinary grid that still has 专属网格 in it cannot turn into a 专属网格 itself
    turning = [g for g in grids if g.kind == GridKind.DEDICATED and g.code in db_grids]
    if turning:
        reparented = {g.code for g in grids if g.kind == GridKind.DEDICATED}
        children = Grid.objects.filter(parent__code__in=[g.code for g in turning]).exclude(
            code__in=reparented
        )
        with_children = set(children.values_list("parent__code", flat=True))
        for g in turning:
            if g.code in with_children:
                errors.add(g, "kind", f"网格 {g.code} 内还有专属网格，不能改为专属网格")

    _check_dedicated_inside(grids, file_grids, db_grids, errors)
    _check_overlaps_and_gaps(grids, file_communities, db_communities, errors)
    return _Plan(communities=communities, grids=grids, db_communities=db_communities, db_grids=db_grids)


def _check_tier(actor, plan: _Plan, errors: _Errors) -> None:
    """A 街道's administrator imports only into its own 街道 (a 区-level one: its 区's 街道)."""
    from civicgrid.places.selectors import same_tier

    codes = {c.street_code for c in plan.communities if c.street_code}
    street_of = dict(Street.objects.filter(code__in=codes).values_list("code", "pk"))
    file_community_street = {c.code: street_of.get(c.street_code) for c in plan.communities if c.code}
    for c in plan.communities:
        street_id = street_of.get(c.street_code)
        if street_id is not None and not same_tier(actor, street_id):
            errors.add(c, "street_code", f"所属街道 {c.street_code} 不在您的辖区内")
    for g in plan.grids:
        community = plan.db_communities.get(g.community_code)
        street_id = (
            community.street_id if community is not None else file_community_street.get(g.community_code)
        )
        if street_id is not None and not same_tier(actor, street_id):
            errors.add(g, "community_code", f"所属社区 {g.community_code} 不在您的辖区内")


def _check_dedicated_inside(grids, file_grids, db_grids, errors: _Errors) -> None:
    for g in grids:
        if g.kind != GridKind.DEDICATED or g.geom is None or not g.parent_code:
            continue
        parent = file_grids.get(g.parent_code)
        parent_geom = parent.geom if parent is not None else None
        if parent is None and g.parent_code in db_grids:
            parent_geom = _geom_of(db_grids[g.parent_code])
        if parent_geom is None or parent_geom.covers(g.geom):
            continue
        outside = g.geom.difference(parent_geom)
        outside_area = geodesic_area(outside)
        if outside_area > OUTSIDE_PARENT_TOLERANCE * max(g.area, 1.0):
            errors.add(
                g,
                "geometry",
                f"专属网格没有完全位于所在普通网格 {g.parent_code} 内：有 {outside_area:.1f} 平方米在其外",
            )


def _check_overlaps_and_gaps(grids, file_communities, db_communities, errors: _Errors) -> None:
    """Sibling ordinary grids (same community) may overlap ≤ 1 %; a community outline must be covered."""
    by_community: dict[str, list[_Item]] = defaultdict(list)
    for g in grids:
        if g.kind == GridKind.ORDINARY and g.geom is not None and g.community_code:
            by_community[g.community_code].append(g)
    if not by_community:
        return
    file_codes = {g.code for g in grids if g.code}
    # the ordinary grids that stay as they are (in the database, not replaced by this file)
    kept: dict[str, list[tuple[str, BaseGeometry]]] = defaultdict(list)
    rows = (
        Grid.objects.filter(community__code__in=list(by_community), kind=GridKind.ORDINARY, is_active=True)
        .exclude(code__in=file_codes)
        .values_list("code", "community__code", "geometry")
    )
    for code, community_code, geometry in rows:
        try:
            geom = shape(geometry)
        except Exception:  # noqa: BLE001
            continue
        if not geom.is_empty:
            kept[community_code].append((code, geom if geom.is_valid else shapely.make_valid(geom)))

    for community_code, members in by_community.items():
        entries: list[tuple[_Item | None, str, BaseGeometry]] = [(g, g.code, g.geom) for g in members]
        entries += [(None, code, geom) for code, geom in kept.get(community_code, [])]
        geoms = np.array([e[2] for e in entries], dtype=object)
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        planar = shapely.area(geoms)
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            if i >= j or (entries[i][0] is None and entries[j][0] is None):
                continue
            overlap = shapely.intersection(geoms[i], geoms[j])
            if overlap.is_empty or shapely.area(overlap) <= OVERLAP_TOLERANCE * min(planar[i], planar[j]):
                continue
            a, b = (entries[j], entries[i]) if entries[j][0] is not None else (entries[i], entries[j])
            item = a[0]
            other = b[0]
            where = f"本文件第 {other.index} 个要素" if other is not None else "系统中已有的网格"
            smaller = min(geodesic_area(geoms[i]), geodesic_area(geoms[j]))
            area = geodesic_area(overlap)
            errors.add(
                item,
                "geometry",
                f"与{where} {b[1]} 重叠 {area:.1f} 平方米，占较小网格面积的 {area / smaller:.1%}，超过 1%",
            )

        community_item = file_communities.get(community_code)
        if community_item is not None:
            outline = community_item.geom
        elif community_code in db_communities:
            outline = _geom_of(db_communities[community_code])
        else:
            outline = None
        if outline is None:
            continue
        gap = outline.difference(shapely.union_all(geoms))
        community_area = geodesic_area(outline)
        gap_area = geodesic_area(gap)
        if community_area > 0 and gap_area > GAP_TOLERANCE * community_area:
            target = community_item if community_item is not None else min(members, key=lambda g: g.index)
            errors.append(
                feature_error(
                    target.index,
                    community_code if community_item is not None else target.code,
                    "geometry",
                    f"边界（geometry）社区 {community_code} 内有 {gap_area:.1f} 平方米未被普通网格覆盖"
                    f"（占社区面积的 {gap_area / community_area:.1%}，超过 1%）",
                )
            )


def _bbox(geom: BaseGeometry) -> dict[str, float]:
    minx, miny, maxx, maxy = geom.bounds
    return {"min_lng": minx, "min_lat": miny, "max_lng": maxx, "max_lat": maxy}


def _write(plan: _Plan) -> dict[str, int]:
    counts = {"grids_created": 0, "grids_updated": 0, "communities_created": 0, "communities_updated": 0}
    communities = dict(plan.db_communities)
    for c in plan.communities:
        street = Street.objects.get(code=c.street_code)
        obj = communities.get(c.code)
        if obj is None:
            obj = Community(code=c.code)
            counts["communities_created"] += 1
        else:
            counts["communities_updated"] += 1
        obj.street = street
        obj.name = c.name
        if c.kind:  # else keep what it was (new rows: the model default, 社区)
            obj.kind = c.kind
        if c.geom is not None:
            obj.geometry = mapping(shapely.orient_polygons(c.geom))
        obj.save()
        communities[c.code] = obj

    missing = {g.community_code for g in plan.grids} - set(communities)
    communities.update({c.code: c for c in Community.objects.filter(code__in=missing)})
    saved: dict[str, Grid] = dict(plan.db_grids)
    now = clock.now()
    # ordinary grids first: the 专属网格 point at them
    for g in sorted(plan.grids, key=lambda g: g.kind != GridKind.ORDINARY):
        obj = plan.db_grids.get(g.code)
        if obj is None:
            obj = Grid(code=g.code)
            counts["grids_created"] += 1
        else:
            counts["grids_updated"] += 1
        obj.community = communities[g.community_code]
        obj.parent = saved[g.parent_code] if g.kind == GridKind.DEDICATED else None
        obj.name = g.name
        obj.kind = g.kind
        obj.geometry = mapping(shapely.orient_polygons(g.geom))  # RFC 7946: exterior CCW
        obj.area_m2 = g.area
        for key, value in _bbox(g.geom).items():
            setattr(obj, key, value)
        obj.updated_at = now
        obj.save()
        saved[g.code] = obj
    return counts


def import_grids(
    *,
    actor,
    data: bytes,
    filename: str,
    crs: str | None = None,
    dry_run: bool = False,
    level: str = LEVEL_GRID,
) -> ImportResult:
    """Import 网格 (and 社区) boundaries from GeoJSON or a zipped Shapefile, all or nothing.

    ``level`` is the default for features without a ``level`` property: ``"grid"`` or ``"community"``.
    Existing codes are updated. ``dry_run`` validates and counts without writing.
    """
    _require_admin(actor)
    default_level = _LEVELS.get((level or LEVEL_GRID).lower())
    if default_level is None:
        raise ValidationFailed(f"层级 level 应为 grid 或 community，收到 {level!r}", field="level")
    parsed = importers.read_file(data, filename, crs)
    if not parsed.features and not parsed.errors:
        raise ValidationFailed(
            "文件中没有任何要素",
            field="file",
            details=[feature_error(None, None, "file", "文件中没有任何要素")],
        )
    errors = _Errors(parsed.errors)
    items = _items_from(parsed, default_level, errors)
    plan = _validate(items, errors)
    if actor is not None:
        _check_tier(actor, plan, errors)
    if errors:
        errors.sort(key=lambda e: (e["index"] or 0, e["field"] or ""))
        failed = ValidationFailed(
            f"导入失败：{short(filename, 100)} 中有 {len(errors)} 处错误，未导入任何数据",
            field="file",
            details=capped_errors(errors),
        )
        failed.total = len(errors)
        raise failed

    codes = [i.code for i in items]
    if dry_run:
        db_codes = set(plan.db_grids)
        grid_codes = [g.code for g in plan.grids]
        community_codes = [c.code for c in plan.communities]
        return ImportResult(
            filename=filename,
            crs=parsed.crs,
            dry_run=True,
            features=len(items),
            grids_created=sum(c not in db_codes for c in grid_codes),
            grids_updated=sum(c in db_codes for c in grid_codes),
            communities_created=sum(c not in plan.db_communities for c in community_codes),
            communities_updated=sum(c in plan.db_communities for c in community_codes),
            codes=codes,
        )

    with transaction.atomic(), signals.batched():
        counts = _write(plan)
        audit.record(
            actor=actor,
            action="places.import",
            object_type="places.grid",
            object_repr=filename[:200],
            after={"file": filename, "crs": parsed.crs, **counts, "codes": codes},
            note=f"导入边界文件 {filename}：{len(items)} 个要素",
        )
    return ImportResult(
        filename=filename, crs=parsed.crs, dry_run=False, features=len(items), codes=codes, **counts
    )


# --- the vector base map --------------------------------------------------------------------------

_MAP_GEOMETRIES = {
    "road": ("LineString", "MultiLineString"),
    "building": ("Polygon", "MultiPolygon"),
    "area": ("Polygon", "MultiPolygon"),
    "label": ("Point",),
}


def replace_map_features(*, actor, source: str, features: list[dict]) -> int:
    """Replace the base-map features of ``source`` with ``features`` (GeoJSON Features, WGS84; ``properties``
    give ``kind`` road/building/area/label, and optionally ``name``, ``subtype``, ``level``). Checks every feature
    first and writes nothing if one is wrong (the error names the feature). Returns how many were stored."""
    from civicgrid.core import revisions
    from civicgrid.places.models import BASEMAP_REVISION, MapFeature

    if actor is not None and not has_capability(actor, Capability.SYSTEM_CONFIGURE):
        raise PermissionDenied("只有系统管理员可以更新底图")
    source = (source or "").strip()
    if not source or len(source) > 50:
        raise ValidationFailed("请填写底图来源（不超过 50 个字符）", field="source")
    rows = []
    for i, f in enumerate(features, start=1):
        props = (f or {}).get("properties") or {}
        kind = props.get("kind")
        geometry = (f or {}).get("geometry") or {}
        if kind not in _MAP_GEOMETRIES:
            raise ValidationFailed(
                f"第 {i} 个要素：类型应为 road/building/area/label，收到 {kind!r}", field="kind"
            )
        if geometry.get("type") not in _MAP_GEOMETRIES[kind]:
            raise ValidationFailed(
                f"第 {i} 个要素（{kind}）：几何类型应为 {'/'.join(_MAP_GEOMETRIES[kind])}", field="geometry"
            )
        try:
            geom = shape(geometry)
        except Exception:  # shapely raises several types for malformed coordinates
            raise ValidationFailed(f"第 {i} 个要素：几何坐标无效", field="geometry")
        if geom.is_empty or not all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in _coords(geom)):
            raise ValidationFailed(f"第 {i} 个要素：坐标应为 WGS84 经纬度", field="geometry")
        name = str(props.get("name") or "").strip()
        if len(name) > 100:
            raise ValidationFailed(f"第 {i} 个要素：名称不能超过 100 个字符", field="name")
        if kind == "label" and not name:
            raise ValidationFailed(f"第 {i} 个要素：注记须有名称", field="name")
        try:
            level = int(props.get("level") or 0)
        except (TypeError, ValueError):
            raise ValidationFailed(f"第 {i} 个要素：等级应为整数", field="level")
        rows.append(
            MapFeature(
                kind=kind,
                subtype=str(props.get("subtype") or "")[:24],
                name=name,
                level=max(0, min(level, 9)),
                geometry=geometry,
                source=source,
            )
        )
    with transaction.atomic():
        removed, _ = MapFeature.objects.filter(source=source).delete()
        MapFeature.objects.bulk_create(rows, batch_size=500)
        revisions.bump(BASEMAP_REVISION)
        audit.record(
            actor=actor,
            action="places.basemap.replace",
            object_type="places.mapfeature",
            object_id=None,
            object_repr=f"底图 {source}",
            after={"source": source, "count": len(rows), "removed": removed},
            note=f"更新底图要素：{source}",
        )
    return len(rows)


def _coords(geom: BaseGeometry):
    return shapely.get_coordinates(geom).tolist()
