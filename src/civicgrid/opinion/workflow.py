"""The ``opinion`` procedure (舆情): 收集 → 研判 (一般/较大/重大) → 交办处置 (处置时限 within the level's bounds) →
处置情况 → 回应 → 办结; 无需处置 ends a 舆情 that needs nothing after 研判. Pure table plus the handlers."""

from __future__ import annotations

from django.db.models import Q

from civicgrid.accounts.roles import STREET_ROLES, Role
from civicgrid.cases import procedures as P
from civicgrid.cases import workflow as W
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import DeadlineUnit
from civicgrid.core.errors import ValidationFailed
from civicgrid.opinion.models import OpinionDetail

CODE = "opinion"
# 处置时限 bounds per 研判 level (自然日): the procedure's LimitBounds is the widest, the handler narrows it
LEVEL_BOUNDS: dict[str, tuple[int, int]] = {"general": (1, 7), "serious": (1, 3), "major": (1, 1)}
RESPOND_DAYS = 2  # 处置完成后的回应时限 (自然日)

DESK = {Role.DISPATCHER: W.ANY, Role.SHIFT_LEADER: W.ANY}
TEAM = {**DESK, Role.DEPT_HANDLER: W.OWN_DEPARTMENT}

OPEN = frozenset({"collected", "assessed", "handling", "handled", "responded"})
ENDED = frozenset({"closed", "dismissed"})


def may_see(user) -> bool:
    """舆情 are seen by the desk, leaders, the administrator and the department they are handed to."""
    role = getattr(user, "role", None)
    return role in STREET_ROLES or role == Role.DEPT_HANDLER


def sees_opinion(user) -> Q:
    return Q() if may_see(user) else Q(pk__in=[])


def _detail(ctx) -> OpinionDetail:
    record = ctx.detail_record or OpinionDetail.objects.filter(case_id=ctx.case.pk).first()
    if record is None:
        raise ValidationFailed("该舆情缺少明细记录", field="level", code=CaseErrorCode.DETAIL_REQUIRED)
    return record


def _stamp(ctx, name: str) -> dict:
    record = _detail(ctx)
    setattr(record, name, ctx.now)
    record.save(update_fields=[name])
    return {}


def _assess(ctx) -> dict:
    _stamp(ctx, "assessed_at")
    return {"level": _detail(ctx).level}


def _assign(ctx) -> dict:
    record = _detail(ctx)
    if not record.level:
        raise ValidationFailed("请先研判等级", field="level", code=CaseErrorCode.DETAIL_REQUIRED)
    low, high = LEVEL_BOUNDS[record.level]
    if not low <= int(ctx.amount) <= high:
        raise ValidationFailed(
            f"{record.get_level_display()}舆情的处置时限须在 {low} 到 {high} 个自然日之间",
            field="amount",
            code=CaseErrorCode.LIMIT_OUT_OF_BOUNDS,
        )
    return {"level": record.level}


def _handled(ctx) -> dict:
    ctx.case.handled_at = ctx.now
    ctx.case.handling_feedback = ctx.note
    return _stamp(ctx, "handled_at")


def _respond(ctx) -> dict:
    return _stamp(ctx, "responded_at")


def _conclude(ctx) -> dict:
    return _stamp(ctx, "concluded_at")


PROCEDURE = P.Procedure(
    code=CODE,
    label="舆情",
    filed_elsewhere="舆情请通过「舆情」登记（/opinion/new/），需填写来源平台、媒体/账号和链接",
    states=(
        P.StateDef("collected", "已收集", "secondary"),
        P.StateDef("assessed", "已研判", "info"),
        P.StateDef("handling", "处置中", "warning"),
        P.StateDef("handled", "待回应", "primary"),
        P.StateDef("responded", "已回应", "primary"),
        P.StateDef("closed", "办结", "success"),
        P.StateDef("dismissed", "无需处置", "dark"),
    ),
    initial="collected",
    handlers={
        "assess": _assess,
        "assign_handling": _assign,
        "report_handled": _handled,
        "respond": _respond,
        "conclude": _conclude,
        "dismiss": _conclude,
    },
    moves=(
        W.define_move(
            "assess",
            "研判",
            ["collected"],
            "assessed",
            DESK,
            fields=("note",),
            detail_fields=("level", "assessment"),
        ),
        W.define_move(
            "assign_handling",
            "交办处置",
            ["assessed"],
            "handling",
            DESK,
            fields=("department", "note"),
            required=("department",),
        ),
        W.define_move(
            "report_handled",
            "报告处置情况",
            ["handling"],
            "handled",
            TEAM,
            fields=("note", "attachments"),
            detail_fields=("actions",),
            style="success",
        ),
        W.define_move(
            "respond",
            "发布回应",
            ["handled"],
            "responded",
            DESK,
            fields=("note",),
            detail_fields=("response_text", "response_channel"),
            style="primary",
        ),
        W.define_move(
            "conclude", "办结", ["handled", "responded"], "closed", DESK, fields=("note",), style="success"
        ),
        W.define_move(
            "dismiss",
            "无需处置",
            ["collected", "assessed"],
            "dismissed",
            DESK,
            fields=("reason",),
            required=("reason",),
            style="secondary",
        ),
    ),
    stages=(
        P.StageRule(
            "handle",
            "处置时限",
            starts=("assign_handling",),
            stops=("report_handled",),
            chosen=P.LimitBounds("assign_handling", 1, 7, DeadlineUnit.NATURAL_DAYS),
        ),
        P.StageRule(
            "respond",
            "回应时限",
            starts=("report_handled",),
            stops=("respond", "conclude"),
            amount=RESPOND_DAYS,
            unit=DeadlineUnit.NATURAL_DAYS,
        ),
    ),
    open=OPEN,
    closed=ENDED,
    terminal=ENDED,
    done=frozenset({"closed"}),
    visibility=sees_opinion,
    create_roles=frozenset({Role.DISPATCHER, Role.SHIFT_LEADER}),
    detail_model=OpinionDetail,
)


def register() -> None:
    if not any(p.code == CODE for p in P.all_procedures()):
        P.register(PROCEDURE)


def procedure() -> P.Procedure:
    return P.get(CODE)
