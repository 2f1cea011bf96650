"""Excel exports of the ledgers. The column headers are the import's field labels, so an exported 活动, 预案 or
时间银行 file can be edited and imported back (the 志愿者 and 时间银行 exports show phones masked, like every
register: a 时间银行 file finds its volunteers by 姓名 + 社区 then)."""

from __future__ import annotations

import tempfile

from civicgrid.activities.selectors import mask_phone
from civicgrid.core import clock
from civicgrid.core.xlsx import SheetWriter

MAX_ROWS = 50_000


def _save(sheet: SheetWriter, name: str) -> tuple:
    fh = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (the response closes it)
    sheet.save(fh)
    fh.seek(0)
    return fh, f"{name}_{clock.local_now():%Y%m%d_%H%M}.xlsx"


def _write(title: str, cols, rows) -> SheetWriter:
    sheet = SheetWriter(title, [(h, w) for h, w, _ in cols])
    for r in list(rows)[:MAX_ROWS]:
        sheet.append([fn(r) for _, _, fn in cols])
    return sheet


def write_activities_xlsx(rows) -> tuple:
    cols = [
        ("日期", 12, lambda a: a.date),
        ("活动名称", 28, lambda a: a.name),
        ("地点", 20, lambda a: a.place),
        ("类型", 10, lambda a: a.get_kind_display()),
        ("社区", 14, lambda a: a.community.name if a.community_id else ""),
        ("结束日期", 12, lambda a: a.end_date),
        ("组织者", 16, lambda a: a.organiser),
        ("场次", 8, lambda a: a.sessions),
        ("人次", 8, lambda a: a.attendance),
        ("户数", 8, lambda a: a.households),
        ("发放资料（份）", 12, lambda a: a.materials),
        ("活动情况", 40, lambda a: a.summary),
    ]
    return _save(_write("活动台账", cols, rows), "活动台账")


def write_plans_xlsx(rows) -> tuple:
    cols = [
        ("预案名称", 30, lambda p: p.name),
        ("级别", 10, lambda p: p.get_level_display()),
        ("印发日期", 12, lambda p: p.issued_on),
        ("最近复核日期", 12, lambda p: p.reviewed_on),
        ("复核周期（月）", 10, lambda p: p.review_months),
        ("牵头部门", 16, lambda p: p.department),
        ("社区", 14, lambda p: p.community.name if p.community_id else ""),
        ("备注", 24, lambda p: p.note),
        ("下次复核", 12, lambda p: p.due),
        ("逾期未复核", 10, lambda p: "是" if p.is_overdue else "否"),
    ]
    return _save(_write("应急预案", cols, rows), "应急预案")


def write_volunteers_xlsx(rows) -> tuple:
    cols = [
        ("姓名", 10, lambda v: v.name),
        ("联系电话", 14, lambda v: mask_phone(v.phone)),
        ("社区", 14, lambda v: v.community.name if v.community_id else ""),
        ("特长/服务方向", 24, lambda v: v.skills),
        ("注册日期", 12, lambda v: v.registered_on),
        ("在册", 6, lambda v: "是" if v.is_active else "否"),
        ("累计存入（小时）", 12, lambda v: float(v.earned)),
        ("累计支取（小时）", 12, lambda v: float(v.spent)),
        ("余额（小时）", 10, lambda v: float(v.earned - v.spent)),
    ]
    return _save(_write("志愿者", cols, rows), "志愿者")


def write_entries_xlsx(rows) -> tuple:
    cols = [
        ("姓名", 10, lambda e: e.volunteer.name),
        ("联系电话", 14, lambda e: mask_phone(e.volunteer.phone)),
        ("社区", 14, lambda e: e.volunteer.community.name if e.volunteer.community_id else ""),
        ("日期", 12, lambda e: e.date),
        ("类型", 12, lambda e: e.get_kind_display()),
        ("小时", 8, lambda e: float(e.hours)),
        ("说明", 30, lambda e: e.note),
        ("活动", 24, lambda e: e.activity.name if e.activity_id else ""),
    ]
    return _save(_write("时间银行记录", cols, rows), "时间银行记录")
