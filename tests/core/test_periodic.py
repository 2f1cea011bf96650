"""Core's one periodic runner: a registry of jobs, each round claimed by a conditional UPDATE in core.JobLock.

Sequential variants run on both databases; the truly parallel race runs on PostgreSQL (SQLite serialises
writers, so there threads would only take turns).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections

from civicgrid.core import periodic
from civicgrid.core.models import JobLock

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@pytest.fixture
def counting_job():
    """A registered job that counts its runs (removed again afterwards)."""
    runs: list[str] = []
    name = "tests.count"
    periodic.register(name, lambda: runs.append("ran") or {"n": len(runs)}, interval_seconds=60, ttl_seconds=120,
                      replace=True)  # fmt: skip
    yield name, runs
    periodic.REGISTRY.pop(name, None)


def test_the_apps_register_their_periodic_jobs_with_core():
    assert {"refresh_lights", "send_webhooks", "background.recover"} <= set(periodic.REGISTRY)
    from civicgrid.cases import jobs
    from civicgrid.notify import sender

    assert jobs.JOBS is periodic.REGISTRY  # the case engine's table is core's
    assert periodic.REGISTRY["send_webhooks"].interval == sender.POLL_SECONDS


@pytest.mark.django_db
def test_two_runners_at_the_same_moment_run_the_round_once(counting_job):
    name, runs = counting_job
    first = periodic.run_due(now=T0, beat=False)
    second = periodic.run_due(now=T0, beat=False)  # another server, same round
    assert first[name] == {"n": 1}
    assert name not in second
    assert runs == ["ran"]
    # not yet due half an interval later; due again after the interval
    assert name not in periodic.run_due(now=T0 + timedelta(seconds=30), beat=False)
    assert periodic.run_due(now=T0 + timedelta(seconds=60), beat=False)[name] == {"n": 2}
    lock = JobLock.objects.get(name=name)
    assert lock.next_run_at == T0 + timedelta(seconds=120)
    assert lock.last_run_at is not None and lock.owner


@pytest.mark.django_db
def test_a_dead_owners_lock_expires(counting_job):
    name, runs = counting_job
    # a server claimed the round and died without releasing it
    assert periodic.claim(name, ttl_seconds=120, interval_seconds=60, now=T0, owner="web1:dead")
    # the next round is due after 60 s, but the dead owner's lease holds until its TTL (120 s) runs out
    assert name not in periodic.run_due(now=T0 + timedelta(seconds=90), beat=False)
    assert runs == []
    # then another runner takes the round
    assert periodic.run_due(now=T0 + timedelta(seconds=121), beat=False)[name] == {"n": 1}
    assert runs == ["ran"]
    assert JobLock.objects.get(name=name).owner != "web1:dead"


@pytest.mark.django_db
def test_only_the_owner_releases_and_a_failing_job_frees_its_lease(counting_job):
    name, runs = counting_job
    owner = periodic.claim(name, ttl_seconds=60, now=T0)
    assert periodic.release(name, "someone-else") is False
    assert periodic.claim(name, ttl_seconds=60, now=T0 + timedelta(seconds=1)) is None
    assert periodic.release(name, owner) is True

    def boom():
        raise RuntimeError("broken job")

    periodic.register("tests.boom", boom, interval_seconds=60, replace=True)
    try:
        assert periodic.run_due(now=T0, beat=False)["tests.boom"] == {"error": True}
        assert JobLock.objects.get(name="tests.boom").locked_until < T0  # released despite the error
    finally:
        periodic.REGISTRY.pop("tests.boom", None)


@pytest.mark.django_db
def test_the_recovery_round_resumes_an_import_whose_worker_died(settings):
    """The background-job recovery is one of the periodic jobs: a run whose worker died is requeued and run."""
    from io import BytesIO

    import openpyxl
    from django.core.files.uploadedfile import SimpleUploadedFile

    from civicgrid.core import background, clock, importer
    from civicgrid.core.models import CalendarOverride, ImportRun, ImportStatus
    from tests.factories import UserFactory

    settings.BACKGROUND_RUN_INLINE = True
    admin = UserFactory(role="system_admin")
    wb = openpyxl.Workbook()
    wb.active.append(["日期", "上班/放假"])
    wb.active.append(["2026-10-08", "上班"])
    buf = BytesIO()
    wb.save(buf)
    job = importer.create_run(
        actor=admin, spec="core.calendar_overrides", upload=SimpleUploadedFile("a.xlsx", buf.getvalue())
    )
    ImportRun.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, runner="dead", heartbeat_at=clock.now() - background.STALE_AFTER * 2
    )
    periodic.run_due()
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.created_count == 1
    assert "自动恢复" in job.message
    assert CalendarOverride.objects.filter(is_workday=True).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs real parallel transactions (PostgreSQL)")
def test_racing_runners_never_run_the_same_round(counting_job):
    name, runs = counting_job
    n = 6
    barrier = threading.Barrier(n)

    def runner(i):
        try:
            barrier.wait(timeout=10)
            return periodic.run_due(now=T0, beat=False)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(runner, range(n)))
    assert len(runs) == 1, results
    assert sum(1 for r in results if name in r) == 1
