"""The ``dispute`` procedure (矛盾纠纷 人民调解): its table and the moves' own work.

登记 (待受理) → 受理 (调解中; 调解期限 chosen within 1–30 自然日, 人民调解 一般 30 日内调结) → 调解成功 (协议书, 履行,
回访时限 30 自然日) → 回访 (已回访) → 结案; 调解不成功 → 结案; 终止调解 from 待受理 or 调解中. 调解成功/不成功 need at
least one recorded 调解 session. The outcome and its date are written on the detail record (the figures read them).
Pure tables plus the handlers the engine calls inside its transaction.
"""

from __future__ import annotations

from civicgrid.accounts.roles import Role
from civicgrid.cases import procedures as P
from civicgrid.cases import workflow as W
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import AttachmentKind, DeadlineUnit
from civicgrid.core import clock
from civicgrid.core.errors import IllegalTransition, ValidationFailed
from civicgrid.disputes.errors import DisputeErrorCode
from civicgrid.disputes.models import DisputeDetail, Outcome

CODE = "dispute"
MEDIATION_DAYS = (1, 30)  # 调解期限, 自然日 (chosen at 受理)
FOLLOWUP_DAYS = 30  # 回访时限 after 调解成功, 自然日

DESK = {Role.DISPATCHER: W.ANY, Role.SHIFT_LEADER: W.ANY}
# the 社区调委会 mediates the disputes of its own community
MEDIATORS = {**DESK, Role.COMMUNITY_STAFF: W.OWN_COMMUNITY}
MEDIATOR_ROLES = frozenset(MEDIATORS)

OPEN = frozenset({"registered", "mediating", "agreed", "visited", "failed"})
CLOSED = frozenset({"closed", "terminated"})


def _detail(ctx) -> DisputeDetail:
    record = ctx.detail_record or DisputeDetail.objects.filter(case_id=ctx.case.pk).first()
    if record is None:
        raise ValidationFailed("该纠纷缺少明细记录", field="dispute_type", code=CaseErrorCode.DETAIL_REQUIRED)
    return record


def _needs_session(record: DisputeDetail) -> None:
    if not record.sessions.exists():
        raise IllegalTransition(
            "请先登记至少一次调解记录", field="move", code=DisputeErrorCode.SESSION_REQUIRED
        )


def _end(ctx, outcome: str) -> dict:
    record = _detail(ctx)
    record.outcome = outcome
    record.ended_on = clock.to_local(ctx.now).date()
    fields = ["outcome", "ended_on"]
    if outcome == Outcome.SUCCESS and not record.agreement_no:
        record.agreement_no = f"调协字〔{record.ended_on.year}〕{ctx.case.number}"
        fields.append("agreement_no")
    record.save(update_fields=fields)
    return {"outcome": outcome}


def _settle(ctx) -> dict:
    _needs_session(_detail(ctx))
    return _end(ctx, Outcome.SUCCESS)


def _settle_fail(ctx) -> dict:
    _needs_session(_detail(ctx))
    return _end(ctx, Outcome.FAILED)


def _terminate(ctx) -> dict:
    return _end(ctx, Outcome.TERMINATED)


def _upload_agreement(ctx) -> dict:
    ctx.attachment_kind = AttachmentKind.OTHER
    return {"scans": len(ctx.attachments)}


def _revisit(ctx) -> dict:
    record = _detail(ctx)
    record.followup_on = clock.to_local(ctx.now).date()
    record.save(update_fields=["followup_on"])
    return {"fulfilment": record.fulfilment}


PROCEDURE = P.Procedure(
    code=CODE,
    label="矛盾纠纷",
    # a dispute needs its detail record (type, 调解组织, parties) from the start
    filed_elsewhere="矛盾纠纷请通过「矛盾纠纷 → 登记纠纷」（/disputes/new/）登记，当事人与纠纷类型随登记一并填写",
    states=(
        P.StateDef("registered", "待受理", "secondary"),
        P.StateDef("mediating", "调解中", "warning"),
        P.StateDef("agreed", "调解成功", "success"),
        P.StateDef("visited", "已回访", "info"),
        P.StateDef("failed", "调解不成功", "danger"),
        P.StateDef("closed", "已结案", "dark"),
        P.StateDef("terminated", "已终止", "dark"),
    ),
    initial="registered",
    handlers={
        "settle": _settle,
        "settle_fail": _settle_fail,
        "terminate": _terminate,
        "upload_agreement": _upload_agreement,
        "revisit": _revisit,
    },
    moves=(
        W.define_move(
            "admit", "受理", ["registered"], "mediating", MEDIATORS, fields=("amount", "unit", "note")
        ),
        W.define_move(
            "settle",
            "调解成功",
            ["mediating"],
            "agreed",
            MEDIATORS,
            fields=("note",),
            detail_fields=("agreement_terms",),
            style="success",
        ),
        W.define_move(
            "settle_fail",
            "调解不成功",
            ["mediating"],
            "failed",
            MEDIATORS,
            fields=("reason",),
            required=("reason",),
            style="warning",
        ),
        W.define_move(
            "terminate",
            "终止调解",
            ["registered", "mediating"],
            "terminated",
            MEDIATORS,
            fields=("reason",),
            required=("reason",),
            style="danger",
        ),
        W.define_move(
            "upload_agreement",
            "上传已签协议书",
            ["agreed", "visited"],
            W.STAY,
            MEDIATORS,
            fields=("attachments", "note"),
            required=("attachments",),
            style="secondary",
        ),
        W.define_move(
            "record_fulfilment",
            "登记履行情况",
            ["agreed", "visited"],
            W.STAY,
            MEDIATORS,
            fields=("note",),
            detail_fields=("fulfilment",),
            style="info",
        ),
        W.define_move(
            "revisit",
            "回访",
            ["agreed"],
            "visited",
            MEDIATORS,
            fields=("note",),
            detail_fields=("fulfilment", "followup_result"),
            style="primary",
        ),
        W.define_move(
            "conclude", "结案", ["visited", "failed"], "closed", MEDIATORS, fields=("note",), style="success"
        ),
    ),
    stages=(
        P.StageRule(
            "mediate",
            "调解期限",
            starts=("admit",),
            stops=("settle", "settle_fail", "terminate"),
            chosen=P.LimitBounds("admit", *MEDIATION_DAYS, DeadlineUnit.NATURAL_DAYS),
        ),
        P.StageRule(
            "followup",
            "回访时限",
            starts=("settle",),
            stops=("revisit",),
            amount=FOLLOWUP_DAYS,
            unit=DeadlineUnit.NATURAL_DAYS,
        ),
    ),
    open=OPEN,
    closed=CLOSED,
    terminal=CLOSED,
    done=frozenset({"closed"}),
    create_roles=frozenset({Role.DISPATCHER, Role.SHIFT_LEADER, Role.COMMUNITY_STAFF}),
    detail_model=DisputeDetail,
)


def register() -> None:
    if not any(p.code == CODE for p in P.all_procedures()):
        P.register(PROCEDURE)


def procedure() -> P.Procedure:
    return P.get(CODE)
