"""Excel export of the 人员台账: masked by default; the full ID number and phone only for a holder of
``PERSON_FULL_VIEW`` who gives a reason — each person exported in full gets an access-log row and the export
one audit row (:func:`civicgrid.registers.services.log_full_export`)."""

from __future__ import annotations

import tempfile

from civicgrid.core import clock
from civicgrid.core.xlsx import SheetWriter
from civicgrid.registers import crypto

MAX_ROWS = 50_000


def _address(p) -> str:
    return f"{p.household.building.name}{p.household.room}室" if p.household_id else ""


def write_persons_xlsx(rows, *, full: bool) -> tuple:
    cols = [
        ("姓名", 10, lambda p: p.name),
        ("身份证号", 22, lambda p: crypto.decrypt(p.id_cipher) if full else p.id_masked),
        ("联系电话", 15, lambda p: crypto.decrypt(p.phone_cipher) if full else p.phone_masked),
        ("人口类型", 10, lambda p: p.get_residence_display()),
        ("流动人口状态", 10, lambda p: p.get_floating_status_display() if p.floating_status else ""),
        ("网格", 16, lambda p: p.grid.name),
        ("住址", 24, _address),
        ("与户主关系", 10, lambda p: p.relation),
        ("标签", 24, lambda p: "、".join(t.name for t in p.tags.all())),
    ]
    sheet = SheetWriter("人员台账", [(h, w) for h, w, _ in cols])
    n = 0
    for p in rows[:MAX_ROWS]:
        sheet.append([fn(p) for _, _, fn in cols])
        n += 1
    sheet.append([f"合计 {n} 人"] + [""] * (len(cols) - 1))
    fh = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (the response closes it)
    sheet.save(fh)
    fh.seek(0)
    return fh, f"人员台账{'（完整）' if full else ''}_{clock.local_now():%Y%m%d_%H%M}.xlsx"
