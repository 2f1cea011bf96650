"""The summary table (汇总表) in the report layout — 序号, 指标名称, 目标任务 总量/增幅, 1-N月完成 总量/增幅, 预计全年
总量/增幅, 状态, with the merged two-row header — as Excel (openpyxl) and Word (a WordprocessingML document written
directly: python-docx is not installed; Word, WPS and LibreOffice open it). The project board as Excel."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from civicgrid.core.xlsx import clean_text, is_formula_like
from civicgrid.goals import metrics
from civicgrid.goals.selectors import Board, Line, Summary

LIGHT_FILL = {"green": "C6EFCE", "yellow": "FFEB9C", "red": "FFC7CE"}


def num(value: Decimal | None) -> str:
    """A figure as the report prints it: two decimals at most, no trailing zeros; unknown → "—"."""
    if value is None:
        return "—"
    d = metrics.q2(value)
    text = f"{d:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{num(value)}%"


def header_rows(month: int) -> tuple[list[str], list[str]]:
    return (
        ["序号", "指标名称", "目标任务", "", f"1-{month}月完成", "", "预计全年", "", "状态"],
        ["", "", "总量", "增幅", "总量", "增幅", "总量", "增幅", ""],
    )


# (first row, first col, last row, last col) of the header's merged cells, 0-based
HEADER_MERGES = [(0, 0, 1, 0), (0, 1, 1, 1), (0, 2, 0, 3), (0, 4, 0, 5), (0, 6, 0, 7), (0, 8, 1, 8)]


def line_cells(line: Line) -> list[str]:
    ind, fig, fc = line.indicator, line.figures, line.forecast
    name = f"{ind.name}（{ind.unit}）" if ind.unit else ind.name
    if ind.basis == "done":
        done = fig is not None and fig.ytd_total is not None and fig.ytd_total >= 1
        actual_total = "—" if fig is None else ("已完成" if done else "未完成")
        return [str(ind.seq), name, "完成", "—", actual_total, "—", "—", "—", line.status.label]
    month_note = f"（截至{fig.month}月）" if line.stale and fig is not None else ""
    status = line.status.label + ("、攀高" if line.climbed else "")
    return [
        str(ind.seq),
        name,
        num(ind.target_total),
        pct(ind.target_growth),
        (num(fig.ytd_total) if fig else "—") + month_note,
        pct(fig.ytd_growth) if fig else "—",
        num(fc.total) if fc.method != metrics.Method.NONE else "—",
        pct(fc.growth) if fc.method != metrics.Method.NONE else "—",
        status,
    ]


def footer(summary: Summary) -> str:
    return (
        f"共 {len(summary.lines)} 项指标：绿灯 {summary.green} 盏，黄灯 {summary.yellow} 盏，红灯 {summary.red} 盏；"
        f"攀高 {summary.climbed} 个。"
    )


def _text(value) -> str:
    return clean_text(str(value))


def summary_xlsx(summary: Summary) -> tuple[bytes, str]:
    wb = Workbook()
    ws = wb.active
    ws.title = f"1-{summary.month}月"
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=9)
    ws.cell(1, 1, _text(summary.title)).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = center
    head = header_rows(summary.month)
    for r, row in enumerate(head, start=2):
        for c, text in enumerate(row, start=1):
            cell = ws.cell(r, c, text or None)
            cell.font, cell.alignment, cell.border = Font(bold=True), center, border
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for r0, c0, r1, c1 in HEADER_MERGES:
        ws.merge_cells(start_row=r0 + 2, start_column=c0 + 1, end_row=r1 + 2, end_column=c1 + 1)
    r = 4
    for line in summary.lines:
        for c, text in enumerate(line_cells(line), start=1):
            text = _text(text)
            cell = ws.cell(r, c, text)
            if is_formula_like(text):
                cell.data_type, cell.quotePrefix = "s", True
            cell.border = border
            cell.alignment = Alignment(
                horizontal="left" if c == 2 else "center", vertical="center", wrap_text=True
            )
        fill = LIGHT_FILL.get(line.status.light)
        if fill:
            ws.cell(r, 9).fill = PatternFill("solid", fgColor=fill)
        r += 1
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=9)
    ws.cell(r, 1, footer(summary))
    for i, width in enumerate([6, 30, 12, 10, 14, 10, 12, 10, 10], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "C4"
    ws.print_title_rows = "2:3"
    ws.page_setup.orientation = "landscape"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), f"{summary.scorecard.year}年考核指标1-{summary.month}月.xlsx"


# --- Word -----------------------------------------------------------------------------------------------

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
_WIDTHS = [600, 3200, 1200, 1000, 1400, 1000, 1200, 1000, 1000]  # twentieths of a point (landscape A4)
_FONT = '<w:rFonts w:ascii="SimSun" w:hAnsi="SimSun" w:eastAsia="SimSun"/>'


def _run(text: str, *, bold: bool = False, size: int = 21) -> str:
    props = f'<w:rPr>{_FONT}{"<w:b/>" if bold else ""}<w:sz w:val="{size}"/></w:rPr>'
    return f'<w:r>{props}<w:t xml:space="preserve">{escape(clean_text(text))}</w:t></w:r>'


def _para(text: str, *, bold: bool = False, size: int = 21, align: str = "center") -> str:
    return f'<w:p><w:pPr><w:jc w:val="{align}"/></w:pPr>{_run(text, bold=bold, size=size)}</w:p>'


def _cell(
    text: str, width: int, *, span: int = 1, vmerge: str | None = None, bold=False, fill=None, align="center"
):
    props = f'<w:tcW w:w="{width}" w:type="dxa"/>'
    if span > 1:
        props += f'<w:gridSpan w:val="{span}"/>'
    if vmerge == "restart":
        props += '<w:vMerge w:val="restart"/>'
    elif vmerge == "continue":
        props += "<w:vMerge/>"
    if fill:
        props += f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>'
    props += '<w:vAlign w:val="center"/>'
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{_para(text, bold=bold, align=align)}</w:tc>"


def summary_docx(summary: Summary) -> tuple[bytes, str]:
    w = _WIDTHS
    top, sub = header_rows(summary.month)
    row1 = (
        _cell(top[0], w[0], vmerge="restart", bold=True, fill="DDEBF7")
        + _cell(top[1], w[1], vmerge="restart", bold=True, fill="DDEBF7")
        + "".join(_cell(top[c], w[c] + w[c + 1], span=2, bold=True, fill="DDEBF7") for c in (2, 4, 6))
        + _cell(top[8], w[8], vmerge="restart", bold=True, fill="DDEBF7")
    )
    row2 = (
        _cell("", w[0], vmerge="continue", fill="DDEBF7")
        + _cell("", w[1], vmerge="continue", fill="DDEBF7")
        + "".join(_cell(sub[c], w[c], bold=True, fill="DDEBF7") for c in range(2, 8))
        + _cell("", w[8], vmerge="continue", fill="DDEBF7")
    )
    header_props = "<w:trPr><w:tblHeader/></w:trPr>"
    rows = [f"<w:tr>{header_props}{row1}</w:tr>", f"<w:tr>{header_props}{row2}</w:tr>"]
    for line in summary.lines:
        cells = line_cells(line)
        fill = LIGHT_FILL.get(line.status.light)
        rows.append(
            "<w:tr>"
            + "".join(
                _cell(t, w[i], fill=fill if i == 8 else None, align="left" if i == 1 else "center")
                for i, t in enumerate(cells)
            )
            + "</w:tr>"
        )
    border = "".join(
        f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
        for side in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    grid = "".join(f'<w:gridCol w:w="{x}"/>' for x in w)
    table = (
        f'<w:tbl><w:tblPr><w:tblW w:w="{sum(w)}" w:type="dxa"/><w:jc w:val="center"/>'
        f'<w:tblBorders>{border}</w:tblBorders><w:tblLayout w:type="fixed"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"
    )
    body = (
        _para(summary.title, bold=True, size=32)
        + table
        + _para(footer(summary), align="left")
        + '<w:sectPr><w:pgSz w:w="16838" w:h="11906" w:orient="landscape"/>'
        '<w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1134" w:header="567" w:footer="567" '
        'w:gutter="0"/></w:sectPr>'
    )
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {_W}><w:body>{body}</w:body>'
        "</w:document>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("word/document.xml", document)
    return buf.getvalue(), f"{summary.scorecard.year}年考核指标1-{summary.month}月.docx"


# --- the project board ----------------------------------------------------------------------------------


def board_xlsx(board: Board) -> tuple[bytes, str]:
    wb = Workbook()
    ws = wb.active
    ws.title = f"1-{board.month}月"
    head = [
        "类别",
        "项目名称",
        "建设单位",
        "年度计划投资(万元)",
        f"1-{board.month}月完成投资(万元)",
        "完成率",
        "滞后",
        "形象进度",
    ]
    ws.append(head)
    for c in range(1, len(head) + 1):
        ws.cell(1, c).font = Font(bold=True)
    for block in board.categories:
        for line in block.lines:
            p = line.project
            values = [block.label, p.name, p.owner, p.annual_plan, line.done, pct(line.rate),
                      "滞后" if line.lagging else "", line.note]  # fmt: skip
            ws.append([_safe(v) for v in values])
        ws.append([f"{block.label}小计", "", "", block.plan, block.done, pct(block.rate), "", ""])
    ws.append(["合计", "", "", board.plan, board.done, pct(board.rate), f"滞后 {board.lagging} 个", ""])
    for i, width in enumerate([14, 32, 20, 16, 18, 10, 8, 40], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), f"{board.year}年重点项目1-{board.month}月.xlsx"


def _safe(value):
    if isinstance(value, str):
        text = clean_text(value)
        return "'" + text if is_formula_like(text) else text
    return value
