"""The ``enforcement`` procedure (综合执法案件, 行政处罚): its table, the 行政处罚法 limits and the moves' own work.

线索登记 → 受理 (by the service at once: the case goes to the 执法队, the 立案审查 clock starts from 发现) → 待立案:
- 简易程序 (当场处罚, 第51条): one step records the decision and 结案;
- 一般程序: 立案 (the 90 日 decision clock starts, 第60条) → 调查取证 → 告知 (陈述申辩/听证 rights, 第44/63条) →
  决定 → 执行 (罚款 15 日内缴纳, 第67条) → 结案; 延长办案期限 with the 负责人's approval;
- 不予立案, 撤案, 移送 end the case.

The limits are configurable (``settings.CIVICGRID_ENFORCEMENT_LIMITS``, read when the procedure is registered);
docs/enforcement.md gives the defaults and their legal basis.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db.models import Q

from civicgrid.accounts.roles import STREET_ROLES, Role
from civicgrid.cases import deadlines
from civicgrid.cases import procedures as P
from civicgrid.cases import workflow as W
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import DeadlineUnit
from civicgrid.core.errors import IllegalTransition, ValidationFailed
from civicgrid.enforcement.models import EnforcementDetail, PartyKind, ProcedureKind

CODE = "enforcement"

DEFAULT_LIMITS = {
    "file_days": 15,  # 立案审查: 自发现之日起 15 个自然日内决定是否立案 (第54条“及时立案”; 部门规章的通行做法)
    "decide_days": 90,  # 处罚决定: 自立案之日起 90 日内 (第60条)
    "extension_days": 30,  # 经负责人批准延长, 累计不超过 30 日 (部门规章的通行做法)
    "execute_days": 15,  # 履行: 收到决定书之日起 15 日内缴纳罚款 (第67条)
    "simple_fine_person": 200,  # 简易程序: 对公民 200 元以下 (第51条)
    "simple_fine_unit": 3000,  # 简易程序: 对法人或者其他组织 3000 元以下 (第51条)
}


def limits() -> dict:
    return {**DEFAULT_LIMITS, **getattr(settings, "CIVICGRID_ENFORCEMENT_LIMITS", {})}


DESK = {Role.DISPATCHER: W.ANY, Role.SHIFT_LEADER: W.ANY}
TEAM = {**DESK, Role.DEPT_HANDLER: W.OWN_DEPARTMENT}  # the 执法队 (its department) or the desk
HEAD = {Role.SHIFT_LEADER: W.ANY}  # the 负责人 who approves an extension

OPEN = frozenset({"clue", "pending", "investigating", "notified", "decided", "executed"})
ENDED = frozenset({"closed", "not_filed", "withdrawn", "transferred"})


def may_see(user) -> bool:
    """执法案件 (当事人, 处罚) are seen by the 街道's desk, leaders, the administrator and the departments they are
    assigned to — not by 网格员 or 社区工作人员."""
    role = getattr(user, "role", None)
    return role in STREET_ROLES or role == Role.DEPT_HANDLER


def sees_enforcement(user) -> Q:
    return Q() if may_see(user) else Q(pk__in=[])


def _detail(ctx) -> EnforcementDetail:
    record = ctx.detail_record or EnforcementDetail.objects.filter(case_id=ctx.case.pk).first()
    if record is None:
        raise ValidationFailed("该案件缺少明细记录", field="party_name", code=CaseErrorCode.DETAIL_REQUIRED)
    return record


def _save(record, *fields):
    record.save(update_fields=list(fields))


def _summary_penalty(ctx) -> dict:
    """简易程序 (当场处罚): 受理, 决定, 执行 and 结案 in one step; the fine within 第51条's caps."""
    record = _detail(ctx)
    cap = limits()["simple_fine_unit" if record.party_kind == PartyKind.UNIT else "simple_fine_person"]
    if record.fine_amount is not None and record.fine_amount > Decimal(cap):
        raise ValidationFailed(
            f"简易程序对{record.get_party_kind_display()}的罚款不能超过 {cap} 元（行政处罚法第五十一条），"
            "请按一般程序立案",
            field="fine_amount",
            code=CaseErrorCode.INVALID_INPUT,
        )
    record.procedure_kind = ProcedureKind.SIMPLE
    record.accepted_at = record.decided_at = record.executed_at = record.concluded_at = ctx.now
    _save(record, "procedure_kind", "accepted_at", "decided_at", "executed_at", "concluded_at")
    ctx.case.handled_at = ctx.now
    return {"procedure_kind": "simple", "fine_amount": str(record.fine_amount or "")}


def _file_case(ctx) -> dict:
    record = _detail(ctx)
    record.procedure_kind = ProcedureKind.GENERAL
    record.accepted_at = ctx.now
    _save(record, "procedure_kind", "accepted_at")
    ctx.case.accepted_at = ctx.now
    return {"procedure_kind": "general"}


def _notify_rights(ctx) -> dict:
    record = _detail(ctx)
    record.notified_at = ctx.now
    _save(record, "notified_at")
    return {}


def _decide(ctx) -> dict:
    record = _detail(ctx)
    record.decided_at = ctx.now
    _save(record, "decided_at")
    return {"decision_no": record.decision_no, "fine_amount": str(record.fine_amount or "")}


def _execute(ctx) -> dict:
    record = _detail(ctx)
    record.executed_at = ctx.now
    _save(record, "executed_at")
    ctx.case.handled_at = ctx.now
    ctx.case.handling_feedback = ctx.note
    return {
        "demolished_area": str(record.demolished_area or ""),
        "demolished_sites": record.demolished_sites,
    }


def _conclude(ctx) -> dict:
    record = _detail(ctx)
    record.concluded_at = ctx.now
    _save(record, "concluded_at")
    return {}


def _extend(ctx) -> dict:
    """延长办案期限 (the 负责人's approval): only on the 90 日 decision clock, in total at most the configured days."""
    record = _detail(ctx)
    if ctx.case.stage != "decide":
        raise IllegalTransition(
            "只有作出处罚决定的期限可以延长", field="move", code=CaseErrorCode.ILLEGAL_TRANSITION
        )
    try:
        amount = int(ctx.amount)
    except (TypeError, ValueError):
        raise ValidationFailed("请填写延长天数（正整数）", field="amount", code=CaseErrorCode.INVALID_LIMIT)
    cap = limits()["extension_days"]
    if amount <= 0 or record.extended_days + amount > cap:
        raise ValidationFailed(
            f"延长办案期限须为正数，累计不超过 {cap} 日（已延长 {record.extended_days} 日）",
            field="amount",
            code=CaseErrorCode.LIMIT_OUT_OF_BOUNDS,
        )
    if ctx.unit not in (None, "", DeadlineUnit.NATURAL_DAYS):
        raise ValidationFailed("延长期限的单位为自然日", field="unit", code=CaseErrorCode.LIMIT_OUT_OF_BOUNDS)
    deadlines.add_extension(ctx.case, amount)
    record.extended_days += amount
    _save(record, "extended_days")
    return {"extended_days": amount, "total_extended": record.extended_days}


def _conclude_other(ctx) -> dict:
    record = _detail(ctx)
    record.concluded_at = ctx.now
    _save(record, "concluded_at")
    return {}


def build() -> P.Procedure:
    lim = limits()
    return P.Procedure(
        code=CODE,
        label="综合执法案件",
        filed_elsewhere="执法案件请通过「综合执法」登记（/enforcement/new/），需填写当事人、违法行为类型和发现时间",
        states=(
            P.StateDef("clue", "线索登记", "secondary"),
            P.StateDef("pending", "待立案", "secondary"),
            P.StateDef("investigating", "调查取证", "warning"),
            P.StateDef("notified", "已告知", "info"),
            P.StateDef("decided", "已决定", "primary"),
            P.StateDef("executed", "执行完毕", "primary"),
            P.StateDef("closed", "已结案", "success"),
            P.StateDef("not_filed", "不予立案", "dark"),
            P.StateDef("withdrawn", "已撤案", "dark"),
            P.StateDef("transferred", "已移送", "dark"),
        ),
        initial="clue",
        handlers={
            "summary_penalty": _summary_penalty,
            "file_case": _file_case,
            "notify_rights": _notify_rights,
            "decide": _decide,
            "execute": _execute,
            "close_case": _conclude,
            "extend": _extend,
            "not_file": _conclude_other,
            "withdraw": _conclude_other,
            "transfer": _conclude_other,
        },
        moves=(
            W.define_move(
                "receive",
                "受理",
                ["clue"],
                "pending",
                DESK,
                fields=("department", "note"),
                required=("department",),
            ),
            W.define_move(
                "summary_penalty",
                "当场处罚（简易程序）",
                ["pending"],
                "closed",
                TEAM,
                fields=("note",),
                # (违法行为类型 is set at 登记; a ForeignKey is no detail field of a generated form: the case
                # engine's generated form would hand the instance, not its id, to the detail record)
                detail_fields=("legal_basis", "penalty", "decision_no", "fine_amount"),
                style="success",
            ),
            W.define_move(
                "file_case",
                "立案（一般程序）",
                ["pending"],
                "investigating",
                TEAM,
                fields=("note",),
            ),
            W.define_move(
                "not_file",
                "不予立案",
                ["pending"],
                "not_filed",
                TEAM,
                fields=("reason",),
                required=("reason",),
                style="secondary",
            ),
            W.define_move(
                "notify_rights",
                "告知（陈述申辩/听证权利）",
                ["investigating"],
                "notified",
                TEAM,
                fields=("note",),
                required=("note",),
            ),
            W.define_move(
                "decide",
                "作出处罚决定",
                ["notified"],
                "decided",
                TEAM,
                fields=("note",),
                # 罚款金额 0 when the decision imposes none (责令拆除, 警告 …)
                detail_fields=("legal_basis", "penalty", "decision_no", "fine_amount", "rights_response"),
                style="primary",
            ),
            W.define_move(
                "execute",
                "执行完毕",
                ["decided"],
                "executed",
                TEAM,
                fields=("note", "attachments"),
                required=("note",),
                # the quantities entered at 处置 (0 when nothing was demolished)
                detail_fields=("demolished_area", "demolished_sites"),
                style="success",
            ),
            W.define_move(
                "close_case", "结案", ["executed"], "closed", TEAM, fields=("note",), style="success"
            ),
            W.define_move(
                "extend",
                "延长办案期限（负责人批准）",
                ["investigating", "notified"],
                W.STAY,
                HEAD,
                fields=("amount", "reason"),
                required=("amount", "reason"),
                style="warning",
            ),
            W.define_move(
                "withdraw",
                "撤案",
                ["investigating", "notified"],
                "withdrawn",
                TEAM,
                fields=("reason",),
                required=("reason",),
                style="danger",
            ),
            W.define_move(
                "transfer",
                "移送",
                ["pending", "investigating"],
                "transferred",
                TEAM,
                fields=("reason",),
                required=("reason",),
                detail_fields=("transferred_to",),
                style="danger",
            ),
        ),
        stages=(
            P.StageRule(
                "file",
                "立案审查期限",
                starts=("receive",),
                stops=("summary_penalty", "file_case", "not_file", "transfer"),
                chosen=P.LimitBounds("receive", 1, lim["file_days"], DeadlineUnit.NATURAL_DAYS),
            ),
            P.StageRule(
                "decide",
                "处罚决定期限",
                starts=("file_case",),
                stops=("decide", "withdraw", "transfer"),
                amount=lim["decide_days"],
                unit=DeadlineUnit.NATURAL_DAYS,
            ),
            P.StageRule(
                "execute",
                "履行期限",
                starts=("decide",),
                stops=("execute",),
                amount=lim["execute_days"],
                unit=DeadlineUnit.NATURAL_DAYS,
            ),
        ),
        open=OPEN,
        closed=ENDED,
        terminal=ENDED,
        done=frozenset({"closed"}),
        visibility=sees_enforcement,
        create_roles=frozenset({Role.DISPATCHER, Role.SHIFT_LEADER}),
        detail_model=EnforcementDetail,
    )


def register() -> None:
    if not any(p.code == CODE for p in P.all_procedures()):
        P.register(build())


def procedure() -> P.Procedure:
    return P.get(CODE)
