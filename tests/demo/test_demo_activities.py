"""The demo 街道's activity ledgers: a year of activities across the kinds, 8 预案 with one overdue, 60 volunteers
whose 时间银行 balances are never negative; fast, and the figures agree with what the loader reported."""

from __future__ import annotations

import random
import time
from datetime import timedelta

import pytest

from civicgrid.demo.builder import build_demo

pytestmark = pytest.mark.django_db(transaction=False)


def test_a_year_of_activity_ledgers_for_the_demo_street():
    from civicgrid.accounts.models import User
    from civicgrid.activities import selectors
    from civicgrid.core import clock
    from civicgrid.demo.activities import load_activities

    result = build_demo(with_cases=False)
    t0 = time.perf_counter()
    info = load_activities(result.street, random.Random("demo:activities"), staff=result.staff)
    seconds = time.perf_counter() - t0
    print(f"load_activities: {seconds:.2f} s, {info}")  # noqa: T201  (shown with -s: the measured time)
    assert seconds < 3, seconds
    assert 140 <= info["activities"] <= 160 and info["plans"] == 8 and info["plans_overdue"] == 1
    assert info["volunteers"] == 60 and info["timebank_entries"] >= 120
    leader = User.objects.get(username="lingdao")
    today = clock.local_now().date()
    f = selectors.report_figures(user=leader, start=today - timedelta(days=364), end=today)
    assert f["activities_total"]["count"] == info["activities"]
    assert f["activities_total"]["attendance"] == info["attendance"]
    assert all(k["count"] > 0 for k in f["activities"].values())
    assert (f["plans"], f["plans_overdue"]) == (8, 1)
    rows = selectors.volunteer_rows(user=leader, active=None)
    assert rows.count() == 60 and all(v.earned >= v.spent for v in rows)
    assert f["volunteer_hours"] > 100
    assert load_activities(result.street, random.Random(1), staff=result.staff) is None
