"""Every read of the 信访 ledger, scoped to the user: 信访 are the ``petition`` cases the user may see
(:func:`civicgrid.cases.selectors.visible_cases`: tier, jurisdiction and the procedure's visibility rule, see
:func:`civicgrid.petitions.workflow.visibility`); the 接待 register is the desk's and the leaders' (in their tier)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from civicgrid.accounts.models import User
from civicgrid.accounts.roles import Capability, Role, has_capability
from civicgrid.cases import procedures
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.models import Case
from civicgrid.core import clock, scoping
from civicgrid.core.errors import NotFound
from civicgrid.petitions.models import DeskMember, PetitionDetail, PetitionTask, Reception
from civicgrid.petitions.workflow import CODE, DESK_ROLES, is_desk
from civicgrid.places import selectors as place_selectors

LEAD_ROLES = (Role.LEADER, Role.SHIFT_LEADER)


@scoping.register(Reception)
def _reception_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if action != "view":
        return qs.none()  # written by the services only
    return qs.filter(pk__in=visible_receptions(user=user).values("pk"))


@scoping.register(DeskMember)
def _desk_scope(qs: QuerySet, user, action: str) -> QuerySet:
    # the admin of a 街道 lists and edits the desk of its own 街道 only (the accounts' own scope decides)
    return qs.filter(user__in=User.objects.restrict(user, action))


@scoping.register(PetitionTask)
def _task_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if action != "view":
        return qs.none()
    return qs.filter(case__in=visible_petitions(user=user))


def sees_ledger(user) -> bool:
    """The ledger pages (list, figures, 接待, export): the desk and leaders. Others reach a 信访 they may see
    (包案领导, assigned department, tasked 网格员) through its own page and their 待办."""
    return has_capability(user, Capability.BUSINESS_VIEW) and (user.role == Role.LEADER or is_desk(user))


def visible_petitions(*, user) -> QuerySet[Case]:
    return case_selectors.visible_cases(user=user).filter(procedure=CODE)


def get_petition(*, user, pk) -> PetitionDetail:
    try:
        return (
            PetitionDetail.objects.filter(case__in=visible_petitions(user=user))
            .select_related("case__department", "case__grid", "case__community", "lead", "petitioner")
            .prefetch_related("earlier__petition_detail")
            .get(case_id=int(pk))
        )
    except (PetitionDetail.DoesNotExist, TypeError, ValueError):
        raise NotFound("信访不存在或无权查看")


def _backlog_q(now) -> Q:
    open_states = sorted(procedures.get(CODE).open)
    overdue = Q(case__state__in=open_states) & (Q(case__is_overdue=True) | Q(case__due_at__lt=now))
    return overdue | Q(reopen_count__gte=2) | Q(resolved_at__isnull=False)


def petition_rows(
    *, user, state: str = "", kind: str = "", form: str = "", q: str = "", backlog: bool = False
) -> QuerySet[PetitionDetail]:
    """The ledger: the detail records of the 信访 the user sees, newest first."""
    qs = PetitionDetail.objects.filter(case__in=visible_petitions(user=user)).select_related(
        "case__department", "lead", "petitioner"
    )
    if state:
        qs = qs.filter(case__state=state)
    if kind:
        qs = qs.filter(kind=kind)
    if form:
        qs = qs.filter(form=form)
    if q:
        qs = qs.filter(Q(summary__icontains=q) | Q(case__number__icontains=q) | Q(ledger_ref__icontains=q))
    if backlog:
        qs = qs.filter(_backlog_q(clock.now()))
    return qs.order_by("-registered_at", "-pk")


def is_backlog(detail: PetitionDetail, now=None) -> bool:
    return PetitionDetail.objects.filter(pk=detail.pk).filter(_backlog_q(now or clock.now())).exists()


def tasks_for(*, user, case: Case) -> QuerySet[PetitionTask]:
    return PetitionTask.objects.filter(case__in=visible_petitions(user=user), case=case).select_related(
        "assignee", "created_by"
    )


def visible_receptions(*, user) -> QuerySet[Reception]:
    if not sees_ledger(user):
        return Reception.objects.none()
    qs = Reception.objects.get_queryset()
    tier = place_selectors.tier_q(user, "street_id")
    return qs.filter(tier) if tier is not None else qs


def reception_rows(*, user) -> QuerySet[Reception]:
    return visible_receptions(user=user).select_related("leader", "petition")


def street_people(*, user, roles) -> QuerySet[User]:
    """Active accounts of the user's tier with one of ``roles`` (the choices for 包案领导 / 接待领导 / 网格员)."""
    from civicgrid.accounts import selectors as account_selectors

    return (
        account_selectors.visible_users(user=user)
        .filter(is_active=True, is_system=False, role__in=roles)
        .order_by("role", "username")
    )


def lead_choices(*, user) -> QuerySet[User]:
    return street_people(user=user, roles=LEAD_ROLES)


def desk_users(*, street_id, department_id=None) -> list[User]:
    """Who hears of a 信访 (督办, reminders): the desk of its 街道 (and the 区 desk), the assigned department."""
    desk = User.objects.filter(
        role__in=DESK_ROLES, is_active=True, petition_desk__is_active=True, is_system=False
    ).filter(Q(street_id=street_id) | Q(street_id__isnull=True))
    users = list(desk)
    if department_id:
        users += list(
            User.objects.filter(department_id=department_id, role=Role.DEPT_HANDLER, is_active=True)
        )
    return users


def earlier_choices(*, user, limit: int = 300) -> QuerySet[PetitionDetail]:
    return PetitionDetail.objects.filter(case__in=visible_petitions(user=user)).order_by("-registered_at")[
        :limit
    ]


def get_reception(*, user, pk) -> Reception:
    try:
        return reception_rows(user=user).get(pk=int(pk))
    except (Reception.DoesNotExist, TypeError, ValueError):
        raise NotFound("接待记录不存在或无权查看")


def ledger_summary(*, user, start, end):
    """The 指挥中心's 信访 summary (registered with metrics.ledgers in apps.ready): only for who sees the ledger."""
    from civicgrid.metrics import ledgers

    if not sees_ledger(user):
        return None
    return ledgers.case_ledger(visible_petitions(user=user), start, end)
