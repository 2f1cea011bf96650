"""Every read of geography goes through here, already scoped to what the user may see.

Tiers (区 → 街道) come first: :func:`tier_street_ids` names the 街道 an account works in (its own 街道; every
街道 of its 区 for a 区-level account; every 街道 for a platform-level 系统管理员, i.e. one with neither); every
scope rule of every app narrows to those 街道 before anything else (:func:`tier_q`).

Scope (view), within the tier: 街道 roles and 处置部门 see the whole 街道 (they need the map to locate cases); 社区工作人员 their
community; 网格员 their own grids (with the 专属网格 inside them); the 审计管理员 sees none (三权分立).
Changes to geography are for the 系统管理员 only.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from civicgrid.core import revisions
from civicgrid.core.errors import NotFound
from civicgrid.core.revcache import RevisionCache
from civicgrid.core.roles import Capability, Role, has_capability
from civicgrid.core.scoping import register
from civicgrid.places.addressindex import (  # noqa: F401  (ADDRESS_MIN_SCORE, normalise_address: public here)
    ADDRESS_MIN_SCORE,
    address_index,
    normalise_address,
)
from civicgrid.places.models import (
    BASEMAP_REVISION,
    PLACES_REVISION,
    Building,
    Community,
    District,
    Grid,
    Street,
    Unit,
)

# --- tiers ------------------------------------------------------------------------------------------


def tier_street_ids(user) -> list[int] | None:
    """The ids of the 街道 ``user`` works in; ``None`` = every 街道 (a platform-level 系统管理员: no 街道, no 区).

    A 街道 account: its 街道. A 区-level account (区 set, no 街道): every 街道 of its 区 (one query, kept on the
    user instance for the request). Any other account without a tier: none (fail closed).
    """
    street_id = getattr(user, "street_id", None)
    district_id = getattr(user, "district_id", None)
    if street_id is not None:
        return [street_id]
    if district_id is None:
        return None if getattr(user, "role", None) == Role.SYSTEM_ADMIN else []
    cached = getattr(user, "_tier_streets", None)
    if cached is not None and cached[0] == district_id:
        return cached[1]
    ids = list(Street.objects.filter(district_id=district_id).values_list("pk", flat=True))
    with contextlib.suppress(AttributeError):  # an object that takes no attributes: no cache
        user._tier_streets = (district_id, ids)
    return ids


def narrowed_to(user, *, street: Street | None = None, district=None):
    """``user`` narrowed to one 街道 (or one 区) of its tier, for figures counted by the reader's tier (the rollup,
    each ledger's selectors): a 区 account looking at one 街道, or a platform-level 系统管理员 at one 区, would
    otherwise count its whole tier. An unsaved copy of ``user`` (same id, role, department) whose tier is that
    街道 or 区 — never wider than the user's own (the caller has checked it lies in it); ``user`` itself when
    nothing narrows."""
    if street is not None:
        if getattr(user, "street_id", None) == street.pk:
            return user
        narrowed = copy.copy(user)
        narrowed.street, narrowed.district = street, None
    elif district is not None:
        if getattr(user, "street_id", None) is None and getattr(user, "district_id", None) == district.pk:
            return user
        narrowed = copy.copy(user)
        narrowed.street, narrowed.district = None, district
    else:
        return user
    narrowed.__dict__.pop("_tier_streets", None)
    return narrowed


def tier_q(user, field: str = "street_id") -> Q | None:
    """The Q limiting rows whose 街道 is ``field`` (a lookup path, e.g. ``grid__community__street_id``) to the
    user's tier; ``None`` when the user sees every 街道."""
    ids = tier_street_ids(user)
    if ids is None:
        return None
    if len(ids) == 1:
        return Q(**{field: ids[0]})
    return Q(**{f"{field}__in": ids})


def in_tier(qs: QuerySet, user, field: str = "street_id") -> QuerySet:
    q = tier_q(user, field)
    return qs if q is None else qs.filter(q)


def same_tier(user, street_id: int | None) -> bool:
    """Whether the 街道 ``street_id`` lies in the user's tier (a row without a 街道: platform level only)."""
    ids = tier_street_ids(user)
    return ids is None or (street_id is not None and street_id in ids)


def user_street(user) -> Street | None:
    """The 街道 a (街道-level) account works in, or ``None`` (区 level, platform level, no tier)."""
    street_id = getattr(user, "street_id", None)
    return Street.objects.filter(pk=street_id).first() if street_id is not None else None


def only_street_id() -> int | None:
    """The id of the one 街道 when the database holds exactly one (a single-街道 installation), else ``None``."""
    ids = list(Street.objects.values_list("pk", flat=True)[:2])
    return ids[0] if len(ids) == 1 else None


def _sees_everything(user, action: str) -> bool | None:
    """True: all rows (of the tier). False: none. None: scoped below."""
    if not has_capability(user, Capability.BUSINESS_VIEW):
        return False
    if action != "view":
        return has_capability(user, Capability.SYSTEM_CONFIGURE)
    if has_capability(user, Capability.STREET_WIDE_VIEW) or user.role == Role.DEPT_HANDLER:
        return True
    return None


def grid_filter(user, prefix: str = "") -> Q:
    """The Q that limits grid-owned rows to a community staff member's / grid worker's grids."""
    if user.role == Role.COMMUNITY_STAFF:
        if not user.community_id:
            return Q(pk__in=[])
        return Q(**{f"{prefix}community_id": user.community_id})
    if user.role == Role.GRID_WORKER:
        own = list(user.grids.values_list("pk", flat=True))
        return Q(**{f"{prefix}pk__in": own}) | Q(**{f"{prefix}parent_id__in": own})
    return Q(pk__in=[])


@register(District)
def _district_scope(qs: QuerySet, user, action: str) -> QuerySet:
    every = _sees_everything(user, action)
    if every is False or (every is None and action != "view"):
        return qs.none()
    ids = tier_street_ids(user)
    if ids is None:
        return qs
    if action != "view" and getattr(user, "street_id", None) is not None:
        return qs.none()  # a 街道's administrator does not edit the 区
    return qs.filter(streets__pk__in=ids).distinct()


@register(Street)
def _street_scope(qs: QuerySet, user, action: str) -> QuerySet:
    every = _sees_everything(user, action)
    if every is False or (every is None and action != "view"):
        return qs.none()
    return in_tier(qs, user, "pk")


@register(Community)
def _community_scope(qs: QuerySet, user, action: str) -> QuerySet:
    every = _sees_everything(user, action)
    if every is not None:
        return in_tier(qs, user) if every else qs.none()
    qs = in_tier(qs, user)
    if user.role == Role.COMMUNITY_STAFF:
        return qs.filter(pk=user.community_id)
    if user.role == Role.GRID_WORKER:
        return qs.filter(grids__in=user.grids.all()).distinct()
    return qs.none()


@register(Grid)
def _grid_scope(qs: QuerySet, user, action: str) -> QuerySet:
    every = _sees_everything(user, action)
    if every is False:
        return qs.none()
    qs = in_tier(qs, user, "community__street_id")
    return qs if every else qs.filter(grid_filter(user))


@register(Building)
def _building_scope(qs: QuerySet, user, action: str) -> QuerySet:
    every = _sees_everything(user, action)
    if every is not None:
        return in_tier(qs, user, "grid__community__street_id") if every else qs.none()
    return qs.filter(grid__in=Grid.objects.restrict(user, "view"))


@register(Unit)
def _unit_scope(qs: QuerySet, user, action: str) -> QuerySet:
    every = _sees_everything(user, action)
    if every is not None:
        return in_tier(qs, user, "grid__community__street_id") if every else qs.none()
    return qs.filter(grid__in=Grid.objects.restrict(user, "view"))


# --- selectors ------------------------------------------------------------------------------------


def visible_grids(*, user) -> QuerySet[Grid]:
    return Grid.objects.restrict(user, "view").select_related("community")


def visible_communities(*, user) -> QuerySet[Community]:
    return Community.objects.restrict(user, "view")


def visible_buildings(*, user) -> QuerySet[Building]:
    return Building.objects.restrict(user, "view").select_related("grid")


def visible_units(*, user) -> QuerySet[Unit]:
    return Unit.objects.restrict(user, "view").select_related("grid", "building")


def get_grid(*, user, pk: int) -> Grid:
    try:
        return visible_grids(user=user).get(pk=pk)
    except Grid.DoesNotExist:
        raise NotFound("网格不存在或无权查看")


def get_building(*, user, pk: int) -> Building:
    try:
        return visible_buildings(user=user).get(pk=pk)
    except Building.DoesNotExist:
        raise NotFound("楼宇不存在或无权查看")


def get_unit(*, user, pk: int) -> Unit:
    try:
        return visible_units(user=user).get(pk=pk)
    except Unit.DoesNotExist:
        raise NotFound("单位不存在或无权查看")


def get_community(*, user, pk: int) -> Community:
    try:
        return visible_communities(user=user).get(pk=pk)
    except Community.DoesNotExist:
        raise NotFound("社区不存在或无权查看")


# --- point → grid and address → grid ----------------------------------------------------------------


# every grid's id, code, name and community, per process: what filing a case needs after point → grid
_GRID_CARD = ("id", "community_id", "code", "name")
_COMMUNITY_CARD = ("id", "street_id", "code", "name", "kind")


def _load_grid_cards() -> dict[int, tuple[tuple, tuple]]:
    grids = Grid.objects.select_related("community").only(
        *_GRID_CARD, *(f"community__{f}" for f in _COMMUNITY_CARD)
    )
    return {
        g.pk: (revisions.freeze(g, _GRID_CARD), revisions.freeze(g.community, _COMMUNITY_CARD)) for g in grids
    }


_grid_cards: RevisionCache[dict[int, tuple[tuple, tuple]]] = revisions.cached(
    PLACES_REVISION, lambda: _load_grid_cards()
)


# every 街道's id, 区, code and name, per process: what a case's answer names (bumped by places.signals)
STREETS_REVISION = "streets"
_STREET_CARD = ("id", "district_id", "code", "name")
_street_cards: RevisionCache[dict[int, tuple]] = revisions.cached(
    STREETS_REVISION,
    lambda: {s.pk: revisions.freeze(s, _STREET_CARD) for s in Street.objects.only(*_STREET_CARD)},
)


def street_card(street_id: int) -> Street | None:
    """Unscoped, for answers naming a case's 街道: the street with id, district id, code and name loaded, from a
    per-process copy (no query once warm; a fresh instance each call). ``None`` for an unknown id."""
    row = _street_cards.get().get(street_id)
    return revisions.thaw(Street, row, _STREET_CARD) if row is not None else None


def grid_card(grid_id: int) -> Grid | None:
    """Unscoped, for services: the grid with only id, code, name and its community (id, code, name) loaded.

    From a per-process copy rebuilt when the places revision moves (grids and communities bump it), so it costs
    no query; a fresh instance each call. ``None`` for an unknown id.
    """
    card = _grid_cards.get().get(grid_id)
    if card is None:
        return None
    grid = revisions.thaw(Grid, card[0], _GRID_CARD)
    grid.community = revisions.thaw(Community, card[1], _COMMUNITY_CARD)
    return grid


def locate_grid_id(lng: float, lat: float) -> int | None:
    """Unscoped, for services: the id of the most specific active grid covering (lng, lat) in WGS84."""
    from civicgrid.core import geoindex

    return geoindex.locate(lng, lat)


def locate_grid(*, user, lng: float, lat: float) -> Grid | None:
    """The most specific grid covering the point, or ``None`` (outside every grid, or not the user's to see)."""
    grid_id = locate_grid_id(lng, lat)
    if grid_id is None:
        return None
    return visible_grids(user=user).select_related("parent").filter(pk=grid_id).first()


def locate_by_address(
    *, text: str, user=None, street_ids: list[int] | None = None
) -> tuple[Grid | None, Building | None, float]:
    """Match a free-text address against buildings (address, name, aliases) and units (address, name).

    Returns ``(grid, building, score)`` with score 0–100; ``(None, None, best score)`` when nothing reaches
    :data:`ADDRESS_MIN_SCORE`. With ``user``, a match in a grid the user may not see is answered as no match;
    with ``street_ids``, likewise a match outside those 街道 (an import into one 街道).
    The candidates come from the per-process :func:`~civicgrid.places.addressindex.address_index` (rebuilt when
    places data changes); only the matched grid and building are read from the database.
    """
    match = address_index().best(text)
    if match.grid_id is None:
        return None, None, match.score
    grid_id, building_id, best = match
    grids = visible_grids(user=user) if user is not None else Grid.objects.all()
    if street_ids is not None:
        grids = grids.filter(community__street_id__in=street_ids)
    grid = grids.select_related("community", "parent").filter(pk=grid_id).first()
    if grid is None:
        return None, None, best
    building = Building.objects.filter(pk=building_id).first() if building_id else None
    return grid, building, best


def _interior_point(grid: Grid) -> tuple[float, float]:
    """A point inside ``grid`` to propose when a matched building has no coordinates: the centroid of its
    (largest) outer ring when the grid index places it in this grid, else the middle of its bounding box."""
    geometry = grid.geometry or {}
    polygons = geometry.get("coordinates") or []
    if geometry.get("type") == "Polygon":
        polygons = [polygons]
    best, best_area = None, 0.0
    for polygon in polygons:
        ring = polygon[0] if polygon else []
        area = cx = cy = 0.0
        for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
            cross = x0 * y1 - x1 * y0
            area += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
        if area and abs(area) > best_area:
            best, best_area = (cx / (3 * area), cy / (3 * area)), abs(area)
    if best is not None and locate_grid_id(*best) == grid.pk:
        return best
    return (grid.min_lng + grid.max_lng) / 2, (grid.min_lat + grid.max_lat) / 2


def address_point(*, user, text: str) -> dict | None:
    """Where an address typed on the create form probably is, for the map to propose: the matched grid (one the
    user may see), the building, a point (the building's own coordinates, else a point inside the grid) and the
    match score. ``None`` when nothing matches well enough."""
    grid, building, score = locate_by_address(text=text, user=user)
    if grid is None:
        return None
    if building is not None and building.lng is not None and building.lat is not None:
        (lng, lat), source = (building.lng, building.lat), "building"
    else:
        (lng, lat), source = _interior_point(grid), "grid"
    return {
        "score": score,
        "grid": {"id": grid.pk, "code": grid.code, "name": grid.name, "community": grid.community.name},
        "building": {"name": building.name, "address": building.address} if building is not None else None,
        "point": {"lng": round(lng, 6), "lat": round(lat, 6)},
        "point_source": source,
    }


# --- the vector base map (public: streets and buildings, nothing about people or cases) -----------


@dataclass(frozen=True)
class BasemapPayload:
    body: bytes  # GeoJSON FeatureCollection, UTF-8
    gzipped: bytes  # the same, gzip-compressed once (most browsers take it: ~ 1/6 of the size)
    etag: str  # a strong ETag of ``body`` (quoted); the gzipped representation adds ``-gz``


def _load_basemap() -> BasemapPayload:
    import gzip
    import hashlib
    import json

    from civicgrid.places.models import MapFeature

    features = [
        {
            "type": "Feature",
            "geometry": geometry,
            "properties": {"kind": kind, "subtype": subtype, "name": name, "level": level},
        }
        for kind, subtype, name, level, geometry in MapFeature.objects.order_by(
            "kind", "level", "pk"
        ).values_list("kind", "subtype", "name", "level", "geometry")
    ]
    body = json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":")
    ).encode()
    digest = hashlib.sha256(body).hexdigest()[:32]
    return BasemapPayload(body=body, gzipped=gzip.compress(body, 6, mtime=0), etag=f'"{digest}"')


_basemap: RevisionCache[BasemapPayload] = revisions.cached(BASEMAP_REVISION, _load_basemap)


def basemap_geojson() -> BasemapPayload:
    """The vector base map (GeoJSON bytes, gzipped copy, ETag), from a per-process copy rebuilt when it changes."""
    return _basemap.get()


def has_basemap() -> bool:
    """Whether any base-map feature is stored (else the maps draw the grids on plain grey)."""
    return b'"Feature"' in _basemap.get().body


# --- the grid index (civicgrid.core.geoindex) reads the grids from here ----------------------------------


def active_grid_shapes() -> tuple[list[int], list]:
    """Every active grid as ``(ids, polygons)``, the most specific first (专属网格), then by code: in the index a
    lower rank wins overlaps and shared edges. A grid whose geometry cannot be read is left out (logged)."""
    import logging

    import shapely
    import shapely.geometry

    from civicgrid.places.models import GridKind

    rows = list(Grid.objects.filter(is_active=True).values_list("pk", "code", "kind", "geometry"))
    rows.sort(key=lambda r: (0 if r[2] == GridKind.DEDICATED else 1, r[1]))
    ids, polys = [], []
    for pk, code, _kind, geometry in rows:
        try:
            geom = shapely.geometry.shape(geometry)
        except Exception:  # noqa: BLE001 - a broken row must not take the lookup down
            logging.getLogger("civicgrid.core.geoindex").warning(
                "grid %s has an unreadable geometry; left out of the index", code
            )
            continue
        if geom.is_empty:
            continue
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        ids.append(pk)
        polys.append(geom)
    return ids, polys
