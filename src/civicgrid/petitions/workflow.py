"""The ``petition`` procedure (信访, 信访工作条例 2022): its table, its 自然日 limits and the moves' own work.

待登记 ─登记→ 待受理 (受理告知 15 自然日) ─受理告知→ 办理中 (办理期限 60 自然日) ─交办部门→ 部门办理 ─报送办理结果→
办理中 ─答复→ 已答复 ─办结→ 已办结; 不予受理 from 待受理. After 办结 the 信访人 may ask for 复查 within 30 自然日 of the
答复 (复查中, 复查意见 within 30 自然日 → 已办结) and then for 复核 within 30 自然日 of the 复查意见 (复核中, 30 自然日).
One extension of the 办理期限 of up to 30 自然日 with approval (the engine's 延期申请: requested by the desk,
approved by the desk's 值班长). 督办 by leaders. Pure tables plus the handlers the engine calls in its transaction.

Who sees a 信访 (the procedure's ``visibility``, on top of jurisdiction and tier): the 信访办 (受理员/值班长 with a
:class:`~civicgrid.petitions.models.DeskMember` row), 领导, the case's 包案领导, a department's handlers while the
case is assigned to their department, a 网格员 only with a 协查任务 on it. Nobody else — not the 系统管理员, not a
社区, not the rest of the command centre.
"""

from __future__ import annotations

from django.db.models import Q

from civicgrid.accounts.roles import Role
from civicgrid.cases import procedures as P
from civicgrid.cases import workflow as W
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import DeadlineUnit, ExtensionRequest, ExtensionStatus
from civicgrid.core import workcalendar
from civicgrid.core.errors import ValidationFailed
from civicgrid.petitions.errors import PetitionErrorCode
from civicgrid.petitions.models import DeskMember, PetitionDetail, PetitionTask

CODE = "petition"
DAYS = DeadlineUnit.NATURAL_DAYS
NOTICE_DAYS = 15  # 受理告知: 15 日 from 登记 (条例 第三十二条)
HANDLE_DAYS = 60  # 办结: 60 日 from 受理 (第三十五条)
EXTENSION_MAX = 30  # one extension, up to 30 日, with approval
REVIEW_REQUEST_DAYS = 30  # 复查 request within 30 日 of the 答复 (第三十五条)
REVIEW_DAYS = 30  # 复查意见 within 30 日
RECHECK_REQUEST_DAYS = 30  # 复核 request within 30 日 of the 复查意见 (第三十六条)
RECHECK_DAYS = 30  # 复核意见 within 30 日

DESK_ROLES = (Role.DISPATCHER, Role.SHIFT_LEADER)
DESK = {Role.DISPATCHER: W.ANY, Role.SHIFT_LEADER: W.ANY}
APPROVER = {Role.SHIFT_LEADER: W.ANY}
DEPT = {Role.DEPT_HANDLER: W.OWN_DEPARTMENT}
OVERSIGHT = {Role.LEADER: W.ANY, Role.SHIFT_LEADER: W.ANY}

OPEN = frozenset({"new", "registered", "accepted", "assigned", "replied", "review", "recheck"})
CLOSED = frozenset({"closed", "declined"})
RUNNING = ["registered", "accepted", "assigned", "replied", "review", "recheck"]


# --- who sees a 信访 ---------------------------------------------------------------------------------


def is_desk(user) -> bool:
    """Whether ``user`` works the 信访 desk: a 受理员/派遣员 or 值班长 with an active 信访办人员 row."""
    if getattr(user, "role", None) not in DESK_ROLES or not getattr(user, "pk", None):
        return False
    cached = getattr(user, "_cg_petition_desk", None)
    if cached is None:
        cached = DeskMember.objects.filter(user_id=user.pk, is_active=True).exists()
        user._cg_petition_desk = cached
    return cached


def visibility(user) -> Q:
    """The 信访 ``user`` may see (on top of the engine's tier and jurisdiction rules)."""
    role = getattr(user, "role", None)
    if role == Role.LEADER or is_desk(user):
        return Q()
    q = Q(petition_detail__lead_id=user.pk)
    if role == Role.DEPT_HANDLER and user.department_id:
        q |= Q(department_id=user.department_id)  # only while assigned to it, not after a reassignment
    if role == Role.GRID_WORKER:
        q |= Q(pk__in=PetitionTask.objects.filter(assignee_id=user.pk).values("case_id"))
    return q


# --- handlers ---------------------------------------------------------------------------------------


def _detail(ctx) -> PetitionDetail:
    record = ctx.detail_record or PetitionDetail.objects.filter(case_id=ctx.case.pk).first()
    if record is None:
        raise ValidationFailed("该信访缺少登记信息", field="summary", code=CaseErrorCode.DETAIL_REQUIRED)
    return record


def _notify_accept(ctx) -> dict:
    record = _detail(ctx)
    record.accepted_at = ctx.now
    record.save(update_fields=["accepted_at"])
    return {"accepted_at": ctx.now.isoformat()}


def _close(ctx) -> dict:
    """办结: the first 办结 is the one the 办结率/按期办结率 count, measured against the 办理期限 then running."""
    record = _detail(ctx)
    if record.done_at is None:
        record.done_at = ctx.now
        if ctx.case.stage == "handle":
            record.handle_due_at = ctx.case.due_at
        record.save(update_fields=["done_at", "handle_due_at"])
    return {"on_time": record.done_on_time}


def _reply(ctx) -> dict:
    record = _detail(ctx)
    record.replied_at = ctx.now
    record.save(update_fields=["replied_at"])
    return {}


def _within(start, days: int, now, what: str) -> None:
    if start is None:
        return
    due = workcalendar.compute_due(start, days, DAYS).due
    if now >= due:
        label = workcalendar.format_due(due, DAYS)
        raise ValidationFailed(
            f"{what}须在 {days} 日内提出（期满 {label}），已超期",
            field="reason",
            code=CaseErrorCode.INVALID_INPUT,
        )


def _request_review(ctx) -> dict:
    record = _detail(ctx)
    if record.reviewed_at is not None:
        raise ValidationFailed("已经复查过，请申请复核", field="move", code=CaseErrorCode.ILLEGAL_TRANSITION)
    _within(record.replied_at, REVIEW_REQUEST_DAYS, ctx.now, "复查申请")
    record.reopen_count += 1
    record.save(update_fields=["reopen_count"])
    return {"reopen_count": record.reopen_count}


def _review_done(ctx) -> dict:
    record = _detail(ctx)
    record.reviewed_at = ctx.now
    record.save(update_fields=["reviewed_at"])
    return {}


def _request_recheck(ctx) -> dict:
    record = _detail(ctx)
    if record.reviewed_at is None:
        raise ValidationFailed("须先经复查才能申请复核", field="move", code=CaseErrorCode.ILLEGAL_TRANSITION)
    if record.rechecked_at is not None:
        raise ValidationFailed(
            "复核意见为终结意见，不能再次复核", field="move", code=CaseErrorCode.ILLEGAL_TRANSITION
        )
    _within(record.reviewed_at, RECHECK_REQUEST_DAYS, ctx.now, "复核申请")
    record.reopen_count += 1
    record.save(update_fields=["reopen_count"])
    return {"reopen_count": record.reopen_count}


def _recheck_done(ctx) -> dict:
    record = _detail(ctx)
    record.rechecked_at = ctx.now
    record.save(update_fields=["rechecked_at"])
    return {}


def _request_extension(ctx) -> dict:
    """One extension of the 办理期限, 1–30 自然日; the engine's 延期申请 does the rest."""
    case = ctx.case
    if case.stage != "handle":
        raise ValidationFailed(
            "只有办理期限可以延期", field="amount", code=PetitionErrorCode.EXTENSION_INVALID
        )
    try:
        amount = int(ctx.amount)
    except (TypeError, ValueError):
        raise ValidationFailed("请填写延期天数（整数）", field="amount", code=CaseErrorCode.INVALID_LIMIT)
    if not 1 <= amount <= EXTENSION_MAX:
        raise ValidationFailed(
            f"延期不得超过 {EXTENSION_MAX} 日", field="amount", code=CaseErrorCode.LIMIT_OUT_OF_BOUNDS
        )
    ctx.unit = ctx.unit or DAYS
    if ExtensionRequest.objects.filter(case_id=case.pk, status=ExtensionStatus.APPROVED).exists():
        raise ValidationFailed(
            "办理期限只能延长一次", field="amount", code=PetitionErrorCode.EXTENSION_INVALID
        )
    return P.default().handler("request_extension")(ctx)


def _approve_extension(ctx) -> dict:
    data = P.default().handler("approve_extension")(ctx)
    record = _detail(ctx)
    record.extension_days = data["amount"]
    record.save(update_fields=["extension_days"])
    return data


def _deny_extension(ctx) -> dict:
    return P.default().handler("deny_extension")(ctx)


def _supervise(ctx) -> dict:
    """督办: counted on the case; the desk and the department (if any) are told — nobody else."""
    from civicgrid.petitions import selectors

    case = ctx.case
    case.supervise_count = (case.supervise_count or 0) + 1
    dept_id, street_id = case.department_id, case.street_id
    ctx.notify(
        lambda: selectors.desk_users(street_id=street_id, department_id=dept_id),
        "supervise",
        f"信访 {case.display_number} 被督办：{ctx.note}",
    )
    return {"supervise_count": case.supervise_count}


def _stage(code, label, starts, stops, days) -> P.StageRule:
    return P.StageRule(code, label, starts=starts, stops=stops, amount=days, unit=DAYS)


PROCEDURE = P.Procedure(
    code=CODE,
    label="信访",
    filed_elsewhere="信访请在「信访台账」登记（/petitions/new/），只有信访办人员可以登记",
    states=(
        P.StateDef("new", "待登记", "secondary"),
        P.StateDef("registered", "待受理", "secondary"),
        P.StateDef("accepted", "办理中", "primary"),
        P.StateDef("assigned", "部门办理", "warning"),
        P.StateDef("replied", "已答复", "info"),
        P.StateDef("closed", "已办结", "success"),
        P.StateDef("review", "复查中", "warning"),
        P.StateDef("recheck", "复核中", "danger"),
        P.StateDef("declined", "不予受理", "dark"),
    ),
    initial="new",
    create_roles=frozenset(DESK_ROLES),
    handlers={
        "notify_accept": _notify_accept,
        "reply": _reply,
        "close": _close,
        "request_review": _request_review,
        "review_done": _review_done,
        "request_recheck": _request_recheck,
        "recheck_done": _recheck_done,
        "request_extension": _request_extension,
        "approve_extension": _approve_extension,
        "deny_extension": _deny_extension,
        "supervise": _supervise,
    },
    moves=(
        W.define_move("register", "登记", ["new"], "registered", DESK, fields=("note",)),
        W.define_move("notify_accept", "受理告知", ["registered"], "accepted", DESK, fields=("note",)),
        W.define_move(
            "decline",
            "不予受理",
            ["registered"],
            "declined",
            DESK,
            fields=("reason",),
            required=("reason",),
            style="danger",
        ),
        W.define_move(
            "assign_dept",
            "交办部门",
            ["accepted"],
            "assigned",
            DESK,
            fields=("department", "note"),
            required=("department",),
        ),
        W.define_move(
            "report_result",
            "报送办理结果",
            ["assigned"],
            "accepted",
            DEPT,
            fields=("note",),
            required=("note",),
            detail_fields=("opinion",),
            style="success",
        ),
        W.define_move(
            "reply",
            "答复",
            ["accepted"],
            "replied",
            DESK,
            fields=("note",),
            detail_fields=("reply",),
            style="success",
        ),
        W.define_move("close", "办结", ["replied"], "closed", DESK, fields=("note",), style="success"),
        W.define_move(
            "request_review",
            "申请复查",
            ["closed"],
            "review",
            DESK,
            fields=("reason",),
            required=("reason",),
            style="warning",
        ),
        W.define_move(
            "review_done",
            "出具复查意见",
            ["review"],
            "closed",
            DESK,
            fields=("note",),
            required=("note",),
            style="success",
        ),
        W.define_move(
            "request_recheck",
            "申请复核",
            ["closed"],
            "recheck",
            DESK,
            fields=("reason",),
            required=("reason",),
            style="danger",
        ),
        W.define_move(
            "recheck_done",
            "出具复核意见",
            ["recheck"],
            "closed",
            DESK,
            fields=("note",),
            required=("note",),
            style="success",
        ),
        W.define_move(
            "request_extension",
            "申请延期",
            ["accepted", "assigned"],
            W.STAY,
            {Role.DISPATCHER: W.ANY},
            needs=W.NO_EXTENSION_PENDING,
            fields=("amount", "unit", "reason"),
            required=("amount", "reason"),
            style="warning",
        ),
        W.define_move(
            "approve_extension",
            "批准延期",
            ["accepted", "assigned"],
            W.STAY,
            APPROVER,
            needs=W.EXTENSION_PENDING,
            fields=("note",),
            style="success",
        ),
        W.define_move(
            "deny_extension",
            "不批准延期",
            ["accepted", "assigned"],
            W.STAY,
            APPROVER,
            needs=W.EXTENSION_PENDING,
            fields=("note",),
            style="danger",
        ),
        W.define_move(
            "supervise",
            "督办",
            RUNNING,
            W.STAY,
            OVERSIGHT,
            fields=("note",),
            required=("note",),
            style="danger",
        ),
    ),
    stages=(
        _stage("notice", "受理告知期限", ("register",), ("notify_accept", "decline"), NOTICE_DAYS),
        _stage("handle", "办理期限", ("notify_accept",), ("close",), HANDLE_DAYS),
        _stage("review", "复查期限", ("request_review",), ("review_done",), REVIEW_DAYS),
        _stage("recheck", "复核期限", ("request_recheck",), ("recheck_done",), RECHECK_DAYS),
    ),
    open=OPEN,
    closed=CLOSED,
    terminal=CLOSED,
    done=frozenset({"closed"}),
    visibility=visibility,
    detail_model=PetitionDetail,
)


def register() -> None:
    if not any(p.code == CODE for p in P.all_procedures()):
        P.register(PROCEDURE)


def procedure() -> P.Procedure:
    return P.get(CODE)
