"""Rendering a report version: the template context from a version's snapshot, the chart, the .docx (docxtpl),
the companion Excel of every figure, and the PDF (LibreOffice headless).

Rendering reads only the snapshot and the manual inputs, never the database: the same version renders to the
same bytes today and next year (zip entries carry a fixed date; the chart is drawn without timestamps).
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from datetime import date
from pathlib import Path

from civicgrid.core import zhnum
from civicgrid.core.errors import ValidationFailed
from civicgrid.reports import filters
from civicgrid.reports.figures import ordered_values
from civicgrid.reports.filters import Figure

FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

# what staff may type for a report (the rest of the text is drawn from the figures)
MANUAL_FIELDS = {
    "lead": "开篇导语",
    "achievements": "其他工作成效（平台之外的数据，如经济指标、招商引资）",
    "problems": "存在问题（补充，每行一条）",
    "plans": "下步计划",
}
DEFAULT_LEAD = "{period}，{street}坚持以人民为中心，深化网格化治理，统筹推进城市管理、平安建设、基层治理和经济发展各项工作。现将有关情况总结如下："  # noqa: E501
PLANS_PROMPT = "【待填写：下步工作计划】"


class RenderError(ValidationFailed):
    pass


def _figure(key: str, v: dict, values: dict[str, dict]) -> Figure:
    """The figure as the template sees it: its text, with its number (and last year's, and a 办结率's two counts)
    for the filters."""
    previous = values.get(f"{key}_yoy", {}).get("value")
    ratio = None
    if key.startswith("ledgers.") and key.endswith(".done_rate"):
        base = key[: -len("done_rate")]
        ratio = (
            values.get(f"{base}registered_done", {}).get("value"),
            values.get(f"{base}registered", {}).get("value"),
        )
    return Figure(v["text"], key=key, value=v.get("value"), previous=previous, ratio=ratio)


def _nest(values: dict[str, dict]) -> dict:
    """``{"cases.received": {...text}}`` → ``{"cases": {"received": Figure("1471件")}}`` (the template prints
    texts; the filters read the numbers)."""
    root: dict = {}
    for key, v in values.items():
        node = root
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _figure(key, v, values)
    return root


def problems(snapshot: dict, manual: dict) -> list[str]:
    """存在问题: what the figures show (each only when it holds), then the lines staff added."""
    v = snapshot.get("values", {})
    out = []

    def num(key):
        value = v.get(key, {}).get("value")
        try:
            return None if value is None else float(value)
        except (TypeError, ValueError):
            return None

    on_time = num("cases.on_time_rate")
    if on_time is not None and on_time < 90:
        out.append(f"工单按期办结率为{v['cases.on_time_rate']['text']}，部分工单处置时效有待提高。")
    satisfied = num("cases.satisfaction_rate")
    if satisfied is not None and satisfied < 90:
        out.append(f"群众满意率为{v['cases.satisfaction_rate']['text']}，服务质量仍有提升空间。")
    rework = num("cases.rework_rate")
    if rework is not None and rework >= 5:
        out.append(f"工单返工率为{v['cases.rework_rate']['text']}，一次办结质量有待提高。")
    overdue_plans = num("ledgers.activities.plans_overdue")
    if overdue_plans:
        out.append(f"{int(overdue_plans)}项应急预案逾期未复核，需及时修订。")
    open_hazards = num("ledgers.hazards.open")
    if open_hazards:
        out.append(f"尚有{v['ledgers.hazards.open']['text']}安全隐患正在整改，需持续跟踪销号。")
    red = num("goals.red")
    if red:
        out.append(f"{int(red)}项考核指标预计难以完成全年目标（红灯），需加大推进力度。")
    lagging = num("projects.lagging")
    if lagging:
        out.append(f"{int(lagging)}个重点项目投资进度滞后于时序进度。")
    for line in (manual.get("problems") or "").splitlines():
        if line.strip():
            out.append(line.strip())
    return out


def context(snapshot: dict, manual: dict, *, charts: dict | None = None) -> dict:
    nested = _nest(snapshot.get("values", {}))
    period, street = snapshot["period"], snapshot["street"]
    year = snapshot["year"]
    title_period = zhnum.title_period(
        date.fromisoformat(snapshot["start"]), date.fromisoformat(snapshot["end"])
    )
    manual = {k: (manual.get(k) or "").strip() for k in MANUAL_FIELDS}
    end_month = int(snapshot["end"][5:7])
    goals_values = snapshot.get("values", {})
    sections = snapshot.get("sections", [])
    ledgers = nested.get("ledgers", {})
    present = {
        "cases": "cases" in sections,
        "safety": any(k in ledgers for k in ("hazards", "disputes", "petitions")),
        "grid": any(k in ledgers for k in ("gridwork", "registers", "estates")),
        "activities": "activities" in ledgers,
        "economy": "indicators" in sections or "projects" in sections,
    }
    numerals = "一二三四五六七八九十"
    sec, n = {}, 0
    for name, shown in present.items():
        if shown:
            sec[name] = f"（{numerals[n]}）"
            n += 1
    return {
        **nested,
        "sec": sec,
        "cases": nested.get("cases") if "cases" in snapshot.get("sections", []) else None,
        "ledgers": nested.get("ledgers", {}),
        "goals": nested.get("goals") if "indicators" in snapshot.get("sections", []) else None,
        "projects": nested.get("projects") if "projects" in snapshot.get("sections", []) else None,
        "goals_period": f"1-{end_month}月",
        "goals_climbed": bool(goals_values.get("goals.climbed", {}).get("value")),
        "phrases": nested.get("phrases", {}),
        "street": street,
        "year": year,
        "period": period,
        "start": snapshot["start"],
        "end": snapshot["end"],
        "title": f"{street}{title_period}工作总结",
        "lead": manual["lead"] or DEFAULT_LEAD.format(period=title_period, street=street),
        "manual": {**manual, "plans": manual["plans"] or PLANS_PROMPT},
        "problems": problems(snapshot, manual) or ["【待填写：存在问题】"],
        "indicators": snapshot.get("tables", {}).get("indicators", []),
        "projects_table": snapshot.get("tables", {}).get("projects", []),
        "ledger_table": snapshot.get("tables", {}).get("ledgers", []),
        "ledger_totals": snapshot.get("tables", {}).get("ledger_totals", []),
        "streets_table": snapshot.get("tables", {}).get("streets", []),
        "is_district": snapshot.get("scope") == "district",
        "appendix": ordered_values(snapshot),
        "charts": charts or {},
    }


# --- chart ---------------------------------------------------------------------------------------------------


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    for f in font_manager.fontManager.ttflist:
        if "CJK SC" in f.name or f.name in ("Noto Sans CJK JP", "WenQuanYi Zen Hei", "SimHei"):
            return f.name
    return None


def monthly_chart(rows: list[dict]) -> bytes | None:
    """A bar chart of 受理/办结 per month (PNG), or None without data."""
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    font = _cjk_font()
    rc = {"font.family": [font] if font else ["DejaVu Sans"], "svg.hashsalt": "civicgrid"}
    with matplotlib.rc_context(rc):
        fig, ax = plt.subplots(figsize=(7.5, 3.2), dpi=150)
        xs = range(len(rows))
        ax.bar([x - 0.2 for x in xs], [r["received"] for r in rows], width=0.4, label="受理", color="#2f6fb2")
        ax.bar([x + 0.2 for x in xs], [r["done"] for r in rows], width=0.4, label="办结", color="#5aa469")
        ax.set_xticks(list(xs), [r["month"] for r in rows])
        ax.set_ylabel("件")
        ax.legend(frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        plt.close(fig)
    return buf.getvalue()


def _hbar_chart(labels: list[str], values: list[int], notes: list[str], *, color: str) -> bytes:
    """A horizontal bar chart, largest on top, each bar with its note ("135件 45.0%") — PNG without timestamps."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    font = _cjk_font()
    rc = {"font.family": [font] if font else ["DejaVu Sans"], "svg.hashsalt": "civicgrid"}
    with matplotlib.rc_context(rc):
        fig, ax = plt.subplots(figsize=(7.5, 0.9 + 0.36 * len(labels)), dpi=150)
        ys = list(range(len(labels)))[::-1]
        ax.barh(ys, values, height=0.6, color=color)
        ax.set_yticks(ys, labels)
        top = max(values)
        for y, v, note in zip(ys, values, notes, strict=True):
            ax.text(v + top * 0.01, y, note, va="center", fontsize=9)
        ax.set_xlim(0, top * 1.25)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("件")
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        plt.close(fig)
    return buf.getvalue()


def _group_chart(rows: list[dict], *, share: bool, color: str) -> bytes | None:
    """受理 per group (largest first), each bar noted with its count (and ``share``), or None without cases."""
    rows = [r for r in rows if r.get("received")]
    if not rows:
        return None
    notes = [f"{r['received']}件" + (f"  {r['share']}" if share else "") for r in rows]
    return _hbar_chart([r["label"] for r in rows], [r["received"] for r in rows], notes, color=color)


# 来源构成 (with each source's share) and 问题类别前十 (大类)
sources_chart = functools.partial(_group_chart, share=True, color="#2f6fb2")
categories_chart = functools.partial(_group_chart, share=False, color="#d9822b")


CHARTS = {"monthly": monthly_chart, "sources": sources_chart, "categories": categories_chart}


# --- docx ----------------------------------------------------------------------------------------------------


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every entry dated 1980-01-01 (a .docx's bytes then depend only on its content)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def template_error(exc: Exception) -> str:
    """A template's error in words staff can act on (an unknown filter is named, with the ones there are)."""
    text = str(exc)
    unknown = re.search(r"No filter named '([^']+)'", text)
    if unknown:
        return (
            f"模板占位符有误：没有名为“{unknown.group(1)}”的过滤器（可用：{'、'.join(filters.NAMES)}；"
            "见 docs/reports.md）"
        )
    return f"模板占位符有误：{text}"


def render_docx(template: bytes, snapshot: dict, manual: dict) -> bytes:
    """The report as .docx bytes (raises :class:`RenderError` naming the problem for a broken template)."""
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage
    from jinja2 import TemplateError

    try:
        tpl = DocxTemplate(io.BytesIO(template))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise RenderError(f"模板不是有效的 Word 文档（.docx）：{exc}", field="template") from None
    charts = {}
    for name, draw in CHARTS.items():
        png = draw(snapshot.get("tables", {}).get(name, []))
        if png:
            charts[name] = InlineImage(tpl, io.BytesIO(png), width=Mm(150))
    env = filters.environment(snapshot.get("rounding") or zhnum.HALF_UP)
    try:
        tpl.render(context(snapshot, manual, charts=charts), env, autoescape=True)
    except TemplateError as exc:
        raise RenderError(template_error(exc), field="template") from None
    except (TypeError, ValueError, ArithmeticError, AttributeError, LookupError) as exc:
        # an expression of the template that does not fit the figures ({{ cases.received + 1 }}): the user's
        raise RenderError(
            f"模板无法生成文档：{type(exc).__name__}: {str(exc)[:200]}", field="template"
        ) from None
    buf = io.BytesIO()
    tpl.save(buf)
    return _fixed_zip(buf.getvalue())


def placeholder_paths(template: bytes) -> set[str]:
    """The names a template reads, as dotted paths (``street``, ``cases.received``,
    ``ledgers.petitions.registered``): every attribute chain rooted at a name the template does not define itself
    (loop and ``set`` variables are left out), the longest chain only."""
    from docx import Document
    from docx.oxml import parse_xml
    from docxtpl import DocxTemplate
    from jinja2 import meta, nodes

    doc = Document(io.BytesIO(template))
    tpl = DocxTemplate(io.BytesIO(template))
    xml = tpl.patch_xml(tpl.xml_to_string(doc._element.body))
    for rel in doc.part.rels.values():
        if rel.reltype in (tpl.HEADER_URI, tpl.FOOTER_URI) and rel.target_part.blob:
            xml += tpl.patch_xml(tpl.xml_to_string(parse_xml(rel.target_part.blob)))
    env = filters.environment()
    ast = env.parse(xml)
    roots = meta.find_undeclared_variables(ast)
    paths = set()
    inner = set()
    for node in ast.find_all(nodes.Getattr):
        chain, cur = [], node
        while isinstance(cur, nodes.Getattr):
            chain.append(cur.attr)
            inner.add(id(cur.node))
            cur = cur.node
        if isinstance(cur, nodes.Name) and cur.name in roots:
            paths.add((id(node), ".".join([cur.name, *reversed(chain)])))
    out = {path for node_id, path in paths if node_id not in inner}
    named = {p.split(".", 1)[0] for p in out}
    return out | (roots - named)


FIGURE_ATTRS = frozenset({"value", "previous", "ratio", "key"})  # what a figure carries besides its text


def unknown_placeholders(template: bytes, snapshot: dict) -> list[str]:
    """The placeholders of ``template`` that the figures of ``snapshot`` (a draft of the same 街道 or 区) do not
    hold — a misspelt name (``cases.recieved``) or a module without data in that period; each would print
    nothing. Filters' and Jinja's own names are not placeholders."""
    ctx = context(snapshot, {}, charts=dict.fromkeys(CHARTS, ""))
    env = filters.environment()
    out = []
    for path in sorted(placeholder_paths(template)):
        root, *rest = path.split(".")
        if root in env.globals or root == "loop":
            continue
        ok, value = root in ctx, ctx.get(root)
        for part in rest:
            if not ok:
                break
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, Figure) and part in FIGURE_ATTRS:
                value = getattr(value, part)
            elif isinstance(value, list | str) or value is None:
                ok = False  # a table's rows or a figure's text: no attribute of that name
            else:
                ok = hasattr(value, part)
        if not ok:
            out.append(path)
    return out


# --- companion Excel -----------------------------------------------------------------------------------------


def appendix_xlsx(snapshot: dict) -> bytes:
    """Every figure of the version: placeholder, label, value, text, formula, period, source."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "数据来源"
    ws.append(["占位符", "数据项", "数值", "报告中写作", "口径（公式）", "统计期", "来源"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for v in ordered_values(snapshot):
        ws.append([v["key"], v["label"], v["value"], v["text"], v["formula"], v["period"], v["source"]])
    for col, width in zip("ABCDEFG", (30, 22, 12, 18, 60, 26, 30), strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- PDF -----------------------------------------------------------------------------------------------------


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(docx: bytes, *, timeout: int = 180) -> bytes:
    """The .docx converted by LibreOffice headless (fonts embedded by LibreOffice; install fonts-noto-cjk)."""
    exe = soffice()
    if exe is None:
        raise RenderError(
            "本机未安装 LibreOffice，无法导出 PDF（见 docs/reports.md 的安装说明）", field="format"
        )
    with tempfile.TemporaryDirectory(prefix="cg_report_") as tmp:
        src = Path(tmp) / "report.docx"
        src.write_bytes(docx)
        env = {**os.environ, "HOME": tmp}
        try:
            subprocess.run(
                [exe, "--headless", f"-env:UserInstallation=file://{tmp}/lo", "--convert-to", "pdf",
                 "--outdir", tmp, str(src)],
                check=True, capture_output=True, timeout=timeout, env=env,
            )  # fmt: skip
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise RenderError(f"PDF 转换失败：{exc}", field="format") from None
        out = Path(tmp) / "report.pdf"
        if not out.exists():
            raise RenderError("PDF 转换没有产生文件", field="format")
        return out.read_bytes()
