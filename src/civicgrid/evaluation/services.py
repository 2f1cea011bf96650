"""Every write of 行政问效: the 三率 weights, the 红黑榜 (draft = compute and store the snapshot; submit; return;
publish — :mod:`civicgrid.evaluation.workflow` guards each move), and the imported assessment results.
Keyword-only, each takes ``actor``; the write and its audit row in one transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from civicgrid.core import audit, clock
from civicgrid.core.errors import Conflict, PermissionDenied, ValidationFailed
from civicgrid.evaluation import scoring, selectors, workflow
from civicgrid.evaluation.models import Assessment, Board, BoardKind, EvaluationSettings
from civicgrid.places.models import District, Street

SETTINGS_FIELDS = ["w_response", "w_resolve", "w_satisfaction", "min_cases", "board_size"]
BOARD_FIELDS = ["state", "size", "min_cases", "weights", "red", "black", "note", "review_note"]
ASSESSMENT_FIELDS = ["score", "rank", "total", "note", "source"]


def _int(value, *, field: str, label: str, low: int, high: int) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(f"{label}应为整数：{value}", field=field)
    if not low <= n <= high:
        raise ValidationFailed(f"{label}应在 {low}–{high} 之间：{n}", field=field)
    return n


def clean_settings(values: dict) -> dict:
    """Validated settings: each weight 0–100 and the three summing to 100 (the error names the first weight)."""
    out = {
        name: _int(values.get(name), field=name, label=scoring.WEIGHT_LABELS[name], low=0, high=100)
        for name in ("w_response", "w_resolve", "w_satisfaction")
    }
    total = sum(out.values())
    if total != 100:
        raise ValidationFailed(f"三项权重之和应为 100，当前为 {total}", field="w_response")
    out["min_cases"] = _int(values.get("min_cases"), field="min_cases", label="最少件数", low=1, high=10000)
    out["board_size"] = _int(
        values.get("board_size"), field="board_size", label="红/黑榜名次数", low=1, high=50
    )
    return out


def save_settings(
    *, actor, street: Street | None = None, district: District | None = None, values: dict
) -> EvaluationSettings:
    """The settings of ``street`` (or of the 区-level ranking of ``district``), created or replaced."""
    if not selectors.can_configure(actor):
        raise PermissionDenied("当前角色不能修改考评设置", code="forbidden")
    if street is not None:
        street = selectors.resolve_street(user=actor, code=street.code)
        district = None
    elif district is None or district.pk != selectors.user_district_id(actor) or actor.street_id:
        raise PermissionDenied("只有区级账号可以修改区级排名的设置", code="forbidden")
    clean = clean_settings(values)
    with transaction.atomic():
        qs = EvaluationSettings.objects.select_for_update()
        row = qs.filter(street=street).first() if street else qs.filter(district=district).first()
        before = audit.snapshot(row, SETTINGS_FIELDS) if row else None
        if row is None:
            row = EvaluationSettings(street=street, district=district)
        for k, v in clean.items():
            setattr(row, k, v)
        row.updated_by, row.updated_at = actor, clock.now()
        row.save()
        b, a = audit.diff(before, audit.snapshot(row, SETTINGS_FIELDS)) if before else (None, clean)
        audit.record(actor=actor, action="evaluation.settings.save", obj=row, before=b, after=a)
    return row


def _fill(board: Board) -> None:
    """Compute the ranking of the board's month and store it as the board's snapshot."""
    ranking = selectors.compute_ranking(
        board.kind,
        start=board.month,
        end=selectors.month_end(board.month),
        street=board.street,
        district=board.district,
    )
    board.rows, board.apart = ranking.rows, ranking.apart
    board.red, board.black = ranking.red, ranking.black
    board.weights, board.min_cases, board.size = ranking.weights, ranking.min_cases, ranking.size
    board.computed_at = clock.now()


def draft_board(*, actor, kind: str, month, street_code: str | None = None, note: str = "") -> Board:
    """草拟: a new board of ``kind`` for ``month`` (computed now). One board per kind, month and 街道 (or 区)."""
    if kind not in BoardKind.values:
        raise ValidationFailed(f"未知榜单类型：{kind}", field="kind")
    if actor.role not in workflow.DRAFTERS or not selectors.can_rank(actor):
        raise PermissionDenied("只有指挥中心（受理员/派遣员、值班长）可以草拟红黑榜", code="forbidden")
    month = selectors.parse_month(month)
    if month > clock.local_now().date():
        raise ValidationFailed("不能草拟未来月份的榜单", field="month")
    street = district = None
    if kind == BoardKind.STREET:
        if actor.street_id:
            raise PermissionDenied("街道排名的红黑榜由区级指挥中心草拟", code="forbidden")
        district = selectors.resolve_district(user=actor)
    else:
        street = selectors.resolve_street(user=actor, code=street_code)
    board = Board(
        kind=kind,
        month=month,
        street=street,
        district=district,
        drafted_by=actor,
        drafted_at=clock.now(),
        note=(note or "").strip()[:2000],
    )
    _fill(board)
    try:
        with transaction.atomic():
            board.save()
            audit.record(
                actor=actor,
                action="evaluation.board.draft",
                obj=board,
                after={"kind": kind, "month": month.isoformat(), "red": board.red, "black": board.black},
            )
    except IntegrityError:
        raise Conflict(
            f"{month:%Y年%m月}的{BoardKind(kind).label}红黑榜已存在", field="month", code="duplicate"
        )
    return board


def transition(*, actor, board: Board, move: str, version: int | None = None, note: str = "") -> Board:
    """One workflow move on ``board`` (guarded by the table; a stale ``version`` is a 409)."""
    with transaction.atomic():
        locked = (
            selectors.visible_boards(user=actor).select_for_update(of=("self",)).filter(pk=board.pk).first()
        )
        if locked is None:
            raise PermissionDenied("榜单不存在或无权操作", code="forbidden")
        m = workflow.check(locked.state, move, actor.role)
        if version is not None and int(version) != locked.version:
            raise Conflict("榜单已被他人修改，请刷新后重试", code="stale_version")
        note = (note or "").strip()[:2000]
        if m.needs_note and not note:
            raise ValidationFailed("请填写退回意见", field="note")
        before = audit.snapshot(locked, BOARD_FIELDS)
        now = clock.now()
        if m.name == "redraft":
            _fill(locked)
            locked.drafted_by, locked.drafted_at = actor, now
            if note:
                locked.note = note
        elif m.name == "submit":
            locked.submitted_at = now
        elif m.name == "return":
            locked.review_note, locked.reviewed_by = note, actor
        elif m.name == "publish":
            locked.reviewed_by, locked.published_at = actor, now
            if note:
                locked.review_note = note
        locked.state = m.target
        locked.version += 1
        locked.save()
        b, a = audit.diff(before, audit.snapshot(locked, BOARD_FIELDS))
        audit.record(
            actor=actor, action=f"evaluation.board.{m.name}", obj=locked, before=b, after=a, note=note
        )
    return locked


def _decimal(value, *, field: str, label: str) -> Decimal:
    if isinstance(value, bool) or value in (None, ""):
        raise ValidationFailed(f"请填写{label}", field=field)
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{label}不是数字：{value}", field=field)
    if not d.is_finite() or not Decimal(0) <= d <= Decimal(10000):
        raise ValidationFailed(f"{label}应在 0–10000 之间：{value}", field=field)
    return d.quantize(Decimal("0.01"))


def _opt_int(value, *, field: str, label: str) -> int | None:
    if value in (None, ""):
        return None
    return _int(value, field=field, label=label, low=1, high=999)


def save_assessment(
    *,
    actor,
    street: Street,
    month: date | str,
    score,
    name: str = "城市长效管理考核",
    rank=None,
    total=None,
    note: str = "",
    source: str = "entered",
) -> tuple[Assessment, bool]:
    """One month's result of a higher-level assessment of ``street`` (created or replaced; unchanged → no audit).
    Returns (row, changed)."""
    if not selectors.can_import(actor):
        raise PermissionDenied("当前角色不能录入上级考核结果", code="forbidden")
    from civicgrid.places import selectors as place_selectors

    if not place_selectors.same_tier(actor, street.pk):
        raise ValidationFailed(f"街道不在您的辖区：{street.name}", field="street")
    name = (name or "").strip()[:60] or "城市长效管理考核"
    values = {
        "score": _decimal(score, field="score", label="得分"),
        "rank": _opt_int(rank, field="rank", label="排名"),
        "total": _opt_int(total, field="total", label="参评单位数"),
        "note": (note or "").strip()[:300],
        "source": source,
    }
    if values["rank"] and values["total"] and values["rank"] > values["total"]:
        raise ValidationFailed("排名不能大于参评单位数", field="rank")
    month = selectors.parse_month(month)
    with transaction.atomic():
        row = Assessment.objects.select_for_update().filter(street=street, name=name, month=month).first()
        before = audit.snapshot(row, ASSESSMENT_FIELDS) if row else None
        if row is None:
            row = Assessment(street=street, name=name, month=month)
        for k, v in values.items():
            setattr(row, k, v)
        row.updated_by, row.updated_at = actor, clock.now()
        row.save()
        row.refresh_from_db()
        after = audit.snapshot(row, ASSESSMENT_FIELDS)
        b, a = audit.diff(before, after) if before else (None, after)
        changed = before is None or bool(a)
        if changed:
            action = "evaluation.assessment.import" if source == "imported" else "evaluation.assessment.save"
            audit.record(actor=actor, action=action, obj=row, before=b, after=a)
    return row, changed
