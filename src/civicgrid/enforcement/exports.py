"""Excel export of the 执法案件台账 in the layout of a 上级 report sheet: one row per case, Chinese headers, a totals
row (案件数, 一般/简易, 罚款总额, 拆除面积与处数); through the safe writer. The 当事人 contact is masked."""

from __future__ import annotations

import tempfile
from decimal import Decimal

from civicgrid.cases.selectors import mask_phone
from civicgrid.core import clock
from civicgrid.core.xlsx import SheetWriter

MAX_ROWS = 50_000


def _local(dt):
    return clock.to_local(dt).replace(tzinfo=None) if dt else None


def _num(value):
    return float(value) if value is not None else None


COLUMNS = [
    ("序号", 6, None),
    ("案件编号", 18, lambda d: d.case.number),
    ("原台账编号", 14, lambda d: d.external_ref),
    ("适用程序", 10, lambda d: d.get_procedure_kind_display()),
    ("当事人", 18, lambda d: d.party_name),
    ("当事人类型", 12, lambda d: d.get_party_kind_display()),
    ("联系电话", 14, lambda d: mask_phone(d.party_contact)),
    ("违法行为类型", 14, lambda d: d.violation_type.name if d.violation_type_id else ""),
    ("违法地点", 24, lambda d: d.case.address),
    ("案情摘要", 36, lambda d: d.case.description),
    ("发现时间", 17, lambda d: _local(d.discovered_at)),
    ("受理（立案）时间", 17, lambda d: _local(d.accepted_at)),
    ("法律依据", 30, lambda d: d.legal_basis),
    ("处罚内容", 24, lambda d: d.penalty),
    ("决定书文号", 18, lambda d: d.decision_no),
    ("决定时间", 17, lambda d: _local(d.decided_at)),
    ("罚款金额（元）", 12, lambda d: _num(d.fine_amount)),
    ("拆除面积（㎡）", 12, lambda d: _num(d.demolished_area)),
    ("拆除处数", 8, lambda d: d.demolished_sites),
    ("执行完毕时间", 17, lambda d: _local(d.executed_at)),
    ("结案时间", 17, lambda d: _local(d.concluded_at)),
    ("办案单位", 14, lambda d: d.case.department.name if d.case.department_id else ""),
    ("状态", 10, lambda d: d.case.get_state_display()),
    ("来源案件", 18, lambda d: d.source_case.number if d.source_case_id else ""),
]


def write_ledger_xlsx(rows) -> tuple:
    """``rows``: EnforcementDetail rows (scoped by the caller). Returns (file handle, file name)."""
    sheet = SheetWriter("行政处罚案件台账", [(h, w) for h, w, _ in COLUMNS])
    n = general = simple = sites = 0
    fines = area = Decimal(0)
    for d in rows[:MAX_ROWS]:
        n += 1
        sheet.append([n] + [fn(d) for _, _, fn in COLUMNS[1:]])
        general += d.procedure_kind == "general"
        simple += d.procedure_kind == "simple"
        fines += d.fine_amount or 0
        area += d.demolished_area or 0
        sites += d.demolished_sites or 0
    totals = ["合计", f"{n} 件"] + [""] * (len(COLUMNS) - 2)
    totals[3] = f"一般 {general} / 简易 {simple}"
    totals[16] = float(fines)
    totals[17] = float(area)
    totals[18] = sites
    sheet.append(totals)
    fh = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (the response closes it)
    sheet.save(fh)
    fh.seek(0)
    return fh, f"行政处罚案件台账_{clock.local_now():%Y%m%d_%H%M}.xlsx"
