"""Receivers: after each committed case move, the 督办 of that case may be 销号 (and an engine 督办 move made with
the case page's plain button is tracked)."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from civicgrid.cases.notifications import case_event_committed

log = logging.getLogger(__name__)


@receiver(case_event_committed, dispatch_uid="civicgrid.supervision.case_event_committed")
def _on_case_event(sender, *, case_id, event_id=None, move="", **kwargs):
    if move == "create":
        return  # a case just filed has no 督办 to clear (and intake is the hottest write path)
    from civicgrid.supervision import services

    try:
        if move == "supervise":
            services.track_engine_supervise(case_id=case_id, event_id=event_id)
        elif move != "light" or kwargs.get("light"):
            services.sweep(case_ids=[case_id])
    except Exception:  # the move is committed; a failed sweep is retried by the periodic job
        log.exception("supervision sweep failed for case %s", case_id)
