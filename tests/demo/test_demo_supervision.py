"""The demo 街道's 督办 and 预警: every 督办 move on the demo timelines is tracked, monthly department lists, the
warning rules backfilled over the period; quick, and a second run adds nothing."""

from __future__ import annotations

import random
import time

import pytest

from civicgrid.demo import cases as demo_cases
from civicgrid.demo.builder import build_demo

pytestmark = [
    pytest.mark.django_db(transaction=False),
    pytest.mark.skipif(not demo_cases.engine_ready(), reason="case engine not present"),
]


def test_supervision_and_warnings_for_the_demo_street():
    from civicgrid.cases.models import CaseEvent
    from civicgrid.demo.supervision import load_supervision
    from civicgrid.supervision.models import EarlyWarning, Supervision

    result = build_demo(with_cases=False)
    demo_cases.load_cases(
        result.street, random.Random("demo:cases"), staff=result.staff, days=60, live_days=5, scale=0.5
    )
    t0 = time.perf_counter()
    info = load_supervision(result.street, random.Random("demo:supervision"), staff=result.staff, days=60)
    seconds = time.perf_counter() - t0
    print(f"load_supervision: {seconds:.2f} s, {info}")  # noqa: T201  (shown with -s: the measured time)
    assert seconds < 5, seconds
    moves = CaseEvent.objects.filter(case__street=result.street, move="supervise").count()
    assert info["case"] == moves == Supervision.objects.filter(kind="case").count() > 0
    assert all(s.items.count() == 1 for s in Supervision.objects.filter(kind="case"))
    cleared = Supervision.objects.filter(state="cleared")
    assert all(s.cleared_at and s.cleared_at >= s.created_at for s in cleared)
    assert info["warnings"] == EarlyWarning.objects.filter(street=result.street).count() > 0
    assert EarlyWarning.objects.filter(state="resolved").exclude(handle_note="").exists()
    assert load_supervision(result.street, random.Random(1), staff=result.staff) is None
