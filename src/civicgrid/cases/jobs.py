"""The case engine's periodic job: recompute deadline lights and notify on yellow/red.

It runs through core's one job runner (:mod:`civicgrid.core.periodic`, registered at ``CasesConfig.ready()``):
each round is claimed in :class:`civicgrid.core.models.JobLock` with a conditional UPDATE, so several app
servers sharing one database run it one at a time. :func:`refresh_lights` called directly claims the same lease.
``claim`` / ``release`` / ``EPOCH`` / ``JOBS`` / ``run_all`` are core's, re-exported for existing callers.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

from civicgrid.accounts.roles import Role
from civicgrid.cases import deadlines, procedures
from civicgrid.cases.models import Case, Light, NotificationKind
from civicgrid.cases.notifications import department_members, notify, users_with_roles
from civicgrid.core import clock, periodic
from civicgrid.core.periodic import EPOCH, claim, release  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)

LIGHT_RANK = {"": 0, Light.GREEN: 0, Light.YELLOW: 1, Light.RED: 2}


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
    owner = claim(JOB_NAME, ttl_seconds=600)
    if owner is None:
        return {"checked": 0, "changed": 0, "yellow": 0, "red": 0, "notified": 0, "skipped": True}
    try:
        return _refresh_lights(now, batch_size=batch_size)
    finally:
        release(JOB_NAME, owner)


def _refresh_lights(now: datetime | None = None, *, batch_size: int = 500) -> dict:
    """The work of one round (the caller holds the lease)."""
    counts = {"checked": 0, "changed": 0, "yellow": 0, "red": 0, "notified": 0, "skipped": False}
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
    return counts


JOB_NAME = "refresh_lights"
JOBS = periodic.REGISTRY  # every registered periodic job, by name (core's registry)


def register() -> None:
    periodic.register(JOB_NAME, _refresh_lights, ttl_seconds=600)


def run_all() -> dict:
    """One pass of core's runner: every periodic job whose round is due (``civicgrid run-jobs``)."""
    return periodic.run_due()
