"""Every read of the 舆情 ledger, scoped to the user: 舆情 are the ``opinion`` cases the user may see (tier,
jurisdiction and the procedure's visibility rule — the desk, leaders and the department handling it)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from civicgrid.accounts import selectors as account_selectors
from civicgrid.accounts.models import Department
from civicgrid.accounts.roles import Role
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.models import Case
from civicgrid.core.errors import NotFound
from civicgrid.opinion.models import OpinionDetail
from civicgrid.opinion.workflow import CODE


def departments(*, user) -> QuerySet[Department]:
    return account_selectors.visible_departments(user=user).order_by("name")


def visible_cases(*, user) -> QuerySet[Case]:
    return case_selectors.visible_cases(user=user).filter(procedure=CODE)


def rows(
    *, user, state: str = "", level: str = "", platform: str = "", text: str = ""
) -> QuerySet[OpinionDetail]:
    qs = OpinionDetail.objects.filter(case__in=visible_cases(user=user)).select_related(
        "case__department", "case__community"
    )
    if state:
        qs = qs.filter(case__state=state)
    if level:
        qs = qs.filter(level=level)
    if platform:
        qs = qs.filter(platform=platform)
    if text:
        qs = qs.filter(
            Q(media_name__icontains=text)
            | Q(case__description__icontains=text)
            | Q(case__number__icontains=text)
        )
    return qs.order_by("-collected_at", "-pk")


def get_row(*, user, case_id) -> OpinionDetail:
    try:
        return rows(user=user).get(case_id=int(case_id))
    except (OpinionDetail.DoesNotExist, TypeError, ValueError):
        raise NotFound("舆情不存在或无权查看")


def ledger_summary(*, user, start, end):
    """The 指挥中心's 舆情 summary (registered with metrics.ledgers in apps.ready)."""
    from civicgrid.metrics import ledgers

    if user.role in (Role.GRID_WORKER, Role.COMMUNITY_STAFF):
        return None
    return ledgers.case_ledger(visible_cases(user=user), start, end)
