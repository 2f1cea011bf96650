"""The demo 街道's 巡访打卡: points in the grids, a patrol on most working days per 网格员 with a track that mostly
stays inside the own grid, check-ins carrying the day's 网格员巡查 cases; cheap and idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.demo import cases as demo_cases
from civicgrid.demo.builder import build_demo

pytestmark = [
    pytest.mark.django_db(transaction=False),
    pytest.mark.skipif(not demo_cases.engine_ready(), reason="case engine not present"),
]

SMALL = {"days": 40, "live_days": 5, "scale": 0.3}


def test_the_demo_street_gets_a_year_of_patrols_check_ins_and_figures():
    from civicgrid.accounts.models import User
    from civicgrid.core import clock
    from civicgrid.gridwork import metrics
    from civicgrid.gridwork.models import Patrol, PatrolPoint, PointCheck, TrackPoint

    result = build_demo(cases_options=SMALL)
    info = result.gridwork
    street = result.street
    assert info["patrols"] == Patrol.objects.filter(street=street).count() > 100
    assert info["points"] == PatrolPoint.objects.filter(street=street).count() > 5
    assert info["track_points"] == TrackPoint.objects.filter(patrol__street=street).count()
    assert info["checks"] == PointCheck.objects.filter(street=street).count() > 50
    assert result.seconds["gridwork"] < 5
    # every stored fix's in-grid flag agrees with the grid it was located in
    for t in TrackPoint.objects.filter(patrol__street=street).select_related("patrol__worker")[:200]:
        own = set(t.patrol.worker.grids.values_list("pk", flat=True))
        assert t.inside == (t.grid_id in own or t.grid is not None and t.grid.parent_id in own)
    # the figures of the last 30 days for the leader: the 网格员 patrolled most working days, mostly inside
    # their grid, and most weekly points were visited as often as required
    leader = User.objects.get(username="lingdao")
    today = clock.local_now().date()
    start, end = today - timedelta(days=30), today - timedelta(days=1)
    period = metrics.Period(start.year, start.month, start, end)
    rows = [r for r in metrics.by_worker(user=leader, period=period) if r.patrols]
    # (each 网格员 turns up on a working day by a chance of their own; over one 30-day window a single person can
    # fall to about half, as on 2026-11-27: the whole team's figure is what the demo promises)
    assert rows and all(r.attendance is not None and r.attendance > 33 for r in rows)
    assert sum(r.attendance for r in rows) / len(rows) > 70
    assert sum(r.inside_s for r in rows) / sum(r.tracked_s for r in rows) > 0.8
    assert sum(r.covered for r in rows) > 0 and sum(r.reports for r in rows) > 0
    again = build_demo(cases_options=SMALL)
    assert again.gridwork is None and Patrol.objects.filter(street=street).count() == info["patrols"]
