"""Receivers: the case engine's committed events → webhook deliveries, then wake the sender."""

from __future__ import annotations

from django.dispatch import receiver

from civicgrid.cases.notifications import case_event_committed, desk_alert_committed
from civicgrid.notify import runner, services


@receiver(case_event_committed, dispatch_uid="civicgrid.notify.case_event_committed")
def _on_case_event_committed(sender, *, case_id, event_id=None, move="", light=None, **kwargs):
    # already on commit (the engine sends this from transaction.on_commit): the move is durable whatever happens
    if services.on_case_event(case_id=case_id, event_id=event_id, move=move, light=light):
        runner.kick()


@receiver(desk_alert_committed, dispatch_uid="civicgrid.notify.desk_alert_committed")
def _on_desk_alert(
    sender, *, event, street_id, title, lines, department_id=None, case_id=None, dedupe_key="", **kw
):
    # a department's 督办 or an early warning (already committed): one delivery per endpoint that wants it
    if services.on_desk_alert(
        event=event,
        street_id=street_id,
        department_id=department_id,
        case_id=case_id,
        title=title,
        lines=lines,
        dedupe_key=dedupe_key,
    ):
        runner.kick()
