"""In-app notifications (站内通知) and the post-commit hook point for outbound integrations.

``notify`` writes rows; services call it from ``transaction.on_commit`` so a rolled-back move notifies nobody.
``case_event_committed`` is sent after every committed case event — the place a later webhook sender connects.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

from civicgrid.accounts.models import User
from civicgrid.accounts.roles import Role
from civicgrid.cases.models import Notification
from civicgrid.core import clock

# sent on commit: sender=Case, case_id=int, event_id=int, move=str, from_state=str, to_state=str
case_event_committed = Signal()
# sent on commit by an app that tells the desks something that is not one case move (a department's 督办, an early
# warning): sender=<model>, event=str (a civicgrid.notify WebhookEvent value: "supervise", "warning"),
# street_id=int, department_id=int|None, case_id=int|None, title=str, lines=list[str], dedupe_key=str
desk_alert_committed = Signal()


def department_members(department_id: int | None) -> list[User]:
    if not department_id:
        return []
    return list(
        User.objects.filter(
            department_id=department_id, role=Role.DEPT_HANDLER, is_active=True, is_system=False
        )
    )


def users_with_roles(*roles: str) -> list[User]:
    return list(User.objects.filter(role__in=roles, is_active=True, is_system=False))


def notify(*, users: Iterable[User], case=None, kind: str, text: str) -> int:
    """Create one notification per distinct active user; returns how many were written.

    About a case, only people whose tier holds the case's 街道 are told (a 街道's desk never hears of another
    街道's cases; the 区 level hears of all of its 街道); about a case of a procedure with a visibility rule (信访),
    only people who may see that case."""
    from civicgrid.cases import procedures
    from civicgrid.cases.models import Case
    from civicgrid.places.selectors import same_tier

    seen: set[int] = set()
    rows = []
    now = clock.now()
    street_id = getattr(case, "street_id", None) if case is not None else None
    restricted = case is not None and getattr(case, "procedure", "") in procedures.restricted_codes()
    for u in users:
        if u is None or u.pk in seen or not u.is_active:
            continue
        if case is not None and not same_tier(u, street_id):
            continue
        if restricted and not Case.objects.restrict(u, "view").filter(pk=case.pk).exists():
            continue
        seen.add(u.pk)
        rows.append(Notification(user=u, case=case, kind=kind, text=text[:300], created_at=now))
    Notification.objects.bulk_create(rows)
    return len(rows)


def notify_on_commit(*, users_fn, case=None, kind: str, text: str) -> None:
    """Defer both the recipient lookup and the write until the surrounding transaction commits."""
    transaction.on_commit(lambda: notify(users=users_fn(), case=case, kind=kind, text=text))


def mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=clock.now())


def unread(*, user):
    return Notification.objects.filter(user=user, read_at__isnull=True).select_related("case")
