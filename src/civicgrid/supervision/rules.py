"""The 预警预判 rules: each reads the cases of one 街道 and returns the warnings it would raise (``Candidate``);
:func:`civicgrid.supervision.services.run_warnings` writes them (once per rule × subject × day).

- **突增 (surge)**: per 社区 × 分类大类, the day's count ``x`` against the same weekday of the previous ``K`` weeks
  ``x_1..x_K``: expected ``λ = (Σx_k + 1) / (K + 1)`` (the mean, shrunk towards 1 so that a never-seen pair is not
  certain to alarm on its first case), ``p = P(X ≥ x)`` for ``X ~ Poisson(λ)``; flagged when ``p < α`` and
  ``x ≥ x_min``.
- **重复地址 / 重复来电**: cases of the last ``M`` days (the day included) with the same normalised address (NFKC,
  no blanks or punctuation, ≥ 4 characters) / the same phone number (digits, without +86) — ``≥ N`` → flagged.
- **超期风险 (overdue risk)**: an open case in its 处置 stage, not yet overdue, elapsed ``e`` since 派遣 and ``r``
  left before its due time. From the department's handling times (派遣 → 处置完成) of the last ``L`` days in the
  same 分类大类 (the whole department when fewer than ``S`` samples): among those that took longer than ``e``, the
  ``q``-quantile ``t_q``; the case needs about ``t_q − e`` more. Flagged when ``r < t_q − e`` (or when no past case
  took as long as ``e`` already).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import F
from django.db.models.functions import Coalesce

from civicgrid.cases import procedures
from civicgrid.cases.models import Case, Category, Light, Stage
from civicgrid.cases.selectors import mask_phone
from civicgrid.core import clock
from civicgrid.supervision.models import RuleKind, WarningConfig

WEEKDAYS = "一二三四五六日"


@dataclass
class Candidate:
    rule: str
    subject_key: str
    title: str
    message: str
    observed: float | None = None
    expected: float | None = None
    probability: float | None = None
    community_id: int | None = None
    category_id: int | None = None
    department_id: int | None = None
    case_id: int | None = None
    case_ids: list[int] = field(default_factory=list)


# --- arithmetic ---------------------------------------------------------------------------------------


def poisson_tail(k: int, lam: float) -> float:
    """P(X ≥ k) for X ~ Poisson(lam)."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    term = math.exp(-lam)  # P(X = 0)
    below = term
    for i in range(1, k):
        term *= lam / i
        below += term
    return max(0.0, 1.0 - below)


def baseline(history: list[int]) -> float:
    """λ = (Σ x_k + 1) / (K + 1)."""
    return (sum(history) + 1) / (len(history) + 1)


def quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile (q in 0–100) of a non-empty list."""
    ordered = sorted(values)
    idx = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[min(idx, len(ordered) - 1)]


_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise_address(address: str) -> str:
    text = unicodedata.normalize("NFKC", address or "").lower()
    return _PUNCT.sub("", text)


def normalise_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def _key(prefix: str, value: str) -> str:
    return f"{prefix}:{hashlib.sha256(value.encode()).hexdigest()[:24]}"


def _day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    tz = clock.local_now().tzinfo
    start = datetime.combine(first, time.min).replace(tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time.min).replace(tzinfo=tz)
    return start, end


def _street_cases(street_id: int):
    return Case.objects.filter(street_id=street_id).exclude(procedure__in=procedures.restricted_codes())


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} 小时"


# --- the rules ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """What the surge and repeat rules read of one case."""

    pk: int
    day: date  # reported on (local)
    community_id: int | None
    family: int | None  # 分类大类 id
    address: str
    phone: str  # normalised digits


def load_rows(street_id: int, first: date, last: date) -> dict[date, list[Row]]:
    """The street's cases reported from ``first`` to ``last`` (local days), by day: one query for any span."""
    start, end = _day_bounds(first, last)
    qs = (
        _street_cases(street_id)
        .filter(created_at__gte=start, created_at__lt=end)
        .annotate(family=Coalesce(F("category__parent_id"), F("category_id")))
        .values_list("pk", "created_at", "community_id", "family", "address", "reporter_phone")
        .order_by("pk")
    )
    by_day: dict[date, list[Row]] = defaultdict(list)
    for pk, created_at, community_id, family, address, phone in qs.iterator(chunk_size=2000):
        d = clock.to_local(created_at).date()
        by_day[d].append(Row(pk, d, community_id, family, address or "", normalise_phone(phone)))
    return by_day


def names_for(street_id: int) -> tuple[dict, dict]:
    from civicgrid.places.models import Community

    communities = dict(Community.objects.filter(street_id=street_id).values_list("pk", "name"))
    families = dict(Category.objects.filter(parent__isnull=True).values_list("pk", "name"))
    return communities, families


def surge(street_id: int, day: date, cfg: WarningConfig) -> list[Candidate]:
    weeks = max(1, int(cfg.surge_weeks))
    return surge_on(
        load_rows(street_id, day - timedelta(days=7 * weeks), day), day, cfg, names_for(street_id)
    )


def surge_on(
    by_day: dict[date, list[Row]], day: date, cfg: WarningConfig, names: tuple[dict, dict]
) -> list[Candidate]:
    weeks = max(1, int(cfg.surge_weeks))
    today_ids: dict[tuple[int, int], list[int]] = defaultdict(list)
    for r in by_day.get(day, ()):
        if r.community_id is not None and r.family is not None:
            today_ids[(r.community_id, r.family)].append(r.pk)
    out = []
    for (community_id, family), ids in today_ids.items():
        x = len(ids)
        if x < cfg.surge_min_count:
            continue
        history = []
        for k in range(1, weeks + 1):
            rows = by_day.get(day - timedelta(days=7 * k), ())
            history.append(sum(1 for r in rows if r.community_id == community_id and r.family == family))
        lam = baseline(history)
        p = poisson_tail(x, lam)
        if p >= cfg.surge_threshold:
            continue
        community, category = names[0].get(community_id, "—"), names[1].get(family, "—")
        weekday = WEEKDAYS[day.weekday()]
        out.append(
            Candidate(
                rule=RuleKind.SURGE,
                subject_key=f"surge:{community_id}:{family}",
                title=f"{community} · {category}",
                message=(
                    f"{community}「{category}」{day:%m-%d}（星期{weekday}）上报 {x} 件，"
                    f"前 {weeks} 周同为星期{weekday}的基线为 {lam:.1f} 件/天（各周 {'、'.join(map(str, history))}），"
                    f"P(X≥{x})={p:.2g}，低于阈值 {cfg.surge_threshold:g}"
                ),
                observed=x,
                expected=round(lam, 2),
                probability=p,
                community_id=community_id,
                category_id=family,
                case_ids=sorted(ids),
            )
        )
    return out


def repeats(street_id: int, day: date, cfg: WarningConfig) -> list[Candidate]:
    days = max(1, int(cfg.repeat_days))
    return repeats_on(load_rows(street_id, day - timedelta(days=days - 1), day), day, cfg)


def repeats_on(by_day: dict[date, list[Row]], day: date, cfg: WarningConfig) -> list[Candidate]:
    days = max(1, int(cfg.repeat_days))
    by_address: dict[str, list[Row]] = defaultdict(list)
    by_phone: dict[str, list[Row]] = defaultdict(list)
    for back in range(days - 1, -1, -1):
        for r in by_day.get(day - timedelta(days=back), ()):
            norm = normalise_address(r.address)
            if len(norm) >= 4:
                by_address[norm].append(r)
            if len(r.phone) >= 7:
                by_phone[r.phone].append(r)
    out = []
    for norm, items in by_address.items():
        if len(items) < cfg.repeat_address_count or items[-1].day != day:
            continue  # raised on the day a case makes it (re)reach N, not on every day after
        address = items[-1].address.strip()
        out.append(
            Candidate(
                rule=RuleKind.REPEAT_ADDRESS,
                subject_key=_key("addr", norm),
                title=address[:200],
                message=(
                    f"近 {days} 天同一地址「{address[:80]}」上报 {len(items)} 件"
                    f"（阈值 {cfg.repeat_address_count} 件），请研判是否为同一问题反复发生"
                ),
                observed=len(items),
                community_id=items[-1].community_id,
                case_ids=[i.pk for i in items],
            )
        )
    for digits, items in by_phone.items():
        if len(items) < cfg.repeat_caller_count or items[-1].day != day:
            continue
        masked = mask_phone(digits)
        out.append(
            Candidate(
                rule=RuleKind.REPEAT_CALLER,
                subject_key=_key("phone", digits),
                title=f"来电 {masked}",
                message=(
                    f"近 {days} 天同一来电号码 {masked} 反映 {len(items)} 件（阈值 {cfg.repeat_caller_count} 件），"
                    "请关注诉求人是否问题未解决或重复投诉"
                ),
                observed=len(items),
                community_id=items[-1].community_id,
                case_ids=[i.pk for i in items],
            )
        )
    return out


def handling_samples(street_id: int, now: datetime, lookback_days: int) -> dict:
    """Seconds from 派遣 to 处置完成 of the street's cases handled in the last ``lookback_days``:
    {(department_id, family): [...], (department_id, None): [...]}."""
    rows = (
        Case.objects.filter(
            street_id=street_id,
            handled_at__gte=now - timedelta(days=lookback_days),
            handled_at__lte=now,
            dispatched_at__isnull=False,
            department__isnull=False,
        )
        .annotate(family=Coalesce(F("category__parent_id"), F("category_id")))
        .values_list("department_id", "family", "dispatched_at", "handled_at")
    )
    samples: dict[tuple, list[float]] = defaultdict(list)
    for dept, family, dispatched, handled in rows.iterator(chunk_size=2000):
        seconds = (handled - dispatched).total_seconds()
        if seconds <= 0:
            continue
        samples[(dept, family)].append(seconds)
        samples[(dept, None)].append(seconds)
    return samples


def overdue_risk(street_id: int, now: datetime, cfg: WarningConfig) -> list[Candidate]:
    samples = handling_samples(street_id, now, max(1, int(cfg.overdue_lookback_days)))
    open_cases = (
        _street_cases(street_id)
        .filter(
            procedures.group_q("running"),
            stage=Stage.HANDLE,
            department__isnull=False,
            dispatched_at__isnull=False,
            due_at__gt=now,
            paused_since__isnull=True,
        )
        .exclude(light=Light.RED)
        .annotate(family=Coalesce(F("category__parent_id"), F("category_id")))
        .select_related("department")
        .order_by("due_at")
    )
    q, need_n = float(cfg.overdue_quantile), max(1, int(cfg.overdue_min_samples))
    out = []
    for case in open_cases.iterator(chunk_size=500):
        durations = samples.get((case.department_id, case.family), [])
        scope = "同类"
        if len(durations) < need_n:
            durations, scope = samples.get((case.department_id, None), []), "全部"
        if len(durations) < need_n:
            continue
        elapsed = (now - case.dispatched_at).total_seconds()
        remaining = (case.due_at - now).total_seconds()
        longer = [d for d in durations if d > elapsed]
        if longer:
            t_q = quantile(longer, q)
            need = t_q - elapsed
            if remaining >= need:
                continue
            why = (
                f"该部门近 {cfg.overdue_lookback_days} 天{scope}工单（{len(durations)} 件）中，用时超过已用 "
                f"{_hours(elapsed)} 的 {len(longer)} 件有 {q:g}% 在 {_hours(t_q)} 内处置完成，预计还需约 {_hours(need)}"
            )
        else:
            need = None
            why = (
                f"已用 {_hours(elapsed)}，超过该部门近 {cfg.overdue_lookback_days} 天全部 {len(durations)} 件"
                f"{scope}工单的处置用时"
            )
        out.append(
            Candidate(
                rule=RuleKind.OVERDUE_RISK,
                subject_key=f"case:{case.pk}",
                title=f"{case.display_number} {case.title}"[:200],
                message=f"{case.department.name}：距处置时限还剩 {_hours(remaining)}；{why}，可能超期"[:500],
                observed=round(remaining / 3600, 2),
                expected=round(need / 3600, 2) if need is not None else None,
                community_id=case.community_id,
                category_id=case.family,
                department_id=case.department_id,
                case_id=case.pk,
                case_ids=[case.pk],
            )
        )
    return out
