"""Every read of the 矛盾纠纷 ledger, scoped to the user: disputes are the ``dispute`` cases the user may see
(:func:`civicgrid.cases.selectors.visible_cases`: tier, jurisdiction — a 网格员 their grids, a 社区工作人员 their
community, a 处置部门 none). 当事人 names and contacts are masked unless the user holds
``Capability.DISPUTE_MEDIATE`` (the 调解 desk)."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from civicgrid.accounts.roles import Capability, Role, has_capability
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.models import Case
from civicgrid.core import scoping
from civicgrid.core.errors import NotFound
from civicgrid.disputes.models import DisputeDetail, DisputeType, MediationOrg, MediationSession, Party
from civicgrid.disputes.workflow import CODE
from civicgrid.places import selectors as place_selectors


@scoping.register(MediationOrg)
def _org_scope(qs: QuerySet, user, action: str) -> QuerySet:
    """A 街道's own 调解组织 (and, to view, the shared ones without a 街道); a platform-level user: all."""
    tier = place_selectors.tier_q(user, "street_id")
    if tier is None:
        return qs
    return qs.filter(tier | Q(street__isnull=True)) if action == "view" else qs.filter(tier)


def sees_parties(user) -> bool:
    """Whether ``user`` sees 当事人 names and contacts in full (UI, API, exports, 协议书)."""
    return has_capability(user, Capability.DISPUTE_MEDIATE)


def party_view(user, party: Party) -> dict:
    """One 当事人 as ``user`` may see it."""
    full = sees_parties(user)
    return {
        "id": party.pk,
        "role": party.role,
        "role_label": party.get_role_display(),
        "name": party.name if full else case_selectors.mask_name(party.name),
        "phone": party.phone if full else case_selectors.mask_phone(party.phone),
        "address": party.address if full else ("***" if party.address else ""),
        "masked": not full,
    }


_SCRUB = case_selectors.PublicText()


def text_view(user, text: str, parties) -> str:
    """Free text of a dispute (简要情况, 协议内容, 调解情况) as ``user`` may see it: for everyone but the 调解 desk
    the parties' names, phone and ID numbers in it are masked like the parties themselves."""
    if sees_parties(user):
        return text or ""
    return _SCRUB(text, names=[p.name for p in parties])


def types() -> QuerySet[DisputeType]:
    return DisputeType.objects.filter(is_active=True)


def orgs(*, street_id=None) -> QuerySet[MediationOrg]:
    qs = MediationOrg.objects.filter(is_active=True)
    if street_id is not None:
        qs = qs.filter(Q(street_id=street_id) | Q(street__isnull=True))
    return qs


def orgs_for(*, user) -> QuerySet[MediationOrg]:
    """The 调解组织 of the 街道 the user sees."""
    qs = MediationOrg.objects.filter(is_active=True)
    tier = place_selectors.tier_q(user, "street_id")
    if tier is not None:
        qs = qs.filter(tier | Q(street__isnull=True))
    return qs


def grids_for(*, user):
    return place_selectors.visible_grids(user=user).order_by("community__name", "name")


def visible_disputes(*, user) -> QuerySet[Case]:
    if not has_capability(user, Capability.BUSINESS_VIEW):
        return Case.objects.none()
    return case_selectors.visible_cases(user=user).filter(procedure=CODE)


def dispute_rows(
    *, user, state: str = "", source: str = "", dispute_type: str = "", org: str = "", q: str = ""
) -> QuerySet[DisputeDetail]:
    """The ledger: the detail records of the disputes the user sees, newest 受理 first."""
    qs = DisputeDetail.objects.filter(case__in=visible_disputes(user=user)).select_related(
        "case__community", "case__grid", "dispute_type", "org", "linked_case"
    )
    if state:
        qs = qs.filter(case__state=state)
    if source:
        qs = qs.filter(source=source)
    if dispute_type:
        qs = qs.filter(dispute_type__code=dispute_type)
    if org:
        qs = qs.filter(org_id=org) if str(org).isdigit() else qs.none()
    if q:
        qs = qs.filter(Q(case__number__icontains=q) | Q(case__description__icontains=q) | Q(police_ref=q))
    return qs.prefetch_related("parties").order_by("-received_on", "-case__created_at", "-pk")


def get_dispute(*, user, pk) -> DisputeDetail:
    try:
        return (
            DisputeDetail.objects.filter(case__in=visible_disputes(user=user))
            .select_related(
                "case__community", "case__grid", "case__street", "dispute_type", "org", "linked_case"
            )
            .prefetch_related(
                "parties",
                Prefetch("sessions", queryset=MediationSession.objects.select_related("recorded_by")),
            )
            .get(case_id=int(pk))
        )
    except (DisputeDetail.DoesNotExist, TypeError, ValueError):
        raise NotFound("纠纷不存在或无权查看")


def linkable_case(*, user, number: str) -> Case | None:
    """An existing (12345/网格) case the user sees, by its number."""
    number = (number or "").strip().upper()
    if not number:
        return None
    return case_selectors.visible_cases(user=user).exclude(procedure=CODE).filter(number=number).first()


def ledger_summary(*, user, start, end):
    """The 指挥中心's 矛盾纠纷 summary (registered with metrics.ledgers in apps.ready)."""
    from civicgrid.metrics import ledgers

    if not has_capability(user, Capability.BUSINESS_VIEW) or user.role == Role.DEPT_HANDLER:
        return None
    return ledgers.case_ledger(visible_disputes(user=user), start, end)
