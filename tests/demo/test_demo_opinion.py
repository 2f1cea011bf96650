"""The demo 街道's 舆情: a few dozen through the services and the case engine, most closed, figures non-trivial."""

from __future__ import annotations

import random
import time
from datetime import timedelta

import pytest

from civicgrid.demo import cases as demo_cases
from civicgrid.demo.builder import build_demo

pytestmark = [
    pytest.mark.django_db(transaction=False),
    pytest.mark.skipif(not demo_cases.engine_ready(), reason="case engine not present"),
]


def test_a_year_of_opinion_for_the_demo_street():
    from civicgrid.accounts.models import User
    from civicgrid.cases.models import Case
    from civicgrid.core import clock
    from civicgrid.demo.opinion import load_opinion
    from civicgrid.opinion import metrics

    result = build_demo(with_cases=False)
    t0 = time.perf_counter()
    info = load_opinion(result.street, random.Random("demo:opinion"), staff=result.staff)
    seconds = time.perf_counter() - t0
    print(f"load_opinion: {seconds:.2f} s, {info}")  # noqa: T201  (shown with -s: the measured time)
    assert seconds < 10, seconds
    cases = Case.objects.filter(street=result.street, procedure="opinion")
    assert cases.count() == info["collected"] >= 30 and info["open"] >= 1
    assert info["closed"] > info["collected"] / 2 and info["dismissed"] >= 1
    for c in cases.prefetch_related("events"):
        assert c.number and c.events.count() == c.version
    desk = User.objects.get(username="dispatcher")
    today = clock.local_now().date()
    f = metrics.figures(user=desk, start=today - timedelta(days=366), end=today)
    assert f.collected == info["collected"] and f.concluded == info["closed"] + info["dismissed"]
    assert load_opinion(result.street, random.Random(1), staff=result.staff) is None
