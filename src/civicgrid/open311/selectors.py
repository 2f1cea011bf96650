"""Reads for the Open311 endpoints: the public view of cases and of their timelines, within a jurisdiction.

Open311 callers are not users, so the user-scoped case selectors do not apply; the public rule is here:

- a case is public once it has a category marked 对外公开 (``Category.is_public``, its 大类 too) and either came
  in through Open311 or has been numbered (立案); voided cases (作废, entered in error) and cases from the 信访 and
  舆情 channels are never shown, whatever their category;
- a key (or ``jurisdiction_id``) limits everything to one 街道: the case's community/grid lies in it, or it was
  submitted through a key of that 街道;
- a lookup by id sees only cases reported within the last 90 days (as the default list does), except a key
  reading the requests it submitted itself;
- only public fields leave: never the reporter's name/phone, never staff names or internal notes; every free
  text (description, address, notes, updates) passes :class:`civicgrid.cases.selectors.PublicText`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q, QuerySet

from civicgrid.cases import procedures
from civicgrid.cases.models import Case, CaseEvent, CaseState, Source
from civicgrid.cases.selectors import PublicText
from civicgrid.open311.catalog import public_category_q
from civicgrid.open311.formats import iso
from civicgrid.open311.models import InboundUpdate, Open311Key, ServiceRequest
from civicgrid.places.models import Street

MAX_ROWS = 1000
# channels whose cases are never public, whatever their category: 信访 and 舆情
PRIVATE_SOURCES = (Source.PETITION, Source.MEDIA)
DESCRIPTION_MAX = 4000

# the public sentence for an event that moved a standard case into a state (other procedures: the state's label)
_STATE_SENTENCE = {
    CaseState.REPORTED: "已收到您反映的问题，等待受理。",
    CaseState.ACCEPTED: "问题已受理立案，等待派遣处置部门。",
    CaseState.REJECTED: "经核实，该问题不予受理。",
    CaseState.DISPATCHED: "已派遣处置部门。",
    CaseState.HANDLING: "处置部门已签收，正在处置。",
    CaseState.HANDLED: "处置部门已处置完成，等待核查。",
    CaseState.VERIFIED: "已核查通过，等待结案。",
    CaseState.CLOSED: "问题已处置完毕并结案。",
    CaseState.RATED: "已完成回访。",
    CaseState.SUSPENDED: "该问题暂时挂账，待条件具备后继续处置。",
    CaseState.MERGED: "该问题与其他反映合并处理。",
}


def status_of(state: str, case: Case | None = None) -> str:
    """Open311 ``status``: ``closed`` when ``state`` is in the ``closed`` group of the case's procedure (the
    standard procedure's without a case), else ``open``."""
    proc = procedures.for_case(case) if case is not None else procedures.default()
    return "closed" if state in proc.closed else "open"


def status_q(statuses: Iterable[str]) -> Q:
    """Cases with one of ``statuses`` (``closed``; anything else means ``open``), each case by its procedure."""
    statuses = set(statuses)
    want_closed, want_open = "closed" in statuses, bool(statuses - {"closed"})
    if want_closed and want_open:
        return Q()
    return procedures.group_q("closed") if want_closed else ~procedures.group_q("closed")


def state_label(case: Case, state: str) -> str:
    return procedures.for_case(case).state_label(state)


def jurisdiction_q(street: Street | None, prefix: str = "") -> Q:
    if street is None:
        return Q()
    # Case.street is the case's 街道 (from its grid, else its channel's); a request filed with this key's
    # jurisdiction counts too
    return Q(**{f"{prefix}street": street}) | Q(**{f"{prefix}open311_request__jurisdiction": street})


def public_cases(*, street: Street | None) -> QuerySet[Case]:
    return (
        Case.objects.filter(category__isnull=False)
        .filter(public_category_q("category__"))
        .exclude(source__in=PRIVATE_SOURCES)
        .exclude(state=CaseState.VOIDED)
        # a procedure that restricts who may see its cases (信访-like) is never public either
        .exclude(procedure__in=procedures.restricted_codes())
        .filter(Q(number__isnull=False) | Q(open311_request__isnull=False))
        .filter(jurisdiction_q(street))
        .select_related("category", "department", "open311_request")
        .distinct()
    )


def public_id(case: Case) -> str:
    link = getattr(case, "open311_request", None) if _has_link(case) else None
    return link.service_request_id if link else (case.number or "")


def _has_link(case: Case) -> bool:
    try:
        case.open311_request  # noqa: B018
    except ServiceRequest.DoesNotExist:
        return False
    return True


def ids_q(ids: Iterable[str], prefix: str = "") -> Q:
    ids = [i for i in ids if i]
    return Q(**{f"{prefix}open311_request__service_request_id__in": ids}) | Q(
        **{f"{prefix}number__in": ids, f"{prefix}open311_request__isnull": True}
    )


def _lookup_window(qs: QuerySet[Case], since: datetime | None, key: Open311Key | None) -> QuerySet[Case]:
    """Lookups by id: reported since ``since``, or submitted through ``key`` (a client may follow its own)."""
    if since is None:
        return qs
    window = Q(created_at__gte=since)
    if key is not None:
        window |= Q(open311_request__key=key)
    return qs.filter(window)


def find_requests(
    *,
    street: Street | None,
    since: datetime | None = None,
    key: Open311Key | None = None,
    ids: list[str] | None = None,
    service_codes: list[str] | None = None,
    statuses: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Case]:
    qs = public_cases(street=street)
    if ids is not None:
        qs = _lookup_window(qs.filter(ids_q(ids)), since, key)
    if service_codes:
        qs = qs.filter(category__code__in=service_codes)
    if statuses:
        qs = qs.filter(status_q(statuses))
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lt=end)
    return list(qs.order_by("-created_at", "-id")[:MAX_ROWS])


def get_request(
    *,
    street: Street | None,
    service_request_id: str,
    since: datetime | None = None,
    key: Open311Key | None = None,
) -> Case | None:
    """The public case with this id; with ``since``, only if reported since then or submitted through ``key``."""
    qs = public_cases(street=street).filter(ids_q([service_request_id]))
    return _lookup_window(qs, since, key).first()


def request_dict(case: Case, *, text: PublicText) -> dict:
    """One service request with public fields only; free text scrubbed by ``text``."""
    link = case.open311_request if _has_link(case) else None
    status = status_of(case.state, case)
    names = [case.reporter_name]
    return {
        "service_request_id": link.service_request_id if link else case.number,
        "status": status,
        "status_notes": text(state_label(case, case.state), names=names),
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": text((case.description or "")[:DESCRIPTION_MAX], names=names) or None,
        "agency_responsible": case.department.name if case.department_id else None,
        "service_notice": text(service_notice(case), names=names) or None,
        "requested_datetime": iso(case.created_at),
        "updated_datetime": iso(case.closed_at if status == "closed" and case.closed_at else case.updated_at),
        "expected_datetime": iso(case.due_at) if status == "open" else None,
        "address": text(case.address, names=names) or None,
        "address_id": (link.address_id or None) if link else None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lng,
        "media_url": (link.media_url or None) if link else None,
    }


def service_notice(case: Case) -> str | None:
    if status_of(case.state, case) == "closed":
        return None
    if case.due_at:
        return f"当前环节预计于 {iso(case.due_at)[:16].replace('T', ' ')} 前办理完毕。"
    return "已收到，将按规定时限办理。"


# --- timeline updates (FixMyStreet servicerequestupdates) --------------------------------------------

PUBLIC_NOTE_MOVES = frozenset({"public_note"})


def public_event_q() -> Q:
    """Timeline events the public may see: each that put the case into a new state (except 作废), and public
    notes. Internal moves that keep the state (督办, 延期, 改派 while dispatched) are left out."""
    return (
        (~Q(from_state=F("to_state")) & ~Q(to_state=CaseState.VOIDED))
        | Q(move__in=PUBLIC_NOTE_MOVES)
        | Q(data__has_key="public_note")
    )


@dataclass
class Update:
    update_id: str
    case: Case
    at: datetime
    state: str
    description: str
    media_url: str = ""


def inbound_update_id(inbound: InboundUpdate) -> str:
    return str(inbound.event_id) if inbound.event_id else f"n{inbound.pk}"


def public_updates(*, street: Street | None, start: datetime, end: datetime) -> list[Update]:
    """Public updates in ``[start, end)``, oldest first, at most :data:`MAX_ROWS`: the case timelines' public
    events, plus peer updates the case engine could not (yet) put into a timeline."""
    case_ids = public_cases(street=street).values("pk")
    events = list(
        CaseEvent.objects.filter(case__in=case_ids, at__gte=start, at__lt=end)
        .filter(public_event_q())
        .select_related("case", "case__category", "case__open311_request")
        .order_by("at", "id")[:MAX_ROWS]
    )
    inbound_by_event = {
        iu.event_id: iu for iu in InboundUpdate.objects.filter(event__in=[ev.pk for ev in events])
    }
    updates = [_event_update(ev, inbound_by_event.get(ev.pk)) for ev in events]
    loose = (
        InboundUpdate.objects.filter(
            case__in=case_ids, event__isnull=True, received_at__gte=start, received_at__lt=end
        )
        .select_related("case", "case__category", "case__open311_request")
        .order_by("received_at", "id")[:MAX_ROWS]
    )
    updates += [
        Update(inbound_update_id(iu), iu.case, iu.received_at, iu.case.state, iu.description, iu.media_url)
        for iu in loose
    ]
    updates.sort(key=lambda u: (u.at, u.update_id))
    return updates[:MAX_ROWS]


def _event_update(ev: CaseEvent, inbound: InboundUpdate | None) -> Update:
    data = ev.data or {}
    if inbound is not None:
        return Update(str(ev.pk), ev.case, ev.at, ev.to_state, inbound.description, inbound.media_url)
    if ev.move in PUBLIC_NOTE_MOVES or data.get("public_note"):
        note = data.get("public_note") or ev.note
        return Update(str(ev.pk), ev.case, ev.at, ev.to_state, str(note), str(data.get("media_url") or ""))
    standard = ev.case.procedure == procedures.DEFAULT_CODE
    sentence = (_STATE_SENTENCE.get(ev.to_state) if standard else None) or state_label(ev.case, ev.to_state)
    return Update(str(ev.pk), ev.case, ev.at, ev.to_state, sentence)


def update_dict(update: Update, *, text: PublicText) -> dict:
    return {
        "update_id": update.update_id,
        "service_request_id": public_id(update.case),
        "status": status_of(update.state, update.case),
        "updated_datetime": iso(update.at),
        "description": text(update.description, names=[update.case.reporter_name]),
        "media_url": update.media_url or None,
    }
