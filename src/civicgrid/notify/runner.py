"""When webhooks are sent.

- In a server process with the scheduler enabled (``civicgrid serve``): a daemon sender thread, started on the
  first enqueue and woken at once by every new delivery (:func:`kick`), polling every 30 s for retries.
- The case engine's periodic job runner (``civicgrid.cases.jobs.JOBS``, run by its in-process scheduler and by
  ``civicgrid run-jobs``) also runs :func:`run_once`: the due deliveries (retries included).
- ``civicgrid send_webhooks`` runs :func:`run_once` by hand or from cron.
"""

from __future__ import annotations

import logging

from django.conf import settings

from civicgrid.notify import sender

log = logging.getLogger(__name__)


def run_once(now=None) -> dict:
    """Send what is due. Never raises."""
    result: dict = {}
    try:
        result.update(sender.deliver_due(now))
    except Exception:
        log.exception("webhook sender failed")
    return result


def _server_process() -> bool:
    try:
        from civicgrid.cases.scheduler import is_server_process
    except ImportError:
        return False
    return is_server_process()


def kick() -> None:
    """A delivery was just enqueued: have it sent now (server processes) — never in tests or commands."""
    if not settings.CIVICGRID.get("SCHEDULER_ENABLED") or not _server_process():
        return
    sender.start_background_sender()
    sender.wake()


def register_job() -> None:
    """Add :func:`run_once` to the case engine's periodic jobs, if it exposes its job table."""
    try:
        from civicgrid.cases import jobs
    except ImportError:
        return
    table = getattr(jobs, "JOBS", None)
    if isinstance(table, dict):
        table.setdefault("send_webhooks", run_once)
