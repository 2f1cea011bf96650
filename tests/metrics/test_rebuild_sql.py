"""The set-based rebuild (PostgreSQL, civicgrid.metrics.sqlrollup) writes exactly what the per-case path writes,
and the incremental job keeps both rollup levels equal to a rebuild (docs/metrics.md §汇总表).

Random histories as in test_rollup_property (cases through random prefixes of real paths around a month's end,
late and early 签收 against a 工作时 limit, 延期, 作废, 合并); then the facts, the daily rollup and the coarse rollup
after the job, after a per-case rebuild and after a set-based rebuild are compared row for row.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings

from civicgrid.metrics import selectors, services
from civicgrid.metrics.models import COUNTERS, CaseFact, DailyRollup, RollupCube
from tests.metrics.test_rollup_property import drive, history

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the set-based rebuild is PostgreSQL's"),
]


def snapshot() -> dict:
    return {
        "facts": {
            f.case_id: (f.street_id, f.grid_id, f.source, f.procedure, f.days) for f in CaseFact.objects.all()
        },
        "rollup": sorted(
            DailyRollup.objects.values_list("day", "street_id", "grid_id", "category_id", *COUNTERS)
        ),
        "cube": sorted(
            RollupCube.objects.values_list("kind", "level", "day", "street_id", "procedure", "key", *COUNTERS)
        ),
    }


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=history)
def test_the_set_based_rebuild_writes_what_the_per_case_path_writes(story, cases):
    for spec in cases:
        drive(story, spec)
    services.refresh()
    incremental = snapshot()
    out = services.rebuild(method="python")
    per_case = snapshot()
    assert services.rebuild(method="sql")["rollup_rows"] == out["rollup_rows"]
    set_based = snapshot()
    assert set_based == per_case
    assert incremental == per_case  # the job's deltas kept both levels where a rebuild puts them
    assert per_case["rollup"]  # the histories always report at least one case


def test_months_and_days_split_a_period():
    split = selectors.month_split
    assert split(date(2026, 1, 1), date(2026, 11, 26)) == (
        [(date(2026, 11, 1), date(2026, 11, 26))],
        (date(2026, 1, 1), date(2026, 10, 1)),
    )
    assert split(date(2026, 11, 1), date(2026, 11, 26)) == ([(date(2026, 11, 1), date(2026, 11, 26))], None)
    assert split(date(2025, 12, 17), date(2026, 2, 28)) == (
        [(date(2025, 12, 17), date(2025, 12, 31))],
        (date(2026, 1, 1), date(2026, 2, 1)),
    )
    assert split(date(2026, 6, 15), date(2026, 7, 10)) == ([(date(2026, 6, 15), date(2026, 7, 10))], None)
    assert split(date(2026, 12, 1), date(2026, 12, 31)) == ([], (date(2026, 12, 1), date(2026, 12, 1)))
