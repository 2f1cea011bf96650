"""Receivers: the final choice after 受理/派遣/改派 (on commit of the case event); on a move of a case others were merged into, their
reporters are told; the cold-start catalogue's revision when a category or department changes."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from civicgrid.accounts.models import Department
from civicgrid.cases.models import Case, CaseEvent, Category
from civicgrid.cases.notifications import case_event_committed
from civicgrid.core import revisions
from civicgrid.triage import selectors

log = logging.getLogger(__name__)
FINAL_MOVES = frozenset({"accept", "dispatch", "reassign"})


@receiver(case_event_committed, dispatch_uid="triage.case_event_committed")
def _on_case_event(sender, *, case_id, event_id=None, move="", **kwargs) -> None:
    if move not in FINAL_MOVES or event_id is None:
        return
    from civicgrid.triage import services
    from civicgrid.triage.models import TriageSuggestion

    if not TriageSuggestion.objects.filter(case_id=case_id).exists():
        return
    event = CaseEvent.objects.filter(pk=event_id).select_related("actor").first()
    case = Case.objects.filter(pk=case_id).first()
    if event is None or case is None:
        return
    try:
        with transaction.atomic():
            services.record_final(actor=event.actor, case=case, move=move)
    except Exception:  # never break the case flow for training data
        log.exception("triage: recording the final choice of case %s failed", case_id)


@receiver(case_event_committed, dispatch_uid="triage.intake_and_merge")
def _on_intake_or_progress(sender, *, case_id, event_id=None, move="", **kwargs) -> None:
    from civicgrid.triage import services

    # a new case is checked by the intake round (services.process_intake, every few seconds), not here
    if move in services.PROGRESS_MOVES and Case.objects.filter(duplicate_of_id=case_id).exists():
        master = Case.objects.filter(pk=case_id).first()
        if master is None:
            return
        try:
            with transaction.atomic():
                services.tell_duplicates(master=master, move=move)
        except Exception:
            log.exception("triage: telling the cases merged into %s failed", case_id)


@receiver(post_save, sender=Category, dispatch_uid="triage.category_saved")
@receiver(post_delete, sender=Category, dispatch_uid="triage.category_deleted")
@receiver(post_save, sender=Department, dispatch_uid="triage.department_saved")
def _catalogue_changed(sender, instance, **kwargs) -> None:
    revisions.bump(selectors.REVISION)
