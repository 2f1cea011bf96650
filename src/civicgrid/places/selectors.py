"""Every read of geography goes through here, already scoped to what the user may see.

Scope (view): 街道 roles and 处置部门 see the whole 街道 (they need the map to locate cases); 社区工作人员 their
community; 网格员 their own grids (with the 专属网格 inside them); the 审计管理员 sees none (三权分立).
Changes to geography are for the 系统管理员 only.
"""

from __future__ import annotations

import re
import unicodedata

from django.db.models import Q, QuerySet

from civicgrid.accounts.roles import STREET_ROLES, Role
from civicgrid.core.errors import NotFound
from civicgrid.core.scoping import register
from civicgrid.places.models import Building, Community, Grid, Street, Unit


def _sees_everything(user, action: str) -> bool | None:
    """True: all rows. False: none. None: scoped below."""
    if user.role == Role.AUDIT_ADMIN:
        return False
    if action != "view":
        return user.role == Role.SYSTEM_ADMIN
    if user.role in STREET_ROLES or user.role == Role.DEPT_HANDLER:
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


@register(Street)
def _street_scope(qs: QuerySet, user, action: str) -> QuerySet:
    every = _sees_everything(user, action)
    if every is None:
        return qs if action == "view" else qs.none()
    return qs if every else qs.none()


@register(Community)
def _community_scope(qs: QuerySet, user, action: str) -> QuerySet:
    every = _sees_everything(user, action)
    if every is not None:
        return qs if every else qs.none()
    if user.role == Role.COMMUNITY_STAFF:
        return qs.filter(pk=user.community_id)
    if user.role == Role.GRID_WORKER:
        return qs.filter(grids__in=user.grids.all()).distinct()
    return qs.none()


@register(Grid)
def _grid_scope(qs: QuerySet, user, action: str) -> QuerySet:
    every = _sees_everything(user, action)
    if every is not None:
        return qs if every else qs.none()
    return qs.filter(grid_filter(user))


@register(Building)
def _building_scope(qs: QuerySet, user, action: str) -> QuerySet:
    every = _sees_everything(user, action)
    if every is not None:
        return qs if every else qs.none()
    return qs.filter(grid__in=Grid.objects.restrict(user, "view"))


@register(Unit)
def _unit_scope(qs: QuerySet, user, action: str) -> QuerySet:
    every = _sees_everything(user, action)
    if every is not None:
        return qs if every else qs.none()
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


ADDRESS_MIN_SCORE = 80.0

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


def _road_numbers(text: str) -> set[tuple[str, str]]:
    return {(road, str(int(no))) for road, no in _ROAD_NUMBER.findall(text)}


def _address_score(query: str, query_roads: set[tuple[str, str]], candidate: str) -> float:
    """WRatio, lifted to ≥ 90 when road and house number agree, capped at 60 when only the number differs."""
    from rapidfuzz import fuzz

    score = float(fuzz.WRatio(query, candidate))
    same_number, other_number = 0.0, False
    for q_road, q_no in query_roads:
        for c_road, c_no in _road_numbers(candidate):
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


def locate_by_address(*, text: str, user=None) -> tuple[Grid | None, Building | None, float]:
    """Match a free-text address against buildings (address, name, aliases) and units (address, name).

    Returns ``(grid, building, score)`` with score 0–100; ``(None, None, best score)`` when nothing reaches
    :data:`ADDRESS_MIN_SCORE`. With ``user``, a match in a grid the user may not see is answered as no match.
    """
    from rapidfuzz import fuzz, process

    query = normalise_address(text)
    if len(query) < 2:
        return None, None, 0.0
    query_roads = _road_numbers(query)

    strings: list[str] = []
    owners: list[tuple[int | None, int]] = []  # (building id, grid id)
    for pk, grid_id, name, address, aliases in Building.objects.values_list(
        "pk", "grid_id", "name", "address", "aliases"
    ):
        for raw in (address, name, *(aliases or "").split("|")):
            norm = normalise_address(raw)
            if len(norm) >= 2:
                strings.append(norm)
                owners.append((pk, grid_id))
    for building_id, grid_id, name, address in Unit.objects.values_list(
        "building_id", "grid_id", "name", "address"
    ):
        for raw in (address, name):
            norm = normalise_address(raw)
            if len(norm) >= 2:
                strings.append(norm)
                owners.append((building_id, grid_id))
    if not strings:
        return None, None, 0.0

    shortlist = {
        i for _s, _score, i in process.extract(query, strings, scorer=fuzz.WRatio, limit=30, score_cutoff=40)
    }
    if query_roads:  # the exact road + number, wherever the fuzzy shortlist put it
        shortlist |= {i for i, s in enumerate(strings) if query_roads & _road_numbers(s)}
    best_i, best = None, 0.0
    for i in sorted(shortlist):
        score = _address_score(query, query_roads, strings[i])
        if score > best:
            best_i, best = i, score
    if best_i is None or best < ADDRESS_MIN_SCORE:
        return None, None, round(best, 1)

    building_id, grid_id = owners[best_i]
    grids = visible_grids(user=user) if user is not None else Grid.objects.all()
    grid = grids.select_related("community", "parent").filter(pk=grid_id).first()
    if grid is None:
        return None, None, round(best, 1)
    building = Building.objects.filter(pk=building_id).first() if building_id else None
    return grid, building, round(best, 1)
