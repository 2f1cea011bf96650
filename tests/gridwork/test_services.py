"""巡访打卡 services: a 网格员 starts a patrol, the phone uploads its queued fixes (each knows whether it lay in the
worker's own grids), stops it; checks in at points (有效 within the radius) and turns a finding into a case."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.cases.models import Case
from civicgrid.core import clock
from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.gridwork import services
from civicgrid.gridwork.models import Patrol, PointCheck, TrackPoint
from tests.gridwork.conftest import OUTSIDE, at, inside

pytestmark = pytest.mark.django_db


def test_each_fix_knows_whether_it_lies_in_the_workers_own_grid(pw):
    start = clock.now() - timedelta(hours=1)
    positions = [
        inside(0),  # own grid
        inside(0, 0.1, 0.1),  # the 专属网格 inside the own grid: own too
        inside(1),  # the neighbouring grid of the same community: not own
        inside(5),  # another community's grid
        OUTSIDE,  # no grid at all
    ]
    patrol = pw.walk(pw.grid_worker, start, positions, every_s=60)
    rows = list(TrackPoint.objects.filter(patrol=patrol).order_by("at").values_list("grid_id", "inside"))
    assert rows == [
        (pw.grid.pk, True),
        (pw.dedicated.pk, True),
        (pw.grid2.pk, False),
        (pw.other_grid.pk, False),
        (None, False),
    ]
    # 4 intervals of 60 s tracked; the first two start inside
    assert (patrol.tracked_s, patrol.inside_s, patrol.point_count) == (240, 120, 5)
    assert patrol.inside_rate == 50.0
    assert patrol.duration_s == 240 and patrol.ended_at == start + timedelta(minutes=4)
    # the other 网格员's own grid is grid 1
    assert services.locate_own(pw.worker2, [inside(0), inside(1)]) == [
        (pw.grid.pk, False),
        (pw.grid2.pk, True),
    ]


def test_summarise_counts_gaps_longer_than_the_limit_as_neither_tracked_nor_inside():
    t0 = at(2026, 3, 2, 9)
    m = lambda minutes: t0 + timedelta(minutes=minutes)  # noqa: E731
    pts = [
        (m(0), 120.0, 30.0, True),
        (m(5), 120.0, 30.001, True),  # 5 min inside, ~111 m
        (m(10), 120.0, 30.002, False),  # 5 min inside (counted by its start)
        (m(40), 120.0, 30.003, False),  # a 30 min gap: not counted
        (m(45), 120.0, 30.003, True),  # 5 min outside
    ]
    s = services.summarise(list(reversed(pts)), max_gap_s=600)  # order of arrival does not matter
    assert (s.tracked_s, s.inside_s, s.count) == (900, 600, 5)
    assert 220 <= s.distance_m <= 225  # two steps of 0.001° latitude ≈ 111.2 m


def test_a_retried_start_returns_the_same_patrol_and_a_forgotten_patrol_is_closed_at_its_last_fix(pw):
    t0 = clock.now() - timedelta(hours=3)
    forgotten = pw.walk(pw.grid_worker, t0, [inside(0)] * 4, stop=False)
    assert forgotten.ended_at is None
    again = services.start_patrol(actor=pw.grid_worker, client_id=forgotten.client_id)
    assert again.pk == forgotten.pk and again.replayed
    new = services.start_patrol(actor=pw.grid_worker, client_id="new-patrol-0001")
    assert not new.replayed
    forgotten.refresh_from_db()
    assert forgotten.auto_closed and forgotten.ended_at == t0 + timedelta(minutes=15)
    assert forgotten.duration_s == 900
    assert Patrol.objects.filter(worker=pw.grid_worker, ended_at__isnull=True).get() == new


def test_only_a_grid_worker_patrols_and_only_their_own_patrol(pw):
    with pytest.raises(PermissionDenied):
        services.start_patrol(actor=pw.community_staff, client_id="staff-patrol-1")
    patrol = services.start_patrol(actor=pw.grid_worker, client_id="own-patrol-001")
    fix = services.Fix(client_id="fix-00000001", at=clock.now(), lng=inside(1)[0], lat=inside(1)[1])
    with pytest.raises(NotFound):
        services.upload_points(actor=pw.worker2, patrol=patrol, fixes=[fix])
    with pytest.raises(ValidationFailed) as e:
        services.start_patrol(actor=pw.grid_worker, client_id="short")
    assert e.value.field == "client_id"


def test_bad_fixes_are_refused_by_field_and_nothing_of_the_batch_is_stored(pw):
    patrol = services.start_patrol(actor=pw.grid_worker, client_id="bad-batch-0001")
    now = clock.now()
    good = services.Fix(client_id="good-fix-0001", at=now, lng=inside(0)[0], lat=inside(0)[1])
    cases = [
        (services.Fix(client_id="bad-fix-00001", at=now, lng=200.0, lat=30.0), "points.1.lng"),
        (
            services.Fix(client_id="bad-fix-00002", at=now + timedelta(hours=1), lng=120.1, lat=30.2),
            "points.1.t",
        ),
        (
            services.Fix(client_id="bad-fix-00003", at=now - timedelta(days=8), lng=120.1, lat=30.2),
            "points.1.t",
        ),
        (services.Fix(client_id="x", at=now, lng=120.1, lat=30.2), "points.1.id"),
    ]
    for bad, field in cases:
        with pytest.raises(ValidationFailed) as e:
            services.upload_points(actor=pw.grid_worker, patrol=patrol, fixes=[good, bad])
        assert e.value.field == field
    assert not TrackPoint.objects.exists()
    services.stop_patrol(actor=pw.grid_worker, patrol=patrol)
    late = services.Fix(client_id="late-fix-0001", at=clock.now() + timedelta(minutes=3), lng=120.1, lat=30.2)
    patrol.refresh_from_db()
    with pytest.raises(ValidationFailed) as e:
        services.upload_points(actor=pw.grid_worker, patrol=patrol, fixes=[late])
    assert e.value.code == "gridwork_patrol_closed"


def test_a_check_in_is_valid_within_the_points_radius_and_knows_the_own_grid(pw):
    near = services.check_in(
        actor=pw.grid_worker,
        point=pw.river,
        client_id="check-near-001",
        lng=pw.river.lng + 0.0005,
        lat=pw.river.lat,
        score=90,
    )
    assert (
        near.valid and near.inside and 40 <= near.distance_m <= 60 and near.score == 90 and near.case is None
    )
    far = services.check_in(
        actor=pw.grid_worker,
        point=pw.river,
        client_id="check-far-0001",
        lng=inside(1)[0],
        lat=inside(1)[1],
    )
    assert not far.valid and not far.inside and far.distance_m > 150
    blind = services.check_in(
        actor=pw.grid_worker, point=pw.river, client_id="check-blind-01", lng=None, lat=None
    )
    assert not blind.valid and blind.distance_m is None
    # a point of another grid is not the worker's
    with pytest.raises(NotFound):
        services.check_in(
            actor=pw.grid_worker, point=pw.far_point, client_id="check-other-01", lng=None, lat=None
        )
    with pytest.raises(ValidationFailed) as e:
        services.check_in(
            actor=pw.grid_worker, point=pw.river, client_id="check-score-01", lng=None, lat=None, score=101
        )
    assert e.value.field == "score"


def test_a_finding_becomes_a_grid_patrol_case_in_the_same_check_in_once(pw):
    patrol = services.start_patrol(actor=pw.grid_worker, client_id="report-patrol-1")
    kw = dict(
        actor=pw.grid_worker,
        point=pw.market,
        client_id="check-report-01",
        lng=pw.market.lng,
        lat=pw.market.lat,
        patrol=patrol,
        score=60,
        findings="市场门口占道经营，堆放杂物",
        report=True,
        category=pw.minor,
    )
    c = services.check_in(**kw)
    case = c.case
    assert case.source == "grid_patrol" and case.created_by == pw.grid_worker and case.grid == pw.grid
    assert "示范农贸市场" in case.description and "占道经营" in case.description
    assert case.state == "accepted"  # the category lets a grid worker 立案 on the spot
    again = services.check_in(**kw)
    assert again.pk == c.pk and again.replayed
    assert Case.objects.filter(source="grid_patrol").count() == 1 and PointCheck.objects.count() == 1
    patrol.refresh_from_db()
    assert patrol.check_count == 1
    # reporting needs a description; nothing is written when refused
    with pytest.raises(ValidationFailed) as e:
        services.check_in(**{**kw, "client_id": "check-report-02", "findings": "  "})
    assert e.value.field == "findings"
    assert PointCheck.objects.count() == 1 and Case.objects.count() == 1
