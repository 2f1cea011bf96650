"""The demo 街道's 安全隐患: inspections and hazards made through the services, in several states, idempotent."""

from __future__ import annotations

from collections import Counter

import pytest

from civicgrid.demo import cases as demo_cases
from civicgrid.demo.builder import build_demo

pytestmark = [
    pytest.mark.django_db(transaction=False),
    pytest.mark.skipif(not demo_cases.engine_ready(), reason="case engine not present"),
]

SMALL = {"days": 40, "live_days": 5, "scale": 0.3}


def test_the_demo_street_gets_inspections_and_hazards_in_several_states():
    from civicgrid.cases.models import Case
    from civicgrid.hazards.models import HazardDetail, Inspection

    result = build_demo(cases_options=SMALL)
    info = result.hazards
    assert info["inspections"] == Inspection.objects.filter(street=result.street).count() > 10
    hazards = Case.objects.filter(street=result.street, procedure="hazard")
    assert hazards.count() == info["hazards"] == HazardDetail.objects.count() > 0
    states = Counter(hazards.values_list("state", flat=True))
    assert states["closed"] == info["closed"] and len(states) >= 2
    # every hazard went through the engine: a numbered case with its timeline, its detail and its inspection
    for c in hazards.prefetch_related("events"):
        assert c.number and c.events.count() == c.version
        assert c.hazard_detail.inspection.street_id == result.street.pk
    again = build_demo(cases_options=SMALL)
    assert again.hazards is None and Case.objects.filter(procedure="hazard").count() == info["hazards"]
