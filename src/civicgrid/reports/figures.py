"""The figures of a work report, each with its value, its text in the report's number style, its formula and the
period it was counted over — read from the metrics module (case figures: :mod:`civicgrid.metrics.registry` over
the rollup; ledger figures: :mod:`civicgrid.metrics.ledgers`, registered by each ledger app) and from the 目标考核
module (indicator lights, project investment). Nothing here counts rows of its own.

A module that is not installed, or that has nothing for the period, contributes nothing: its section of the
report is left out, not filled with zeros.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.apps import apps
from django.db.models import Min

from civicgrid.core import zhnum
from civicgrid.metrics import ledgers, registry
from civicgrid.metrics import selectors as metric_selectors
from civicgrid.metrics.models import DailyRollup


@dataclass(frozen=True)
class Value:
    key: str  # the placeholder's path in the template context, e.g. "cases.received"
    label: str  # 受理数
    value: int | float | str | None  # the number itself (Decimals as str, to survive JSON)
    text: str  # as the report writes it: "1471件", "98.3%", "22.12亿元"
    formula: str  # how it is computed, in words
    period: str  # the query period, e.g. "2025-01-01 至 2025-12-31"
    source: str  # where it comes from, e.g. "metrics.registry:received", "metrics.ledgers:petitions"

    def __str__(self) -> str:  # a placeholder prints its text
        return self.text


@dataclass
class Collected:
    """Everything a report is drafted from, JSON-serialisable (the snapshot a version keeps). A 区 report keeps
    the 区's name and code in ``street`` / ``street_code`` (what the template calls ``street``) and ``scope``
    "district"."""

    street: str
    street_code: str
    start: str
    end: str
    period: str  # "全年", "1-9月" …
    year: int
    rounding: str
    values: dict[str, dict] = field(default_factory=dict)  # key → Value as a dict
    order: list[str] = field(
        default_factory=list
    )  # the keys in report order (PostgreSQL's jsonb sorts dict keys)
    tables: dict[str, list[dict]] = field(default_factory=dict)  # indicator summary, projects, ledgers
    sections: list[str] = field(default_factory=list)  # the modules that contributed
    scope: str = "street"  # "street": one 街道; "district": a 区, its 街道 summed

    def add(self, v: Value) -> None:
        if v.key not in self.values:
            self.order.append(v.key)
        self.values[v.key] = asdict(v)

    def as_json(self) -> dict:
        return asdict(self)


def ordered_values(snapshot: dict) -> list[dict]:
    """A snapshot's figures in report order, however the database returned the dict's keys."""
    values = snapshot.get("values", {})
    order = snapshot.get("order") or list(values)
    return [values[k] for k in order if k in values]


def period_text(start: date, end: date) -> str:
    return f"{start.isoformat()} 至 {end.isoformat()}"


def _count_text(n: int | None, unit: str) -> str:
    return "—" if n is None else f"{n}{unit}"


def collect(
    *, user, street=None, district=None, start: date, end: date, rounding: str = zhnum.HALF_UP
) -> Collected:
    """The report's figures for ``street`` — or for the whole 区 ``district``, its 街道 summed — over the whole
    days [start, end], as ``user`` may see them.

    A 区 report reads the same selectors without a 街道 (``user``'s tier is the 区: see
    ``selectors.reader_for``), adds the per-街道 comparison (``tables["streets"]``, the rollup grouped by 街道)
    and leaves out the ledgers whose provider is registered as per-街道 only (``district=False``). The 目标考核
    figures (scorecards and projects are kept per 街道) are not in a 区 report."""
    if (street is None) == (district is None):
        raise ValueError("collect() takes a street or a district")
    place = street if street is not None else district
    out = Collected(
        street=place.name,
        street_code=place.code,
        start=start.isoformat(),
        end=end.isoformat(),
        period=zhnum.period_label(start, end),
        year=end.year,
        rounding=rounding,
        scope="street" if street is not None else "district",
    )
    _case_figures(out, user=user, street=street, district=district, start=start, end=end)
    if district is not None:
        _street_table(out, user=user, district=district, start=start, end=end)
    _ledger_figures(out, user=user, start=start, end=end, district=district is not None)
    if street is not None and apps.is_installed("civicgrid.goals"):
        _goal_figures(out, user=user, street=street, end=end)
    return out


# --- case figures (metrics registry over the rollup) --------------------------------------------------------


def _case_figures(out: Collected, *, user, street, district=None, start: date, end: date) -> None:
    period = period_text(start, end)
    street_id = street.pk if street is not None else None  # a 区: the reader's tier is the 区
    counters = registry.with_derived(
        metric_selectors.rollup_counters(user=user, start=start, end=end, street_id=street_id)[None]
    )
    ly_start, ly_end = metric_selectors.shift_year(start), metric_selectors.shift_year(end)
    last_year = registry.with_derived(
        metric_selectors.rollup_counters(user=user, start=ly_start, end=ly_end, street_id=street_id)[None]
    )
    # 同比 only when the platform holds the whole of last year's period (a first year of data would otherwise
    # print growth over a few weeks of records)
    on_record = (
        DailyRollup.objects.filter(street_id=street.pk)
        if street is not None
        else DailyRollup.objects.filter(street_id__in=district.streets.values("pk"))
    )
    first_day = on_record.aggregate(d=Min("day"))["d"]
    has_last_year = first_day is not None and first_day <= ly_start
    for m in registry.all_metrics():
        value = m.value(counters)
        if m.kind == registry.RATE:
            text = zhnum.rate(
                counters.get(m.numerator, 0), counters.get(m.denominator, 0), rounding=out.rounding
            )
            formula = f"{m.formula}（{m.numerator} ÷ {m.denominator} × 100%）"
        elif m.kind == registry.COUNT:
            text = _count_text(value, m.unit)
            formula = m.formula
        else:
            text = "—" if value is None else f"{value}{m.unit}"
            formula = m.formula
        out.add(
            Value(
                f"cases.{m.name}", m.label, value, text or "—", formula, period, f"metrics.registry:{m.name}"
            )
        )
        if m.kind == registry.COUNT and has_last_year:
            before = m.value(last_year)
            phrase = zhnum.yoy(value, before, rounding=out.rounding)
            if phrase:
                out.add(
                    Value(
                        f"cases.{m.name}_yoy",
                        f"{m.label}同比",
                        before,
                        phrase,
                        f"（本期{m.label} − 去年同期{m.label}）÷ 去年同期{m.label}；去年同期 "
                        f"{period_text(ly_start, ly_end)} 为 {before}",
                        period,
                        f"metrics.registry:{m.name}",
                    )
                )
    out.add(
        Value(
            "cases.received_grid",
            "网格上报数",
            counters.get("received_grid", 0),
            f"{counters.get('received_grid', 0)}件",
            "期内由网格员上报（巡查发现）的工单数，不含作废",
            period,
            "metrics.rollup:received_grid",
        )
    )
    if counters.get("received"):
        out.sections.append("cases")
        out.tables["monthly"] = _monthly(user=user, street=street, start=start, end=end)
        _group_figures(out, user=user, street=street, start=start, end=end)


STREET_TABLE = ("received", "done", "on_time_rate", "satisfaction_rate")  # the 区 report's per-街道 columns


def _street_table(out: Collected, *, user, district, start: date, end: date) -> None:
    """A 区 report's comparison of its 街道 (受理, 办结, 按期办结率, 满意率): the rollup grouped by 街道 (the same
    figures ``civicgrid stats --by street`` gives), every 街道 of the 区 in code order, each number also in the
    appendix with its formula."""
    from civicgrid.places.models import Street

    period = period_text(start, end)
    raw = metric_selectors.rollup_counters(user=user, start=start, end=end, by="street")
    rows = []
    for s in Street.objects.filter(district_id=district.pk).order_by("code"):
        c = registry.with_derived(raw.get(s.pk, {}))
        row = {"code": s.code, "name": s.name}
        for name in STREET_TABLE:
            m = registry.get(name)
            value = m.value(c)
            if m.kind == registry.RATE:
                text = (
                    zhnum.rate(c.get(m.numerator, 0), c.get(m.denominator, 0), rounding=out.rounding) or "—"
                )
                formula = f"{m.formula}（{m.numerator} ÷ {m.denominator} × 100%）"
            else:
                text, formula = _count_text(value, m.unit), m.formula
            row[name] = text
            out.add(Value(f"by_street.{s.code}.{name}", f"{s.name}·{m.label}", value, text, formula, period,
                          f"metrics.registry:{name}（按街道）"))  # fmt: skip
        rows.append(row)
    if rows:
        out.tables["streets"] = rows


def _monthly(*, user, street, start: date, end: date) -> list[dict]:
    """受理 and 办结 per calendar month of the period (the chart's data; parts of months at the edges)."""
    rows = []
    first = start.replace(day=1)
    while first <= end:
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        a, b = max(first, start), min(last, end)
        c = metric_selectors.rollup_counters(
            user=user, start=a, end=b, street_id=street.pk if street is not None else None
        )[None]
        rows.append({"month": f"{first.month}月", "received": c.get("received", 0), "done": c.get("done", 0)})
        first = last + timedelta(days=1)
    return rows


# (table, --by of metrics.selectors.stats, label, how many groups the report shows: None for all)
GROUPINGS = (("sources", "source", "来源", None), ("categories", "category", "问题类别", 10))


def _group_figures(out: Collected, *, user, street, start: date, end: date) -> None:
    """受理 per source (来源构成) and per category (大类, the ten largest): the metrics module's grouped stats, each
    group a figure of the appendix and a row of the chart's table (with its share of all 受理)."""
    period = period_text(start, end)
    for table, by, label, limit in GROUPINGS:
        code = street.code if street is not None else None  # a 区: the reader's tier is the 区
        groups = metric_selectors.stats(user=user, start=start, end=end, street_code=code, by=by)["groups"]
        groups = [g for g in groups if g["received"]]
        total = sum(g["received"] for g in groups)
        rows = []
        for g in groups[:limit] if limit else groups:
            n = g["received"]
            share = zhnum.rate(n, total, rounding=out.rounding) or "—"
            slug = (g["key"] or "none").replace(".", "_")
            rank = f"前{limit}位之一，" if limit else ""
            out.add(Value(f"cases.{table}.{slug}", f"受理数·{label}·{g['label']}", n, f"{n}件",
                          f"期内受理的工单中{label}为「{g['label']}」的件数（{rank}占受理 {n} ÷ {total} = {share}）",
                          period, f"metrics.stats:by={by}"))  # fmt: skip
            rows.append({"key": g["key"], "label": g["label"], "received": n, "share": share})
        if rows:
            out.tables[table] = rows


# --- ledger figures (metrics.ledgers) -----------------------------------------------------------------------


def _ledger_text(f: dict, rounding: str) -> tuple[str, str]:
    """A ledger figure's text and formula: a rate the provider gives with its numerator and denominator is
    written with the report's rule (四舍五入 / 截尾), like the case rates; anything else as the provider counts it."""
    value, unit = f["value"], f["unit"]
    formula = f.get("formula") or ""
    num, den = f.get("numerator"), f.get("denominator")
    if unit == "%" and num is not None and den is not None:
        return zhnum.rate(num, den, rounding=rounding) or "—", f"{formula}（{num} ÷ {den}）"
    return ("—" if value is None else f"{value}{unit}"), formula


def _ledger_figures(out: Collected, *, user, start: date, end: date, district: bool = False) -> None:
    """Each ledger with something recorded in the period: its figures (``ledgers.<code>.<key>``), its 办结率, and
    the rows of the 台账汇总 table (``tables["ledger_totals"]``: ledger, figure, text — every figure of
    ``metrics.ledgers`` with a value). ``district``: a 区 report — the ledgers registered as per-街道 only are left out, never summed."""
    period = period_text(start, end)
    rows, totals = [], []
    for summary in ledgers.summaries(user=user, start=start, end=end, district=district):
        code = summary["code"]
        figures = summary["figures"]
        if not any(f["value"] for f in figures):
            continue  # nothing recorded in the period: the section is left out
        for f in figures:
            key = f.get("key") or f["label"]
            value = f["value"]
            text, formula = _ledger_text(f, out.rounding)
            formula = formula or f"{summary['label']}台账：{f['label']}"
            out.add(Value(f"ledgers.{code}.{key}", f"{summary['label']}·{f['label']}", value, text, formula,
                          period, f"metrics.ledgers:{code}"))  # fmt: skip
            if text != "—":
                totals.append({"ledger": summary["label"], "name": f["label"], "text": text})
        by_key = {f.get("key"): f["value"] for f in figures}
        if by_key.get("registered") and by_key.get("registered_done") is not None:
            done, registered = by_key["registered_done"], by_key["registered"]
            text = zhnum.rate(done, registered, rounding=out.rounding)
            out.add(
                Value(
                    f"ledgers.{code}.done_rate",
                    f"{summary['label']}·办结率",
                    None,
                    text or "—",
                    f"期内登记的{summary['label']}中已办结的 ÷ 期内登记 × 100%（{done} ÷ {registered}）",
                    period,
                    f"metrics.ledgers:{code}",
                )
            )
        if code == "hazards" and by_key.get("registered") and by_key.get("open") is not None:
            phrase = zhnum.when_zero(by_key["open"], "已全部完成整改")
            if phrase:
                out.add(Value("phrases.hazards_all_done", "隐患全部整改", by_key["open"], phrase,
                              "仅当统计时在办隐患为 0 件时写入", period, "metrics.ledgers:hazards"))  # fmt: skip
        rows.append({"label": summary["label"], "figures": "；".join(
            f"{f['label']}{_ledger_text(f, out.rounding)[0]}" for f in figures)})  # fmt: skip
        out.sections.append(code)
    if rows:
        out.tables["ledgers"] = rows
        out.tables["ledger_totals"] = totals


# --- 目标考核 (indicator lights, project investment) -------------------------------------------------------


def _goal_figures(out: Collected, *, user, street, end: date) -> None:
    from civicgrid.goals import selectors as goals

    if not goals.can_view(user):
        return
    period = f"{end.year}年1-{end.month}月"
    card = goals.visible_scorecards(user=user).filter(street=street, year=end.year).first()
    if card is not None and card.indicators.exists():
        summary = goals.summary(scorecard=card, month=end.month)
        n = len(summary.lines)
        for key, label, value, formula in (
            ("indicators", "考核指标数", n, "本年度考核指标目录中的指标数"),
            ("green", "绿灯数", summary.green, "预计全年完成目标（或 1-N月 ≥ 时序进度 × 目标）的指标数"),
            ("yellow", "黄灯数", summary.yellow, "距目标在黄灯区间内的指标数"),
            ("red", "红灯数", summary.red, "其余指标数"),
            ("climbed", "攀高数", summary.climbed, "在街道间排名上升的指标数（导入的排名）"),
        ):
            unit = "项" if key == "indicators" else "盏" if key in ("green", "yellow", "red") else "个"
            out.add(Value(f"goals.{key}", label, value, f"{value}{unit}", formula, period, "goals.summary"))
        out.tables["indicators"] = [
            {
                "no": line.indicator.seq,
                "name": line.indicator.name,
                "unit": line.indicator.unit,
                "light": line.status.light,
                "light_label": line.status.label,
            }
            for line in summary.lines
        ]
        out.sections.append("indicators")
    board = goals.board(user=user, year=end.year, month=end.month, street_id=street.pk)
    if board.count:
        wan = Decimal(10_000)
        out.add(Value("projects.count", "重点项目数", board.count, f"{board.count}个", "本年度登记的项目数",
                      period, "goals.board"))  # fmt: skip
        out.add(Value("projects.plan", "年度计划投资", str(board.plan), zhnum.amount(board.plan * wan) or "—",
                      "各项目年度计划投资之和（万元 → 元）", period, "goals.board"))  # fmt: skip
        out.add(Value("projects.done", "累计完成投资", str(board.done), zhnum.amount(board.done * wan) or "—",
                      "各项目 1-N月 累计完成投资之和", period, "goals.board"))  # fmt: skip
        out.add(
            Value(
                "projects.rate",
                "投资完成率",
                None if board.rate is None else str(board.rate),
                zhnum.rate(board.done, board.plan, decimals=2, rounding=out.rounding) or "—",
                "Σ累计完成投资 ÷ Σ年度计划投资 × 100%（不是各项目完成率的平均）",
                period,
                "goals.board",
            )
        )
        out.add(Value("projects.lagging", "滞后项目数", board.lagging, f"{board.lagging}个",
                      "累计完成投资低于年度计划 × 时序进度的项目数", period, "goals.board"))  # fmt: skip
        out.tables["projects"] = [
            {
                "category": block.label,
                "name": line.project.name,
                "plan": zhnum.amount(line.project.annual_plan * wan) or "—",
                "done": zhnum.amount(line.done * wan) or "—",
                "rate": zhnum.rate(line.done, line.project.annual_plan, rounding=out.rounding) or "—",
                "note": line.note,
            }
            for block in board.categories
            for line in block.lines
        ]
        out.sections.append("projects")
