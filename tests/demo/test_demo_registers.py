"""The demo 街道's 基础台账: generated people in households of every worker's grid, encrypted and masked like
real ones, tags and 救助帮扶, 流动人口 over their life, a year of 入户走访 (the 重点人员 mostly in time); cheap and
idempotent."""

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


def test_the_demo_street_gets_generated_registers_and_visits():
    from civicgrid.accounts.models import User
    from civicgrid.core import clock
    from civicgrid.registers import crypto, metrics, selectors
    from civicgrid.registers.models import AssistanceItem, Household, Person, Visit

    result = build_demo(cases_options=SMALL)
    info, street = result.registers, result.street
    assert info["persons"] == Person.objects.filter(street=street).count() > 300
    assert info["households"] == Household.objects.filter(street=street).count()
    assert info["visits"] == Visit.objects.filter(street=street).count() > 50
    assert AssistanceItem.objects.filter(household__street=street).count() == info["assistance"] > 0
    assert 0.05 < info["tagged"] / info["persons"] < 0.25
    assert result.seconds["registers"] < 5
    # the monthly 保障金 of every 低保/特困/边缘 item, to last month; the leader's year total is the loader's
    pay = result.payments
    assert pay["payments"] >= pay["items"] > 0 and result.seconds["payments"] < 5
    year = clock.local_now().date().year
    leader_total = selectors.payment_totals(user=User.objects.get(username="lingdao"), year=year)["total"]
    assert leader_total == pay["this_year"] > 0
    p = Person.objects.filter(street=street).first()
    raw = crypto.decrypt(p.id_cipher)
    assert crypto.id_problem(raw) is None and p.id_masked == crypto.mask_id(raw)
    assert p.id_hash == crypto.search_hash(raw)
    # the leader's figures: most 重点人员 visited in time, some overdue; the recent registrations counted
    leader = User.objects.get(username="lingdao")
    today = clock.local_now().date()
    fig = metrics.figures(user=leader, start=today.replace(day=1), end=today)
    assert fig.key_persons > 10 and 60 < fig.key_on_time_rate < 100
    rows = selectors.key_person_status(persons=selectors.visible_persons(user=leader), as_of=today)
    assert any(r["overdue"] for r in rows)
    assert metrics.figures(user=leader, start=today - timedelta(days=40), end=today).collected > 0
    again = build_demo(cases_options=SMALL)
    assert again.registers is None and Person.objects.filter(street=street).count() == info["persons"]
