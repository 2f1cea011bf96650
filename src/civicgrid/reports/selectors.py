"""Every read of 工作总结, scoped: the roles that see the whole 街道 (指挥中心, 值班长, 领导, 系统管理员), for the 街道
of their tier (a 区 account: the 街道 of its 区)."""

from __future__ import annotations

from django.db.models import QuerySet

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.core import scoping
from civicgrid.core.errors import NotFound
from civicgrid.places import selectors as place_selectors
from civicgrid.places.models import Street
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


def visible_reports(*, user) -> QuerySet[Report]:
    if not can_use(user):
        return Report.objects.none()
    return place_selectors.in_tier(Report.objects.select_related("street", "template"), user, "street_id")


def visible_templates(*, user) -> QuerySet[ReportTemplate]:
    if not can_use(user):
        return ReportTemplate.objects.none()
    return place_selectors.in_tier(ReportTemplate.objects.select_related("street"), user, "street_id")


def active_templates(*, user, street: Street) -> QuerySet[ReportTemplate]:
    return visible_templates(user=user).filter(street=street, is_active=True).defer("content")


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
        return ReportVersion.objects.select_related("report__street", "template").get(
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
