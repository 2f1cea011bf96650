"""The 综合执法 figures on hand-built cases with known answers: 受理 by 受理时间 (一般程序 立案 / 简易程序 当场处罚),
罚款总额 by 决定时间, 拆除面积/处数 by 执行完毕时间, 结案 by 结案时间; empty periods give zeros."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from civicgrid.core import clock
from civicgrid.enforcement import metrics

pytestmark = pytest.mark.django_db


def at(y, m, d, h=10):
    return datetime(y, m, d, h, tzinfo=clock.SHANGHAI)


@pytest.fixture
def ledger(ew):
    """March: two 一般程序 (one 拆违 12.5 ㎡/1 处 + 30 ㎡/2 处 decided in March), three 简易程序 (100 + 200 + 50 元),
    one 不予立案; one 一般程序 立案 on 31 March at 23:00 but decided on 2 April; a 简易程序 on 1 April 00:30."""
    with clock.frozen(at(2026, 4, 20)):
        ew.general_case(at=at(2026, 3, 2), fine="5000", area="12.5", sites=1)
        ew.general_case(at=at(2026, 3, 10), fine="20000.50", area="30", sites=2, type_code="muck")
        ew.simple_case(at=at(2026, 3, 5), fine="100")
        ew.simple_case(at=at(2026, 3, 6), fine="200")
        ew.simple_case(at=at(2026, 3, 7), fine="50", type_code="piling")
        with clock.frozen(at(2026, 3, 8)):
            c = ew.register()
            ew.act(c, "not_file", reason="证据不足")
        # 立案 at 31 March 23:00 (registered 21:00), decided 2 April, executed 3 April, not closed
        with clock.frozen(at(2026, 3, 31, 21)):
            late = ew.register(type_code="illegal_building")
        with clock.frozen(at(2026, 3, 31, 23)):
            late = ew.act(late, "file_case", detail={"violation_type": ew.types["illegal_building"].pk})
        with clock.frozen(at(2026, 4, 1, 9)):
            late = ew.act(late, "notify_rights", note="告知")
        with clock.frozen(at(2026, 4, 2, 9)):
            late = ew.act(late, "decide", detail={"legal_basis": "x", "penalty": "拆除", "decision_no": "D9",
                                                  "rights_response": "none", "fine_amount": "1000"})  # fmt: skip
        with clock.frozen(at(2026, 4, 3, 9)):
            ew.act(late, "execute", note="已拆除", detail={"demolished_area": "8", "demolished_sites": 1})
        ew.simple_case(at=at(2026, 4, 1, 0) + timedelta(minutes=0), fine="20")
    return ew


def test_a_month_of_enforcement_figures(ledger):
    f = metrics.figures(user=ledger.dispatcher, start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert (f.accepted, f.general, f.simple) == (6, 3, 3)  # the 31 March 立案 counts in March
    assert f.fines == Decimal("25350.50")  # 5000 + 20000.50 + 100 + 200 + 50 (the April decision is April's)
    assert f.demolished_area == Decimal("42.50") and f.demolished_sites == 3
    assert f.concluded == 5 and f.not_filed == 1 and f.transferred == f.withdrawn == 0
    by_type = {r["type"]: r["count"] for r in f.by_type}
    assert by_type == {"违法建设": 2, "占道经营": 2, "渣土（建筑垃圾）违规处置": 1, "乱堆乱放": 1}


def test_the_next_month_gets_what_was_decided_and_executed_in_it(ledger):
    f = metrics.figures(user=ledger.dispatcher, start=date(2026, 4, 1), end=date(2026, 4, 30))
    # the 1 April 00:30 简易程序 is accepted in April (whole Asia/Shanghai days)
    assert (f.accepted, f.general, f.simple) == (1, 0, 1)
    assert f.fines == Decimal("1020.00") and f.demolished_area == Decimal("8.00") and f.demolished_sites == 1
    assert f.concluded == 1


def test_an_empty_period_is_all_zero(ledger):
    f = metrics.figures(user=ledger.dispatcher, start=date(2025, 1, 1), end=date(2025, 12, 31))
    assert (f.accepted, f.general, f.simple, f.concluded, f.demolished_sites) == (0, 0, 0, 0, 0)
    assert f.fines == Decimal("0.00") == f.demolished_area and f.by_type == []


def test_a_grid_worker_and_another_department_count_nothing(ledger):
    for user in (ledger.grid_worker, ledger.handler2):
        f = metrics.figures(user=user, start=date(2026, 3, 1), end=date(2026, 3, 31))
        assert f.accepted == 0 and f.fines == 0
    f = metrics.figures(user=ledger.handler, start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert f.accepted == 6
