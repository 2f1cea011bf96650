"""Excel export of the 矛盾纠纷排查调处台账 in the layout of the 上级 report sheet: one row per dispute, Chinese
headers, a totals row (through the safe writer). 当事人 names and phones are masked unless the user holds
``Capability.DISPUTE_MEDIATE``. The headers are the import's column names (:mod:`civicgrid.disputes.importing`),
so an exported sheet can be imported elsewhere."""

from __future__ import annotations

import tempfile
from decimal import Decimal

from civicgrid.cases import selectors as case_selectors
from civicgrid.core import clock
from civicgrid.core.xlsx import SheetWriter
from civicgrid.disputes.models import DisputeSource, Outcome, PartyRole

MAX_ROWS = 50_000


def _names(d, role, full: bool) -> str:
    names = [p.name for p in d.parties.all() if p.role == role]
    return "、".join(names if full else [case_selectors.mask_name(n) for n in names])


def _phones(d, full: bool) -> str:
    phones = [p.phone for p in d.parties.all() if p.phone]
    return "、".join(phones if full else [case_selectors.mask_phone(p) for p in phones])


_SCRUB = case_selectors.PublicText()


def _scrub(d) -> str:
    return _SCRUB(d.case.description, names=[p.name for p in d.parties.all()])


def columns(full: bool) -> list:
    return [
        ("编号", 18, lambda d: d.case.number),
        ("受理日期", 11, lambda d: d.received_on),
        ("纠纷来源", 12, lambda d: d.get_source_display()),
        ("移交派出所", 14, lambda d: d.police_station),
        ("警情号", 16, lambda d: d.police_ref),
        ("纠纷类型", 10, lambda d: d.dispute_type.name),
        ("社区", 12, lambda d: d.case.community.name if d.case.community_id else ""),
        ("网格", 14, lambda d: d.case.grid.name if d.case.grid_id else ""),
        ("纠纷简要情况", 40, lambda d: d.case.description if full else _scrub(d)),
        ("申请人", 14, lambda d: _names(d, PartyRole.APPLICANT, full)),
        ("被申请人", 14, lambda d: _names(d, PartyRole.RESPONDENT, full)),
        ("联系电话", 16, lambda d: _phones(d, full)),
        ("涉及金额（元）", 12, lambda d: d.amount),
        ("调解组织", 20, lambda d: d.org.name),
        ("调解员", 14, lambda d: "、".join(dict.fromkeys(s.mediators for s in d.sessions.all()))),
        ("调解次数", 8, lambda d: len(d.sessions.all())),
        ("调解结果", 10, lambda d: d.get_outcome_display()),
        ("调解终结日期", 11, lambda d: d.ended_on),
        ("协议书编号", 22, lambda d: d.agreement_no),
        ("履行情况", 8, lambda d: d.get_fulfilment_display()),
        ("回访日期", 11, lambda d: d.followup_on),
        ("回访结果", 20, lambda d: d.followup_result),
        ("状态", 10, lambda d: d.case.get_state_display()),
    ]


def write_ledger_xlsx(rows, *, full: bool) -> tuple:
    """``rows``: DisputeDetail rows (scoped by the caller). Returns (file handle, file name)."""
    cols = columns(full)
    sheet = SheetWriter("矛盾纠纷台账", [(h, w) for h, w, _ in cols])
    n = success = ended = police = 0
    amount = Decimal(0)
    for d in rows.prefetch_related("parties", "sessions")[:MAX_ROWS]:
        sheet.append([fn(d) for _, _, fn in cols])
        n += 1
        police += d.source == DisputeSource.POLICE
        ended += bool(d.outcome)
        success += d.outcome == Outcome.SUCCESS
        amount += d.amount or 0
    headers = [h for h, _, _ in cols]
    totals = [""] * len(cols)
    totals[0] = f"合计 {n} 件"
    totals[headers.index("纠纷来源")] = f"警调衔接 {police}"
    totals[headers.index("涉及金额（元）")] = amount
    totals[headers.index("调解结果")] = f"成功 {success}/{ended}"
    totals[headers.index("调解终结日期")] = (
        f"成功率 {round(100 * success / ended, 1)}%" if ended else "成功率 —"
    )
    sheet.append(totals)
    fh = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (the response closes it)
    sheet.save(fh)
    fh.seek(0)
    return fh, f"矛盾纠纷台账_{clock.local_now():%Y%m%d_%H%M}.xlsx"
