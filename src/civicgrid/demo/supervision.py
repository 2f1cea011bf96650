"""A year of 督办 and 预警 for the demo 街道.

- Every 督办 move already on the demo cases' timelines becomes a tracked 督办 (期限 3 days; 销号 when the case was
  closed, still open when it is not);
- each month the department with the most overdue cases gets a 部门超期督办 over them (销号 when the last was
  closed); this month's goes through the service when a department has red cases now;
- the warning rules run over the year day by day (without telling anyone), then today's run (which does); the
  desk has 处置 the warnings older than a week, 确认 some of the recent ones."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

DAYS = 365
NOTES = [
    "请于期限内办结并反馈处置结果",
    "群众反映强烈，请部门负责人亲自过问",
    "已多次超时，请说明原因并限期整改",
    "请加派人手，确保按期办结",
]
ACK = ["已转社区网格员现场核实", "已通知责任部门关注", "已电话联系反映人了解情况"]
RESOLVE = ["经核实为同一问题多次反映，已合并处置", "已安排专项整治，问题已解决", "属季节性波动，已加强巡查"]


def load_supervision(
    street, rng: random.Random, *, staff, log: Callable[[str], None] = lambda m: None, days: int = DAYS,
    scale: float = 1.0,
) -> dict | None:  # fmt: skip
    from django.db.models import F

    from civicgrid.accounts.models import User
    from civicgrid.accounts.roles import Role
    from civicgrid.cases.models import Case, CaseEvent
    from civicgrid.core import audit, clock
    from civicgrid.supervision import selectors, services
    from civicgrid.supervision.models import (
        EarlyWarning,
        Supervision,
        SupervisionItem,
        WarningState,
    )

    if (
        Supervision.objects.filter(street=street).exists()
        or EarlyWarning.objects.filter(street=street).exists()
    ):
        log("演示督办与预警已存在，跳过。")
        return None
    leader = User.objects.filter(street=street, role=Role.SHIFT_LEADER, is_active=True).order_by("pk").first()
    desk = User.objects.filter(street=street, role=Role.DISPATCHER, is_active=True).order_by("pk").first()
    if leader is None or desk is None:
        return None
    now = clock.now()
    today = clock.to_local(now).date()
    counts = {"case": 0, "department": 0, "warnings": 0}

    # 1. the 督办 moves on the timelines
    events = (
        CaseEvent.objects.filter(case__street=street, move="supervise", at__gte=now - timedelta(days=days))
        .select_related("case")
        .order_by("at")
    )
    rows, item_cases = [], []
    for ev in events:
        c = ev.case
        closed = c.closed_at if c.closed_at and c.closed_at > ev.at else None
        rows.append(
            Supervision(
                street=street, kind="case", case=c, department_id=c.department_id, note=(ev.note or rng.choice(NOTES))[:2000],
                due_at=ev.at + timedelta(days=services.DEFAULT_DUE_DAYS), state="cleared" if closed else "open",
                created_by_id=ev.actor_id or leader.pk, created_at=ev.at, case_event_id=ev.pk, cleared_at=closed,
                cleared_auto=bool(closed), clear_note="督办案件已办结或已不再超期，自动销号" if closed else "",
            )
        )  # fmt: skip
        item_cases.append((c.pk, closed))
    made = Supervision.objects.bulk_create(rows)
    SupervisionItem.objects.bulk_create(
        SupervisionItem(supervision=s, case_id=cid, cleared_at=closed)
        for s, (cid, closed) in zip(made, item_cases, strict=True)
    )
    counts["case"] = len(made)

    # 2. a monthly 部门超期督办 of the month's most overdue department (past months, set-based)
    overdue = (
        Case.objects.filter(
            street=street, is_overdue=True, department__isnull=False, dispatched_at__isnull=False
        )
        .filter(dispatched_at__gte=now - timedelta(days=days))
        .values_list("pk", "department_id", "dispatched_at", "closed_at")
    )
    by_month: dict[tuple, list] = defaultdict(list)
    for pk, dept, dispatched, closed in overdue:
        by_month[(clock.to_local(dispatched).strftime("%Y-%m"), dept)].append((pk, dispatched, closed))
    this_month = today.strftime("%Y-%m")
    best: dict[str, tuple] = {}
    for (month, dept), items in by_month.items():
        if month != this_month and len(items) >= 3 and len(items) > len(best.get(month, (None, []))[1]):
            best[month] = (dept, items)
    for _month, (dept, items) in sorted(best.items()):
        made_at = max(d for _, d, _ in items) + timedelta(days=2, hours=rng.randint(0, 8))
        if made_at >= now:
            continue
        ends = [c for _, _, c in items]
        done = None if any(c is None for c in ends) else max(ends)
        done = (
            done
            if done and done > made_at
            else (made_at + timedelta(hours=rng.randint(4, 30)) if done else None)
        )
        s = Supervision.objects.create(
            street=street, kind="department", department_id=dept, note=rng.choice(NOTES), created_by=leader,
            created_at=made_at, due_at=made_at + timedelta(days=5), state="cleared" if done else "open",
            cleared_at=done, cleared_auto=bool(done), clear_note="督办案件已办结或已不再超期，自动销号" if done else "",
        )  # fmt: skip
        SupervisionItem.objects.bulk_create(
            SupervisionItem(supervision=s, case_id=pk, cleared_at=done or closed) for pk, _, closed in items
        )
        counts["department"] += 1
    red = selectors.overdue_by_department(user=leader)
    if red:
        from civicgrid.accounts.models import Department

        dept = Department.objects.get(pk=red[0]["department_id"])
        services.supervise_department(
            actor=leader, department=dept, note=NOTES[2], due_at=today + timedelta(days=3)
        )
        counts["department"] += 1

    # 3. the warning rules over the year (quietly), then today's run
    services.backfill_warnings(
        street=street, first=today - timedelta(days=days), last=today - timedelta(days=1)
    )
    services.run_warnings(street=street, now=now)
    past = EarlyWarning.objects.filter(street=street, day__lt=today - timedelta(days=7))
    for i, note in enumerate(RESOLVE):  # the older ones 处置 by the desk the next day (set-based)
        ids = [pk for pk in past.values_list("pk", flat=True) if pk % len(RESOLVE) == i]
        EarlyWarning.objects.filter(pk__in=ids).update(
            state=WarningState.RESOLVED,
            handled_by=desk,
            handle_note=note,
            handled_at=F("created_at") + timedelta(hours=14 + 6 * i),
        )
    recent = list(
        EarlyWarning.objects.filter(street=street, day__gte=today - timedelta(days=7), day__lt=today)
    )
    for w in recent[::2]:
        w.state, w.handled_by_id, w.handled_at, w.handle_note = (
            WarningState.ACKNOWLEDGED,
            desk.pk,
            now,
            rng.choice(ACK),
        )
    EarlyWarning.objects.bulk_update(recent[::2], ["state", "handled_by", "handled_at", "handle_note"])
    counts["warnings"] = EarlyWarning.objects.filter(street=street).count()
    from django.db import transaction

    with transaction.atomic():
        audit.record(actor=None, action="supervision.demo.load", object_type="places.street", object_id=street.pk,
                     object_repr=street.name, after=counts, note="加载督办与预警演示数据")  # fmt: skip
    log(
        f"督办 {counts['case']} 件案件、{counts['department']} 次部门超期督办；预警 {counts['warnings']} 条。"
    )
    return counts
