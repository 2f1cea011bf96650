"""One-page exports of a 红黑榜: Excel (openpyxl) and Word (docxtpl over ``data/board.docx``, whose ``{{ … }}``
placeholders an administrator may restyle in Word). Both read the board's frozen snapshot only."""

from __future__ import annotations

import io
from pathlib import Path

from docxtpl import DocxTemplate
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from civicgrid.core import clock
from civicgrid.evaluation import scoring
from civicgrid.evaluation.models import Board, BoardKind, BoardState

TEMPLATE = Path(__file__).resolve().parent / "data" / "board.docx"

AREA_COLUMNS = [
    ("rank", "名次"),
    ("label", "名称"),
    ("score", "综合得分"),
    ("response_rate", "响应率%"),
    ("resolve_rate", "解决率%"),
    ("satisfaction_rate", "满意率%"),
    ("sample", "件数"),
]
WORKER_COLUMNS = [
    ("rank", "名次"),
    ("label", "姓名"),
    ("score", "综合得分"),
    ("valid_rate", "有效上报率%"),
    ("verify_rate", "按时核查率%"),
    ("reported", "上报数"),
    ("verified", "核查数"),
]


def columns(kind: str) -> list[tuple[str, str]]:
    return WORKER_COLUMNS if kind == BoardKind.GRID_WORKER else AREA_COLUMNS


def cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _rows(board: Board, keys: list) -> list[list[str]]:
    by_key = {r["key"]: r for r in board.rows}
    return [[cell(by_key[k].get(c)) for c, _ in columns(board.kind)] for k in keys if k in by_key]


def sample_label(kind: str) -> str:
    return {
        BoardKind.DEPARTMENT: "派遣数",
        BoardKind.GRID_WORKER: "上报数+核查数",
    }.get(kind, "立案数")


def rules_text(board: Board) -> str:
    if board.kind == BoardKind.GRID_WORKER:
        how = "综合得分 = 有效上报率 × 50% + 按时核查率 × 50%"
    else:
        w = board.weights
        how = (
            f"综合得分 = 响应率 × {w.get('w_response')}% + 解决率 × {w.get('w_resolve')}% + "
            f"满意率 × {w.get('w_satisfaction')}%"
        )
    return (
        f"{how}（缺少的比率不计，其权重按其余比率重新分配）；{sample_label(board.kind)}少于 {board.min_cases} 件的"
        f"单列不排名；同分时件数多者居前；红榜为前 {board.size} 名、黑榜为后 {board.size} 名（得分与件数都相同的并列）。"
    )


def apart_text(board: Board) -> str:
    if not board.apart:
        return "单列：无。"
    parts = [
        f"{r['label']}（{scoring.APART_LABELS.get(r['apart'], r['apart'])}，{r['sample']} 件）"
        for r in board.apart
    ]
    return "单列（不排名）：" + "、".join(parts) + "。"


def title(board: Board) -> str:
    return f"{board.owner_name}{board.month.year}年{board.month.month}月{board.get_kind_display()}红黑榜"


def status_text(board: Board) -> str:
    if board.state == BoardState.PUBLISHED and board.published_at:
        return f"已发布（{clock.to_local(board.published_at):%Y-%m-%d}）"
    return f"{board.get_state_display()}（未发布）"


def board_xlsx(board: Board) -> tuple[bytes, str]:
    wb = Workbook()
    ws = wb.active
    ws.title = f"{board.month:%Y-%m}"
    cols = columns(board.kind)
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(cols))
    ws.cell(1, 1, title(board)).font = Font(size=16, bold=True)
    ws.cell(1, 1).alignment = center
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(cols))
    ws.cell(2, 1, status_text(board)).alignment = center
    r = 3
    for heading, keys, color in (("红榜", board.red, "FDE2E1"), ("黑榜", board.black, "E5E5E5")):
        r += 1
        ws.cell(r, 1, heading).font = Font(
            size=13, bold=True, color="C00000" if heading == "红榜" else "000000"
        )
        r += 1
        for i, (_, label) in enumerate(cols, start=1):
            c = ws.cell(r, i, label)
            c.font, c.alignment, c.border = Font(bold=True), center, border
            c.fill = PatternFill("solid", fgColor=color)
        rows = _rows(board, keys)
        for values in rows or [["（无）"] + [""] * (len(cols) - 1)]:
            r += 1
            for i, v in enumerate(values, start=1):
                c = ws.cell(r, i, v)
                c.alignment, c.border = center, border
        r += 1
    for text in (apart_text(board), rules_text(board)):
        r += 1
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(cols))
        ws.cell(r, 1, text).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[r].height = 45
    widths = [7, 22, 11, 12, 12, 12, 9]
    for i, w in enumerate(widths[: len(cols)], start=1):
        ws.column_dimensions[chr(64 + i)].width = w
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = ws.page_setup.fitToHeight = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), f"{title(board)}.xlsx"


def board_docx(board: Board) -> tuple[bytes, str]:
    doc = DocxTemplate(str(TEMPLATE))
    red, black = _rows(board, board.red), _rows(board, board.black)
    doc.render(
        {
            "title": title(board),
            "subtitle": status_text(board),
            "head": [label for _, label in columns(board.kind)],
            "red": red,
            "black": black,
            "red_empty": "" if red else "（无）",
            "black_empty": "" if black else "（无）",
            "apart": apart_text(board),
            "rules": rules_text(board),
            "footer": f"{board.owner_name} 指挥中心",
        },
        autoescape=True,
    )
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue(), f"{title(board)}.docx"
