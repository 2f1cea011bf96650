"""Periodic jobs: recompute deadline lights and notify on yellow/red.

Several app servers may share one database: each job run first claims a named lease in :class:`JobLock` with an
atomic ``UPDATE … WHERE name = ? AND locked_until < now`` (one row → we run; zero rows → someone else is running,
skip). The same code works on SQLite and PostgreSQL; on PostgreSQL the competing UPDATE waits for the winner's
row lock and then re-checks the condition, so exactly one claims the lease.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta

from django.db import transaction

from civicgrid.accounts.roles import Role
from civicgrid.cases import deadlines, procedures
from civicgrid.cases.models import Case, CaseState, JobLock, Light, NotificationKind
from civicgrid.cases.notifications import department_members, notify, users_with_roles
from civicgrid.core import clock

log = logging.getLogger(__name__)

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
LIGHT_RANK = {"": 0, Light.GREEN: 0, Light.YELLOW: 1, Light.RED: 2}
# the standard procedure's states in which a stage clock runs (the job asks procedures.group_q("running"))
RUNNING_STATES = [
    CaseState.ACCEPTED,
    CaseState.DISPATCHED,
    CaseState.HANDLING,
    CaseState.HANDLED,
    CaseState.VERIFIED,
]


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"[:100]


def claim(name: str, *, ttl_seconds: float = 300, owner: str | None = None) -> str | None:
    """Claim the lease ``name`` for ``ttl_seconds``. Returns the owner token, or ``None`` if another holds it."""
    owner = owner or _owner()
    # the lease runs on real time, not the (test-)frozen clock: it guards real processes
    now = datetime.now(UTC)
    JobLock.objects.bulk_create([JobLock(name=name, locked_until=EPOCH)], ignore_conflicts=True)
    with transaction.atomic():
        won = JobLock.objects.filter(name=name, locked_until__lt=now).update(
            locked_until=now + timedelta(seconds=ttl_seconds), owner=owner
        )
    return owner if won == 1 else None


def release(name: str, owner: str) -> None:
    JobLock.objects.filter(name=name, owner=owner).update(locked_until=EPOCH, last_run_at=datetime.now(UTC))


def light_text(case: Case, light: str) -> str:
    """The reminder a yellow/red light sends (the job here, and the demo's set-based history)."""
    what = "已超时" if light == Light.RED else "即将超时"
    due = deadlines.due_label(case.due_at, case.limit_unit)
    return f"案件 {case.display_number}（{case.get_stage_display()}）{what}，到期时间 {due}：{case.title}"


def _notify_light(case: Case, light: str) -> int:
    kind = NotificationKind.RED if light == Light.RED else NotificationKind.YELLOW
    text = light_text(case, light)
    users = department_members(case.department_id) if case.stage == "handle" else []
    users += users_with_roles(Role.DISPATCHER)
    if light == Light.RED:
        users += users_with_roles(Role.SHIFT_LEADER)
    return notify(users=users, case=case, kind=kind, text=text)


def _signal_light(case: Case, light: str) -> None:
    """Tell listeners (webhooks) that a case entered yellow/red, like every committed move does."""
    from civicgrid.cases.notifications import case_event_committed

    case_event_committed.send(
        sender=Case,
        case_id=case.pk,
        event_id=None,
        move="light",
        from_state=case.state,
        to_state=case.state,
        light=light,
    )


def refresh_lights(now: datetime | None = None, *, batch_size: int = 500) -> dict:
    """Recompute the light of every running case; notify each case's first entry into yellow and into red.

    Returns counts: ``checked``, ``changed``, ``yellow``, ``red``, ``notified`` (cases), ``skipped`` (True when
    another runner held the lock, and nothing was done).
    """
    counts = {"checked": 0, "changed": 0, "yellow": 0, "red": 0, "notified": 0, "skipped": False}
    owner = claim("refresh_lights", ttl_seconds=600)
    if owner is None:
        counts["skipped"] = True
        return counts
    try:
        now = now or clock.now()
        qs = (
            Case.objects.filter(procedures.group_q("running"), paused_since__isnull=True)
            .exclude(stage="")
            .select_related("category")
            .order_by("pk")
        )
        for case in qs.iterator(chunk_size=batch_size):
            counts["checked"] += 1
            old_light, old_overdue = case.light, case.is_overdue
            new = deadlines.refresh(case, now)
            if new == Light.YELLOW:
                counts["yellow"] += 1
            elif new == Light.RED:
                counts["red"] += 1
            notify_now = LIGHT_RANK.get(new, 0) > LIGHT_RANK.get(case.last_notified_light, 0)
            if new == old_light and case.is_overdue == old_overdue and not notify_now:
                continue
            with transaction.atomic():
                fields = {"light": new, "is_overdue": case.is_overdue}
                if notify_now:
                    fields["last_notified_light"] = new
                # no version bump (not a user edit), but never overwrite a case a move changed meanwhile
                updated = Case.objects.filter(pk=case.pk, version=case.version).update(**fields)
                if not updated:
                    continue
                counts["changed"] += int(new != old_light)
                if notify_now:
                    counts["notified"] += 1
                    transaction.on_commit(lambda c=case, lt=new: _notify_light(c, lt))
                    transaction.on_commit(lambda c=case, lt=new: _signal_light(c, lt))
    finally:
        release("refresh_lights", owner)
    return counts


JOBS = {"refresh_lights": refresh_lights}


def run_all() -> dict:
    from civicgrid.core import heartbeat

    heartbeat.beat()
    results = {}
    for name, fn in JOBS.items():
        try:
            results[name] = fn()
        except Exception:  # a failing job must not stop the others or the scheduler
            log.exception("job %s failed", name)
            results[name] = {"error": True}
    return results
