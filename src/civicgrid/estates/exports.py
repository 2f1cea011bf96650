"""Excel exports: the 出租房 list and a campaign's targets with their results. Personal data as on the pages:
phones masked, the landlord's name masked for the roles that do not work the register in person."""

from __future__ import annotations

import tempfile

from civicgrid.core import clock
from civicgrid.core.xlsx import SheetWriter
from civicgrid.estates import selectors

MAX_ROWS = 50_000


def _save(sheet, title: str) -> tuple:
    fh = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (the response closes it)
    sheet.save(fh)
    fh.seek(0)
    return fh, f"{title}_{clock.local_now():%Y%m%d_%H%M}.xlsx"


def write_rentals_xlsx(rows, *, user) -> tuple:
    cols = [
        ("网格", 16, lambda r: r.grid.name),
        ("楼栋", 20, lambda r: r.building.name),
        ("室号", 8, lambda r: r.room),
        ("房东", 10, lambda r: selectors.shown_name(user, r.landlord_name)),
        ("房东电话", 14, lambda r: r.landlord_phone_masked),
        ("租住人数", 8, lambda r: r.tenants),
        ("群租", 6, lambda r: "是" if r.crowded else "否"),
        ("三合一", 6, lambda r: "是" if r.three_in_one else "否"),
        ("状态", 8, lambda r: r.get_status_display()),
        ("清退日期", 12, lambda r: r.cleared_on.isoformat() if r.cleared_on else ""),
        ("备注", 24, lambda r: r.note),
    ]
    sheet = SheetWriter("出租房", [(h, w) for h, w, _ in cols])
    n = 0
    for r in rows[:MAX_ROWS]:
        sheet.append([fn(r) for _, _, fn in cols])
        n += 1
    sheet.append([f"合计 {n} 套"] + [""] * (len(cols) - 1))
    return _save(sheet, "出租房")


def write_targets_xlsx(campaign, rows) -> tuple:
    cols = [
        ("对象编号", 12, lambda t: t.key),
        ("排查对象", 20, lambda t: t.name),
        ("地址", 24, lambda t: t.address),
        ("网格", 16, lambda t: t.grid.name),
        ("排查结果", 12, lambda t: t.get_result_display()),
        ("说明", 24, lambda t: t.note),
        ("排查时间", 16, lambda t: f"{clock.to_local(t.checked_at):%Y-%m-%d %H:%M}" if t.checked_at else ""),
        ("排查人", 10, lambda t: t.checked_by.display_name if t.checked_by_id else ""),
        ("问题工单", 16, lambda t: (t.case.number or f"#{t.case_id}") if t.case_id else ""),
    ]
    sheet = SheetWriter(campaign.name[:30], [(h, w) for h, w, _ in cols])
    for t in rows[:MAX_ROWS]:
        sheet.append([fn(t) for _, _, fn in cols])
    return _save(sheet, campaign.name)
