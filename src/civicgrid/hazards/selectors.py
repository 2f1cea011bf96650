"""Every read of the 安全隐患 ledger, scoped to the user: hazards are the ``hazard`` cases the user may see
(:func:`civicgrid.cases.selectors.visible_cases`: tier, jurisdiction); inspections follow the same tier
(``places.selectors.tier_q``) and, for a 网格员 / 社区工作人员, their own grids / community."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from civicgrid.accounts.roles import Capability, Role, has_capability
from civicgrid.cases import procedures as case_procedures
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.models import Case
from civicgrid.core import scoping
from civicgrid.core.errors import NotFound
from civicgrid.hazards.models import (
    Checklist,
    FireSafetyRegister,
    HazardCategory,
    HazardDetail,
    HazardLevel,
    Inspection,
    InspectionPhoto,
    TargetKind,
)
from civicgrid.hazards.workflow import CODE
from civicgrid.places import selectors as place_selectors
from civicgrid.places.models import Building

# --- scope rules (the admin and ``restrict`` use them) ---------------------------------------------------


@scoping.register(Inspection)
def _inspection_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if action != "view":
        return qs.none()  # inspections are written by the services only
    return qs.filter(pk__in=visible_inspections(user=user).values("pk"))


@scoping.register(FireSafetyRegister)
def _register_scope(qs: QuerySet, user, action: str) -> QuerySet:
    return qs.filter(building__in=Building.objects.restrict(user, action))


def street_in_tier(*, user, street_id: int | None) -> bool:
    return street_id is not None and place_selectors.same_tier(user, street_id)


def target_object(*, user, kind: str, pk):
    """The unit / building / community ``pk`` if ``user`` sees it, else ``None``."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    qs = {
        TargetKind.UNIT: lambda: place_selectors.visible_units(user=user).select_related("grid__community"),
        TargetKind.BUILDING: lambda: place_selectors.visible_buildings(user=user).select_related(
            "grid__community"
        ),
        TargetKind.COMMUNITY: lambda: place_selectors.visible_communities(user=user),
    }.get(kind)
    return qs().filter(pk=pk).first() if qs else None


def grid_at(*, user, lng: float, lat: float):
    return place_selectors.locate_grid(user=user, lng=lng, lat=lat)


def target_choices(*, user, limit: int = 500) -> dict:
    """The 检查对象 the user may pick on the checklist form."""
    return {
        "units": list(place_selectors.visible_units(user=user).order_by("name")[:limit]),
        "buildings": list(place_selectors.visible_buildings(user=user).order_by("name")[:limit]),
        "communities": list(place_selectors.visible_communities(user=user).order_by("name")[:limit]),
    }


def colleagues(*, user):
    """People the user may name as co-inspectors (the people the user sees; not system accounts)."""
    from civicgrid.accounts import selectors as account_selectors

    return (
        account_selectors.visible_users(user=user)
        .filter(is_active=True, role__in=INSPECTOR_ROLES)
        .exclude(pk=user.pk)
        .order_by("role", "username")
    )


INSPECTOR_ROLES = (
    Role.GRID_WORKER,
    Role.COMMUNITY_STAFF,
    Role.DISPATCHER,
    Role.SHIFT_LEADER,
    Role.DEPT_HANDLER,
    Role.LEADER,
)


def checklists() -> QuerySet[Checklist]:
    return Checklist.objects.filter(is_active=True).prefetch_related("items__category")


def categories() -> QuerySet[HazardCategory]:
    return HazardCategory.objects.filter(is_active=True)


def visible_inspections(*, user) -> QuerySet[Inspection]:
    if not has_capability(user, Capability.BUSINESS_VIEW):
        return Inspection.objects.none()
    qs = Inspection.objects.get_queryset()
    tier = place_selectors.tier_q(user, "street_id")
    if tier is not None:
        qs = qs.filter(tier)
    if user.role == Role.GRID_WORKER:
        qs = qs.filter(Q(grid__in=user.grids.all()) | Q(created_by=user))
    elif user.role == Role.COMMUNITY_STAFF:
        qs = qs.filter(Q(community_id=user.community_id) | Q(created_by=user))
    return qs


def get_inspection(*, user, pk) -> Inspection:
    try:
        return (
            visible_inspections(user=user)
            .select_related("checklist", "created_by", "unit", "building", "community", "grid")
            .prefetch_related("results", "inspectors", "photos")
            .get(pk=int(pk))
        )
    except (Inspection.DoesNotExist, TypeError, ValueError):
        raise NotFound("检查记录不存在或无权查看")


def inspection_photo(*, user, pk) -> InspectionPhoto:
    """A photo of an inspection ``user`` may see (404-like ``NotFound`` otherwise)."""
    try:
        return (
            InspectionPhoto.objects.select_related("attachment")
            .filter(inspection__in=visible_inspections(user=user))
            .get(pk=int(pk))
        )
    except (InspectionPhoto.DoesNotExist, TypeError, ValueError):
        raise NotFound("照片不存在或无权查看")


def visible_hazards(*, user) -> QuerySet[Case]:
    return case_selectors.visible_cases(user=user).filter(procedure=CODE)


def hazard_rows(*, user, state: str = "", level: str = "", category: str = "") -> QuerySet[HazardDetail]:
    """The ledger: the detail records of the hazards the user sees, newest first."""
    qs = HazardDetail.objects.filter(case__in=visible_hazards(user=user)).select_related(
        "case__community", "case__grid", "case__department", "category", "inspection"
    )
    if state:
        qs = qs.filter(case__state=state)
    if level:
        qs = qs.filter(level=level)
    if category:
        qs = qs.filter(category__code=category)
    return qs.order_by("-case__created_at", "-pk")


def fire_registers(*, user) -> QuerySet[FireSafetyRegister]:
    return FireSafetyRegister.objects.filter(building__in=place_selectors.visible_buildings(user=user))


def map_places(*, user) -> dict:
    """The places of the 四色地图 the user sees: communities, buildings (with their register) and units."""
    return {
        "communities": list(place_selectors.visible_communities(user=user).only("pk", "name", "geometry")),
        "buildings": list(place_selectors.visible_buildings(user=user).select_related("fire_register")),
        "units": list(
            place_selectors.visible_units(user=user).only(
                "pk", "name", "lng", "lat", "building_id", "grid_id"
            )
        ),
        "grid_community": dict(place_selectors.visible_grids(user=user).values_list("pk", "community_id")),
    }


def open_hazards_for_map(*, user) -> QuerySet[HazardDetail]:
    from civicgrid.cases import procedures

    return HazardDetail.objects.filter(
        case__in=visible_hazards(user=user).filter(state__in=procedures.get(CODE).open)
    ).values(
        "level", "target_unit_id", "target_building_id", "case__community_id", "case__due_at", "case__stage"
    )


def ledger_summary(*, user, start, end):
    """The 指挥中心's 安全隐患 summary (registered with metrics.ledgers in apps.ready): 登记/整改销号/在办 and
    the open 重大 hazards."""
    from civicgrid.metrics import ledgers

    qs = visible_hazards(user=user)
    major = HazardDetail.objects.filter(
        case__in=qs.filter(case_procedures.group_q("open")), level=HazardLevel.MAJOR
    ).count()
    return [
        *ledgers.case_ledger(qs, start, end),
        ledgers.Figure("在办重大隐患", major, key="major_open", formula="统计时仍在整改的重大隐患件数"),
    ]
