"""Every read of 行政问效, scoped to the user.

Figures come from the metrics module (:mod:`civicgrid.metrics.selectors`: 响应率, 解决率, 满意率, 按期办结率,
返工率 per 部门/社区/网格/街道, summed from the daily rollup). The metrics module has no figure per person, so the
数字城管-style role scores of 网格员 and 派遣员 are computed here from the cases and their timeline
(:class:`~civicgrid.cases.models.CaseEvent`; formulas: docs/evaluation.md):

- 有效上报率 (网格员) = 期内本人上报、已有受理结论的工单中已立案（未合并）的件数 ÷ 已有受理结论的件数;
- 按时核查率 (网格员) = 期内本人的核查（核查通过/不通过）中在核查时限内完成的次数 ÷ 有时限记录的核查次数;
- 按时派遣率 (派遣员) = 期内本人的派遣中在派遣时限内完成的次数 ÷ 有时限记录的派遣次数;
- 准确派遣率 (派遣员) = 1 − 期内本人的派遣/改派中后来又被改派或被部门退回的次数 ÷ 本人派遣/改派次数.

“在时限内” reads the clock snapshot every timeline entry carries (``CaseEvent.clock``, taken after the move):
the stage's ``due_at`` on the last entry before the move whose clock runs that stage (派遣时限 from 立案/退回,
核查结案时限 from 处置完成; a 挂账 and its 恢复 move the ``due_at``, the snapshot after 恢复 has the new one).

Scope: the live rankings and role scores are for the roles that see the whole 街道 (指挥中心, 值班长, 领导, 系统管理员)
in their tier; a 区-level account also ranks the 街道 of its 区. Published boards are visible to every staff
account (社区, 网格员, 处置部门 included) of the 街道 (and, for a 区-level board, of the 区); drafts and boards
under review only to the 街道-wide roles.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet

from civicgrid.accounts.models import Department, User
from civicgrid.accounts.roles import Capability, Role, has_capability
from civicgrid.cases.models import Case, CaseEvent, CaseState
from civicgrid.core import clock, scoping
from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.evaluation import scoring
from civicgrid.evaluation.models import (
    DEFAULT_BOARD_SIZE,
    DEFAULT_MIN_CASES,
    DEFAULT_WEIGHTS,
    Assessment,
    Board,
    BoardKind,
    BoardState,
    EvaluationSettings,
)
from civicgrid.metrics import selectors as metrics
from civicgrid.places import selectors as place_selectors
from civicgrid.places.models import Community, District, Grid, Street

# what each area kind groups the metrics by, and which counter is its sample size
AREA_BY = {
    BoardKind.DEPARTMENT: ("department", "dispatched"),
    BoardKind.COMMUNITY: ("community", "accepted"),
    BoardKind.GRID: ("grid", "accepted"),
    BoardKind.STREET: ("street", "accepted"),
}
WORKER_WEIGHTS = {"valid_rate": 50, "verify_rate": 50}
DISPATCH_ROLES = (Role.DISPATCHER, Role.SHIFT_LEADER)


# --- who may do what --------------------------------------------------------------------------------------


def can_rank(user) -> bool:
    """Live rankings and role scores: the roles that see the whole 街道."""
    return has_capability(user, Capability.BUSINESS_VIEW) and has_capability(
        user, Capability.STREET_WIDE_VIEW
    )


def can_configure(user) -> bool:
    """The weights: the 值班长, the 领导 and the 系统管理员 of the 街道 (or 区)."""
    return can_rank(user) and user.role in (Role.SHIFT_LEADER, Role.LEADER, Role.SYSTEM_ADMIN)


def can_import(user) -> bool:
    return can_rank(user)


def _require_rank(user) -> None:
    if not can_rank(user):
        raise PermissionDenied("当前角色不能查看考评排名", code="forbidden")


# --- scope rules ------------------------------------------------------------------------------------------


def user_district_id(user) -> int | None:
    if getattr(user, "district_id", None):
        return user.district_id
    street = place_selectors.user_street(user)
    return street.district_id if street else None


@scoping.register(Board)
def _board_scope(qs: QuerySet, user, action: str) -> QuerySet:
    return qs.filter(pk__in=visible_boards(user=user).values("pk"))


@scoping.register(Assessment)
def _assessment_scope(qs: QuerySet, user, action: str) -> QuerySet:
    return qs.filter(pk__in=visible_assessments(user=user).values("pk"))


@scoping.register(EvaluationSettings)
def _settings_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if not can_rank(user):
        return qs.none()
    ids = place_selectors.tier_street_ids(user)
    if ids is None:
        return qs
    district = user_district_id(user) if not getattr(user, "street_id", None) else None
    return qs.filter(Q(street_id__in=ids) | Q(district_id=district, district_id__isnull=False))


def visible_boards(*, user) -> QuerySet[Board]:
    if not has_capability(user, Capability.BUSINESS_VIEW):
        return Board.objects.none()
    ids = place_selectors.tier_street_ids(user)
    qs = Board.objects.select_related("street", "district", "drafted_by", "reviewed_by")
    if ids is not None:
        districts = set(Street.objects.filter(pk__in=ids).values_list("district_id", flat=True))
        if getattr(user, "district_id", None):
            districts.add(user.district_id)
        qs = qs.filter(Q(street_id__in=ids) | Q(street__isnull=True, district_id__in=districts))
    if not can_rank(user):
        qs = qs.filter(state=BoardState.PUBLISHED)
    elif ids is not None and getattr(user, "street_id", None):
        # a 街道 account sees the 区-level boards of its 区 once published, never their drafts
        qs = qs.filter(Q(street__isnull=False) | Q(state=BoardState.PUBLISHED))
    return qs


def person_name(user) -> str | None:
    if user is None:
        return None
    return getattr(user, "full_name", "") or user.username


def get_board(*, user, pk) -> Board:
    try:
        return visible_boards(user=user).get(pk=int(pk))
    except (Board.DoesNotExist, TypeError, ValueError):
        raise NotFound("榜单不存在或无权查看")


def visible_assessments(*, user) -> QuerySet[Assessment]:
    if not can_rank(user):
        return Assessment.objects.none()
    return place_selectors.in_tier(Assessment.objects.select_related("street"), user, "street_id")


# --- periods, places, settings ----------------------------------------------------------------------------


def parse_month(text, field: str = "month") -> date:
    """``2026-06`` (or a date in it) → 2026-06-01; a 400 naming ``field`` otherwise."""
    if isinstance(text, date):
        return text.replace(day=1)
    try:
        raw = str(text).strip()
        year, month = raw.split("-")[:2]
        return date(int(year), int(month), 1)
    except (TypeError, ValueError):
        raise ValidationFailed(f"月份格式不正确：“{text}”，请使用 YYYY-MM", field=field)


def last_month() -> date:
    first = clock.local_now().date().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def month_end(month: date) -> date:
    nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


def tier_streets(*, user) -> QuerySet[Street]:
    return place_selectors.in_tier(Street.objects.select_related("district"), user, "pk").order_by("code")


def resolve_street(*, user, code: str | None) -> Street:
    """The 街道 ``code`` in the user's tier, or the user's own 街道, or the first of the tier."""
    streets = tier_streets(user=user)
    if code not in (None, ""):
        street = streets.filter(code=str(code).strip()).first()
        if street is None:
            raise ValidationFailed(f"街道编码不存在或不在您的辖区：{code}", field="street")
        return street
    street = streets.filter(pk=getattr(user, "street_id", None)).first() or streets.first()
    if street is None:
        raise ValidationFailed("您的辖区内没有街道", field="street")
    return street


def resolve_district(*, user) -> District:
    district_id = user_district_id(user)
    district = District.objects.filter(pk=district_id).first() if district_id else None
    if district is None:
        raise ValidationFailed("区级排名需要区级账号或所属区", field="kind")
    return district


def settings_for(*, street: Street | None = None, district: District | None = None) -> EvaluationSettings:
    """The stored settings of the 街道 (or of the 区-level ranking), else an unsaved row with the defaults."""
    row = None
    if street is not None:
        row = EvaluationSettings.objects.filter(street=street).first()
    elif district is not None:
        row = EvaluationSettings.objects.filter(district=district).first()
    return row or EvaluationSettings(
        street=street,
        district=district if street is None else None,
        min_cases=DEFAULT_MIN_CASES,
        board_size=DEFAULT_BOARD_SIZE,
        **DEFAULT_WEIGHTS,
    )


# --- 三率 over the metrics ------------------------------------------------------------------------------


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return metrics.bounds(start, end)


def _labels(by: str, ids) -> dict[int, tuple[str, str]]:
    """{rollup id: (code, name)} of the places/departments in a metrics grouping."""
    model = {"department": Department, "community": Community, "grid": Grid, "street": Street}[by]
    return {
        pk: (code, name)
        for pk, code, name in model.objects.filter(pk__in=ids).values_list("pk", "code", "name")
    }


def area_rows(kind: str, *, start: date, end: date, street: Street | None, district: District | None) -> list:
    """One row per 部门/社区/网格 of ``street`` (or per 街道 of ``district``) with the metrics' figures (the rollup
    summed by :func:`civicgrid.metrics.selectors.rollup_counters`, evaluated by the metrics registry); groups
    without a place (未定位/未派遣) are left out. Read as the platform (the caller's scope was checked)."""
    by, sample = AREA_BY[kind]
    raw = metrics.rollup_counters(
        user=None, start=start, end=end, street_id=street.pk if street else None, by=by
    )
    labels = _labels(by, [k for k in raw if k])
    keep = None
    if kind == BoardKind.STREET:
        keep = set(Street.objects.filter(district=district).values_list("pk", flat=True))
    rows = []
    for pk, counters in raw.items():
        if not pk or pk not in labels or (keep is not None and pk not in keep):
            continue
        g = metrics.figures(counters)
        code, name = labels[pk]
        rows.append(
            {
                "key": code,
                "label": name,
                "sample": g[sample],
                "response_rate": g["response_rate"],
                "resolve_rate": g["resolve_rate"],
                "satisfaction_rate": g["satisfaction_rate"],
                "on_time_rate": g["on_time_rate"],
                "rework_rate": g["rework_rate"],
                "accepted": g["accepted"],
                "dispatched": g["dispatched"],
                "done": g["done"],
                "rated": g["rated"],
            }
        )
    return rows


def _with_composite(rows: list[dict], weights: dict, rate_names) -> list[dict]:
    for row in rows:
        score, missing = scoring.composite({k: row[k] for k in rate_names}, weights)
        row["score"], row["missing"] = score, missing
    return rows


@dataclass
class Ranking:
    kind: str
    start: date
    end: date
    owner: str  # the 街道 (or 区) name
    weights: dict
    min_cases: int
    size: int
    rows: list  # ranked, best first
    apart: list  # listed apart (too few cases / no figure)
    red: list
    black: list

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "owner": self.owner,
            "weights": self.weights,
            "min_cases": self.min_cases,
            "size": self.size,
            "rows": self.rows,
            "apart": self.apart,
            "red": self.red,
            "black": self.black,
        }


def compute_ranking(
    kind: str,
    *,
    start: date,
    end: date,
    street: Street | None = None,
    district: District | None = None,
    worker_rows: list[dict] | None = None,
) -> Ranking:
    """The ranking of ``kind`` over [start, end] (no scope check: callers check it); ``worker_rows``: the
    网格员 rows of the period when already computed (:func:`grid_worker_scores_by_month`)."""
    if kind not in BoardKind.values:
        raise ValidationFailed(f"未知榜单类型：{kind}", field="kind")
    if kind == BoardKind.STREET:
        if district is None:
            raise ValidationFailed("街道排名是区级排名", field="kind")
        street = None
    elif street is None:
        raise ValidationFailed("请选择街道", field="street")
    conf = settings_for(street=street, district=district if street is None else None)
    if kind == BoardKind.GRID_WORKER:
        weights = dict(WORKER_WEIGHTS)
        if worker_rows is None:
            worker_rows = grid_worker_scores(street=street, start=start, end=end)
        rows = _with_composite([dict(r) for r in worker_rows], weights, WORKER_WEIGHTS)
    else:
        weights = conf.weights
        rows = _with_composite(
            area_rows(kind, start=start, end=end, street=street, district=district),
            weights,
            scoring.WEIGHT_OF,
        )
    ranked, apart = scoring.rank_rows(rows, min_cases=conf.min_cases)
    red, black = scoring.cut(ranked, conf.board_size)
    return Ranking(
        kind=kind,
        start=start,
        end=end,
        owner=street.name if street else district.name,
        weights=weights,
        min_cases=conf.min_cases,
        size=conf.board_size,
        rows=ranked,
        apart=apart,
        red=red,
        black=black,
    )


def ranking(*, user, kind: str, start: date, end: date, street_code: str | None = None) -> Ranking:
    """The live ranking the user may see (街道-wide roles; the 街道 ranking: the user's 区)."""
    _require_rank(user)
    if kind == BoardKind.STREET:
        if getattr(user, "street_id", None):  # a 街道 account never sees the other 街道's figures
            raise PermissionDenied("街道排名（区级）只对区级账号开放", code="forbidden")
        return compute_ranking(kind, start=start, end=end, district=resolve_district(user=user))
    return compute_ranking(kind, start=start, end=end, street=resolve_street(user=user, code=street_code))


# --- role scores from the timeline --------------------------------------------------------------------------


def _due(snapshot: dict) -> datetime | None:
    text = (snapshot or {}).get("due_at")
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


# the timeline entries that start or move the clock of a stage: 立案/退回 start the 派遣时限 (恢复 after 挂账 and 督办
# carry the moved due time), 处置完成 starts the 核查结案时限; and the 派遣-changing ones (for 准确派遣率)
VERIFY_CLOCK_MOVES = ("finish", "supervise")
DISPATCH_CLOCK_MOVES = ("accept", "return", "resume", "supervise")
DISPATCH_MOVES = ("dispatch", "reassign", "return")


def _timelines(case_ids, moves) -> dict[int, list]:
    """{case id: [(seq, move, stage, due_at)] in order} of the entries of ``moves`` (the ones the role scores
    read; only the stage and due time of each entry's clock snapshot are fetched)."""
    out: dict[int, list] = defaultdict(list)
    qs = (
        CaseEvent.objects.filter(case_id__in=list(case_ids), move__in=moves)
        .order_by("case_id", "seq")
        .values_list("case_id", "seq", "move", "clock__stage", "clock__due_at")
    )
    for case_id, seq, move, stage, due in qs.iterator(chunk_size=5000):
        out[case_id].append((seq, move, stage, due))
    return out


def _on_time(timeline: list, seq: int, at: datetime, stage: str) -> bool | None:
    """Whether the move ``seq`` at ``at`` fell within ``stage``'s limit: the ``due_at`` of the last earlier entry
    whose clock ran ``stage``; ``None`` when no such snapshot exists (not counted)."""
    due = None
    for s, _move, snap_stage, snap_due in timeline:
        if s >= seq:
            break
        if snap_stage == stage:
            due = _due({"due_at": snap_due})
    if due is None:
        return None
    return at <= due


def _undone(timeline: list, seq: int) -> bool:
    """A 派遣/改派 is undone when the next 派遣-changing entry of the case is a 改派 or a 退回."""
    for s, move, _stage, _due in timeline:
        if s > seq and move in DISPATCH_MOVES:
            return move in ("reassign", "return")
    return False


def _person(user_id: int | None, names: dict) -> tuple[str, str]:
    u = names.get(user_id)
    if u is None:
        return str(user_id or ""), "（已删除账号）"
    return u[0], u[1] or u[0]


def _worker_tallies(street: Street, lo: datetime, hi: datetime, bucket) -> tuple[dict, dict]:
    """({(bucket, user id): [上报, 有效]}, {(bucket, user id): [核查, 按时]}) over [lo, hi); ``bucket(local
    datetime)`` names the period a report or a check falls in (one period, or each month of a year)."""
    reports: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for uid, state, accepted_at, created_at in Case.objects.filter(
        street=street, created_by__role=Role.GRID_WORKER, created_at__gte=lo, created_at__lt=hi
    ).values_list("created_by_id", "state", "accepted_at", "created_at"):
        if state in (CaseState.VOIDED, CaseState.REPORTED):
            continue  # 作废 (登记错误) and not yet decided: not counted
        tally = reports[(bucket(created_at), uid)]
        tally[0] += 1
        if accepted_at is not None and state != CaseState.MERGED:
            tally[1] += 1
    verifies = list(
        CaseEvent.objects.filter(
            case__street=street,
            move__in=("verify_pass", "verify_fail"),
            actor_role=Role.GRID_WORKER,
            at__gte=lo,
            at__lt=hi,
        ).values_list("case_id", "seq", "at", "actor_id")
    )
    timelines = _timelines({v[0] for v in verifies}, VERIFY_CLOCK_MOVES)
    checks: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for case_id, seq, at, uid in verifies:
        ok = _on_time(timelines.get(case_id, []), seq, at, "verify")
        if ok is None:
            continue
        tally = checks[(bucket(at), uid)]
        tally[0] += 1
        tally[1] += int(ok)
    return reports, checks


def _worker_rows(street: Street, reports: dict, checks: dict, names: dict | None = None) -> list[dict]:
    """One row per 网格员 of ``street`` (and anyone else who reported or checked there) from one period's tallies."""
    members = set(
        User.objects.filter(
            role=Role.GRID_WORKER, street=street, is_active=True, is_system=False
        ).values_list("pk", flat=True)
    )
    ids = members | set(reports) | set(checks)
    if names is None:
        names = {
            pk: (username, full_name)
            for pk, username, full_name in User.objects.filter(pk__in=ids).values_list(
                "pk", "username", "full_name"
            )
        }
    rows = []
    for uid in ids:
        key, label = _person(uid, names)
        reported, valid = reports.get(uid, (0, 0))
        verified, on_time = checks.get(uid, (0, 0))
        rows.append(
            {
                "key": key,
                "label": label,
                "sample": reported + verified,
                "reported": reported,
                "valid": valid,
                "valid_rate": scoring.ratio(valid, reported),
                "verified": verified,
                "verified_on_time": on_time,
                "verify_rate": scoring.ratio(on_time, verified),
            }
        )
    return rows


def grid_worker_scores(*, street: Street, start: date, end: date) -> list[dict]:
    """Per 网格员 of ``street``: 有效上报率 and 按时核查率 (module docstring), sample = 上报数 + 核查数."""
    lo, hi = _bounds(start, end)
    reports, checks = _worker_tallies(street, lo, hi, lambda dt: None)
    return _worker_rows(
        street, {u: t for (_, u), t in reports.items()}, {u: t for (_, u), t in checks.items()}
    )


def grid_worker_scores_by_month(*, street: Street, months: list[date]) -> dict[date, list[dict]]:
    """:func:`grid_worker_scores` of each calendar month in ``months`` in one pass (the demo's year of boards)."""
    lo, hi = _bounds(min(months), month_end(max(months)))
    reports, checks = _worker_tallies(street, lo, hi, lambda dt: clock.to_local(dt).date().replace(day=1))
    out = {}
    for month in months:
        out[month] = _worker_rows(
            street,
            {u: t for (m, u), t in reports.items() if m == month},
            {u: t for (m, u), t in checks.items() if m == month},
        )
    return out


def dispatcher_scores(*, street: Street, start: date, end: date) -> list[dict]:
    """Per 派遣员 (指挥中心受理员/派遣员, 值班长) of ``street``: 按时派遣率 and 准确派遣率 (module docstring)."""
    lo, hi = _bounds(start, end)
    events = list(
        CaseEvent.objects.filter(
            case__street=street,
            move__in=("dispatch", "reassign"),
            actor_role__in=DISPATCH_ROLES,
            at__gte=lo,
            at__lt=hi,
        ).values_list("case_id", "seq", "move", "at", "actor_id")
    )
    timelines = _timelines({e[0] for e in events}, (*DISPATCH_CLOCK_MOVES, *DISPATCH_MOVES))
    acc: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # timed, on time, dispatches, undone
    for case_id, seq, move, at, uid in events:
        timeline = timelines.get(case_id, [])
        a = acc[uid]
        a[2] += 1
        a[3] += int(_undone(timeline, seq))
        if move == "dispatch":
            ok = _on_time(timeline, seq, at, "dispatch")
            if ok is not None:
                a[0] += 1
                a[1] += int(ok)
    names = {
        pk: (username, full_name)
        for pk, username, full_name in User.objects.filter(pk__in=list(acc)).values_list(
            "pk", "username", "full_name"
        )
    }
    rows = []
    for uid, (timed, on_time, sent, undone) in acc.items():
        key, label = _person(uid, names)
        accurate = scoring.ratio(sent - undone, sent)
        rows.append(
            {
                "key": key,
                "label": label,
                "dispatched": sent,
                "timed": timed,
                "on_time": on_time,
                "on_time_rate": scoring.ratio(on_time, timed),
                "redone": undone,
                "accurate_rate": accurate,
            }
        )
    rows.sort(key=lambda r: (-r["dispatched"], r["key"]))
    return rows


def department_scores(*, street: Street, start: date, end: date) -> list[dict]:
    """Per 处置部门: 按期处置率 (= the metrics' 按期办结率) and 返工率 from the metrics, with 办结数."""
    rows = area_rows(BoardKind.DEPARTMENT, start=start, end=end, street=street, district=None)
    return [
        {
            "key": r["key"],
            "label": r["label"],
            "done": r["done"],
            "on_time_rate": r["on_time_rate"],
            "rework_rate": r["rework_rate"],
            "dispatched": r["dispatched"],
        }
        for r in sorted(rows, key=lambda r: (-r["done"], r["key"]))
    ]


def role_scores(*, user, start: date, end: date, street_code: str | None = None) -> dict:
    _require_rank(user)
    street = resolve_street(user=user, code=street_code)
    return {
        "street": street.code,
        "street_name": street.name,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "grid_workers": sorted(
            grid_worker_scores(street=street, start=start, end=end), key=lambda r: (-r["sample"], r["key"])
        ),
        "dispatchers": dispatcher_scores(street=street, start=start, end=end),
        "departments": department_scores(street=street, start=start, end=end),
    }


# --- assessments beside the platform's own figures -------------------------------------------------------------


def assessment_chart(*, user, year: int, street_code: str | None = None, name: str | None = None) -> dict:
    """Per month of ``year``: the imported score and rank of the 街道 (one assessment name) beside the platform's
    own 三率 composite (the 街道's weights) and the three rates, all from the metrics rollup."""
    _require_rank(user)
    street = resolve_street(user=user, code=street_code)
    if not 2000 <= int(year) <= 2100:
        raise ValidationFailed("年度应在 2000–2100 之间", field="year")
    qs = visible_assessments(user=user).filter(street=street, month__year=year)
    names = sorted(set(qs.values_list("name", flat=True)))
    chosen = name if name else (names[0] if names else "城市长效管理考核")
    by_month = {a.month.month: a for a in qs.filter(name=chosen)}
    weights = settings_for(street=street).weights
    today = clock.local_now().date()
    months = []
    for m in range(1, 13):
        first = date(int(year), m, 1)
        a = by_month.get(m)
        row = {
            "month": f"{year}-{m:02d}",
            "score": float(a.score) if a else None,
            "rank": a.rank if a else None,
            "total": a.total if a else None,
            "response_rate": None,
            "resolve_rate": None,
            "satisfaction_rate": None,
            "composite": None,
        }
        if first <= today:
            counters = metrics.rollup_counters(
                user=None, start=first, end=min(month_end(first), today), street_id=street.pk
            )[None]
            figs = metrics.figures(counters)
            rates = {k: figs[k] for k in scoring.WEIGHT_OF}
            row.update(rates)
            row["composite"] = scoring.composite(rates, weights)[0]
        months.append(row)
    return {
        "street": street.code,
        "street_name": street.name,
        "year": int(year),
        "name": chosen,
        "names": names,
        "weights": weights,
        "months": months,
    }
