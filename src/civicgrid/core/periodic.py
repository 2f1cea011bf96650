"""One runner for periodic work: a registry of jobs and one scheduler thread per process.

Apps register their periodic jobs at ``ready()`` with :func:`register` (name, interval, function): the case
engine's deadline lights, the webhook sender, the background-job recovery, and the report and rollup jobs to come.

Every *round* of a job is claimed in :class:`~civicgrid.core.models.JobLock` by one conditional UPDATE::

    UPDATE core_joblock SET owner = me, locked_until = now + ttl, next_run_at = now + interval
     WHERE name = job AND locked_until < now AND (next_run_at IS NULL OR next_run_at <= now)

One row updated: this runner does the round; zero: another runner holds it or has already done it. The same SQL
works on SQLite (writers are serialised) and PostgreSQL (a competing UPDATE waits for the winner's row lock and
re-checks the condition), so several app servers sharing a database run each round exactly once. A runner that
died holding the lease frees it when ``locked_until`` passes (``ttl``). The lease runs on the real wall clock,
not the (test-)frozen platform clock: it guards real processes.

- :func:`run_due` runs every registered job whose round is due (the scheduler thread, ``civicgrid run-jobs``);
- :func:`run_now` runs one job now, still one runner at a time, ignoring its interval (a kick, a command);
- :func:`claim` / :func:`release` are the bare lease, for work that is not a registered job.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MIN_TICK_SECONDS = 5.0


def default_interval() -> float:
    return float(settings.CIVICGRID.get("JOBS_INTERVAL_SECONDS", 60))


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    run: Callable[[], object]
    interval_seconds: float | None = None  # None: settings.CIVICGRID["JOBS_INTERVAL_SECONDS"] (60)
    ttl_seconds: float = 600  # how long a round may run before its lease counts as abandoned

    @property
    def interval(self) -> float:
        return self.interval_seconds if self.interval_seconds is not None else default_interval()


REGISTRY: dict[str, PeriodicJob] = {}


def register(
    name: str,
    run: Callable[[], object],
    *,
    interval_seconds: float | None = None,
    ttl_seconds: float = 600,
    replace: bool = False,
) -> PeriodicJob:
    """Add a periodic job (idempotent: a second registration of ``name`` keeps the first unless ``replace``)."""
    if name in REGISTRY and not replace:
        return REGISTRY[name]
    job = PeriodicJob(name=name, run=run, interval_seconds=interval_seconds, ttl_seconds=ttl_seconds)
    REGISTRY[name] = job
    return job


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"[:100]


def _wall_now() -> datetime:
    return datetime.now(UTC)


def _ensure_row(name: str) -> None:
    from civicgrid.core.models import JobLock

    JobLock.objects.bulk_create([JobLock(name=name, locked_until=EPOCH)], ignore_conflicts=True)


def claim(
    name: str,
    *,
    ttl_seconds: float = 300,
    owner: str | None = None,
    interval_seconds: float | None = None,
    now: datetime | None = None,
) -> str | None:
    """Claim the lease ``name`` for ``ttl_seconds``; with ``interval_seconds``, only when its next round is due
    (and the round after that is set ``interval_seconds`` later). Returns the owner token, or ``None``."""
    from civicgrid.core.models import JobLock

    owner = owner or _owner()
    now = now or _wall_now()
    _ensure_row(name)
    qs = JobLock.objects.filter(name=name, locked_until__lt=now)
    fields = {"locked_until": now + timedelta(seconds=ttl_seconds), "owner": owner}
    if interval_seconds is not None:
        from django.db.models import Q

        qs = qs.filter(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now))
        fields["next_run_at"] = now + timedelta(seconds=interval_seconds)
    with transaction.atomic():
        won = qs.update(**fields)
    return owner if won == 1 else None


def release(name: str, owner: str) -> bool:
    """Give the lease back (only its owner can); records the run. False if the lease was no longer ours."""
    from civicgrid.core.models import JobLock

    return bool(
        JobLock.objects.filter(name=name, owner=owner).update(locked_until=EPOCH, last_run_at=_wall_now())
    )


def _run(job: PeriodicJob, owner: str | None):
    if owner is None:
        return {"skipped": True}
    try:
        return job.run()
    except Exception:  # a failing job must not stop the others or the scheduler
        log.exception("periodic job %s failed", job.name)
        return {"error": True}
    finally:
        release(job.name, owner)


def run_due(*, now: datetime | None = None, beat: bool = True) -> dict[str, object]:
    """One pass of the scheduler: each registered job whose round is due runs here, unless another runner
    claimed the round. Returns ``{name: result}`` for the jobs this pass ran or found taken (``{"skipped": True}``);
    jobs not yet due are left out."""
    from civicgrid.core import heartbeat

    if beat:
        heartbeat.beat()
    results: dict[str, object] = {}
    for job in list(REGISTRY.values()):
        try:
            owner = claim(job.name, ttl_seconds=job.ttl_seconds, interval_seconds=job.interval, now=now)
        except Exception:
            log.exception("periodic job %s: could not claim its round", job.name)
            results[job.name] = {"error": True}
            continue
        if owner is None:
            continue
        results[job.name] = _run(job, owner)
    return results


def run_now(name: str) -> object:
    """Run the job ``name`` now (one runner at a time across servers; the interval is not checked).
    ``{"skipped": True}`` when another runner holds it."""
    job = REGISTRY[name]
    return _run(job, claim(job.name, ttl_seconds=job.ttl_seconds))


# --- the scheduler thread -------------------------------------------------------------------------

_started = threading.Event()


def is_server_process() -> bool:
    """A gunicorn worker (what ``civicgrid serve`` runs) — never tests, migrations, shells or commands."""
    if "gunicorn" in sys.modules and "pytest" not in sys.modules:
        return True
    return sys.argv[1:2] == ["serve"]


def tick_seconds() -> float:
    """How often the scheduler looks for due rounds: the shortest interval, not below :data:`MIN_TICK_SECONDS`."""
    intervals = [job.interval for job in REGISTRY.values()] or [default_interval()]
    return max(MIN_TICK_SECONDS, min(min(intervals), default_interval()))


def _loop(stop: threading.Event) -> None:
    from django.db import close_old_connections

    from civicgrid.core import heartbeat

    try:
        heartbeat.beat()  # alive from the start, not only after the first round
    finally:
        close_old_connections()
    while not stop.wait(tick_seconds()):
        try:
            close_old_connections()
            run_due()
        except Exception:
            log.exception("scheduled jobs failed")
        finally:
            close_old_connections()


def maybe_start(*, force: bool = False) -> threading.Event | None:
    """Start the scheduler thread once per process if enabled (and a server process); returns its stop event."""
    if _started.is_set():
        return None
    if not force and not (settings.CIVICGRID.get("SCHEDULER_ENABLED") and is_server_process()):
        return None
    _started.set()
    stop = threading.Event()
    threading.Thread(target=_loop, args=(stop,), name="civicgrid-scheduler", daemon=True).start()
    log.info("civicgrid scheduler started (every %ss)", tick_seconds())
    return stop
