"""Every write of 督办 and 预警: keyword-only, each takes ``actor`` (``None``: the system — the job, the CLI);
the write and its audit row in one ``transaction.atomic()``; notifications and webhooks on commit.

督办 of one case is also the case engine's 督办 move (it raises 紧急程度, notifies the department and the desk and
goes to the group robots); a department's overdue list is one 督办 over its red cases, told to the department's
handlers once (in-app) and to the robots (``desk_alert_committed``). A 督办 is 销号 automatically when each of its
cases has left the open state (a department list: also when the case is no longer overdue there), or by hand.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils.dateparse import parse_date, parse_datetime

from civicgrid.accounts.models import Department, User
from civicgrid.accounts.roles import Role
from civicgrid.cases import procedures
from civicgrid.cases import services as case_services
from civicgrid.cases.models import Case, CaseEvent, Light, NotificationKind
from civicgrid.cases.notifications import department_members, desk_alert_committed, notify
from civicgrid.core import audit, clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.validation import check_text
from civicgrid.places.models import Street
from civicgrid.places.selectors import same_tier
from civicgrid.supervision import rules, selectors, workflow
from civicgrid.supervision.models import (
    EarlyWarning,
    RuleKind,
    Supervision,
    SupervisionItem,
    SupervisionKind,
    SupervisionState,
    WarningState,
)

log = logging.getLogger(__name__)

DEFAULT_DUE_DAYS = 3  # a 督办 made with the case page's plain 督办 button: 3 days to act
MAX_DUE_DAYS = 366
FIELDS = ["kind", "case", "department", "note", "due_at", "state", "cleared_at", "clear_note", "cleared_auto"]


def _note(value, *, field: str = "note", label: str = "督办意见", required: bool = True) -> str:
    text = (check_text(value or "", field=field, label=label) or "").strip()
    if required and not text:
        raise ValidationFailed(f"请填写{label}", field=field)
    if len(text) > 2000:
        raise ValidationFailed(f"{label}不能超过 2000 字", field=field)
    return text


def parse_due(value, *, now: datetime | None = None) -> datetime:
    """督办期限: a date (→ 23:59 local that day) or a datetime, after now and within a year."""
    now = now or clock.now()
    if isinstance(value, str):
        raw = value.strip()
        value = parse_datetime(raw.replace(" ", "T")) if ("T" in raw or " " in raw) else None
        if value is None:
            try:
                value = parse_date(raw)
            except ValueError:
                value = None
        if value is None:
            raise ValidationFailed(f"督办期限格式应为 YYYY-MM-DD：{raw[:40]}", field="due_at")
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(23, 59)).replace(tzinfo=clock.local_now().tzinfo)
    if not isinstance(value, datetime):
        raise ValidationFailed("请填写督办期限", field="due_at")
    value = clock.aware(value)
    if value <= now:
        raise ValidationFailed("督办期限应晚于当前时间", field="due_at")
    if value > now + timedelta(days=MAX_DUE_DAYS):
        raise ValidationFailed("督办期限不能超过一年", field="due_at")
    return value


def _due_label(dt: datetime) -> str:
    return clock.to_local(dt).strftime("%Y-%m-%d %H:%M")


def _must_supervise(actor) -> None:
    if not selectors.can_supervise(actor):
        raise PermissionDenied("只有值班长和领导可以督办", code="forbidden")


# --- 督办 ---------------------------------------------------------------------------------------------


def supervise_case(*, actor, case: Case, note: str, due_at) -> Supervision:
    """督办 one open case: the case engine's 督办 move (on the case's timeline) + the tracked 督办 record."""
    _must_supervise(actor)
    note = _note(note)
    now = clock.now()
    due = parse_due(due_at, now=now)
    from civicgrid.cases.selectors import get_case

    case = get_case(user=actor, pk=case.pk)
    with transaction.atomic():
        current = Case.objects.values_list("version", flat=True).get(pk=case.pk)
        case_services.perform(
            actor=actor,
            case=case,
            move="supervise",
            version=current,
            note=f"{note}（督办期限 {_due_label(due)}）",
        )
        event = CaseEvent.objects.filter(case_id=case.pk, move="supervise").order_by("-pk").first()
        s = Supervision.objects.create(
            street_id=case.street_id,
            kind=SupervisionKind.CASE,
            case=case,
            department_id=case.department_id,
            note=note,
            due_at=due,
            created_by=actor,
            created_at=now,
            case_event_id=event.pk if event else None,
        )
        SupervisionItem.objects.create(supervision=s, case=case)
        audit.record(
            actor=actor, action="supervision.case", obj=s, after=audit.snapshot(s, FIELDS), note=note
        )
    return s


def supervise_department(*, actor, department: Department, note: str, due_at) -> Supervision:
    """督办 a department's overdue list: its open red cases the actor sees (in one 街道)."""
    _must_supervise(actor)
    note = _note(note)
    now = clock.now()
    due = parse_due(due_at, now=now)
    cases = list(selectors.overdue_cases(user=actor, department_id=department.pk).only("pk", "street_id"))
    if not cases:
        raise ValidationFailed(f"{department.name}当前没有超期工单", field="department")
    street_id = department.street_id or cases[0].street_id
    cases = [c for c in cases if c.street_id == street_id]
    if not cases:
        raise ValidationFailed(f"{department.name}在本街道没有超期工单", field="department")
    with transaction.atomic():
        s = Supervision.objects.create(
            street_id=street_id,
            kind=SupervisionKind.DEPARTMENT,
            department=department,
            note=note,
            due_at=due,
            created_by=actor,
            created_at=now,
        )
        SupervisionItem.objects.bulk_create([SupervisionItem(supervision=s, case_id=c.pk) for c in cases])
        audit.record(
            actor=actor,
            action="supervision.department",
            obj=s,
            after={**audit.snapshot(s, FIELDS), "cases": [c.pk for c in cases]},
            note=note,
        )
        n, dept_id, name, pk = len(cases), department.pk, department.name, s.pk
        text = f"{name}超期工单 {n} 件被督办（督办期限 {_due_label(due)}）：{note}"
        transaction.on_commit(
            lambda: notify(
                users=department_members(dept_id) + _desk(street_id),
                kind=NotificationKind.SUPERVISE,
                text=text,
            )
        )
        transaction.on_commit(
            lambda: desk_alert_committed.send(
                sender=Supervision,
                event="supervise",
                street_id=street_id,
                department_id=dept_id,
                case_id=None,
                title=f"{name}超期工单 {n} 件",
                lines=[f"督办期限：{_due_label(due)}", f"督办意见：{note}"],
                dedupe_key=f"supervision:{pk}",
            )
        )
    return s


def _desk(street_id: int | None) -> list[User]:
    """The 指挥中心 and 值班长 accounts of ``street_id``'s tier (a 街道's own, the 区's)."""
    users = User.objects.filter(
        role__in=[Role.DISPATCHER, Role.SHIFT_LEADER], is_active=True, is_system=False
    )
    return [u for u in users if same_tier(u, street_id)]


def clear(*, actor, supervision: Supervision, note: str) -> Supervision:
    """销号 by hand (值班长/领导), with a note."""
    _must_supervise(actor)
    note = _note(note, field="note", label="销号说明")
    supervision = selectors.get_supervision(user=actor, pk=supervision.pk)
    now = clock.now()
    with transaction.atomic():
        s = Supervision.objects.select_for_update().get(pk=supervision.pk)
        before = audit.snapshot(s, FIELDS)
        s.state = workflow.next_state(workflow.SUPERVISION, s.state, "clear")
        s.cleared_at, s.cleared_by, s.clear_note, s.cleared_auto = now, actor, note[:500], False
        s.save(update_fields=["state", "cleared_at", "cleared_by", "clear_note", "cleared_auto"])
        s.items.filter(cleared_at__isnull=True).update(cleared_at=now)
        b, a = audit.diff(before, audit.snapshot(s, FIELDS))
        audit.record(actor=actor, action="supervision.clear", obj=s, before=b, after=a, note=note)
    return s


def _item_done(item_kind: str, department_id: int | None, case: Case) -> bool:
    open_states = procedures.for_case(case).open
    if case.state not in open_states:
        return True
    if item_kind == SupervisionKind.DEPARTMENT:
        return case.department_id != department_id or case.light != Light.RED
    return False


def sweep(*, actor=None, case_ids=None, now: datetime | None = None) -> dict:
    """Auto-销号: clear the items whose case left the open (department lists: also the overdue) state, and each
    督办 whose items are all cleared. ``case_ids``: only the items of these cases (after a case move)."""
    now = now or clock.now()
    items = SupervisionItem.objects.filter(
        cleared_at__isnull=True, supervision__state=SupervisionState.OPEN
    ).select_related("supervision", "case")
    if case_ids is not None:
        items = items.filter(case_id__in=list(case_ids))
    done = [i for i in items if _item_done(i.supervision.kind, i.supervision.department_id, i.case)]
    if not done:
        return {"items": 0, "cleared": 0}
    cleared = 0
    with transaction.atomic():
        SupervisionItem.objects.filter(pk__in=[i.pk for i in done]).update(cleared_at=now)
        for sid in sorted({i.supervision_id for i in done}):
            s = Supervision.objects.select_for_update().get(pk=sid)
            if s.state != SupervisionState.OPEN or s.items.filter(cleared_at__isnull=True).exists():
                continue
            before = audit.snapshot(s, FIELDS)
            s.state = workflow.next_state(workflow.SUPERVISION, s.state, "clear")
            s.cleared_at, s.cleared_auto = now, True
            s.clear_note = "督办案件已办结或已不再超期，自动销号"
            s.save(update_fields=["state", "cleared_at", "clear_note", "cleared_auto"])
            b, a = audit.diff(before, audit.snapshot(s, FIELDS))
            with audit.acting_as("系统（督办自动销号）"):
                audit.record(actor=actor, action="supervision.auto_clear", obj=s, before=b, after=a)
            cleared += 1
    return {"items": len(done), "cleared": cleared}


def track_engine_supervise(*, case_id: int, event_id: int | None) -> Supervision | None:
    """A 督办 made with the case page's plain 督办 move (not through :func:`supervise_case`): track it too, with
    the default 督办期限 (:data:`DEFAULT_DUE_DAYS` days)."""
    if event_id is None or Supervision.objects.filter(case_event_id=event_id).exists():
        return None
    event = CaseEvent.objects.filter(pk=event_id, move="supervise").select_related("case").first()
    if event is None or event.actor_id is None:
        return None
    case = event.case
    with transaction.atomic():
        s = Supervision.objects.create(
            street_id=case.street_id,
            kind=SupervisionKind.CASE,
            case=case,
            department_id=case.department_id,
            note=(event.note or "督办")[:2000],
            due_at=event.at + timedelta(days=DEFAULT_DUE_DAYS),
            created_by_id=event.actor_id,
            created_at=event.at,
            case_event_id=event.pk,
        )
        SupervisionItem.objects.create(supervision=s, case=case)
        with audit.acting_as("系统（督办跟踪）"):
            audit.record(actor=None, action="supervision.track", obj=s, after=audit.snapshot(s, FIELDS))
    return s


# --- warnings -----------------------------------------------------------------------------------------

WARNING_FIELDS = ["state", "handled_by", "handled_at", "handle_note"]


def _warning_recipients(w: EarlyWarning) -> list[User]:
    users = _desk(w.street_id)
    if w.rule == RuleKind.OVERDUE_RISK and w.department_id:
        users += department_members(w.department_id)
    return users


def _announce(w: EarlyWarning) -> None:
    case = w.case if w.case_id else None
    notify(
        users=_warning_recipients(w),
        case=case,
        kind=NotificationKind.WARNING,
        text=f"【{w.get_rule_display()}】{w.message}",
    )
    desk_alert_committed.send(
        sender=EarlyWarning,
        event="warning",
        street_id=w.street_id,
        department_id=w.department_id,
        case_id=w.case_id,
        title=f"{w.get_rule_display()}：{w.title}",
        lines=[w.message],
        dedupe_key=f"warning:{w.pk}",
    )


def _already_told(street_id: int, c: rules.Candidate) -> bool:
    """A repeat warning whose cases were all in an earlier warning of the same subject, or a case still under an
    unresolved overdue-risk warning, is not raised again on a later day."""
    earlier = EarlyWarning.objects.filter(street_id=street_id, rule=c.rule, subject_key=c.subject_key)
    if c.rule == RuleKind.OVERDUE_RISK:
        return earlier.exclude(state=WarningState.RESOLVED).exists()
    if c.rule in (RuleKind.REPEAT_ADDRESS, RuleKind.REPEAT_CALLER):
        last = earlier.order_by("-day").values_list("case_ids", flat=True).first()
        return last is not None and set(c.case_ids) <= set(last or [])
    return False


def run_warnings(
    *,
    street: Street | None = None,
    day: date | None = None,
    now: datetime | None = None,
    announce: bool = True,
) -> dict:
    """Run every enabled rule for each 街道 (or ``street``) on ``day`` (default: today). Writes new warnings
    (one per rule × subject × day; a later run the same day updates a pending one's figures) and tells the desk
    on commit (``announce=False``: a backfill of past days tells no one). Overdue risk looks at the open cases
    now, so it runs only for today."""
    now = now or clock.now()
    today = clock.to_local(now).date()
    day = day or today
    streets = [street] if street is not None else list(Street.objects.order_by("pk"))
    counts = {"streets": 0, "candidates": 0, "created": 0, "updated": 0}
    for st in streets:
        cfg = selectors.config_for(st.pk)
        found: list[rules.Candidate] = []
        if cfg.surge_enabled:
            found += rules.surge(st.pk, day, cfg)
        if cfg.repeat_enabled:
            found += rules.repeats(st.pk, day, cfg)
        if cfg.overdue_enabled and day == today:
            found += rules.overdue_risk(st.pk, now, cfg)
        counts["streets"] += 1
        counts["candidates"] += len(found)
        for c in found:
            created = _write_warning(st.pk, day, c, now, announce=announce)
            if created is True:
                counts["created"] += 1
            elif created is False:
                counts["updated"] += 1
    return counts


def _write_warning(
    street_id: int, day: date, c: rules.Candidate, now: datetime, *, announce: bool = True
) -> bool | None:
    """True: created; False: an existing pending one updated; None: nothing written."""
    values = {
        "title": c.title[:200],
        "message": c.message[:500],
        "observed": c.observed,
        "expected": c.expected,
        "probability": c.probability,
        "community_id": c.community_id,
        "category_id": c.category_id,
        "department_id": c.department_id,
        "case_id": c.case_id,
        "case_ids": c.case_ids[:200],
    }
    with transaction.atomic():
        existing = (
            EarlyWarning.objects.select_for_update()
            .filter(street_id=street_id, rule=c.rule, subject_key=c.subject_key, day=day)
            .first()
        )
        if existing is not None:
            if existing.state != WarningState.PENDING or existing.case_ids == values["case_ids"]:
                return None
            for k, v in values.items():
                setattr(existing, k, v)
            existing.save(update_fields=list(values))
            return False
        if _already_told(street_id, c):
            return None
        w = EarlyWarning.objects.create(
            street_id=street_id, rule=c.rule, subject_key=c.subject_key, day=day, created_at=now, **values
        )
        with audit.acting_as("系统（预警预判）"):
            audit.record(
                actor=None,
                action="supervision.warning.raise",
                obj=w,
                after={"rule": c.rule, "message": w.message},
            )
        if announce:
            transaction.on_commit(lambda: _announce(w))
    return True


def backfill_warnings(*, street: Street, first: date, last: date) -> int:
    """The surge and repeat rules over past days ``first``–``last``, set-based (one read of the cases, one bulk
    insert, one audit row; nobody is told): how the rules would have fired, e.g. for the demo year. Skips days
    that already have warnings of the street. Returns how many were written."""
    cfg = selectors.config_for(street.pk)
    reach = max(7 * max(1, int(cfg.surge_weeks)), int(cfg.repeat_days))
    by_day = rules.load_rows(street.pk, first - timedelta(days=reach), last)
    names = rules.names_for(street.pk)
    done_days = set(
        EarlyWarning.objects.filter(street=street, day__gte=first, day__lte=last).values_list(
            "day", flat=True
        )
    )
    seen: dict[tuple[str, str], set[int]] = {}
    rows = []
    day = first
    while day <= last:
        if day not in done_days:
            found = rules.surge_on(by_day, day, cfg, names) if cfg.surge_enabled else []
            found += rules.repeats_on(by_day, day, cfg) if cfg.repeat_enabled else []
            at = datetime.combine(day, time(21, 0)).replace(tzinfo=clock.local_now().tzinfo)
            for c in found:
                key = (c.rule, c.subject_key)
                if key in seen and set(c.case_ids) <= seen[key]:
                    continue
                seen[key] = set(c.case_ids)
                rows.append(
                    EarlyWarning(
                        street=street, rule=c.rule, subject_key=c.subject_key, day=day, title=c.title[:200],
                        message=c.message[:500], observed=c.observed, expected=c.expected, probability=c.probability,
                        community_id=c.community_id, category_id=c.category_id, case_ids=c.case_ids[:200],
                        created_at=at,
                    )
                )  # fmt: skip
        day += timedelta(days=1)
    with transaction.atomic():
        EarlyWarning.objects.bulk_create(rows, batch_size=500)
        with audit.acting_as("系统（预警预判）"):
            audit.record(
                actor=None,
                action="supervision.warning.backfill",
                object_type="places.street",
                object_id=street.pk,
                object_repr=street.name,
                after={"first": first.isoformat(), "last": last.isoformat(), "warnings": len(rows)},
            )
    return len(rows)


def handle_warning(*, actor, warning: EarlyWarning, move: str, note: str) -> EarlyWarning:
    """确认 (``acknowledge``) or 处置完毕 (``resolve``) a warning, with a note."""
    if not selectors.can_handle_warnings(actor):
        raise PermissionDenied("只有指挥中心、值班长和领导可以处理预警", code="forbidden")
    if move not in ("acknowledge", "resolve"):
        raise ValidationFailed("操作应为 acknowledge 或 resolve", field="move")
    note = _note(note, field="note", label="处理说明")
    warning = selectors.get_warning(user=actor, pk=warning.pk)
    with transaction.atomic():
        w = EarlyWarning.objects.select_for_update().get(pk=warning.pk)
        before = audit.snapshot(w, WARNING_FIELDS)
        w.state = workflow.next_state(workflow.WARNING, w.state, move)
        w.handled_by, w.handled_at, w.handle_note = actor, clock.now(), note[:500]
        w.save(update_fields=WARNING_FIELDS)
        b, a = audit.diff(before, audit.snapshot(w, WARNING_FIELDS))
        audit.record(actor=actor, action=f"supervision.warning.{move}", obj=w, before=b, after=a, note=note)
    return w


# --- the periodic job ---------------------------------------------------------------------------------

JOB_NAME = "supervision_warnings"
JOB_INTERVAL_SECONDS = 900.0


def run_job() -> dict:
    """One round: auto-销号 sweep, then the warning rules for every 街道 (today)."""
    swept = sweep()
    with audit.acting_as("系统（预警预判）"):
        found = run_warnings()
    return {**found, "swept": swept}
