"""The demo 街道's 矛盾纠纷: a year of disputes (the older ones written set-based, the recent ones through the
engine), mostly 调解成功, some 警调衔接, readable on every page, figures non-trivial, idempotent."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from civicgrid.demo import cases as demo_cases
from civicgrid.demo.builder import build_demo

pytestmark = [
    pytest.mark.django_db(transaction=False),
    pytest.mark.skipif(not demo_cases.engine_ready(), reason="case engine not present"),
]

SMALL = {"days": 60, "live_days": 5, "scale": 0.3}


def test_the_demo_street_gets_a_year_of_disputes(client):
    from civicgrid.accounts.models import User
    from civicgrid.cases.models import Case
    from civicgrid.core import clock
    from civicgrid.disputes import metrics
    from civicgrid.disputes.models import DisputeDetail

    result = build_demo(cases_options=SMALL)
    info = result.disputes
    disputes = Case.objects.filter(street=result.street, procedure="dispute")
    assert disputes.count() == info["disputes"] == DisputeDetail.objects.count() >= 10
    assert info["police"] > 0 and info["success"] > 0
    states = Counter(disputes.values_list("state", flat=True))
    assert states["closed"] > 0 and len(states) >= 2
    # every dispute: a number, a timeline as long as its version, parties, and an outcome date when it ended
    for c in disputes.prefetch_related("events", "dispute_detail__parties"):
        d = c.dispute_detail
        assert c.number and c.events.count() == c.version and d.parties.count() >= 2
        assert (d.ended_on is not None) == bool(d.outcome)
        if c.state == "closed" and d.outcome == "success":
            assert d.followup_on >= d.ended_on >= d.received_on and d.fulfilment and d.agreement_no
    today = clock.local_now().date()
    f = metrics.figures(
        user=User.objects.get(username="dispatcher"), start=today - timedelta(days=90), end=today
    )
    assert f.total.received == info["disputes"] and f.total.success_rate >= 80
    # the pages read a set-based one and an engine one alike
    client.force_login(User.objects.get(username="dispatcher"))
    old, new = disputes.order_by("created_at").first(), disputes.order_by("-created_at").first()
    for c in (old, new):
        assert client.get(f"/disputes/{c.pk}/").status_code == 200
        assert client.get(f"/cases/{c.pk}/").status_code == 200
    assert client.get("/disputes/").status_code == 200
    again = build_demo(cases_options=SMALL)
    assert again.disputes is None and Case.objects.filter(procedure="dispute").count() == info["disputes"]
