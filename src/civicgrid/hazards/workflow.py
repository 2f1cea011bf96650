"""The ``hazard`` procedure (安全隐患): its table, level-aware 整改期限 and the moves' own work.

发现 → 交办整改 (整改中, 整改期限 chosen within the level's bounds) → 报告整改完成 (待复查, 3 工作日) → 复查合格
(待销号) → 销号 (已销号); 复查不合格 sends it back to 整改中 with a fixed 重新整改 limit; 作废 while not yet fixed.
挂牌督办 is offered and allowed on 重大 hazards not yet 挂牌 only (the ``supervisable`` precondition). Pure tables plus the handlers the engine calls inside its transaction.
"""

from __future__ import annotations

from civicgrid.accounts.roles import Role
from civicgrid.cases import procedures as P
from civicgrid.cases import workflow as W
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import AttachmentKind, DeadlineUnit
from civicgrid.core.errors import IllegalTransition, ValidationFailed
from civicgrid.hazards.models import HazardDetail

CODE = "hazard"

# 整改期限 bounds per level (自然日); the procedure's LimitBounds is the widest, the handler narrows it per level
LEVEL_BOUNDS: dict[str, tuple[int, int]] = {"general": (1, 30), "serious": (1, 15), "major": (1, 7)}
REVIEW_DAYS = 3  # 复查时限, 工作日
REWORK_DAYS = 7  # 复查不合格后重新整改, 自然日

DESK = {Role.DISPATCHER: W.ANY, Role.SHIFT_LEADER: W.ANY}
DEPT = {Role.DEPT_HANDLER: W.OWN_DEPARTMENT}
REVIEWERS = {**DESK, Role.GRID_WORKER: W.OWN_GRID, Role.COMMUNITY_STAFF: W.OWN_COMMUNITY}

OPEN = frozenset({"found", "fixing", "review", "passed"})
CLOSED = frozenset({"closed", "void"})


def _detail(ctx):
    record = ctx.detail_record or HazardDetail.objects.filter(case_id=ctx.case.pk).first()
    if record is None:
        raise ValidationFailed("该隐患缺少明细记录", field="level", code=CaseErrorCode.DETAIL_REQUIRED)
    return record


def _assign_fix(ctx) -> dict:
    """整改期限 within the bounds of the hazard's level (一般 1–30, 较大 1–15, 重大 1–7 自然日)."""
    record = _detail(ctx)
    low, high = LEVEL_BOUNDS[record.level]
    amount = int(ctx.amount)
    if not low <= amount <= high:
        raise ValidationFailed(
            f"{record.get_level_display()}隐患的整改期限须在 {low} 到 {high} 个自然日之间",
            field="amount",
            code=CaseErrorCode.LIMIT_OUT_OF_BOUNDS,
        )
    return {"level": record.level}


def _report_fixed(ctx) -> dict:
    """The department's 整改完成: the after-photos, the time, the 整改期限 it was measured against."""
    record = _detail(ctx)
    ctx.attachment_kind = AttachmentKind.AFTER
    ctx.case.handling_feedback = ctx.note
    ctx.case.handled_at = ctx.now
    if record.rectify_due_at is None and ctx.case.stage == "rectify":
        record.rectify_due_at = ctx.case.due_at
    record.fixed_at = ctx.now
    record.save(update_fields=["rectify_due_at", "fixed_at"])
    return {"photos": len(ctx.attachments)}


def _review_fail(ctx) -> dict:
    ctx.attachment_kind = AttachmentKind.OTHER
    return {}


def _list_supervise(ctx) -> dict:
    """挂牌督办: only a 重大 hazard, once."""
    record = _detail(ctx)
    if record.level != "major":
        raise IllegalTransition(
            "只有重大隐患可以挂牌督办", field="move", code=CaseErrorCode.ILLEGAL_TRANSITION
        )
    if record.supervised:
        raise IllegalTransition("该隐患已挂牌督办", field="move", code=CaseErrorCode.ILLEGAL_TRANSITION)
    record.supervised, record.supervised_at = True, ctx.now
    record.save(update_fields=["supervised", "supervised_at"])
    ctx.case.supervise_count = (ctx.case.supervise_count or 0) + 1
    return {"supervised": True}


SUPERVISABLE = "supervisable"  # the precondition of 挂牌督办: a 重大 hazard not yet 挂牌


def _supervisable(case) -> bool:
    return HazardDetail.objects.filter(case_id=case.pk, level="major", supervised=False).exists()


PROCEDURE = P.Procedure(
    code=CODE,
    label="安全隐患",
    # a hazard needs its detail record (level, place, inspection) from the start: filed through an inspection
    filed_elsewhere="安全隐患请通过「安全检查」登记（/hazards/inspect/），每条隐患随检查一并提交",
    states=(
        P.StateDef("found", "发现", "secondary"),
        P.StateDef("fixing", "整改中", "warning"),
        P.StateDef("review", "待复查", "primary"),
        P.StateDef("passed", "复查合格", "info"),
        P.StateDef("closed", "已销号", "success"),
        P.StateDef("void", "作废", "dark"),
    ),
    initial="found",
    handlers={
        "assign_fix": _assign_fix,
        "report_fixed": _report_fixed,
        "review_fail": _review_fail,
        "list_supervise": _list_supervise,
    },
    moves=(
        W.define_move(
            "assign_fix",
            "交办整改",
            ["found"],
            "fixing",
            DESK,
            fields=("department", "note"),
            required=("department",),
        ),
        W.define_move(
            "report_fixed",
            "报告整改完成",
            ["fixing"],
            "review",
            DEPT,
            fields=("note", "attachments"),
            required=("note",),
            detail_fields=("measures",),
            style="success",
        ),
        W.define_move(
            "review_pass", "复查合格", ["review"], "passed", REVIEWERS, fields=("note",), style="success"
        ),
        W.define_move(
            "review_fail",
            "复查不合格",
            ["review"],
            "fixing",
            REVIEWERS,
            fields=("reason", "attachments"),
            required=("reason",),
            style="warning",
        ),
        W.define_move("sign_off", "销号", ["passed"], "closed", DESK, fields=("note",), style="success"),
        W.define_move(
            "list_supervise",
            "挂牌督办",
            ["found", "fixing", "review"],
            W.STAY,
            DESK,
            needs=SUPERVISABLE,
            fields=("note",),
            style="danger",
        ),
        W.define_move(
            "void",
            "作废",
            ["found", "fixing"],
            "void",
            DESK,
            fields=("reason",),
            required=("reason",),
            style="danger",
        ),
    ),
    stages=(
        P.StageRule(
            "rectify",
            "整改期限",
            starts=("assign_fix",),
            stops=("report_fixed",),
            chosen=P.LimitBounds("assign_fix", 1, 30, DeadlineUnit.NATURAL_DAYS),
        ),
        P.StageRule(
            "review",
            "复查时限",
            starts=("report_fixed",),
            stops=("review_pass", "review_fail"),
            amount=REVIEW_DAYS,
            unit=DeadlineUnit.WORKING_DAYS,
        ),
        P.StageRule(
            "rework",
            "重新整改期限",
            starts=("review_fail",),
            stops=("report_fixed",),
            amount=REWORK_DAYS,
            unit=DeadlineUnit.NATURAL_DAYS,
        ),
    ),
    open=OPEN,
    closed=CLOSED,
    terminal=CLOSED,
    done=frozenset({"closed"}),
    detail_model=HazardDetail,
    preconditions={
        SUPERVISABLE: P.Precondition(_supervisable, "只有尚未挂牌的重大隐患可以挂牌督办"),
    },
)


def register() -> None:
    if not any(p.code == CODE for p in P.all_procedures()):
        P.register(PROCEDURE)


def procedure() -> P.Procedure:
    return P.get(CODE)
