from __future__ import annotations

import pytest

from civicgrid.metrics import services as metrics_services
from tests.metrics.conftest import Story


class June(Story):
    """June 2026 in the 示范街道 (Mondays 1, 8, 15): the 网格员's reports and checks, two 派遣员.

    - a: 网格员 report 06-01, 立案 09:00, 派遣 09:10 by dispatcher (on time), 处置完成 12:00, 核查 14:00 (on time);
    - b: 网格员 report 06-02, 不予受理 (not 有效);
    - c: 网格员 report 06-03, still 上报 (no decision yet: not counted);
    - d: 网格员 report 06-04, 作废 (not counted);
    - e: 网格员 report 06-08, 立案 09:00, 派遣 06-10 09:00 by dispatcher2 (late), 改派 10:00 by dispatcher2 to
      市场监管所 (the 派遣 is undone), 处置完成 12:00, 核查 06-17 10:00 (late: 1 工作日 limit).
    """

    def build(self):
        gw = self.grid_worker
        a = self.report_at((2026, 6, 1, 8, 0), actor=gw, source="grid_patrol")
        a = self.handled(a, (2026, 6, 1))
        a = self.move_at(a, (2026, 6, 1, 14, 0), "verify_pass", actor=gw)
        a = self.move_at(a, (2026, 6, 1, 15, 0), "close")
        self.move_at(a, (2026, 6, 1, 16, 0), "rate", rating="satisfied")
        b = self.report_at((2026, 6, 2, 8, 0), actor=gw, source="grid_patrol")
        self.move_at(b, (2026, 6, 2, 9, 0), "reject")
        self.report_at((2026, 6, 3, 8, 0), actor=gw, source="grid_patrol")
        d = self.report_at((2026, 6, 4, 8, 0), actor=gw, source="grid_patrol")
        self.move_at(d, (2026, 6, 4, 9, 0), "void", actor=self.shift_leader, reason="重复登记")
        e = self.report_at((2026, 6, 8, 8, 0), actor=gw, source="grid_patrol")
        e = self.move_at(e, (2026, 6, 8, 9, 0), "accept")
        e = self.move_at(e, (2026, 6, 10, 9, 0), "dispatch", actor=self.dispatcher2)
        e = self.move_at(e, (2026, 6, 10, 10, 0), "reassign", actor=self.dispatcher2, department=self.dept2)
        e = self.move_at(e, (2026, 6, 10, 10, 30), "sign", actor=self.handler2)
        e = self.move_at(e, (2026, 6, 10, 12, 0), "finish", actor=self.handler2)
        self.move_at(e, (2026, 6, 17, 10, 0), "verify_pass", actor=gw)
        metrics_services.refresh()
        return self


@pytest.fixture
def june(db):
    return June().build()
