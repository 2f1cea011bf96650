"""Every read of 工作总结, scoped: the roles that see the whole 街道 (指挥中心, 值班长, 领导, 系统管理员), for the 街道
of their tier (a 区 account: the 街道 of its 区). The reports of a whole 区 are for the 区 level only (a 区 account
with such a role: its 区; a platform-level 系统管理员: every 区); a 街道 account never sees them."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.core import scoping
from civicgrid.core.errors import NotFound
from civicgrid.places import selectors as place_selectors
from civicgrid.places.models import District, Street
from civicgrid.reports.models import Report, ReportTemplate, ReportVersion


def can_use(user) -> bool:
    return has_capability(user, Capability.BUSINESS_VIEW) and has_capability(
        user, Capability.STREET_WIDE_VIEW
    )


@scoping.register(Report)
def _report_scope(qs: QuerySet, user, action: str) -> QuerySet:
    return qs.filter(pk__in=visible_reports(user=user).values("pk"))


@scoping.register(ReportTemplate)
def _template_scope(qs: QuerySet, user, action: str) -> QuerySet:
    return qs.filter(pk__in=visible_templates(user=user).values("pk"))


def district_level(user) -> bool:
    """Whether ``user`` works above the 街道: a 区 account (区 set, no 街道) or a platform-level 系统管理员."""
    if not can_use(user) or getattr(user, "street_id", None) is not None:
        return False
    return getattr(user, "district_id", None) is not None or place_selectors.tier_street_ids(user) is None


def districts(*, user) -> QuerySet[District]:
    """The 区 ``user`` may draft a whole-区 report for (none for a 街道 account)."""
    if not district_level(user):
        return District.objects.none()
    district_id = getattr(user, "district_id", None)
    qs = District.objects.all() if district_id is None else District.objects.filter(pk=district_id)
    return qs.order_by("code")


def _in_scope(qs: QuerySet, user) -> QuerySet:
    """Rows of a 街道 of the user's tier, and — for the 区 level — rows of the user's 区."""
    tier = place_selectors.tier_q(user, "street_id")
    if tier is None:
        return qs  # the platform level: every 街道 and every 区
    q = tier & Q(street__isnull=False)
    if district_level(user):
        q |= Q(district_id__in=districts(user=user).values("pk"))
    return qs.filter(q)


def visible_reports(*, user) -> QuerySet[Report]:
    if not can_use(user):
        return Report.objects.none()
    return _in_scope(Report.objects.select_related("street", "district", "template"), user)


def reader_for(user, *, street: Street | None = None, district: District | None = None):
    """``user`` narrowed to the 街道 or the 区 of a report, for counting its figures
    (:func:`civicgrid.places.selectors.narrowed_to`)."""
    return place_selectors.narrowed_to(user, street=street, district=district)


def visible_templates(*, user) -> QuerySet[ReportTemplate]:
    if not can_use(user):
        return ReportTemplate.objects.none()
    return _in_scope(ReportTemplate.objects.select_related("street", "district"), user)


def active_templates(
    *, user, street: Street | None = None, district: District | None = None
) -> QuerySet[ReportTemplate]:
    """The templates a report of ``street`` (or a whole-区 report of ``district``) may use."""
    qs = visible_templates(user=user).filter(is_active=True).defer("content")
    if street is not None:
        return qs.filter(street=street)
    if district is not None:
        return qs.filter(district=district)
    return qs.none()


def streets(*, user) -> QuerySet[Street]:
    if not can_use(user):
        return Street.objects.none()
    return place_selectors.in_tier(Street.objects.all(), user, "pk").order_by("code")


def get_report(*, user, pk) -> Report:
    try:
        return visible_reports(user=user).get(pk=int(pk))
    except (Report.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound("工作总结不存在或无权查看")


def get_version(*, user, pk) -> ReportVersion:
    """A version of a report the user may see (404 otherwise)."""
    try:
        return ReportVersion.objects.select_related("report__street", "report__district", "template").get(
            pk=int(pk), report__in=visible_reports(user=user)
        )
    except (ReportVersion.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound("该版本不存在或无权查看")


def get_template(*, user, pk) -> ReportTemplate:
    try:
        return visible_templates(user=user).get(pk=int(pk))
    except (ReportTemplate.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound("模板不存在或无权查看")


def versions(*, report: Report) -> QuerySet[ReportVersion]:
    return report.versions.defer("docx", "snapshot").select_related("created_by", "template")
