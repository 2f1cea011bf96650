"""Excel export of the 信访台账 in the layout of a 上级 report sheet: one row per 信访, Chinese headers, a totals
row (through the safe writer). The 信访人's name, ID number and phone are masked, as on every list."""

from __future__ import annotations

import tempfile

from civicgrid.cases.selectors import mask_name, mask_phone
from civicgrid.core import clock
from civicgrid.core.xlsx import SheetWriter

MAX_ROWS = 50_000


def _day(dt):
    return clock.to_local(dt).date() if dt else None


def _yes(value) -> str:
    return {True: "是", False: "否", None: ""}[value]


COLUMNS = [
    ("序号", 6, None),
    ("信访编号", 16, lambda d: d.case.number or ""),
    ("原台账编号", 14, lambda d: d.ledger_ref),
    ("登记日期", 11, lambda d: _day(d.registered_at)),
    ("信访形式", 9, lambda d: d.get_form_display()),
    ("信访人", 10, lambda d: mask_name(d.petitioner_name) + ("等" if d.is_group else "")),
    ("联系电话", 14, lambda d: mask_phone(d.petitioner_phone) if d.petitioner_phone else ""),
    ("集体访", 7, lambda d: "是" if d.is_group else "否"),
    ("人数", 6, lambda d: d.headcount),
    ("信访类别", 12, lambda d: d.kind_label),
    ("信访事项", 40, lambda d: d.summary),
    ("包案领导", 10, lambda d: (d.lead.full_name or d.lead.username) if d.lead_id else ""),
    ("责任部门", 14, lambda d: d.case.department.name if d.case.department_id else ""),
    ("受理日期", 11, lambda d: _day(d.accepted_at)),
    ("办理期限", 11, lambda d: _day(d.handle_due_at) if d.handle_due_at else None),
    ("答复日期", 11, lambda d: _day(d.replied_at)),
    ("办结日期", 11, lambda d: _day(d.done_at)),
    ("是否按期办结", 8, lambda d: _yes(d.done_on_time)),
    ("当前状态", 9, lambda d: d.case.get_state_display()),
    ("复查/复核次数", 8, lambda d: d.reopen_count or ""),
    ("积案化解日期", 11, lambda d: d.resolved_at),
    ("化解方式", 14, lambda d: d.get_resolve_method_display() if d.resolve_method else ""),
]


def write_ledger_xlsx(rows) -> tuple:
    """``rows``: PetitionDetail rows (scoped by the caller). Returns (file handle, file name)."""
    sheet = SheetWriter("信访台账", [(h, w) for h, w, _ in COLUMNS])
    n = people = accepted = done = on_time = resolved = 0
    for d in rows[:MAX_ROWS]:
        n += 1
        sheet.append([n] + [fn(d) for _, _, fn in COLUMNS[1:]])
        people += d.headcount
        accepted += d.accepted_at is not None
        done += d.done_at is not None
        on_time += d.done_on_time is True
        resolved += d.resolved_at is not None
    totals = ["合计", f"{n} 件"] + [""] * (len(COLUMNS) - 2)
    totals[8] = people
    totals[13] = f"受理 {accepted}"
    totals[16] = f"办结 {done}"
    totals[17] = f"按期 {on_time}"
    totals[20] = f"化解 {resolved}"
    sheet.append(totals)
    fh = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (the response closes it)
    sheet.save(fh)
    fh.seek(0)
    return fh, f"信访台账_{clock.local_now():%Y%m%d_%H%M}.xlsx"
