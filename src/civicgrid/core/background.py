"""One runner for every long background job (12345 imports, Excel exports).

A *kind* of job (:class:`Kind`) names a model whose rows are the jobs — each with ``status`` (``queued`` →
``running`` → ``done`` / ``partial`` / ``failed``), ``runner`` (the token of the worker that claimed it),
``heartbeat_at``, ``started_at``, ``finished_at``, ``message`` and ``created_at`` — and a function that runs one
claimed job to its end.

- :func:`launch` (called on commit when a job is queued, by the in-process scheduler every minute, and when a page
  shows a job whose worker died) starts one daemon thread per kind that runs :func:`run_pending`.
- :func:`claim_next` takes the oldest queued job with a conditional UPDATE, so two runners never take the same
  one; an ``exclusive`` kind runs one job at a time across all processes.
- While a job runs, a heartbeat thread refreshes ``heartbeat_at`` every :data:`HEARTBEAT_SECONDS`; the job's own
  progress writes refresh it too.
- :func:`requeue_stale` puts a ``running`` job whose heartbeat is older than :data:`STALE_AFTER` (its worker was
  killed) back in the queue with a message saying so; the kind's run function resumes it from its checkpoint.
  A worker that lost its job that way notices (its ``runner`` token no longer matches) and stops writing.

Tests set ``settings.BACKGROUND_RUN_INLINE = True`` (or the older ``INTAKE_RUN_INLINE``): :func:`launch` then
runs the queued jobs in the calling thread, without the heartbeat thread.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection

from civicgrid.core import clock

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(seconds=45)

QUEUED, RUNNING, FAILED = "queued", "running", "failed"


class LostJob(Exception):  # noqa: N818
    """This worker's claim on the job was taken over (it was thought dead): stop without writing."""


@dataclass(frozen=True)
class Kind:
    name: str
    model: type
    run: Callable[[int, str], object]  # (job pk, runner token) → runs the claimed job to its end
    exclusive: bool = True
    # the message stored on a job that is put back in the queue after its worker died
    requeued_message: Callable[[object], str] = lambda job: "任务中断，已自动恢复"


_kinds: dict[str, Kind] = {}
_threads: dict[str, threading.Thread] = {}
_launch_lock = threading.Lock()


def register(kind: Kind) -> Kind:
    _kinds[kind.name] = kind
    return kind


def kind(name: str) -> Kind:
    return _kinds[name]


def inline() -> bool:
    return bool(
        getattr(settings, "BACKGROUND_RUN_INLINE", False) or getattr(settings, "INTAKE_RUN_INLINE", False)
    )


def is_stale(job, now=None) -> bool:
    """A ``running`` job whose worker has not been heard of for :data:`STALE_AFTER`."""
    if job.status != RUNNING:
        return False
    now = now or clock.now()
    return job.heartbeat_at is None or job.heartbeat_at < now - STALE_AFTER


# --- launching ------------------------------------------------------------------------------------


def launch(name: str | None = None) -> None:
    """Run the queued jobs of kind ``name`` (every kind when ``None``) now: inline in tests, else in one daemon
    thread per kind (a thread already running picks new jobs up when it finishes the current one)."""
    names = [name] if name else list(_kinds)
    if inline():
        for n in names:
            run_pending(n)
        return
    with _launch_lock:
        for n in names:
            thread = _threads.get(n)
            if thread is not None and thread.is_alive():
                continue
            thread = threading.Thread(target=_thread_main, args=(n,), name=f"civicgrid-{n}", daemon=True)
            _threads[n] = thread
            thread.start()


def _thread_main(name: str) -> None:
    try:
        run_pending(name, recycle_connections=True)
    except Exception:  # pragma: no cover - logged; the job row says failed
        log.exception("background runner %s crashed", name)
    finally:
        connection.close()


def run_pending(name: str, *, recycle_connections: bool = False) -> int:
    """Requeue dead jobs, then run queued jobs of ``name`` until none is left (or, for an exclusive kind, while
    another process runs one). Returns how many jobs this call ran."""
    k = _kinds[name]
    n = 0
    while True:
        if recycle_connections:
            close_old_connections()
        requeue_stale(name)
        claimed = claim_next(name)
        if claimed is None:
            return n
        pk, token = claimed
        with Heartbeat(k.model, pk, token, enabled=not inline()):
            try:
                k.run(pk, token)
            except LostJob:
                log.warning("%s job %s was taken over by another runner", name, pk)
        n += 1


# --- claiming and requeueing ----------------------------------------------------------------------


def requeue_stale(name: str) -> list[int]:
    """Put ``running`` jobs whose heartbeat is older than :data:`STALE_AFTER` back in the queue (each with the
    kind's message). Returns their ids."""
    k = _kinds[name]
    now = clock.now()
    done = []
    stale = k.model.objects.filter(status=RUNNING, heartbeat_at__lt=now - STALE_AFTER)
    stale_nulls = k.model.objects.filter(status=RUNNING, heartbeat_at__isnull=True)
    for job in list(stale) + list(stale_nulls):
        changed = k.model.objects.filter(pk=job.pk, status=RUNNING, runner=job.runner).update(
            status=QUEUED, runner="", message=k.requeued_message(job)[:2000]
        )
        if changed:
            log.warning(
                "%s job %s: worker gone (last heartbeat %s); requeued", name, job.pk, job.heartbeat_at
            )
            done.append(job.pk)
    return done


def claim_next(name: str) -> tuple[int, str] | None:
    """(pk, runner token) of the oldest queued job, now ``running`` for this worker; ``None`` if there is none
    (or, for an exclusive kind, while another job of the kind runs with a fresh heartbeat)."""
    k = _kinds[name]
    now = clock.now()
    if k.exclusive and k.model.objects.filter(status=RUNNING, heartbeat_at__gte=now - STALE_AFTER).exists():
        return None
    for pk in (
        k.model.objects.filter(status=QUEUED).order_by("created_at", "id").values_list("pk", flat=True)[:5]
    ):
        token = uuid.uuid4().hex
        fields = {"status": RUNNING, "runner": token, "heartbeat_at": now, "finished_at": None}
        if k.model.objects.filter(pk=pk, status=QUEUED, started_at__isnull=True).update(
            started_at=now, **fields
        ):
            return pk, token
        if k.model.objects.filter(pk=pk, status=QUEUED).update(**fields):
            return pk, token
    return None


def beat(model, pk: int, token: str, **fields) -> None:
    """Refresh the heartbeat (and ``fields``) of the job this worker runs; :class:`LostJob` if it is not ours."""
    if (
        model.objects.filter(pk=pk, runner=token, status=RUNNING).update(heartbeat_at=clock.now(), **fields)
        != 1
    ):
        raise LostJob(pk)


def fail(model, pk: int, token: str, exc: BaseException, *, prefix: str) -> None:
    """Mark the job this worker runs as failed, with ``prefix`` and the error's own (Chinese) message."""
    message = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
    model.objects.filter(pk=pk, runner=token).update(
        status=FAILED, finished_at=clock.now(), runner="", message=f"{prefix}{message}"[:2000]
    )


class Heartbeat:
    """While the ``with`` block runs, refresh the job's ``heartbeat_at`` every :data:`HEARTBEAT_SECONDS` from a
    thread of its own (its own database connection), so a long batch does not make the job look dead."""

    def __init__(self, model, pk: int, token: str, *, enabled: bool = True):
        self.model, self.pk, self.token, self.enabled = model, pk, token, enabled
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                try:
                    self.model.objects.filter(pk=self.pk, runner=self.token, status=RUNNING).update(
                        heartbeat_at=clock.now()
                    )
                except Exception:  # a locked database: try again on the next beat
                    log.warning("heartbeat of job %s failed", self.pk, exc_info=True)
                    close_old_connections()
        finally:
            connection.close()

    def __enter__(self):
        if self.enabled:
            self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{self.pk}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=HEARTBEAT_SECONDS * 2)
        return False


RECOVER_JOB = "background.recover"


def recover() -> dict[str, int]:
    """The periodic round (:mod:`civicgrid.core.periodic`): requeue every kind's jobs whose worker died and start
    a runner for every kind with queued jobs. Returns ``{kind: requeued}``."""
    requeued: dict[str, int] = {}
    for name, k in list(_kinds.items()):
        requeued[name] = len(requeue_stale(name))
        if k.model.objects.filter(status=QUEUED).exists():
            launch(name)
    return requeued


def recover_if_stale(job) -> bool:
    """Called where a user looks at a job: a job whose worker died is requeued and a runner started now.
    Returns whether that happened."""
    for k in _kinds.values():
        if isinstance(job, k.model) and is_stale(job) and job.pk in requeue_stale(k.name):
            launch(k.name)
            return True
    return False
