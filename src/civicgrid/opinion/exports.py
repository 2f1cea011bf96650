"""Excel export of the 舆情台账 in the layout of a 上级 report sheet: one row per 舆情, Chinese headers, a totals
row (收集数, 办结数, 办结率, by level)."""

from __future__ import annotations

import tempfile

from civicgrid.core import clock
from civicgrid.core.xlsx import SheetWriter

MAX_ROWS = 50_000


def _local(dt):
    return clock.to_local(dt).replace(tzinfo=None) if dt else None


COLUMNS = [
    ("序号", 6, None),
    ("编号", 18, lambda d: d.case.number),
    ("原台账编号", 14, lambda d: d.external_ref),
    ("舆情标题/内容", 40, lambda d: d.case.description),
    ("来源平台", 14, lambda d: d.get_platform_display()),
    ("媒体/账号", 18, lambda d: d.media_name),
    ("链接", 30, lambda d: d.url),
    ("发布时间", 17, lambda d: _local(d.published_at)),
    ("收集时间", 17, lambda d: _local(d.collected_at)),
    ("研判等级", 8, lambda d: d.get_level_display()),
    ("研判意见", 24, lambda d: d.assessment),
    ("责任部门", 14, lambda d: d.case.department.name if d.case.department_id else ""),
    ("处置措施", 30, lambda d: d.actions),
    ("回应内容", 30, lambda d: d.response_text),
    ("回应渠道", 14, lambda d: d.response_channel),
    ("回应时间", 17, lambda d: _local(d.responded_at)),
    ("办结时间", 17, lambda d: _local(d.concluded_at)),
    ("状态", 10, lambda d: d.case.get_state_display()),
]


def write_ledger_xlsx(rows) -> tuple:
    sheet = SheetWriter("舆情台账", [(h, w) for h, w, _ in COLUMNS])
    n = done = responded = 0
    levels = {"general": 0, "serious": 0, "major": 0}
    for d in rows[:MAX_ROWS]:
        n += 1
        sheet.append([n] + [fn(d) for _, _, fn in COLUMNS[1:]])
        done += d.case.state in ("closed", "dismissed")
        responded += d.responded_at is not None
        if d.level in levels:
            levels[d.level] += 1
    totals = ["合计", f"{n} 条"] + [""] * (len(COLUMNS) - 2)
    totals[9] = f"一般 {levels['general']} / 较大 {levels['serious']} / 重大 {levels['major']}"
    totals[15] = f"已回应 {responded}"
    totals[17] = f"办结 {done}（{round(100 * done / n, 1) if n else '—'}%）"
    sheet.append(totals)
    fh = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (the response closes it)
    sheet.save(fh)
    fh.seek(0)
    return fh, f"舆情台账_{clock.local_now():%Y%m%d_%H%M}.xlsx"
