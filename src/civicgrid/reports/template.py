"""The built-in Word template of a 工作总结, written with python-docx as a docxtpl (Jinja) template.

Staff download it (/reports/templates/default.docx), edit it in Word — wording, order, fonts, their own
placeholders from the list in docs/reports.md — and upload it as a template of their own. Every placeholder sits
in one run, so Word keeps it whole as long as it is typed in one go.

The context a template sees (:func:`civicgrid.reports.render.context`):

- ``street``, ``year``, ``period`` ("全年", "1-9月"), ``title``;
- ``cases.<metric>`` — the case figures' texts ("1471件", "98.3%"), ``cases.<count>_yoy`` ("同比增长20.4%");
- ``ledgers.<ledger>.<figure>`` — e.g. ``ledgers.petitions.registered``, ``ledgers.petitions.done_rate``;
- ``goals.*``, ``projects.*`` — indicator lights and project investment; ``indicators``, ``projects_table``,
  ``ledger_table``, ``ledger_totals`` (the 台账汇总: ledger, figure, text), ``streets_table`` (a 区 report's
  per-街道 comparison) — table rows; ``charts.monthly``, ``charts.sources``, ``charts.categories`` — the charts
  (images: 各月受理/办结, 来源构成, 问题类别前十);
- ``phrases.*`` — conditional phrases ("已全部完成整改" only when every hazard is closed);
- ``problems`` — the 存在问题 drawn from the figures; ``manual.<name>`` — what staff typed for this report;
- ``appendix`` — every figure with its value, formula, period and source.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

BODY_FONT = "仿宋"
HEADING_FONT = "黑体"
TITLE_FONT = "宋体"


def _font(run, name: str, size: float, *, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), name)


def _para(
    doc, text: str, *, font: str = BODY_FONT, size: float = 16, bold: bool = False, center=False, indent=True
):
    p = doc.add_paragraph()
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    p.paragraph_format.line_spacing = Pt(28)
    _font(p.add_run(text), font, size, bold=bold)
    return p


def _control(doc, tag: str):
    """A paragraph holding only a docxtpl paragraph tag ({%p … %}): docxtpl removes it when rendering."""
    p = doc.add_paragraph()
    p.add_run(tag)
    return p


def _table(doc, headers: list[str], cells: list[str], loop: str, widths_mm: list[int], size: float = 12):
    """A table: a header row, then one row per item of ``loop`` ("r in rows"); column widths in mm."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    table.autofit = False
    for col, w in zip(table.columns, widths_mm, strict=True):
        col.width = Mm(w)  # the grid LibreOffice reads
    for row in table.rows:
        for cell, w in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(w)  # the cell widths Word reads
    for i, h in enumerate(headers):
        _font(table.rows[0].cells[i].paragraphs[0].add_run(h), HEADING_FONT, size)
    table.rows[1].cells[0].paragraphs[0].add_run(f"{{%tr for {loop} %}}")
    for i, c in enumerate(cells):
        _font(table.rows[2].cells[i].paragraphs[0].add_run(c), BODY_FONT, size)
    table.rows[3].cells[0].paragraphs[0].add_run("{%tr endfor %}")
    return table


def build_default() -> bytes:
    """The built-in template as .docx bytes."""
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = BODY_FONT
    style.element.rPr.rFonts.set(qn("w:eastAsia"), BODY_FONT)
    style.font.size = Pt(16)

    _para(doc, "{{ title }}", font=TITLE_FONT, size=22, bold=True, center=True)
    _para(doc, "{{ lead }}")

    _para(doc, "一、工作成效", font=HEADING_FONT, indent=True)

    _control(doc, "{%p if cases %}")
    _para(doc, "{{ sec.cases }}城市管理：工单闭环高效运转", font="楷体", bold=True)
    _para(
        doc,
        "{{ period }}，指挥中心共受理各类工单{{ cases.received }}{% if cases.received_yoy %}，"
        "{{ cases.received_yoy }}{% endif %}，其中网格主动发现上报{{ cases.received_grid }}，主动发现率"
        "{{ cases.proactive_rate }}；办结{{ cases.done }}，按期办结率{{ cases.on_time_rate }}，响应率"
        "{{ cases.response_rate }}，群众满意率{{ cases.satisfaction_rate }}。",
    )
    _control(doc, "{%p if streets_table %}")
    _para(doc, "各街道受理、办结情况如下：")
    _table(
        doc,
        ["街道", "受理", "办结", "按期办结率", "满意率"],
        [
            "{{ r.name }}",
            "{{ r.received }}",
            "{{ r.done }}",
            "{{ r.on_time_rate }}",
            "{{ r.satisfaction_rate }}",
        ],
        "r in streets_table",
        [44, 28, 28, 30, 30],
    )
    _control(doc, "{%p endif %}")
    for chart, caption in (
        ("monthly", "图1  {{ period }}各月受理与办结工单数"),
        ("sources", "图2  {{ period }}受理工单来源构成"),
        ("categories", "图3  {{ period }}受理量前十的问题类别"),
    ):
        _control(doc, f"{{%p if charts.{chart} %}}")
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.add_run(f"{{{{ charts.{chart} }}}}")
        _para(doc, caption, size=12, center=True)
        _control(doc, "{%p endif %}")
    _control(doc, "{%p if ledgers.enforcement %}")
    _para(
        doc,
        "综合执法方面，{{ period }}登记执法案件{{ ledgers.enforcement.registered }}，办结"
        "{{ ledgers.enforcement.registered_done }}，办结率{{ ledgers.enforcement.done_rate }}。",
    )
    _control(doc, "{%p endif %}")
    _control(doc, "{%p if ledgers.supervision %}")
    _para(
        doc,
        "强化行政问效，{{ period }}督办{{ ledgers.supervision.registered }}，已销号{{ ledgers.supervision.cleared }}；"
        "预警预判产生预警{{ ledgers.supervision.warnings }}。",
    )
    _control(doc, "{%p endif %}")
    _control(doc, "{%p if ledgers.opinion %}")
    _para(
        doc,
        "舆情处置方面，{{ period }}登记舆情{{ ledgers.opinion.registered }}，办结{{ ledgers.opinion.done }}。",
    )
    _control(doc, "{%p endif %}")
    _control(doc, "{%p endif %}")

    _control(doc, "{%p if ledgers.hazards or ledgers.disputes or ledgers.petitions %}")
    _para(doc, "{{ sec.safety }}平安建设：风险隐患动态清零", font="楷体", bold=True)
    _control(doc, "{%p if ledgers.hazards %}")
    _para(
        doc,
        "{{ period }}排查登记各类安全隐患{{ ledgers.hazards.registered }}，整改销号{{ ledgers.hazards.done }}"
        "{% if phrases.hazards_all_done %}，{{ phrases.hazards_all_done }}{% else %}，尚在整改"
        "{{ ledgers.hazards.open }}{% endif %}。",
    )
    _control(doc, "{%p endif %}")
    _control(doc, "{%p if ledgers.disputes %}")
    _para(
        doc,
        "排查化解矛盾纠纷{{ ledgers.disputes.registered }}，办结{{ ledgers.disputes.registered_done }}，办结率"
        "{{ ledgers.disputes.done_rate }}。",
    )
    _control(doc, "{%p endif %}")
    _control(doc, "{%p if ledgers.petitions %}")
    _para(
        doc,
        "{{ period }}共受理各类来信来访{{ ledgers.petitions.registered }}，办结{{ ledgers.petitions.registered_done }}，"
        "办结率达{{ ledgers.petitions.done_rate }}。",
    )
    _control(doc, "{%p endif %}")
    _control(doc, "{%p endif %}")

    _control(doc, "{%p if ledgers.gridwork or ledgers.registers or ledgers.estates %}")
    _para(doc, "{{ sec.grid }}基层治理：网格巡查常态长效", font="楷体", bold=True)
    _control(doc, "{%p if ledgers.gridwork %}")
    _para(
        doc,
        "网格员{{ period }}累计巡查{{ ledgers.gridwork.patrols }}，巡查时长{{ ledgers.gridwork.hours }}，"
        "点位打卡{{ ledgers.gridwork.checks }}。",
    )
    _control(doc, "{%p endif %}")
    _control(doc, "{%p if ledgers.registers %}")
    _para(
        doc,
        "累计网格入户走访{{ ledgers.registers.person_times }}{% if ledgers.registers.collected != '0条' %}，"
        "采集基础数据{{ ledgers.registers.collected }}{% endif %}{% if ledgers.registers.cancelled != '0人' %}，注销流动人口{{ ledgers.registers.cancelled }}，注销及时率"
        "{{ ledgers.registers.cancel_on_time_rate }}{% endif %}。",
    )
    _control(doc, "{%p endif %}")
    _control(doc, "{%p if ledgers.estates %}")
    _para(
        doc,
        "采集{{ ledgers.estates.key_buildings }}重点楼宇{{ ledgers.estates.occupants }}单位基础信息，重点楼宇注册率达"
        "{{ ledgers.estates.registration_rate }}{% if ledgers.estates.cleared != '0间' %}；清退违规出租房"
        "{{ ledgers.estates.cleared }}{% endif %}。",
    )
    _control(doc, "{%p endif %}")
    _control(doc, "{%p endif %}")

    _control(doc, "{%p if ledgers.activities %}")
    _para(doc, "{{ sec.activities }}民生服务：活动与志愿服务", font="楷体", bold=True)
    _para(
        doc,
        "{{ period }}组织开展宣讲、培训、演练、志愿服务等各类活动{{ ledgers.activities.count }}、"
        "{{ ledgers.activities.sessions }}，参与{{ ledgers.activities.attendance }}"
        "{% if ledgers.activities.volunteer_hours != '0.0小时' %}；志愿者累计服务"
        "{{ ledgers.activities.volunteer_hours }}{% endif %}{% if ledgers.activities.plans != '0项' %}；"
        "在册应急预案{{ ledgers.activities.plans }}{% if ledgers.activities.plans_overdue != '0项' %}，其中"
        "{{ ledgers.activities.plans_overdue }}逾期未复核{% endif %}{% endif %}。",
    )
    _control(doc, "{%p endif %}")
    _control(doc, "{%p if goals or projects %}")
    _para(doc, "{{ sec.economy }}经济发展：目标任务稳步推进", font="楷体", bold=True)
    _control(doc, "{%p if goals %}")
    _para(
        doc,
        "{{ year }}年高质量发展绩效评价考核指标共{{ goals.indicators }}，根据{{ goals_period }}完成情况预测全年，"
        "取得{{ goals.green }}绿灯{% if goals_climbed %}，实现{{ goals.climbed }}指标攀高{% endif %}。",
    )
    _table(
        doc,
        ["序号", "指标名称", "单位", "状态"],
        ["{{ r.no }}", "{{ r.name }}", "{{ r.unit }}", "{{ r.light_label }}"],
        "r in indicators",
        [15, 95, 25, 25],
    )
    _control(doc, "{%p endif %}")
    _control(doc, "{%p if projects %}")
    _para(
        doc,
        "{{ goals_period }}共有重点项目{{ projects.count }}，全年计划总投资{{ projects.plan }}，{{ goals_period }}"
        "完成投资{{ projects.done }}，占计划的{{ projects.rate }}。",
    )
    _table(
        doc,
        ["类别", "项目名称", "年度计划投资", "累计完成投资", "完成率", "形象进度"],
        ["{{ r.category }}", "{{ r.name }}", "{{ r.plan }}", "{{ r.done }}", "{{ r.rate }}", "{{ r.note }}"],
        "r in projects_table",
        [25, 45, 25, 25, 18, 22],
        size=10.5,
    )
    _control(doc, "{%p endif %}")
    _control(doc, "{%p endif %}")

    _control(doc, "{%p if manual.achievements %}")
    _para(doc, "{{ manual.achievements }}")
    _control(doc, "{%p endif %}")

    _para(doc, "二、存在问题", font=HEADING_FONT)
    _control(doc, "{%p for line in problems %}")
    _para(doc, "{{ loop.index }}. {{ line }}")
    _control(doc, "{%p endfor %}")

    _para(doc, "三、下步计划", font=HEADING_FONT)
    _para(doc, "{{ manual.plans }}")

    _control(doc, "{%p if ledger_totals %}")
    _para(doc, "台账汇总", font=HEADING_FONT, indent=False)
    _table(
        doc,
        ["台账", "指标", "数值"],
        ["{{ r.ledger }}", "{{ r.name }}", "{{ r.text }}"],
        "r in ledger_totals",
        [45, 70, 45],
    )
    _control(doc, "{%p endif %}")

    _para(doc, "附：数据来源说明", font=HEADING_FONT, indent=False)
    _para(doc, "本报告中的数字均由平台按下表口径统计，统计期为{{ start }}至{{ end }}。", size=12)
    _table(
        doc,
        ["数据项", "数值", "口径（公式）", "统计期", "来源"],
        ["{{ r.label }}", "{{ r.text }}", "{{ r.formula }}", "{{ r.period }}", "{{ r.source }}"],
        "r in appendix",
        [28, 20, 62, 26, 24],
        size=9,
    )
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
