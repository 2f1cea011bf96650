"""The job lease and the run_jobs command (sequential; the parallel variant is in test_concurrency)."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from civicgrid.cases import jobs
from civicgrid.core import clock, periodic
from civicgrid.core.models import JobLock

pytestmark = pytest.mark.django_db


def test_lease_claim_and_release():
    a = jobs.claim("x", ttl_seconds=60)
    assert a
    assert jobs.claim("x", ttl_seconds=60) is None  # held
    jobs.release("x", a)
    b = jobs.claim("x", ttl_seconds=60)
    assert b and b != a
    assert JobLock.objects.get(name="x").owner == b


def test_expired_lease_can_be_taken_over():
    jobs.claim("y", ttl_seconds=60)
    JobLock.objects.filter(name="y").update(locked_until=jobs.EPOCH + timedelta(days=1))  # crashed runner
    assert jobs.claim("y", ttl_seconds=60)


def test_refresh_skips_while_another_runner_holds_the_lease(world):
    world.to_state("dispatched")
    owner = jobs.claim("refresh_lights", ttl_seconds=60)
    assert jobs.refresh_lights()["skipped"] is True
    jobs.release("refresh_lights", owner)
    counts = jobs.refresh_lights()
    assert counts["skipped"] is False and counts["checked"] == 1
    assert JobLock.objects.get(name="refresh_lights").last_run_at is not None


def test_refresh_counts(world):
    start = clock.aware(datetime(2025, 3, 4, 9, 0))
    with clock.frozen(start):
        world.to_state("dispatched")
        world.to_state("dispatched")
        world.to_state("reported")
    counts = jobs.refresh_lights(now=start + timedelta(hours=8, minutes=30))
    assert counts == {"checked": 2, "changed": 2, "yellow": 2, "red": 0, "notified": 2, "skipped": False}
    counts = jobs.refresh_lights(now=start + timedelta(hours=8, minutes=40))
    assert counts["changed"] == 0 and counts["notified"] == 0


def test_run_jobs_once_command(world):
    world.to_state("dispatched")
    out = StringIO()
    call_command("run_jobs", "--once", stdout=out)
    assert '"refresh_lights"' in out.getvalue() and '"checked": 1' in out.getvalue()


def test_scheduler_not_started_in_tests(settings):
    assert settings.CIVICGRID["SCHEDULER_ENABLED"] is False
    assert periodic.maybe_start() is None
