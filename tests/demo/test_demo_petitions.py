"""The demo 街道's 信访: made through the services and the engine, in several states, no 进京, idempotent."""

from __future__ import annotations

import pytest

from civicgrid.demo import cases as demo_cases
from civicgrid.demo.builder import build_demo

pytestmark = [
    pytest.mark.django_db(transaction=False),
    pytest.mark.skipif(not demo_cases.engine_ready(), reason="case engine not present"),
]

SMALL = {"days": 120, "live_days": 5, "scale": 0.3}


def test_the_demo_street_gets_a_petition_year():
    from civicgrid.cases.models import Case
    from civicgrid.petitions.models import PetitionDetail, Reception

    result = build_demo(cases_options=SMALL)
    info = result.petitions
    petitions = Case.objects.filter(street=result.street, procedure="petition")
    assert petitions.count() == info["petitions"] == PetitionDetail.objects.count() >= 10
    assert petitions.filter(state="closed").count() == info["closed"] > 0
    assert not PetitionDetail.objects.filter(leap_level="beijing").exists()  # 零进京
    assert Reception.objects.filter(street=result.street).count() == info["receptions"] > 0
    for c in petitions.prefetch_related("events")[:20]:
        assert c.number and c.events.count() == c.version and c.petition_detail.registered_at
    again = build_demo(cases_options=SMALL)
    assert again.petitions is None and PetitionDetail.objects.count() == info["petitions"]
