"""The one-page monthly 简报 (.docx) of the headline figures, rendered with docxtpl.

The template is built in code (python-docx) the first time it is needed and kept in memory: a title, the scope
line, a table of the headline figures with 环比/同比, the department table and a footer. Its placeholders are
docxtpl's ``{{ … }}`` and a ``{%tr for %}`` row loop; values are escaped by docxtpl (autoescape), so nothing a user
typed can change the document's structure."""

from __future__ import annotations

import functools
import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from docxtpl import DocxTemplate

from civicgrid.core import clock

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@functools.cache
def template_bytes() -> bytes:
    doc = Document()
    sec = doc.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)
    sec.top_margin = sec.bottom_margin = Cm(2.0)
    sec.left_margin = sec.right_margin = Cm(2.2)
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(11)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("{{ title }}")
    run.bold = True
    run.font.size = Pt(18)
    sub = doc.add_paragraph("统计期：{{ period }}　范围：{{ scope }}")
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER

    doc.add_paragraph().add_run("一、主要指标").bold = True
    table = doc.add_table(rows=3, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ["指标", "本期", "环比", "同比"], strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    table.rows[1].cells[0].text = "{%tr for f in figures %}"
    row = table.rows[2].cells
    for cell, text in zip(row, ["{{ f.label }}", "{{ f.value }}", "{{ f.mom }}", "{{ f.yoy }}"], strict=True):
        cell.text = text
    end = table.add_row().cells
    end[0].text = "{%tr endfor %}"

    doc.add_paragraph().add_run("二、各处置部门").bold = True
    dept = doc.add_table(rows=3, cols=5)
    dept.style = "Table Grid"
    for cell, text in zip(
        dept.rows[0].cells, ["处置部门", "受理", "办结", "按期办结率", "满意率"], strict=True
    ):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    dept.rows[1].cells[0].text = "{%tr for d in departments %}"
    for cell, text in zip(
        dept.rows[2].cells,
        [
            "{{ d.label }}",
            "{{ d.received }}",
            "{{ d.done }}",
            "{{ d.on_time_rate }}",
            "{{ d.satisfaction_rate }}",
        ],
        strict=True,
    ):
        cell.text = text
    dept.add_row().cells[0].text = "{%tr endfor %}"

    doc.add_paragraph("{{ summary }}")
    foot = doc.add_paragraph("{{ footer }}")
    foot.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _num(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.1f}%"
    if isinstance(value, float):
        return f"{value:.1f}{unit}"
    return f"{value}"


def _change(value, kind: str) -> str:
    if value is None:
        return "—"
    sign = "+" if value > 0 else ""
    return f"{sign}{value:.1f}" + ("个百分点" if kind == "rate" else "%")


def context(*, cards: list[dict], f, departments: list[dict], platform: str) -> dict:
    figures = [
        {
            "label": c["label"],
            "value": _num(c["value"], c["unit"]),
            "mom": _change(c["mom"], c["kind"]),
            "yoy": _change(c["yoy"], c["kind"]),
        }
        for c in cards
    ]
    by = {c["name"]: c for c in cards}
    summary = (
        f"本期受理 {by['received']['value']} 件，立案 {by['accepted']['value']} 件，办结 {by['done']['value']} 件；"
        f"按期办结率 {_num(by['on_time_rate']['value'], '%')}，满意率 {_num(by['satisfaction_rate']['value'], '%')}，"
        f"主动发现率 {_num(by['proactive_rate']['value'], '%')}。"
    )
    now = clock.local_now()
    return {
        "title": f"{platform}指挥中心工作简报（{f.title}）",
        "period": f"{f.start.isoformat()} 至 {f.end.isoformat()}",
        "scope": f.scope_label(),
        "figures": figures,
        "departments": [
            {
                "label": d["label"],
                "received": d["received"],
                "done": d["done"],
                "on_time_rate": _num(d["on_time_rate"], "%"),
                "satisfaction_rate": _num(d["satisfaction_rate"], "%"),
            }
            for d in departments[:12]
        ],
        "summary": summary,
        "footer": f"生成时间：{now:%Y-%m-%d %H:%M}　口径见 docs/metrics.md",
    }


def render(ctx: dict) -> bytes:
    tpl = DocxTemplate(io.BytesIO(template_bytes()))
    tpl.render(ctx, autoescape=True)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()
