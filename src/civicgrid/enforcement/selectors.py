"""Every read of the 综合执法 ledger, scoped to the user: 执法案件 are the ``enforcement`` cases the user may see
(:func:`civicgrid.cases.selectors.visible_cases`: tier, jurisdiction and the procedure's visibility rule — the
desk, leaders and the assigned department; no 网格员)."""

from __future__ import annotations

from django.db.models import QuerySet

from civicgrid.accounts import selectors as account_selectors
from civicgrid.accounts.models import Department
from civicgrid.accounts.roles import Role
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.models import Case
from civicgrid.core.errors import NotFound
from civicgrid.enforcement.models import EnforcementDetail, ViolationType
from civicgrid.enforcement.workflow import CODE


def violation_types() -> QuerySet[ViolationType]:
    return ViolationType.objects.filter(is_active=True)


def departments(*, user) -> QuerySet[Department]:
    """The departments a case may be handed to: the user's tier's active departments, 执法 ones first."""
    from django.db.models import Case as CaseWhen
    from django.db.models import IntegerField, Value, When

    return account_selectors.visible_departments(user=user).order_by(
        CaseWhen(When(kind="enforcement", then=Value(0)), default=Value(1), output_field=IntegerField()),
        "name",
    )


def source_case_choices(*, user) -> QuerySet[Case]:
    """Cases that may be named as the source of a 执法案件: the user's visible cases of other procedures."""
    return case_selectors.visible_cases(user=user).exclude(procedure=CODE)


def find_source_case(*, user, number: str) -> Case | None:
    number = (number or "").strip()
    if not number:
        return None
    return source_case_choices(user=user).filter(number=number).first()


def visible_cases(*, user) -> QuerySet[Case]:
    return case_selectors.visible_cases(user=user).filter(procedure=CODE)


def rows(
    *, user, state: str = "", kind: str = "", violation: str = "", text: str = ""
) -> QuerySet[EnforcementDetail]:
    """The ledger: the detail records of the 执法案件 the user sees, newest first."""
    qs = EnforcementDetail.objects.filter(case__in=visible_cases(user=user)).select_related(
        "case__community", "case__grid", "case__department", "violation_type", "source_case"
    )
    if state:
        qs = qs.filter(case__state=state)
    if kind:
        qs = qs.filter(procedure_kind=kind)
    if violation:
        qs = qs.filter(violation_type__code=violation)
    if text:
        from django.db.models import Q

        qs = qs.filter(
            Q(party_name__icontains=text)
            | Q(case__number__icontains=text)
            | Q(decision_no__icontains=text)
            | Q(external_ref__icontains=text)
        )
    return qs.order_by("-discovered_at", "-pk")


def get_row(*, user, case_id) -> EnforcementDetail:
    try:
        return rows(user=user).get(case_id=int(case_id))
    except (EnforcementDetail.DoesNotExist, TypeError, ValueError):
        raise NotFound("执法案件不存在或无权查看")


def ledger_summary(*, user, start, end):
    """The 指挥中心's 综合执法 summary (registered with metrics.ledgers in apps.ready)."""
    from civicgrid.metrics import ledgers

    if user.role in (Role.GRID_WORKER, Role.COMMUNITY_STAFF):
        return None
    return ledgers.case_ledger(visible_cases(user=user), start, end)
