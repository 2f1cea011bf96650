"""矛盾纠纷 figures on hand-built disputes with known answers: 受理 counted by 受理日期, outcomes by 调解终结日期,
调解成功率 = 成功 / (成功 + 不成功 + 终止), by source and by 调解组织, 警调衔接; empty periods give zeros and “—”."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from civicgrid.core import clock
from civicgrid.disputes import metrics

pytestmark = pytest.mark.django_db


def at(d: date, hour: int = 10) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=clock.SHANGHAI)


def dispute(dw, received: date, source: str, org, outcome: str = "", ended: date | None = None):
    extra = {"police_station": "示范派出所", "police_ref": f"JQ{received:%m%d}"} if source == "police" else {}
    if source == "court":
        extra = {"court_name": "示范区人民法院"}
    with clock.frozen(at(received)):
        case = dw.register(source=source, org=org, received_on=received, **extra)
        case = dw.move(case, "admit", amount=30, unit="natural_days")
    if not outcome:
        return case
    with clock.frozen(at(ended, 15)):
        if outcome != "terminate":
            dw.session(case, held_on=ended)
        kw = {
            "settle": {"detail": {"agreement_terms": "赔偿 1000 元"}},
            "settle_fail": {"reason": "差距过大"},
            "terminate": {"reason": "起诉"},
        }[outcome]
        return dw.move(case, outcome, **kw)


@pytest.fixture
def march(dw):
    """A: received in February, settled in March; B–F received in March (F settled in April)."""
    dispute(dw, date(2026, 2, 20), "application", dw.studio, "settle", date(2026, 3, 5))  # A
    dispute(dw, date(2026, 3, 2), "screening", dw.studio, "settle", date(2026, 3, 10))  # B
    dispute(dw, date(2026, 3, 3), "police", dw.street_org, "settle_fail", date(2026, 3, 20))  # C
    dispute(dw, date(2026, 3, 15), "court", dw.street_org, "terminate", date(2026, 3, 16))  # D
    dispute(dw, date(2026, 3, 25), "application", dw.community_org)  # E, still 调解中
    dispute(dw, date(2026, 3, 28), "police", dw.studio, "settle", date(2026, 4, 2))  # F
    return dw


def test_march_intake_by_intake_date_and_outcomes_by_closing_date(march):
    f = metrics.figures(user=march.dispatcher, start=date(2026, 3, 1), end=date(2026, 3, 31))
    t = f.total
    assert (t.received, t.success, t.failed, t.terminated, t.ended) == (5, 2, 1, 1, 4)
    assert t.success_rate == 50.0
    assert (f.police_received, f.police_success, f.police_ended, f.police_success_rate) == (2, 0, 1, 0.0)
    src = {r.key: (r.received, r.success, r.failed, r.terminated, r.success_rate) for r in f.by_source}
    assert src == {
        "screening": (1, 1, 0, 0, 100.0),
        "application": (1, 1, 0, 0, 100.0),
        "police": (2, 0, 1, 0, 0.0),
        "case": (0, 0, 0, 0, None),
        "court": (1, 0, 0, 1, 0.0),
    }
    org = {r.label: (r.received, r.success, r.ended, r.success_rate) for r in f.by_org}
    assert org == {
        "老娘舅工作室": (2, 2, 2, 100.0),
        "示范街道人民调解委员会": (2, 0, 2, 0.0),
        "示范社区人民调解委员会": (1, 0, 0, None),
    }
    assert [r.label for r in f.by_org][-1] == "示范社区人民调解委员会"  # most received first
    assert {r.label: r.received for r in f.by_type} == {"邻里": 5}


def test_april_has_no_intake_but_one_success(march):
    f = metrics.figures(user=march.dispatcher, start=date(2026, 4, 1), end=date(2026, 4, 30))
    assert (f.total.received, f.total.success, f.total.ended, f.total.success_rate) == (0, 1, 1, 100.0)
    assert (f.police_received, f.police_success, f.police_success_rate) == (0, 1, 100.0)


def test_the_whole_year_and_an_empty_period(march):
    year = metrics.figures(user=march.dispatcher, start=date(2026, 1, 1), end=date(2026, 12, 31))
    assert (year.total.received, year.total.success, year.total.ended) == (6, 3, 5)
    assert year.total.success_rate == 60.0
    empty = metrics.figures(user=march.dispatcher, start=date(2025, 1, 1), end=date(2025, 12, 31))
    d = empty.as_dict()
    assert (d["received"], d["success"], d["ended"], d["success_rate"], d["police_success_rate"]) == (
        0,
        0,
        0,
        None,
        None,
    )
    assert all(r["received"] == 0 and r["success_rate"] is None for r in d["by_source"])
    assert d["by_org"] == [] and d["by_type"] == []


def test_the_figures_count_only_what_the_user_sees(march):
    # another community's 社区工作人员 sees none of these disputes; the 网格员 of the grid sees them all
    assert (
        metrics.figures(user=march.other_staff, start=date(2026, 3, 1), end=date(2026, 3, 31)).total.received
        == 0
    )
    assert (
        metrics.figures(user=march.grid_worker, start=date(2026, 3, 1), end=date(2026, 3, 31)).total.received
        == 5
    )
    assert (
        metrics.figures(user=march.handler, start=date(2026, 3, 1), end=date(2026, 3, 31)).total.received == 0
    )
