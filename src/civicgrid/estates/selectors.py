"""Every read of the estates registers, scoped to the user like the 基础台账: the tier (``places.selectors.tier_q``),
then a 网格员 sees the rows of their own grids and a 社区工作人员 those of their 社区; the street-wide roles see the
街道. 处置部门人员 and the 审计管理员 see none. Masking is decided here too (:func:`sees_names`)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from civicgrid.accounts.roles import Capability, Role, has_capability
from civicgrid.core import scoping
from civicgrid.core.errors import NotFound
from civicgrid.core.validation import MAX_DB_INT
from civicgrid.estates.models import (
    BuildingProfile,
    Campaign,
    CampaignTarget,
    EnterpriseProfile,
    Rental,
)
from civicgrid.places import selectors as place_selectors

# who works the registers in person and sees landlords' / 楼长 names in full (phones are always masked)
NAME_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.LEADER, Role.SYSTEM_ADMIN)


def can_view(user) -> bool:
    return has_capability(user, Capability.BUSINESS_VIEW) and user.role != Role.DEPT_HANDLER


def sees_names(user) -> bool:
    return getattr(user, "role", None) in NAME_ROLES


def mask_name(name: str) -> str:
    """王小明 → 王**: the family name only."""
    name = (name or "").strip()
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def shown_name(user, name: str) -> str:
    return name if sees_names(user) else mask_name(name)


def _scoped(qs: QuerySet, user, *, grid_field: str = "grid") -> QuerySet:
    if not can_view(user):
        return qs.none()
    tier = place_selectors.tier_q(user, "street_id")
    if tier is not None:
        qs = qs.filter(tier)
    if user.role == Role.GRID_WORKER:
        qs = qs.filter(**{f"{grid_field}_id__in": list(user.grids.values_list("pk", flat=True))})
    elif user.role == Role.COMMUNITY_STAFF:
        qs = qs.filter(**{f"{grid_field}__community_id": user.community_id or -1})
    return qs


def visible_rentals(*, user) -> QuerySet[Rental]:
    return _scoped(Rental.objects.get_queryset(), user)


def visible_buildings(*, user) -> QuerySet[BuildingProfile]:
    return _scoped(BuildingProfile.objects.get_queryset(), user)


def visible_enterprises(*, user) -> QuerySet[EnterpriseProfile]:
    return _scoped(EnterpriseProfile.objects.get_queryset(), user)


def visible_campaigns(*, user) -> QuerySet[Campaign]:
    """A campaign is the 街道's: every viewer of the 街道 sees it (its targets are scoped by grid)."""
    if not can_view(user):
        return Campaign.objects.none()
    qs = Campaign.objects.get_queryset()
    tier = place_selectors.tier_q(user, "street_id")
    return qs.filter(tier) if tier is not None else qs


def visible_targets(*, user) -> QuerySet[CampaignTarget]:
    return _scoped(CampaignTarget.objects.get_queryset(), user)


for _model, _fn in (
    (Rental, visible_rentals),
    (BuildingProfile, visible_buildings),
    (EnterpriseProfile, visible_enterprises),
    (Campaign, visible_campaigns),
    (CampaignTarget, visible_targets),
):

    def _rule(qs, user, action, fn=_fn):
        return qs.filter(pk__in=fn(user=user).values("pk")) if action == "view" else qs.none()

    scoping.register(_model)(_rule)


def _get(qs: QuerySet, pk, message: str):
    try:
        n = int(pk)
        if not 0 < n <= MAX_DB_INT:
            raise ValueError(pk)
        return qs.get(pk=n)
    except (qs.model.DoesNotExist, TypeError, ValueError):
        raise NotFound(message) from None


# --- 出租房 ------------------------------------------------------------------------------------------------


def rental_rows(
    *, user, q: str = "", grid: int | None = None, crowded: bool | None = None, three_in_one: bool | None = None,
    status: str = "",
) -> QuerySet[Rental]:  # fmt: skip
    qs = visible_rentals(user=user).select_related("building", "grid")
    q = (q or "").strip()[:50]
    if q:
        match = Q(building__name__contains=q) | Q(room=q)
        if sees_names(user):
            match |= Q(landlord_name__contains=q)
        qs = qs.filter(match)
    if grid:
        qs = qs.filter(grid_id=grid)
    if crowded is not None:
        qs = qs.filter(crowded=crowded)
    if three_in_one is not None:
        qs = qs.filter(three_in_one=three_in_one)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("grid__code", "building__name", "room", "pk")


def get_rental(*, user, pk) -> Rental:
    return _get(
        visible_rentals(user=user).select_related("building", "grid", "landlord_person"),
        pk,
        "出租房不存在或无权查看",
    )


def inspections(*, rental: Rental):
    return rental.inspections.select_related("inspector", "case")


# --- 楼宇 / 企业 ------------------------------------------------------------------------------------------


def building_rows(*, user, key_only: bool = False) -> QuerySet[BuildingProfile]:
    qs = visible_buildings(user=user).select_related("building", "grid__community")
    if key_only:
        qs = qs.filter(is_key=True)
    return qs.order_by("-is_key", "building__name", "pk")


def get_building(*, user, pk) -> BuildingProfile:
    return _get(visible_buildings(user=user).select_related("building", "grid"), pk, "楼宇不存在或无权查看")


def enterprise_rows(
    *, user, building: BuildingProfile | None = None, q: str = ""
) -> QuerySet[EnterpriseProfile]:
    qs = visible_enterprises(user=user).select_related("unit", "building")
    if building is not None:
        qs = qs.filter(building_id=building.building_id)
    q = (q or "").strip()[:50]
    if q:
        qs = qs.filter(unit__name__contains=q)
    return qs.order_by("building__name", "unit__name", "pk")


def get_enterprise(*, user, pk) -> EnterpriseProfile:
    return _get(
        visible_enterprises(user=user).select_related("unit", "building", "grid"), pk, "企业不存在或无权查看"
    )


# --- 专项排查 -----------------------------------------------------------------------------------------------


def get_campaign(*, user, pk) -> Campaign:
    return _get(visible_campaigns(user=user), pk, "专项排查不存在或无权查看")


def target_rows(
    *, user, campaign: Campaign, result: str = "", grid: int | None = None
) -> QuerySet[CampaignTarget]:
    qs = visible_targets(user=user).filter(campaign=campaign).select_related("grid", "checked_by", "case")
    if result:
        qs = qs.filter(result=result)
    if grid:
        qs = qs.filter(grid_id=grid)
    return qs.order_by("grid__code", "key")


def get_target(*, user, pk) -> CampaignTarget:
    return _get(
        visible_targets(user=user).select_related("campaign", "grid", "building", "case"),
        pk,
        "排查对象不存在或无权查看",
    )
