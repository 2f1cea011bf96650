"""Every read of the 基础台账, scoped to the user: the tier (``places.selectors.tier_q``: 街道 → own 街道, 区 → its
街道s), then a 网格员 sees the rows of their own grids and a 社区工作人员 those of their 社区. Masking is decided
here too: :func:`can_see_full` (the ``PERSON_FULL_VIEW`` capability) — nothing else ever decrypts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import ExtractYear

from civicgrid.accounts.roles import Capability, Role, has_capability
from civicgrid.core import clock, scoping
from civicgrid.core.errors import NotFound
from civicgrid.places import selectors as place_selectors
from civicgrid.registers import crypto
from civicgrid.registers.models import (
    AccessLog,
    AssistancePayment,
    Household,
    Person,
    PersonTag,
    Visit,
    VisitCheckItem,
)


def can_see_full(user) -> bool:
    """Whether ``user`` may open a person's full ID number and phone (each opening is logged)."""
    return has_capability(user, Capability.PERSON_FULL_VIEW)


def _scoped(qs: QuerySet, user, *, grid_field: str = "grid") -> QuerySet:
    if not has_capability(user, Capability.BUSINESS_VIEW) or user.role == Role.DEPT_HANDLER:
        return qs.none()
    tier = place_selectors.tier_q(user, "street_id")
    if tier is not None:
        qs = qs.filter(tier)
    if user.role == Role.GRID_WORKER:
        own = list(user.grids.values_list("pk", flat=True))
        qs = qs.filter(**{f"{grid_field}_id__in": own})
    elif user.role == Role.COMMUNITY_STAFF:
        qs = qs.filter(**{f"{grid_field}__community_id": user.community_id or -1})
    return qs


@scoping.register(Person)
def _person_scope(qs, user, action):
    return qs.filter(pk__in=visible_persons(user=user).values("pk")) if action == "view" else qs.none()


@scoping.register(Household)
def _household_scope(qs, user, action):
    return qs.filter(pk__in=visible_households(user=user).values("pk")) if action == "view" else qs.none()


@scoping.register(Visit)
def _visit_scope(qs, user, action):
    return qs.filter(pk__in=visible_visits(user=user).values("pk")) if action == "view" else qs.none()


def visible_persons(*, user) -> QuerySet[Person]:
    return _scoped(Person.objects.get_queryset(), user)


def visible_households(*, user) -> QuerySet[Household]:
    return _scoped(Household.objects.get_queryset(), user)


def visible_visits(*, user) -> QuerySet[Visit]:
    return _scoped(Visit.objects.get_queryset(), user)


def tags() -> QuerySet[PersonTag]:
    return PersonTag.objects.filter(is_active=True)


def check_items() -> QuerySet[VisitCheckItem]:
    return VisitCheckItem.objects.filter(is_active=True)


def person_rows(
    *, user, q: str = "", tag: str = "", residence: str = "", active: bool | None = True
) -> QuerySet[Person]:
    """The register list. ``q``: a full 18-character ID number matches exactly (by its keyed hash); otherwise
    a name fragment."""
    qs = visible_persons(user=user).select_related("grid", "household__building").prefetch_related("tags")
    q = (q or "").strip()
    if q:
        if crypto.ID_RE.match(crypto.normalise_id(q)):
            qs = qs.filter(id_hash__in=crypto.search_hashes(q))
        else:
            qs = qs.filter(name__contains=q[:30])
    if tag:
        qs = qs.filter(tags__code=tag)
    if residence:
        qs = qs.filter(residence=residence)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.distinct().order_by("grid__code", "name", "pk")


def get_person(*, user, pk) -> Person:
    try:
        return (
            visible_persons(user=user)
            .select_related("grid", "household__building", "street")
            .prefetch_related("tags")
            .get(pk=int(pk))
        )
    except (Person.DoesNotExist, TypeError, ValueError):
        raise NotFound("人员不存在或无权查看")


def get_household(*, user, pk) -> Household:
    try:
        return (
            visible_households(user=user)
            .select_related("building", "grid__community", "street")
            .prefetch_related("members__tags", "assistance__person")
            .get(pk=int(pk))
        )
    except (Household.DoesNotExist, TypeError, ValueError):
        raise NotFound("户档不存在或无权查看")


def household_rows(*, user, q: str = "") -> QuerySet[Household]:
    qs = visible_households(user=user).select_related("building", "grid")
    if q:
        qs = qs.filter(Q(building__name__contains=q[:50]) | Q(members__name__contains=q[:30])).distinct()
    return qs.order_by("building__name", "room")


def get_visit(*, user, pk) -> Visit:
    try:
        return (
            visible_visits(user=user)
            .select_related("visitor", "grid", "household__building", "person", "unit", "building", "case")
            .prefetch_related("results", "persons")
            .get(pk=int(pk))
        )
    except (Visit.DoesNotExist, TypeError, ValueError):
        raise NotFound("走访记录不存在或无权查看")


def access_log(*, user, person: Person) -> QuerySet[AccessLog]:
    """Who opened this person's full data (shown to those who may open it themselves)."""
    if not can_see_full(user):
        return AccessLog.objects.none()
    return AccessLog.objects.filter(person=person).select_related("user")


# --- 重点人员 and their visits --------------------------------------------------------------------------


def required_interval(person: Person) -> int | None:
    """The shortest visit interval of the person's (prefetched) tags; ``None``: not a 重点人员."""
    days = [t.visit_interval_days for t in person.tags.all() if t.is_active and t.visit_interval_days]
    return min(days) if days else None


def key_person_status(*, persons: QuerySet[Person], as_of: date) -> list[dict]:
    """Each 重点人员 of ``persons`` (active, a tag with an interval) with the last visit on or before ``as_of``,
    the due date and whether overdue. Due = last visit date + interval; without a visit, the date the person
    was registered + interval (a new 重点人员 gets one full interval). Overdue: due < ``as_of``."""
    qs = (
        persons.filter(is_active=True, tags__visit_interval_days__isnull=False, tags__is_active=True)
        .distinct()
        .prefetch_related("tags")
        .select_related("grid", "household__building")
    )
    last = dict(
        Visit.persons.through.objects.filter(person__in=qs.values("pk"))
        .filter(visit__visited_at__lt=_day_after(as_of))
        .values("person_id")
        .annotate(last=Max("visit__visited_at"))
        .values_list("person_id", "last")
    )
    rows = []
    for p in qs:
        interval = required_interval(p)
        if interval is None:
            continue
        seen = last.get(p.pk)
        base = clock.to_local(seen).date() if seen else clock.to_local(p.created_at).date()
        due = base + timedelta(days=interval)
        rows.append(
            {
                "person": p,
                "interval": interval,
                "last_visit": clock.to_local(seen).date() if seen else None,
                "due": due,
                "overdue": due < as_of,
                "days_over": max(0, (as_of - due).days),
            }
        )
    rows.sort(key=lambda r: (not r["overdue"], r["due"], r["person"].name))
    return rows


def _day_after(day: date):
    from datetime import datetime, time

    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI)


def visit_targets(*, user) -> dict:
    return {
        "units": list(place_selectors.visible_units(user=user).order_by("name")[:300]),
        "buildings": list(place_selectors.visible_buildings(user=user).order_by("name")[:300]),
    }


CENT = Decimal("0.01")

# --- 保障金发放 ---------------------------------------------------------------------------------------------


def visible_payments(*, user) -> QuerySet[AssistancePayment]:
    return AssistancePayment.objects.filter(household__in=visible_households(user=user).values("pk"))


def household_payments(*, household: Household, months: int = 12) -> dict:
    """The card's 保障金 part: the total per year (newest first) and the last ``months`` months' payments."""
    qs = AssistancePayment.objects.filter(household=household)
    years = [
        (row["y"], Decimal(row["total"]).quantize(CENT), row["n"])
        for row in qs.annotate(y=ExtractYear("month"))
        .values("y")
        .annotate(total=Sum("amount"), n=Count("pk"))
        .order_by("-y")
    ]
    recent_months = sorted(set(qs.values_list("month", flat=True)), reverse=True)[:months]
    rows = list(qs.filter(month__in=recent_months).select_related("person").order_by("-month", "kind"))
    return {"years": years, "rows": rows, "total": sum((t for _, t, _ in years), Decimal("0.00"))}


def payment_totals(*, user, year: int) -> dict:
    """累计发放保障金 in ``year`` for what ``user`` sees: the sum, payment rows, households and persons paid."""
    agg = (
        visible_payments(user=user)
        .filter(month__year=year)
        .aggregate(
            total=Sum("amount"),
            rows=Count("pk"),
            households=Count("household", distinct=True),
            persons=Count("person", distinct=True),
        )
    )
    agg["total"] = Decimal(agg["total"] or 0).quantize(CENT)
    agg["year"] = year
    return agg
