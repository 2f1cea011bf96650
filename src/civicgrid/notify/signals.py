"""Receivers: the case engine's committed events → webhook deliveries, then wake the sender."""

from __future__ import annotations

from django.dispatch import receiver

from civicgrid.cases.notifications import case_event_committed
from civicgrid.notify import runner, services


@receiver(case_event_committed, dispatch_uid="civicgrid.notify.case_event_committed")
def _on_case_event_committed(sender, *, case_id, event_id=None, move="", light=None, **kwargs):
    # already on commit (the engine sends this from transaction.on_commit): the move is durable whatever happens
    if services.on_case_event(case_id=case_id, event_id=event_id, move=move, light=light):
        runner.kick()
