"""Real parallel transactions (PostgreSQL): optimistic versions, number allocation, idempotent create, job lock.

SQLite serialises writers (one IMMEDIATE transaction at a time), so truly parallel transactions are only
exercised on PostgreSQL; the sequential variants of the same rules run on both databases (test_services,
test_api, test_jobs).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from civicgrid.accounts.services import issue_token
from civicgrid.cases import services
from civicgrid.cases.models import Case
from civicgrid.core.errors import StaleVersion

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs real parallel transactions (PostgreSQL); SQLite runs the sequential variants",
    ),
]


def _parallel(n, fn):
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait(timeout=10)
            return fn(i)
        except Exception as exc:  # returned, asserted by the caller
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_two_dispatchers_same_version_one_wins(world):
    c = world.to_state("accepted")
    v = c.version
    actors = [(world.dispatcher, world.dept), (world.dispatcher2, world.dept2)]

    def go(i):
        actor, dept = actors[i]
        case = Case.objects.get(pk=c.pk)
        return services.perform(actor=actor, case=case, move="dispatch", version=v, department=dept)

    results = _parallel(2, go)
    wins = [r for r in results if isinstance(r, Case)]
    stale = [r for r in results if isinstance(r, StaleVersion)]
    assert len(wins) == 1 and len(stale) == 1, results
    c.refresh_from_db()
    assert c.version == v + 1 and c.department_id == wins[0].department_id
    assert c.events.filter(move="dispatch").count() == 1


def test_two_dispatchers_via_api(world, client):
    from django.test import Client

    c = world.to_state("accepted")
    keys = [issue_token(actor=None, user=u, name="t")[1] for u in (world.dispatcher, world.dispatcher2)]
    depts = [world.dept.pk, world.dept2.pk]

    def go(i):
        return Client().post(
            f"/api/v1/cases/{c.pk}/dispatch",
            {"version": c.version, "department": depts[i]},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {keys[i]}",
        )

    codes = sorted(r.status_code for r in _parallel(2, go))
    assert codes == [200, 409]
    bodies = [r.json() for r in _parallel(1, lambda i: go(0))]
    assert bodies[0]["code"] == "stale_version"


def test_case_numbers_unique_under_concurrency(world):
    cases = [world.report() for _ in range(12)]

    def go(i):
        case = Case.objects.get(pk=cases[i].pk)
        return services.perform(actor=world.dispatcher, case=case, move="accept", version=case.version).number

    numbers = _parallel(12, go)
    assert all(isinstance(n, str) for n in numbers), numbers
    assert len(set(numbers)) == 12
    seqs = sorted(int(n[-5:]) for n in numbers)
    assert seqs == list(range(1, 13))


def test_idempotent_create_concurrent_same_key(world):
    def go(i):
        return services.create_case(
            actor=world.dispatcher,
            source="hotline_12345",
            description=f"并发重试 {i}",
            category=world.category,
            grid=world.grid,
            idempotency_key="retry-42",
        ).pk

    pks = _parallel(6, go)
    assert all(isinstance(p, int) for p in pks), pks
    assert len(set(pks)) == 1
    assert Case.objects.filter(idempotency_key="retry-42").count() == 1


def test_many_dispatchers_filing_at_once_keep_the_audit_chain_whole(world):
    """Plain creates (one statement each on PostgreSQL) and creates that also 立案 (a transaction of several
    statements) interleave: every case has its timeline and its audit row, and the chain verifies."""
    from civicgrid.core import auditchain
    from civicgrid.core.models import AuditLog

    def go(i):
        return services.create_case(
            actor=world.dispatcher,
            source="hotline_12345",
            description=f"同时上报 {i}",
            category=world.category,
            grid=world.grid,
            auto_accept=i % 3 == 0,
            idempotency_key=f"burst-{i}",
        ).pk

    pks = _parallel(12, go)
    assert all(isinstance(p, int) for p in pks), pks
    assert len(set(pks)) == 12
    for case in Case.objects.filter(pk__in=pks):
        assert case.events.filter(move="create").count() == 1
    created = AuditLog.objects.filter(action="cases.case.create").values_list("object_id", flat=True)
    assert sorted(int(x) for x in created) == sorted(pks)
    assert auditchain.verify().ok


def test_idempotent_create_concurrent_via_api(world):
    from django.test import Client

    key = issue_token(actor=None, user=world.dispatcher, name="t")[1]

    def go(i):
        return Client().post(
            "/api/v1/cases",
            {"source": "resident", "description": "API 并发重试"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
            HTTP_IDEMPOTENCY_KEY="api-retry-7",
        )

    responses = _parallel(4, go)
    assert {r.status_code for r in responses} <= {200, 201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert Case.objects.filter(idempotency_key="api-retry-7").count() == 1


def test_two_job_runners_one_runs_one_skips(world, monkeypatch):
    from civicgrid.cases import jobs

    world.to_state("dispatched")
    inside = threading.Event()
    release = threading.Event()
    real_refresh = jobs.deadlines.refresh

    def slow_refresh(case, now):
        inside.set()
        release.wait(timeout=10)
        return real_refresh(case, now)

    monkeypatch.setattr(jobs.deadlines, "refresh", slow_refresh)
    results = {}

    def first():
        try:
            results["first"] = jobs.refresh_lights()
        finally:
            connections.close_all()

    t = threading.Thread(target=first)
    t.start()
    assert inside.wait(timeout=10)
    second = _parallel(1, lambda i: jobs.refresh_lights())[0]
    release.set()
    t.join(timeout=10)
    assert second["skipped"] is True and second["checked"] == 0
    assert results["first"]["skipped"] is False and results["first"]["checked"] == 1


def test_simultaneous_claims_exactly_one_wins(db):
    from civicgrid.cases.jobs import claim

    owners = _parallel(8, lambda i: claim("race", ttl_seconds=60, owner=f"runner-{i}"))
    assert len([o for o in owners if o]) == 1, owners


def test_a_case_filed_on_a_connection_the_database_dropped_is_written_on_a_new_one(world):
    """The first query of a request doubles as the connection health check: when the server dropped the
    connection (a restart, an idle timeout), the case is still filed, on a fresh connection."""
    import psycopg

    services.create_case(
        actor=world.dispatcher, source="hotline_12345", description="先上报一件", grid=world.grid
    )
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    connection.close_if_unusable_or_obsolete()  # what Django does when the next request starts
    assert connection.health_check_enabled and not connection.health_check_done
    url = connection.settings_dict
    with psycopg.connect(
        dbname=url["NAME"],
        user=url["USER"],
        host=url["HOST"],
        port=url["PORT"] or 5432,
        password=url["PASSWORD"],
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    case = services.create_case(
        actor=world.dispatcher, source="hotline_12345", description="连接断开后的一件", grid=world.grid
    )
    assert Case.objects.filter(pk=case.pk, description="连接断开后的一件").exists()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        assert cur.fetchone()[0] != pid
