"""Every read of the metrics module: figures over the daily rollup, scoped to the user.

Scope (the same rules as the cases the user sees, :mod:`civicgrid.cases.selectors`, on the rollup's columns):
the user's tier first (``places.selectors.tier_q`` on ``street_id``: a 区 account every 街道 of its 区, a 街道
account its own); within it 街道-wide roles see everything, a 处置部门 the cases currently assigned to it, 社区工作人员
their community, 网格员 their grids (with the 专属网格 inside them); roles without business data (审计管理员) see
nothing. Procedures with a visibility rule of their own (e.g. 信访) are left out of the figures of anyone the rule
applies to (a rollup row cannot evaluate a per-case rule). ``user=None`` is the platform itself (the CLI).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from django.db.models import Q, Sum

from civicgrid.accounts.models import Department
from civicgrid.accounts.roles import Capability, Role, has_capability
from civicgrid.cases import procedures
from civicgrid.cases.models import Category, Source
from civicgrid.core import clock
from civicgrid.core.errors import PermissionDenied
from civicgrid.metrics import registry
from civicgrid.metrics.errors import BadQuery
from civicgrid.metrics.models import COUNTERS, CUBE_KINDS, DAY, DAY_KINDS, MONTH, DailyRollup, RollupCube
from civicgrid.places import selectors as place_selectors
from civicgrid.places.models import Community, Grid, Street

MAX_DAYS = 3660
# --by value -> the rollup column it groups on (district and category are mapped after: 街道 → 区, 小类 → 大类)
BY: dict[str, str] = {
    "district": "street_id",
    "street": "street_id",
    "community": "community_id",
    "grid": "grid_id",
    "department": "department_id",
    "category": "category_id",
    "source": "source",
    "procedure": "procedure",
    "day": "day",  # the daily trend: one group per day of the period
}
BY_LABELS = {
    "district": "区",
    "street": "街道",
    "community": "社区",
    "grid": "网格",
    "department": "处置部门",
    "category": "分类大类",
    "source": "来源",
    "procedure": "办理程序",
    "day": "日期",
}


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[00:00 of ``start``, 00:00 after ``end``) in Asia/Shanghai."""
    return (
        datetime.combine(start, time.min, tzinfo=clock.SHANGHAI),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI),
    )


def parse_date(text, field: str) -> date:
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text).strip())
    except (TypeError, ValueError):
        raise BadQuery(f"日期格式不正确：“{text}”，请使用 YYYY-MM-DD", field=field)


def parse_period(start_text, end_text) -> tuple[date, date]:
    """The period [from, to] (whole days); default: this month up to today."""
    today = clock.local_now().date()
    end = parse_date(end_text, "to") if end_text not in (None, "") else today
    start = parse_date(start_text, "from") if start_text not in (None, "") else end.replace(day=1)
    if start > end:
        raise BadQuery("开始日期不能晚于结束日期", field="from")
    if (end - start).days >= MAX_DAYS:
        raise BadQuery(f"统计期不能超过 {MAX_DAYS} 天", field="to")
    return start, end


def parse_by(by: str | None) -> str | None:
    if by in (None, ""):
        return None
    if by not in BY:
        raise BadQuery(f"未知分组：“{by}”，可选 {'|'.join(BY)}", field="by")
    return by


def _scope(user) -> tuple[Q | None, Q | None, bool]:
    """(the tier's Q on ``street_id`` or None, the role's Q on the other dimensions or None, whether the
    restricted procedures are left out) — raises when the role sees no figures."""
    if user is None:
        return None, None, False
    if not has_capability(user, Capability.BUSINESS_VIEW):
        raise PermissionDenied("当前角色不能查看统计数据", code="forbidden")
    tier = place_selectors.tier_q(user, "street_id")
    extra = None
    if not has_capability(user, Capability.STREET_WIDE_VIEW):
        if user.role == Role.DEPT_HANDLER and user.department_id:
            extra = Q(department_id=user.department_id)
        elif user.role == Role.COMMUNITY_STAFF and user.community_id:
            extra = Q(community_id=user.community_id)
        elif user.role == Role.GRID_WORKER:
            from civicgrid.cases.services import _own_grid_ids

            extra = Q(grid_id__in=sorted(_own_grid_ids(user)))
        else:
            extra = Q(pk__in=[])
    return tier, extra, procedures.visibility_q(user) is not None


def scope_q(user) -> Q | None:
    """The Q limiting rollup rows to what ``user`` may count; ``None`` = everything (raises when nothing)."""
    tier, extra, restricted = _scope(user)
    if user is None:
        return None
    q = (tier or Q()) & (extra or Q())
    if restricted:
        q &= ~Q(procedure__in=procedures.restricted_codes())
    return q


def resolve_street(*, user, code: str | None) -> Street | None:
    """The 街道 ``code`` if it exists and lies in ``user``'s tier (else a 400 naming ``street``)."""
    if code in (None, ""):
        return None
    street = Street.objects.filter(code=str(code).strip()).first()
    if street is None or (user is not None and not place_selectors.same_tier(user, street.pk)):
        raise BadQuery(f"街道编码不存在或不在您的辖区：{code}", field="street")
    return street


def month_split(start: date, end: date) -> tuple[list[tuple[date, date]], tuple[date, date] | None]:
    """[start, end] as (the day ranges outside whole months, the first days of the first and last whole month)."""
    first = start if start.day == 1 else (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    after = (end.replace(day=28) + timedelta(days=4)).replace(day=1)  # the 1st of the month after ``end``
    last = after if end == after - timedelta(days=1) else end.replace(day=1)  # 1st after the last whole month
    if first >= last:
        return [(start, end)], None
    days = [r for r in ((start, first - timedelta(days=1)), (last, end)) if r[0] <= r[1]]
    prev = (last - timedelta(days=1)).replace(day=1)
    return days, (first, prev)


def cube_split(start: date, end: date) -> tuple[list[tuple[date, date]], tuple[date, date] | None]:
    """:func:`month_split` for the coarse rollup: a period that ends inside a month which holds no later day yet
    (本月, 今年以来: periods up to today) takes that month's row whole — it sums exactly the days up to ``end`` —
    instead of reading its days from the daily rollup."""
    first = end.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)  # the 1st of the next month
    if (
        start <= first
        and end < after - timedelta(days=1)
        and not DailyRollup.objects.filter(day__gt=end, day__lt=after).exists()
    ):
        if start == first:
            return [], (first, first)
        outside, months = month_split(start, first - timedelta(days=1))
        return outside, ((months[0] if months else first), first)
    return month_split(start, end)


def _cube_period(outside: list[tuple[date, date]], months: tuple[date, date] | None, *, days: bool) -> Q:
    """The cube rows of a period split into ``months`` (first, last) and the day ranges ``outside`` them (read
    from the cube's day rows when ``days``, else by the caller from the daily rollup)."""
    q = Q(pk__in=[])
    if days:
        for a, b in outside:
            q |= Q(level=DAY, day__gte=a, day__lte=b)
    if months:
        q |= Q(level=MONTH, day__gte=months[0], day__lte=months[1])
    return q


def _sum_rows(rows, col: str | None) -> dict:
    return {(row[col] if col else None): {k: int(row[k] or 0) for k in COUNTERS} for row in rows}


def rollup_counters(
    *,
    user,
    start: date,
    end: date,
    street_id: int | None = None,
    by: str | None = None,
    level: str = "auto",
) -> dict:
    """``{group key: {counter: n}}`` summed from the rollup (key ``None`` without ``by``; raw column values).

    ``level``: ``"auto"`` reads the coarse rollup (:class:`RollupCube`: whole months — :func:`cube_split` —
    plus the days outside them, which a grouping kept per month only reads from the daily rollup; only the
    grouping asked for) unless the role's scope filters on a dimension it does not keep (a 处置部门, 社区 or 网格
    account), then the daily rollup; ``"daily"`` always the daily rollup (the same figures)."""
    tier, extra, restricted = _scope(user)
    sums = {k: Sum(k) for k in COUNTERS}
    col = BY[by] if by else None
    if level == "auto" and extra is None:
        kind = (
            ""
            if col in (None, "street_id", "procedure", "day")
            else next(k for k, c in CUBE_KINDS.items() if c == col)
        )
        by_day = kind in DAY_KINDS
        if col == "day":
            period = Q(level=DAY, day__gte=start, day__lte=end)
        else:
            outside, months = cube_split(start, end)
            period = _cube_period(outside, months, days=by_day)
        qs = RollupCube.objects.filter(period, kind=kind)
        if tier is not None:
            qs = qs.filter(tier)
        if restricted:
            qs = qs.exclude(procedure__in=procedures.restricted_codes())
        if street_id is not None:
            qs = qs.filter(street_id=street_id)
        if col is None:
            return {None: {k: int(v or 0) for k, v in qs.aggregate(**sums).items()}}
        field = "key" if kind else col
        out = _sum_rows(qs.order_by().values(field).annotate(**sums), field)
        if kind and col.endswith("_id"):
            out = {int(k): v for k, v in out.items()}
        if not by_day:  # the days outside the whole months: from the daily rollup
            for a, b in outside:
                part = rollup_counters(user=user, start=a, end=b, street_id=street_id, by=by, level="daily")
                for k, v in part.items():
                    acc = out.setdefault(k, dict.fromkeys(COUNTERS, 0))
                    for name, n in v.items():
                        acc[name] += n
        return out
    qs = DailyRollup.objects.filter(day__gte=start, day__lte=end)
    q = scope_q(user)
    if q is not None:
        qs = qs.filter(q)
    if street_id is not None:
        qs = qs.filter(street_id=street_id)
    if by is None:
        return {None: {k: int(v or 0) for k, v in qs.aggregate(**sums).items()}}
    return _sum_rows(qs.order_by().values(col).annotate(**sums), col)


def figures(counters: dict) -> dict:
    """Every registered figure plus the raw counters behind them."""
    c = registry.with_derived(counters)
    return {**registry.evaluate(c), **{k: int(c.get(k, 0)) for k in registry.RAW_COUNTERS}}


def _change(metric: registry.Metric, now, before):
    if now is None or before is None:
        return None
    if metric.kind == registry.RATE:
        return round(now - before, 1)  # percentage points
    return round(100 * (now - before) / before, 1) if before else None


def changes(current: dict, previous: dict) -> dict:
    """环比/同比 per figure: % change for counts and averages, percentage points for rates."""
    return {m.name: _change(m, current.get(m.name), previous.get(m.name)) for m in registry.all_metrics()}


def shift_year(d: date, years: int = -1) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _group_meta(by: str, keys) -> dict:
    """``{raw key: (key, label, group key after mapping)}`` for the rollup values ``keys``."""
    ids = [k for k in keys if k]
    if by == "street":
        rows = {s.pk: (s.code, s.name) for s in Street.objects.filter(pk__in=ids)}
    elif by == "district":
        rows = {
            s.pk: (s.district.code, s.district.name) if s.district_id else ("", "未归区")
            for s in Street.objects.filter(pk__in=ids).select_related("district")
        }
    elif by in ("community", "grid", "department"):  # (values, not model instances: hundreds of groups)
        model = {"community": Community, "grid": Grid, "department": Department}[by]
        rows = {
            pk: (code, name)
            for pk, code, name in model.objects.filter(pk__in=ids).values_list("pk", "code", "name")
        }
    elif by == "category":
        rows = {
            pk: (pcode or code, pname or name)
            for pk, code, name, pcode, pname in Category.objects.filter(pk__in=ids).values_list(
                "pk", "code", "name", "parent__code", "parent__name"
            )
        }
    elif by == "day":
        rows = {k: (k.isoformat(), f"{k.month}月{k.day}日") for k in ids}
    elif by == "source":
        rows = {k: (k, Source(k).label if k in Source.values else k) for k in ids}
    else:  # procedure
        labels = {p.code: p.label for p in procedures.all_procedures()}
        rows = {k: (k, labels.get(k, k)) for k in ids}
    none_label = {"department": "未派遣", "category": "未分类", "source": "未知来源"}.get(by, "未定位")
    return {k: rows.get(k, ("", none_label)) for k in keys}


def stats(*, user, start: date, end: date, street_code: str | None = None, by: str | None = None) -> dict:
    """The figures of [start, end] (whole days) for ``user``: totals, 环比 (the as-long period just before),
    同比 (the same dates a year before) and, with ``by``, one row per group. Keys: docs/metrics.md §JSON."""
    by = parse_by(by)
    if by == "day" and (end - start).days >= 366:
        raise BadQuery("按日分组的统计期不能超过 366 天", field="by")
    street = resolve_street(user=user, code=street_code)
    street_id = street.pk if street else None
    days = (end - start).days + 1
    prev_end = start - timedelta(days=1)
    prev_start = prev_end - timedelta(days=days - 1)
    ly_start, ly_end = shift_year(start), shift_year(end)

    def total(a: date, b: date) -> dict:
        return figures(rollup_counters(user=user, start=a, end=b, street_id=street_id)[None])

    current = total(start, end)
    previous = total(prev_start, prev_end)
    last_year = total(ly_start, ly_end)
    out = {
        "period": {"from": start.isoformat(), "to": end.isoformat(), "days": days},
        "street": street.code if street else None,
        "by": by,
        "totals": current,
        "previous": {"from": prev_start.isoformat(), "to": prev_end.isoformat(), **previous},
        "last_year": {"from": ly_start.isoformat(), "to": ly_end.isoformat(), **last_year},
        "change": {"mom": changes(current, previous), "yoy": changes(current, last_year)},
        "groups": [],
    }
    if by:
        raw = rollup_counters(user=user, start=start, end=end, street_id=street_id, by=by)
        meta = _group_meta(by, list(raw))
        merged: dict[tuple, Counter] = {}
        for k, counters in raw.items():
            c = merged.setdefault(meta[k], Counter())
            for (
                name,
                n,
            ) in counters.items():  # (a Counter's update() reads like a query's to the write-path check)
                c[name] += n
        groups = [{"key": key, "label": label, **figures(dict(c))} for (key, label), c in merged.items()]
        if by == "day":  # the trend: every day of the period, in order (a day without cases: zeros)
            have = {g["key"] for g in groups}
            day = start
            while day <= end:
                if day.isoformat() not in have:
                    groups.append(
                        {"key": day.isoformat(), "label": f"{day.month}月{day.day}日", **figures({})}
                    )
                day += timedelta(days=1)
            out["groups"] = sorted(groups, key=lambda g: g["key"])
        else:
            out["groups"] = sorted(groups, key=lambda g: (-g["received"], -g["done"], g["key"]))
    return out


def definitions() -> list[dict]:
    return [m.describe() for m in registry.all_metrics()]
