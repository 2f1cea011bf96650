"""Every read of the 指挥中心 screens: the figures come from the metrics module's daily rollup (the same scope rule,
``metrics.selectors.scope_q``, and the same formulas, ``metrics.selectors.figures``), with the filters the leader
view adds (社区, 处置部门, 分类大类, 来源); the live state (open cases by light, overdue cases) from the cases the
user sees (``cases.selectors.visible_cases``); the ledger summaries and the open warnings from ``metrics.ledgers``.

Access: staff with ``street_wide_view`` (指挥中心, 值班长, 领导, 系统管理员); a 区 account sees every 街道 of its 区
and may narrow to one (``street``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.urls import reverse

from civicgrid.accounts import selectors as account_selectors
from civicgrid.accounts.models import Department
from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.cases import procedures
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.models import Category, Source
from civicgrid.core import clock
from civicgrid.core.choices import Light
from civicgrid.core.errors import PermissionDenied
from civicgrid.metrics import ledgers
from civicgrid.metrics import selectors as metric_selectors
from civicgrid.metrics.errors import BadQuery
from civicgrid.metrics.models import COUNTERS, DailyRollup
from civicgrid.places import selectors as place_selectors
from civicgrid.places.models import Community, Grid, Street

PERIODS = {
    "month": "本月",
    "quarter": "本季",
    "months": "1–N月",
    "ytd": "今年以来",
    "year": "全年",
    "custom": "自定义",
}
TREND_DAYS = 30
# the headline figures of the leader view and the 简报, in order: (metric, the list behind it, extra list filter)
HEADLINE: list[tuple[str, str, dict]] = [
    ("received", "received", {}),
    ("accepted", "accepted", {}),
    ("done", "done", {}),
    ("on_time_rate", "done", {}),
    ("response_rate", "dispatched", {}),
    ("satisfaction_rate", "done", {}),
    ("rework_rate", "done", {}),
    ("proactive_rate", "received", {"source": "grid_patrol"}),
]
LIGHTS = [
    (Light.GREEN.value, "正常"),
    (Light.YELLOW.value, "预警"),
    (Light.RED.value, "超时"),
    ("", "未计时"),
]


def require_access(user) -> None:
    if not (user and user.is_authenticated and has_capability(user, Capability.STREET_WIDE_VIEW)):
        raise PermissionDenied("指挥中心仅供指挥中心、值班长、领导查看", code="forbidden")


# --- filters ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    period: str = "month"
    year: int | None = None
    months: int | None = None  # N of 1–N月 (the quarter's number for 本季)
    month: str = ""  # YYYY-MM of period=month (empty: this month)
    street: Street | None = None
    community: Community | None = None
    department: Department | None = None
    family: Category | None = None
    source: str = ""

    @property
    def title(self) -> str:
        if self.period == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.period == "quarter":
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        if self.period == "months":
            return f"{self.start.year}年1-{self.months}月"
        if self.period == "ytd":
            return f"{self.start.year}年（今年以来）"
        if self.period == "year":
            return f"{self.start.year}年全年"
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"

    def scope_label(self) -> str:
        bits = [
            self.street.name if self.street else "",
            self.community.name if self.community else "",
            self.department.name if self.department else "",
            self.family.name if self.family else "",
            Source(self.source).label if self.source else "",
        ]
        return " · ".join(b for b in bits if b) or "全部"

    def query(self) -> dict:
        """The query parameters that reproduce these filters on the 指挥中心 pages."""
        q = {"period": self.period}
        if self.period == "custom":
            q.update({"from": self.start.isoformat(), "to": self.end.isoformat()})
        if self.period in ("months", "year", "quarter", "ytd") and self.year:
            q["year"] = str(self.year)
        if self.period == "months":
            q["n"] = str(self.months)
        if self.period == "quarter":
            q["q"] = str(self.months)
        if self.period == "month" and self.month:
            q["month"] = self.month
        for key, obj in (("street", self.street), ("community", self.community)):
            if obj:
                q[key] = obj.code
        if self.department:
            q["department"] = str(self.department.pk)
        if self.family:
            q["category"] = str(self.family.pk)
        if self.source:
            q["source"] = self.source
        return q

    def cases_url(self, metric: str | None = None, **extra) -> str:
        """The case list (cases:list) behind a figure: the same period (on the metric's timestamp) and filters."""
        q: dict = {}
        if metric:
            q.update({"metric": metric, "date_from": self.start.isoformat(), "date_to": self.end.isoformat()})
        if self.community:
            q["community"] = self.community.pk
        if self.department:
            q["department"] = self.department.pk
        if self.family:
            q["category"] = self.family.pk
        if self.source:
            q["source"] = self.source
        q.update({k: v for k, v in extra.items() if v not in (None, "")})
        return reverse("cases:list") + "?" + urlencode(q)


def _int(value, field: str, lo: int, hi: int) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise BadQuery(f"“{value}”不是整数", field=field)
    if not lo <= n <= hi:
        raise BadQuery(f"{field} 须在 {lo}–{hi} 之间", field=field)
    return n


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def period_bounds(params, today: date) -> tuple[str, date, date, int | None, int | None, str]:
    """(period, start, end, year, N of 1–N月 or the quarter, YYYY-MM) from the query parameters; a bad value is a 400 naming it."""
    period = (params.get("period") or "month").strip()
    if period not in PERIODS:
        raise BadQuery(f"未知统计期：“{period}”，可选 {'|'.join(PERIODS)}", field="period")
    year = _int(params["year"], "year", 2000, 2100) if params.get("year") else today.year
    if period == "custom":
        if not params.get("from"):
            raise BadQuery("自定义统计期须填写开始日期", field="from")
        start, end = metric_selectors.parse_period(params.get("from"), params.get("to") or today.isoformat())
        return period, start, end, None, None, ""
    if period == "month":
        text = (params.get("month") or "").strip()
        if text:
            try:
                y, m = (int(x) for x in text.split("-"))
                start = date(y, m, 1)
            except (TypeError, ValueError):
                raise BadQuery(f"月份格式不正确：“{text}”，请使用 YYYY-MM", field="month")
            if not 2000 <= y <= 2100:
                raise BadQuery(f"月份超出范围：“{text}”", field="month")
        else:
            start = today.replace(day=1)
        if start.year == today.year and start.month == today.month:
            end = today
        else:
            end = _month_end(start.year, start.month)
        return period, start, end, None, None, text
    if period == "quarter":  # N is the quarter here (default: this quarter, or the first of another year)
        default_q = (today.month - 1) // 3 + 1 if year == today.year else 1
        q = _int(params.get("q") or default_q, "q", 1, 4)
        start = date(year, 3 * q - 2, 1)
        return period, start, _month_end(year, 3 * q), year, q, ""
    if period == "months":
        default_n = today.month if year == today.year else 12
        n = _int(params.get("n") or default_n, "n", 1, 12)
        return period, date(year, 1, 1), _month_end(year, n), year, n, ""
    if period == "ytd":
        end = today if year == today.year else date(year, 12, 31)
        return period, date(year, 1, 1), end, year, None, ""
    return period, date(year, 1, 1), date(year, 12, 31), year, None, ""


def family_ids(family: Category) -> list[int]:
    return [family.pk, *Category.objects.filter(parent_id=family.pk).values_list("pk", flat=True)]


def families(*, user) -> list[Category]:
    """The 分类大类 the user may pick."""
    qs = Category.objects.restrict(user, "view").filter(parent__isnull=True, is_enabled=True)
    return list(qs.order_by("sort", "code"))


def parse_filters(*, user, params) -> Filters:
    """The leader view's filters from query parameters (a bad value: :class:`BadQuery` naming the field)."""
    require_access(user)
    today = clock.local_now().date()
    period, start, end, year, months, month = period_bounds(params, today)
    street = metric_selectors.resolve_street(user=user, code=params.get("street"))
    community = department = family = None
    if params.get("community"):
        code = str(params["community"]).strip()
        community = (
            place_selectors.visible_communities(user=user).filter(Q(code=code) | Q(pk=_pk(code))).first()
        )
        if community is None:
            raise BadQuery(f"社区不存在或不在您的辖区：{code}", field="community")
    if params.get("department"):
        pk = _int(params["department"], "department", 1, 2**31 - 1)
        department = account_selectors.visible_departments(user=user, active_only=False).filter(pk=pk).first()
        if department is None:
            raise BadQuery(f"处置部门不存在或不可见：{pk}", field="department")
    if params.get("category"):
        pk = _int(params["category"], "category", 1, 2**31 - 1)
        family = Category.objects.restrict(user, "view").filter(pk=pk, parent__isnull=True).first()
        if family is None:
            raise BadQuery(f"分类大类不存在：{pk}", field="category")
    source = (params.get("source") or "").strip()
    if source and source not in Source.values:
        raise BadQuery(f"未知来源：“{source}”", field="source")
    return Filters(
        start=start,
        end=end,
        period=period,
        year=year,
        months=months,
        month=month,
        street=street,
        community=community,
        department=department,
        family=family,
        source=source,
    )


def _pk(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 10 else -1


# --- rollup figures ---------------------------------------------------------------------------------


def _rollup(user, f: Filters, start: date, end: date):
    qs = DailyRollup.objects.filter(day__gte=start, day__lte=end)
    q = metric_selectors.scope_q(user)
    if q is not None:
        qs = qs.filter(q)
    if f.street:
        qs = qs.filter(street_id=f.street.pk)
    if f.community:
        qs = qs.filter(community_id=f.community.pk)
    if f.department:
        qs = qs.filter(department_id=f.department.pk)
    if f.family:
        qs = qs.filter(category_id__in=family_ids(f.family))
    if f.source:
        qs = qs.filter(source=f.source)
    return qs


def counters(user, f: Filters, start: date, end: date, by: str | None = None) -> dict:
    """``{value of the rollup column ``by`` (None without): {counter: n}}`` of [start, end] under ``f``."""
    qs = _rollup(user, f, start, end)
    sums = {k: Sum(k) for k in COUNTERS}
    if by is None:
        row = qs.aggregate(**sums)
        return {None: {k: int(row[k] or 0) for k in COUNTERS}}
    return {r[by]: {k: int(r[k] or 0) for k in COUNTERS} for r in qs.order_by().values(by).annotate(**sums)}


def headline(*, user, f: Filters) -> dict:
    """The figures of the period with 环比 (the as-long period before) and 同比 (a year before), as
    ``metrics.selectors.stats`` computes them, under the leader view's filters."""
    days = (f.end - f.start).days + 1
    prev_end = f.start - timedelta(days=1)
    prev_start = prev_end - timedelta(days=days - 1)
    ly_start, ly_end = metric_selectors.shift_year(f.start), metric_selectors.shift_year(f.end)
    current = metric_selectors.figures(counters(user, f, f.start, f.end)[None])
    previous = metric_selectors.figures(counters(user, f, prev_start, prev_end)[None])
    last_year = metric_selectors.figures(counters(user, f, ly_start, ly_end)[None])
    return {
        "totals": current,
        "previous": {"from": prev_start, "to": prev_end, **previous},
        "last_year": {"from": ly_start, "to": ly_end, **last_year},
        "mom": metric_selectors.changes(current, previous),
        "yoy": metric_selectors.changes(current, last_year),
    }


def headline_cards(*, user, f: Filters, head: dict | None = None) -> list[dict]:
    """One card per headline figure: label, value, unit, 环比/同比, and the case list behind it."""
    from civicgrid.metrics import registry

    head = head or headline(user=user, f=f)
    out = []
    for name, list_metric, extra in HEADLINE:
        m = registry.get(name)
        out.append(
            {
                "name": name,
                "label": m.label,
                "unit": m.unit,
                "kind": m.kind,
                "value": head["totals"][name],
                "mom": head["mom"][name],
                "yoy": head["yoy"][name],
                "url": f.cases_url(list_metric, **extra),
                "formula": m.formula,
            }
        )
    return out


def _labels(by: str, keys) -> dict:
    ids = [k for k in keys if k]
    if by == "community_id":
        rows = {c.pk: c.name for c in Community.objects.filter(pk__in=ids)}
    elif by == "department_id":
        rows = {d.pk: d.name for d in Department.objects.filter(pk__in=ids)}
    elif by == "grid_id":
        rows = {g.pk: g.name for g in Grid.objects.filter(pk__in=ids)}
    elif by == "source":
        rows = {k: Source(k).label if k in Source.values else k for k in ids}
    else:
        rows = {}
    none = {"department_id": "未派遣", "source": "未知来源"}.get(by, "未定位")
    return {k: rows.get(k, none) for k in keys}


def _families_of(category_ids) -> dict[int, Category | None]:
    cats = Category.objects.filter(pk__in=[k for k in category_ids if k]).select_related("parent")
    out: dict[int, Category | None] = {c.pk: (c.parent or c) for c in cats}
    return {k: out.get(k) for k in category_ids}


GROUPS = {
    "community": ("community_id", "社区"),
    "department": ("department_id", "处置部门"),
    "category": ("category_id", "分类大类"),
    "source": ("source", "来源"),
}


def group_rows(*, user, f: Filters, by: str) -> list[dict]:
    """One row per 社区 / 处置部门 / 分类大类 / 来源 of the period, with the case list behind each count."""
    col, _label = GROUPS[by]
    raw = counters(user, f, f.start, f.end, by=col)
    merged: dict = {}
    if by == "category":
        fam = _families_of(list(raw))
        for k, c in raw.items():
            cat = fam.get(k)
            key = (cat.pk if cat else 0, cat.name if cat else "未分类")
            acc = merged.setdefault(key, Counter())
            for name, n in c.items():
                acc[name] += n
    else:
        labels = _labels(col, list(raw))
        merged = {(k, labels[k]): Counter(c) for k, c in raw.items()}
    rows = []
    for (key, label), c in merged.items():
        fig = metric_selectors.figures(dict(c))
        link = {
            "community": "community",
            "department": "department",
            "category": "category",
            "source": "source",
        }[by]
        extra = {link: key} if key else {}
        rows.append(
            {
                "key": key,
                "label": label,
                **fig,
                "received_url": f.cases_url("received", **extra) if key else "",
                "done_url": f.cases_url("done", **extra) if key else "",
            }
        )
    rows.sort(key=lambda r: (-r["received"], -r["done"], str(r["label"])))
    return rows


def trend(*, user, f: Filters, start: date, end: date) -> dict:
    """受理 and 办结 per day (per month when the period is longer than 62 days)."""
    raw = counters(user, f, start, end, by="day")
    monthly = (end - start).days > 62
    buckets: dict[str, Counter] = defaultdict(Counter)
    d = start
    while d <= end:
        key = d.strftime("%Y-%m") if monthly else d.isoformat()
        buckets.setdefault(key, Counter())
        d += timedelta(days=1)
    for day, c in raw.items():
        key = day.strftime("%Y-%m") if monthly else day.isoformat()
        buckets[key]["received"] += c["received"]
        buckets[key]["done"] += c["done"]
    keys = sorted(buckets)
    return {
        "labels": [k[5:] if not monthly else k for k in keys],
        "received": [buckets[k]["received"] for k in keys],
        "done": [buckets[k]["done"] for k in keys],
        "unit": "月" if monthly else "日",
    }


# --- live state (the cases as they are now) ---------------------------------------------------------


def open_cases(*, user, f: Filters | None = None):
    """The cases not yet closed in their procedure (上报待受理 included), under ``f``."""
    qs = case_selectors.visible_cases(user=user).exclude(procedures.group_q("closed"))
    if f is not None:
        if f.street:
            qs = qs.filter(street_id=f.street.pk)
        if f.community:
            qs = qs.filter(community_id=f.community.pk)
        if f.department:
            qs = qs.filter(department_id=f.department.pk)
        if f.family:
            qs = qs.filter(category_id__in=family_ids(f.family))
        if f.source:
            qs = qs.filter(source=f.source)
    return qs


def lights(*, user, f: Filters) -> list[dict]:
    """The cases not yet closed, by deadline light, each with its list."""
    by = dict(open_cases(user=user, f=f).order_by().values_list("light").annotate(n=Count("pk")))
    return [
        {
            "light": value or "none",
            "label": label,
            "n": int(by.get(value, 0)),
            "url": f.cases_url(None, open_only=1, light=value) if value else "",
        }
        for value, label in LIGHTS
    ]


def overdue(*, user, f: Filters, limit: int = 15) -> list[dict]:
    """The open red (超时) cases, longest overdue first."""
    now = clock.now()
    qs = (
        open_cases(user=user, f=f)
        .filter(light=Light.RED)
        .select_related("department", "community", "category")
        .order_by("due_at", "pk")[:limit]
    )
    out = []
    for c in qs:
        hours = (now - c.due_at).total_seconds() / 3600 if c.due_at else None
        out.append(
            {
                "number": c.number,
                "title": c.title or c.description[:30],
                "department": c.department.name if c.department_id else "未派遣",
                "community": c.community.name if c.community_id else "",
                "overdue_hours": round(hours, 1) if hours is not None and hours > 0 else None,
                "url": reverse("cases:detail", args=[c.pk]),
            }
        )
    return out


# --- the 大屏 ----------------------------------------------------------------------------------------


def screen(*, user, street_code: str | None = None) -> dict:
    """Everything the 大屏 draws, in one JSON-ready dict (today, the last 30 days, live state, ledgers)."""
    require_access(user)
    today = clock.local_now().date()
    street = metric_selectors.resolve_street(user=user, code=street_code)
    since = today - timedelta(days=TREND_DAYS - 1)
    f = Filters(start=since, end=today, period="custom", street=street)
    today_f = Filters(start=today, end=today, period="custom", street=street)
    month_f = Filters(start=today.replace(day=1), end=today, period="month", street=street)

    today_total = metric_selectors.figures(counters(user, today_f, today, today)[None])
    month_total = metric_selectors.figures(counters(user, month_f, month_f.start, today)[None])
    by_source = counters(user, today_f, today, today, by="source")
    intake = sorted(
        (
            {
                "source": k,
                "label": Source(k).label if k in Source.values else k,
                "n": c["received"],
                "url": today_f.cases_url("received", source=k),
            }
            for k, c in by_source.items()
            if c["received"]
        ),
        key=lambda r: -r["n"],
    )

    cats = group_rows(user=user, f=f, by="category")[:8]
    grids = _grid_heat(user=user, f=f)
    departments = _department_table(user=user, f=f)
    light_rows = lights(user=user, f=f)
    open_total = sum(r["n"] for r in light_rows)
    return {
        "generated_at": clock.local_now().strftime("%Y-%m-%d %H:%M:%S"),
        "today": today.isoformat(),
        "street": street.name if street else "",
        "headline": {
            "received_today": today_total["received"],
            "received_today_url": today_f.cases_url("received"),
            "done_today": today_total["done"],
            "done_today_url": today_f.cases_url("done"),
            "open": open_total,
            "open_url": f.cases_url(None, open_only=1),
            "overdue": next(r["n"] for r in light_rows if r["light"] == Light.RED),
            "month_received": month_total["received"],
            "month_on_time_rate": month_total["on_time_rate"],
            "month_satisfaction_rate": month_total["satisfaction_rate"],
            "month_proactive_rate": month_total["proactive_rate"],
        },
        "intake": intake,
        "lights": light_rows,
        "trend": trend(user=user, f=f, start=since, end=today),
        "categories": [
            {"label": r["label"], "n": r["received"], "url": r["received_url"]} for r in cats if r["received"]
        ],
        "grids": grids,
        "overdue": overdue(user=user, f=f),
        "departments": departments,
        # a 区 account looking at one 街道: that 街道's ledgers, not its whole 区's
        "ledgers": ledgers.summaries(
            user=place_selectors.narrowed_to(user, street=street), start=month_f.start, end=today
        ),
        "alerts": alerts(user=user, street=street),
    }


ALERT_LIMIT = 8  # the 大屏's warnings panel
LEADER_ALERT_LIMIT = 5


def alerts(*, user, street: Street | None = None, limit: int = ALERT_LIMIT) -> dict:
    """The open warnings of every registered alert source (``metrics.ledgers.register_alerts``) the user may see,
    newest first across sources: ``{registered, total, url, items: [{title, message, at, url, level, tag}]}``.
    ``registered`` is False when no app provides warnings (the panel then says so)."""
    feeds = ledgers.alerts(user=user, limit=limit, street=street)
    items = sorted((i for feed in feeds for i in feed["items"]), key=lambda i: i["at"], reverse=True)
    return {
        "registered": bool(ledgers.alert_providers()),
        "total": sum(feed["total"] for feed in feeds),
        "url": feeds[0]["url"] if len(feeds) == 1 else "",
        "items": items[:limit],
    }


def _grid_heat(*, user, f: Filters) -> dict:
    raw = counters(user, f, f.start, f.end, by="grid_id")
    open_by = dict(
        open_cases(user=user, f=f)
        .exclude(grid_id=None)
        .order_by()
        .values_list("grid_id")
        .annotate(n=Count("pk"))
    )
    grids = place_selectors.visible_grids(user=user).filter(is_active=True).select_related("community")
    if f.street:
        grids = grids.filter(community__street_id=f.street.pk)
    features = []
    for g in grids:
        n = raw.get(g.pk, {}).get("received", 0)
        features.append(
            {
                "type": "Feature",
                "id": g.pk,
                "geometry": g.geometry,
                "properties": {
                    "name": g.name,
                    "community": g.community.name,
                    "received": n,
                    "open": int(open_by.get(g.pk, 0)),
                    "url": f.cases_url("received", grid=g.pk),
                },
            }
        )
    top = max((ft["properties"]["received"] for ft in features), default=0)
    return {"type": "FeatureCollection", "features": features, "max": top}


def _department_table(*, user, f: Filters, limit: int = 12) -> list[dict]:
    raw = counters(user, f, f.start, f.end, by="department_id")
    live = {
        r["department_id"]: r
        for r in open_cases(user=user, f=f)
        .exclude(department_id=None)
        .order_by()
        .values("department_id")
        .annotate(open=Count("pk"), red=Count("pk", filter=Q(light=Light.RED)))
    }
    keys = [k for k in {*raw, *live} if k]
    names = dict(Department.objects.filter(pk__in=keys).values_list("pk", "name"))
    rows = []
    for k in keys:
        fig = metric_selectors.figures(raw.get(k, {}))
        rows.append(
            {
                "name": names.get(k, "—"),
                "dispatched": fig["dispatched"],
                "done": fig["done"],
                "on_time_rate": fig["on_time_rate"],
                "response_rate": fig["response_rate"],
                "open": live.get(k, {}).get("open", 0),
                "red": live.get(k, {}).get("red", 0),
                "url": f.cases_url(None, department=k, open_only=1),
            }
        )
    rows.sort(key=lambda r: (-r["open"], -r["dispatched"], r["name"]))
    return rows[:limit]


def streets(*, user) -> list[Street]:
    """The 街道 a 区 account may narrow the screens to (empty for a 街道 account)."""
    ids = place_selectors.tier_street_ids(user)
    if ids is not None and len(ids) <= 1:
        return []
    qs = Street.objects.all() if ids is None else Street.objects.filter(pk__in=ids)
    return list(qs.order_by("code"))
