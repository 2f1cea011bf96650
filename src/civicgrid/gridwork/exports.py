"""Excel export of the monthly 网格员考核表: one row per 网格员 with the figures, each term's 得分率, the weights
used and the 考核得分 (through the safe writer)."""

from __future__ import annotations

import tempfile

from civicgrid.core import clock
from civicgrid.core.xlsx import SheetWriter


def _pct(v):
    return "" if v is None else round(v, 1)


COLUMNS = [
    ("网格员", 12, lambda r: r.name),
    ("网格", 18, lambda r: r.grid),
    ("社区", 14, lambda r: r.community),
    ("工作日数", 9, lambda r: r.workdays),
    ("打卡天数", 9, lambda r: r.attended),
    ("打卡率%", 9, lambda r: _pct(r.attendance)),
    ("巡查次数", 9, lambda r: r.patrols),
    ("巡查时长(小时)", 12, lambda r: r.hours),
    ("在格率%", 9, lambda r: _pct(r.inside_rate)),
    ("点位数", 8, lambda r: r.points),
    ("达标点位", 9, lambda r: r.covered),
    ("点位覆盖率%", 11, lambda r: _pct(r.coverage)),
    ("主动上报数", 10, lambda r: r.reports),
    ("立案数", 8, lambda r: r.accepted),
    ("有效上报率%", 11, lambda r: _pct(r.valid_report_rate)),
    ("主动上报完成率%", 13, lambda r: _pct(r.parts.get("reports"))),
    ("考核得分", 9, lambda r: "" if r.score is None else r.score),
]


def write_scores_xlsx(rows, *, period, rule) -> tuple:
    """``rows``: :class:`civicgrid.gridwork.metrics.Row` per 网格员 (scoped by the caller)."""
    sheet = SheetWriter(f"网格员考核{period.key}", [(h, w) for h, w, _ in COLUMNS])
    rows = sorted(rows, key=lambda r: (r.score is None, -(r.score or 0), r.name))
    for r in rows:
        sheet.append([fn(r) for _, _, fn in COLUMNS])
    sheet.append([])
    w = rule.weights
    sheet.append(
        [
            f"{period.label}（{period.start:%m-%d}至{period.end:%m-%d}）权重：打卡率 {w['attendance']}，在格率 "
            f"{w['inside']}，点位覆盖率 {w['coverage']}，主动上报完成率 {w['reports']}（月目标 "
            f"{rule.report_target} 件），有效上报率 {w['valid_reports']}；有效巡查 ≥ {rule.valid_minutes} 分钟"
        ]
    )
    fh = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (the response closes it)
    sheet.save(fh)
    fh.seek(0)
    return fh, f"网格员考核_{period.key}_{clock.local_now():%Y%m%d_%H%M}.xlsx"
