"""Excel export of the 隐患台账: one row per hazard, Chinese headers, a totals row (through the safe writer)."""

from __future__ import annotations

import tempfile

from civicgrid.cases.models import DeadlineUnit
from civicgrid.core import clock
from civicgrid.core import workcalendar as wc
from civicgrid.core.xlsx import SheetWriter

MAX_ROWS = 50_000


def _local(dt):
    return clock.to_local(dt).replace(tzinfo=None) if dt else None


def _deadline(d) -> str:
    """整改期限 as the UI shows it: a 自然日 limit ends at 00:00 of the next day, written as the last day 24:00
    (``2026年10月8日 24:00``), never as the next day's 00:00."""
    due = d.rectify_due_at or (d.case.due_at if d.case.stage in ("rectify", "rework") else None)
    return wc.format_due(due, DeadlineUnit.NATURAL_DAYS) if due else ""


COLUMNS = [
    ("隐患编号", 18, lambda d: d.case.number),
    ("发现时间", 17, lambda d: _local(d.case.created_at)),
    ("隐患类别", 12, lambda d: d.category.name if d.category_id else ""),
    ("隐患等级", 8, lambda d: d.get_level_display()),
    ("隐患单位/部位", 24, lambda d: d.target_name),
    ("社区", 12, lambda d: d.case.community.name if d.case.community_id else ""),
    ("网格", 14, lambda d: d.case.grid.name if d.case.grid_id else ""),
    ("地址", 26, lambda d: d.case.address),
    ("隐患描述", 40, lambda d: d.case.description),
    ("状态", 10, lambda d: d.case.get_state_display()),
    ("交办部门", 14, lambda d: d.case.department.name if d.case.department_id else ""),
    ("整改责任单位", 18, lambda d: d.responsible_unit),
    ("整改责任人", 10, lambda d: d.responsible_person),
    ("整改期限", 19, _deadline),
    ("整改措施", 30, lambda d: d.measures),
    ("整改完成时间", 17, lambda d: _local(d.fixed_at)),
    ("是否按期", 8, lambda d: {True: "是", False: "否", None: ""}[d.fixed_on_time]),
    ("销号时间", 17, lambda d: _local(d.case.closed_at) if d.case.state == "closed" else None),
    ("挂牌督办", 8, lambda d: "是" if d.supervised else ""),
]


def write_ledger_xlsx(rows) -> tuple:
    """``rows``: HazardDetail rows (scoped by the caller). Returns (file handle, file name)."""
    sheet = SheetWriter("隐患台账", [(h, w) for h, w, _ in COLUMNS])
    n = closed = major = supervised = 0
    for d in rows[:MAX_ROWS]:
        sheet.append([fn(d) for _, _, fn in COLUMNS])
        n += 1
        closed += d.case.state == "closed"
        major += d.level == "major"
        supervised += d.supervised
    totals = [f"合计 {n} 处"] + [""] * (len(COLUMNS) - 1)
    totals[3] = f"重大 {major}"
    totals[9] = f"已销号 {closed}"
    totals[18] = f"{supervised}"
    sheet.append(totals)
    fh = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (the response closes it)
    sheet.save(fh)
    fh.seek(0)
    return fh, f"隐患台账_{clock.local_now():%Y%m%d_%H%M}.xlsx"
