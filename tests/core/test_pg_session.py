"""The app's PostgreSQL sessions run without parallel workers and JIT (docs/deploy.md, CIVICGRID_PG_OPTIONS): the
dashboards' short queries paid more to start them than they saved; the set-based rollup rebuild turns them back on
for its own transaction."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL session setting"),
]


def setting(name: str) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SHOW {name}")
        return cur.fetchone()[0]


def test_the_apps_sessions_run_short_queries_serially_without_jit():
    assert setting("jit") == "off"
    assert setting("max_parallel_workers_per_gather") == "0"


def test_the_rollup_rebuild_turns_them_on_for_its_own_transaction_only(monkeypatch):
    from civicgrid.metrics import services, sqlrollup

    seen = {}
    real = sqlrollup._responded

    def spy(cursor, max_case):
        seen.update(jit=setting("jit"), workers=setting("max_parallel_workers_per_gather"))
        return real(cursor, max_case)

    monkeypatch.setattr(sqlrollup, "_responded", spy)
    services.rebuild(method="sql")
    assert seen == {"jit": "on", "workers": "2"}  # (SET LOCAL: until the rebuild's transaction ends)
