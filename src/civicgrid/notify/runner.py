"""When webhooks are sent.

- In a server process with the scheduler enabled (``civicgrid serve``): a daemon sender thread, started on the
  first enqueue and woken at once by every new delivery (:func:`kick`), polling every 30 s for retries.
- Core's periodic runner (:mod:`civicgrid.core.periodic`: its in-process scheduler and ``civicgrid run-jobs``)
  runs :func:`run_once` as the job ``send_webhooks`` every :data:`~civicgrid.notify.sender.POLL_SECONDS`: the
  due deliveries (retries included), one server at a time. The sender thread goes through the same lease.
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
    from civicgrid.core.periodic import is_server_process

    return is_server_process()


def kick() -> None:
    """A delivery was just enqueued: have it sent now (server processes) — never in tests or commands."""
    if not settings.CIVICGRID.get("SCHEDULER_ENABLED") or not _server_process():
        return
    sender.start_background_sender()
    sender.wake()


JOB_NAME = "send_webhooks"


def register_job() -> None:
    """Register :func:`run_once` with core's periodic runner."""
    from civicgrid.core import periodic

    periodic.register(JOB_NAME, run_once, interval_seconds=sender.POLL_SECONDS, ttl_seconds=300)
