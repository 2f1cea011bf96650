"""Import of existing 矛盾纠纷 ledgers (a 司法所's Excel 台账) through core's importer (:mod:`civicgrid.core.importer`):
the generic wizard at /imports/ (mapping, preview, row-level errors, error report).

Each row becomes a ``dispute`` case driven through the procedure with the clock frozen at the row's dates: 登记 and
受理 on 受理日期, one 调解记录 (调解员), then 调解成功 / 调解不成功 / 终止调解 on 调解终结日期, 回访 on 回访日期 and 结案
— so the case, its timeline and the detail record read like one registered here. The row key is 编号 (the old
ledger's number): the importer's ledger makes a re-upload of the same file import nothing twice; a changed row
updates the dispute's descriptive fields (类型, 金额, 调解组织, 履行情况, 回访结果), never its history.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.cases import services as case_services
from civicgrid.core import audit, clock
from civicgrid.core.errors import DomainError
from civicgrid.core.importer import (
    ApplyContext,
    Field,
    ImportSpec,
    RowError,
    choice_field,
    date_field,
    register_spec,
    text_field,
)
from civicgrid.disputes import selectors, services
from civicgrid.disputes.models import (
    DisputeDetail,
    DisputeSource,
    DisputeType,
    Fulfilment,
    MediationOrg,
    Outcome,
    PartyRole,
)
from civicgrid.disputes.workflow import MEDIATION_DAYS

SOURCES = {"排查": DisputeSource.SCREENING, "排查发现": DisputeSource.SCREENING, "矛盾排查": DisputeSource.SCREENING,
           "当事人申请": DisputeSource.APPLICATION, "申请": DisputeSource.APPLICATION, "来访": DisputeSource.APPLICATION,
           "警调衔接": DisputeSource.POLICE, "公安移交": DisputeSource.POLICE, "派出所移交": DisputeSource.POLICE,
           "12345/网格转办": DisputeSource.CASE, "12345": DisputeSource.CASE, "网格转办": DisputeSource.CASE,
           "工单转办": DisputeSource.CASE, "法院委派": DisputeSource.COURT, "诉前委派": DisputeSource.COURT}  # fmt: skip
OUTCOMES = {"调解成功": Outcome.SUCCESS, "成功": Outcome.SUCCESS, "调解不成功": Outcome.FAILED,
            "不成功": Outcome.FAILED, "调解失败": Outcome.FAILED, "终止调解": Outcome.TERMINATED,
            "终止": Outcome.TERMINATED}  # fmt: skip
FULFILMENT = {"已履行": Fulfilment.FULL, "履行完毕": Fulfilment.FULL, "部分履行": Fulfilment.PARTIAL,
              "未履行": Fulfilment.NONE}  # fmt: skip


def _amount(value):
    from civicgrid.core.importer import CellError

    try:
        return services.parse_amount(value)
    except DomainError as exc:
        raise CellError(exc.message)


FIELDS = (
    text_field(
        "ledger_no", "编号", ("台账编号", "序号编号", "案件编号", "纠纷编号"), required=True, max_length=40
    ),
    date_field("received_on", "受理日期", ("登记日期", "受理时间"), required=True),
    choice_field("source", "纠纷来源", SOURCES, ("来源",), required=True),
    text_field("police_station", "移交派出所", ("派出所",), max_length=60),
    text_field("police_ref", "警情号", ("接警单号", "警情编号"), max_length=40),
    text_field("court_name", "委派法院", ("法院",), max_length=60),
    text_field("linked_case", "关联工单编号", ("原工单编号", "工单编号"), max_length=20),
    text_field("dispute_type", "纠纷类型", ("类型", "纠纷类别"), required=True, max_length=50),
    text_field("community", "社区", ("所属社区",), max_length=50),
    text_field("grid", "网格", ("所属网格",), max_length=50),
    text_field(
        "description", "纠纷简要情况", ("简要情况", "纠纷情况", "主要事实"), required=True, max_length=5000
    ),
    text_field("applicant", "申请人", ("当事人", "申请人姓名"), required=True, max_length=200),
    text_field("respondent", "被申请人", ("对方当事人",), max_length=200),
    text_field("phone", "联系电话", ("申请人电话", "电话"), max_length=60),
    Field("amount", "涉及金额（元）", ("涉及金额", "标的额", "金额"), parse=_amount),
    text_field("org", "调解组织", ("调委会", "调解机构"), required=True, max_length=100),
    text_field("mediators", "调解员", ("承办人",), max_length=100),
    choice_field("outcome", "调解结果", OUTCOMES, ("结果",)),
    date_field("ended_on", "调解终结日期", ("结案日期", "办结日期")),
    text_field("agreement_terms", "协议内容", ("协议主要内容",), max_length=5000),
    choice_field("fulfilment", "履行情况", FULFILMENT, ("履行",)),
    date_field("followup_on", "回访日期", ("回访时间",)),
    text_field("followup_result", "回访结果", ("回访情况",), max_length=300),
)


def can_import(user) -> bool:
    return has_capability(user, Capability.DISPUTE_MEDIATE)


def _split(text: str | None) -> list[str]:
    import re

    return [n for n in (s.strip() for s in re.split(r"[、，,；;/\n]+", text or "")) if n]


def _clean(number: int, values: dict) -> dict:
    today = clock.local_now().date()
    received = values["received_on"]
    if received > today or received.year < 2000:
        raise RowError(f"受理日期不合理：{received:%Y-%m-%d}")
    if not DisputeType.objects.filter(name=values["dispute_type"], is_active=True).exists():
        names = "、".join(DisputeType.objects.filter(is_active=True).values_list("name", flat=True))
        raise RowError(f"纠纷类型「{values['dispute_type']}」不在纠纷类型表中（可用：{names}）")
    if not MediationOrg.objects.filter(name=values["org"], is_active=True).exists():
        raise RowError(f"调解组织「{values['org']}」不存在（请先在后台「调解组织」中添加）")
    if values["source"] == DisputeSource.POLICE and not (
        values.get("police_station") and values.get("police_ref")
    ):
        raise RowError("警调衔接须填写移交派出所和警情号")
    if values["source"] == DisputeSource.COURT and not values.get("court_name"):
        raise RowError("法院委派须填写委派法院")
    if values["source"] == DisputeSource.CASE and not values.get("linked_case"):
        raise RowError("12345/网格转办须填写关联工单编号")
    outcome, ended = values.get("outcome"), values.get("ended_on")
    if outcome and not ended:
        raise RowError("有调解结果时须填写调解终结日期")
    if ended and not outcome:
        raise RowError("有调解终结日期时须填写调解结果")
    if ended and (ended < received or ended > today):
        raise RowError("调解终结日期须在受理日期与今天之间")
    if outcome in (Outcome.SUCCESS, Outcome.FAILED) and not values.get("mediators"):
        raise RowError("调解成功/不成功须填写调解员")
    follow = values.get("followup_on")
    if follow:
        if outcome != Outcome.SUCCESS:
            raise RowError("只有调解成功的纠纷才有回访")
        if follow < ended or follow > today:
            raise RowError("回访日期须在调解终结日期与今天之间")
        if not values.get("fulfilment"):
            raise RowError("有回访时须填写履行情况")
    if values.get("fulfilment") and outcome != Outcome.SUCCESS:
        raise RowError("只有调解成功的纠纷才有履行情况")
    if len(_split(values["applicant"])) > 10 or len(_split(values.get("respondent"))) > 10:
        raise RowError("当事人过多")
    return values


def _describe(values: dict) -> dict[str, str]:
    out = {"来源": dict(DisputeSource.choices)[values["source"]]}
    if values.get("outcome"):
        out["结果"] = dict(Outcome.choices)[values["outcome"]]
    return out


def _at(day: date, hour: float, now: datetime) -> datetime:
    h = int(hour)
    at = datetime.combine(day, time(h, int((hour - h) * 60)), tzinfo=clock.SHANGHAI)
    return min(at, now - timedelta(minutes=1))


def _grid(actor, values):
    grids = selectors.grids_for(user=actor)
    if values.get("community"):
        grids = grids.filter(community__name=values["community"])
    if values.get("grid"):
        grid = grids.filter(name=values["grid"]).first()
        if grid is None:
            raise RowError(f"网格「{values['grid']}」不存在或不在您的辖区")
        return grid
    grid = grids.order_by("pk").first() if values.get("community") else None
    if grid is None:
        raise RowError("请填写纠纷发生的社区或网格（须在您的辖区内）")
    return grid


def _apply(values: dict, ctx: ApplyContext) -> int:
    actor = ctx.actor
    existing = (
        DisputeDetail.objects.filter(
            case__in=selectors.visible_disputes(user=actor), ledger_no=values["ledger_no"]
        )
        .select_for_update()
        .first()
    )
    dtype = DisputeType.objects.get(name=values["dispute_type"], is_active=True)
    if existing is not None:
        return _update(existing, values, dtype, actor)
    grid = _grid(actor, values)
    org = selectors.orgs(street_id=grid.community.street_id).filter(name=values["org"]).first()
    if org is None:
        raise RowError(f"调解组织「{values['org']}」不属于该街道")
    linked = None
    if values["source"] == DisputeSource.CASE:
        linked = selectors.linkable_case(user=actor, number=values["linked_case"])
        if linked is None:
            raise RowError(f"关联工单「{values['linked_case']}」不存在或无权查看")
    phones = _split(values.get("phone"))
    parties = [
        services.PartyIn(PartyRole.APPLICANT, n, phones[i] if i < len(phones) else "")
        for i, n in enumerate(_split(values["applicant"]))
    ] + [services.PartyIn(PartyRole.RESPONDENT, n) for n in _split(values.get("respondent"))]
    now = clock.now()
    received = values["received_on"]
    try:
        with clock.frozen(_at(received, 9, now)):
            case = services.register_dispute(
                actor=actor,
                source=values["source"],
                dispute_type=dtype,
                org=org,
                description=values["description"],
                grid=grid,
                parties=parties,
                amount=values.get("amount"),
                police_station=values.get("police_station") or "",
                police_ref=values.get("police_ref") or "",
                court_name=values.get("court_name") or "",
                linked_case=linked,
                received_on=received,
                ledger_no=values["ledger_no"],
            )
        _drive(case, values, actor, now)
    except DomainError as exc:
        raise RowError(exc.message)
    return case.pk


def _drive(case, values: dict, actor, now: datetime) -> None:
    """受理, the 调解记录 and the outcome moves at the row's dates."""

    def move(name, at, **kw):
        nonlocal case
        case.refresh_from_db()
        with clock.frozen(at):
            case = case_services.perform(actor=actor, case=case, move=name, version=case.version, **kw)

    received, ended, outcome = values["received_on"], values.get("ended_on"), values.get("outcome")
    move("admit", _at(received, 9.5, now), amount=MEDIATION_DAYS[1], unit="natural_days", note="（导入）")
    if values.get("mediators"):
        with clock.frozen(_at(ended or received, 10, now)):
            services.record_session(
                actor=actor,
                case=case,
                held_on=ended or received,
                mediators=values["mediators"],
                notes="（导入）原台账记录",
            )
    if not outcome:
        return
    at = _at(ended, 16, now)
    if outcome == Outcome.SUCCESS:
        terms = values.get("agreement_terms") or "（导入）见原台账协议书"
        move("settle", at, detail={"agreement_terms": terms})
        fulfilment, follow = values.get("fulfilment"), values.get("followup_on")
        if follow:
            result = values.get("followup_result") or "已回访"
            move(
                "revisit", _at(follow, 15, now), detail={"fulfilment": fulfilment, "followup_result": result}
            )
            move("conclude", _at(follow, 16, now))
        elif fulfilment:
            move("record_fulfilment", _at(ended, 16.5, now), detail={"fulfilment": fulfilment})
    elif outcome == Outcome.FAILED:
        move("settle_fail", at, reason="（导入）调解不成功")
        move("conclude", _at(ended, 16.5, now))
    else:
        move("terminate", at, reason="（导入）终止调解")


def _update(d: DisputeDetail, values: dict, dtype: DisputeType, actor) -> int:
    """A changed row of a dispute imported before: its descriptive fields only."""
    org = selectors.orgs(street_id=d.case.street_id).filter(name=values["org"]).first()
    if org is None:
        raise RowError(f"调解组织「{values['org']}」不属于该街道")
    fields = {"dispute_type": dtype, "org": org, "amount": values.get("amount")}
    if d.outcome == Outcome.SUCCESS:
        fields["fulfilment"] = values.get("fulfilment") or d.fulfilment
        fields["followup_result"] = values.get("followup_result") or d.followup_result
    before = {k: str(getattr(d, k)) for k in fields}
    with transaction.atomic():
        for k, v in fields.items():
            setattr(d, k, v)
        d.save(update_fields=list(fields))
        audit.record(
            actor=actor,
            action="disputes.dispute.import_update",
            obj=d.case,
            before=before,
            after={k: str(v) for k, v in fields.items()},
        )
    return d.case_id


SPEC = register_spec(
    ImportSpec(
        name="disputes.ledger",
        label="矛盾纠纷台账",
        fields=FIELDS,
        key_field="ledger_no",
        key_label="编号",
        clean=_clean,
        describe=_describe,
        apply_row=_apply,
        can_import=can_import,
        batch_size=200,
    )
)
