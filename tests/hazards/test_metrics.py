"""安全隐患 figures on hand-built data with known answers (period rule: 发现 by discovery date, 销号 by closing date).

June 2026: three inspections (one on 05-31 — May), four hazards found in June (one 重大), one found in May and
销号 in June, one found in June and 作废; in June two are 销号 (one fixed within its 整改期限, one after it)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from civicgrid.core import clock
from civicgrid.hazards import metrics, services
from civicgrid.hazards.services import Finding
from tests.hazards.test_services import move

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return clock.aware(datetime(*args))


def found(hw, when, level="general"):
    with clock.frozen(when):
        target = services.resolve_target(actor=hw.grid_worker, kind="unit", unit_id=hw.shop.pk)
        i = services.record_inspection(
            actor=hw.grid_worker,
            target=target,
            checklist=hw.checklist,
            findings=[Finding(passed=False, item=hw.items[0], hazard=True, level=level, note="灭火器过期")],
            inspected_at=when,
        )
    return i.new_hazards[0]


def closed(hw, case, assign_at, fixed_at, close_at, days=5):
    with clock.frozen(assign_at):
        case = move(case, "assign_fix", hw.dispatcher, department=hw.dept, amount=days, unit="natural_days")
    with clock.frozen(fixed_at):
        case = move(case, "report_fixed", hw.handler, note="好了", detail={"measures": "更换"})
        case = move(case, "review_pass", hw.grid_worker)
    with clock.frozen(close_at):
        return move(case, "sign_off", hw.dispatcher)


@pytest.fixture
def june(hw):
    may = found(hw, at(2026, 5, 31, 23, 30))  # found in May (Shanghai time), closed in June
    closed(hw, may, at(2026, 6, 1, 9), at(2026, 6, 3, 9), at(2026, 6, 4, 9))  # on time
    a = found(hw, at(2026, 6, 1, 0, 10))
    closed(hw, a, at(2026, 6, 1, 9), at(2026, 6, 20, 9), at(2026, 6, 30, 23, 0))  # late (limit ~06-06)
    found(hw, at(2026, 6, 10, 10), level="major")  # open
    b = found(hw, at(2026, 6, 15, 10))
    with clock.frozen(at(2026, 6, 16, 9)):
        move(b, "void", hw.dispatcher, reason="重复录入")
    c = found(hw, at(2026, 6, 20, 10))  # found in June, closed in July: not a June 销号
    closed(hw, c, at(2026, 6, 21, 9), at(2026, 6, 22, 9), at(2026, 7, 1, 9))
    return hw


def test_june_figures(june):
    with clock.frozen(at(2026, 7, 15, 12)):
        f = metrics.figures(user=june.dispatcher, start=date(2026, 6, 1), end=date(2026, 6, 30))
    assert f.inspections == 4  # 06-01, 06-10, 06-15, 06-20 (the 05-31 one is May's)
    assert f.found == 3  # a, the 重大 one, c (b is 作废)
    assert f.major == 1 and f.by_level == {"general": 2, "serious": 0, "major": 1}
    assert f.closed == 2  # the May one and a, both 销号 in June
    assert f.closed_on_time == 1
    # 整改率 is one cohort: of a, the 重大 one and c (found in June) only a was 销号 by the end of June
    assert f.found_closed == 1
    assert f.fix_rate == round(100 * 1 / 3, 1) and f.on_time_rate == 50.0
    # open at the end of June (06-30 24:00): the 重大 one (20 days) and c (10 days)
    assert {r["label"]: r["count"] for r in f.open_by_age} == {
        "7天以内": 0,
        "8–30天": 2,
        "31–90天": 0,
        "90天以上": 0,
    }


def test_an_empty_period_has_zeros_and_no_rates(june):
    f = metrics.figures(user=june.dispatcher, start=date(2025, 1, 1), end=date(2025, 1, 31))
    assert (f.inspections, f.found, f.closed, f.major) == (0, 0, 0, 0)
    assert f.fix_rate is None and f.on_time_rate is None
    assert sum(r["count"] for r in f.open_by_age) == 0


def test_another_streets_desk_counts_nothing(june):
    from tests.factories import StreetFactory, UserFactory

    other = UserFactory(role="dispatcher", street=StreetFactory(code="330106099", name="别的街道"))
    f = metrics.figures(user=other, start=date(2026, 6, 1), end=date(2026, 6, 30))
    assert (f.inspections, f.found, f.closed) == (0, 0, 0)
