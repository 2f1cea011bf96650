"""Import of an existing 行政处罚案件台账 (Excel/CSV) through core's importer (:mod:`civicgrid.core.importer`;
the /imports/ wizard: mapping, preview, row errors, error report). The row key is the 原台账编号: re-importing the
same file changes nothing, a changed row updates that case's figures and dates (:func:`services.import_row`).
The desk (指挥中心) of a 街道 imports into its own 街道; the 办案单位 is looked up among its departments."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.core.errors import DomainError
from civicgrid.core.importer import (
    ApplyContext,
    CellError,
    Field,
    ImportSpec,
    RowError,
    as_text,
    choice_field,
    datetime_field,
    integer_field,
    register_spec,
    text_field,
)
from civicgrid.enforcement.models import PartyKind

KINDS = {
    "简易程序": "simple",
    "简易": "simple",
    "当场处罚": "simple",
    "一般程序": "general",
    "一般": "general",
}
PARTY_KINDS = {"公民": PartyKind.PERSON, "个人": PartyKind.PERSON, "自然人": PartyKind.PERSON,
               "单位": PartyKind.UNIT, "法人": PartyKind.UNIT, "企业": PartyKind.UNIT,
               "法人或其他组织": PartyKind.UNIT, "个体工商户": PartyKind.UNIT}  # fmt: skip


def decimal_field(name: str, label: str, aliases=(), *, places: int = 2, maximum: Decimal) -> Field:
    def parse(value):
        text = (
            as_text(value).replace(",", "").replace("元", "").replace("㎡", "").replace("平方米", "").strip()
        )
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError(f"{label}应为数字：{text[:40]}") from None
        if not number.is_finite() or number < 0:
            raise CellError(f"{label}不能为负数：{text[:40]}")
        if number > maximum:
            raise CellError(f"{label}过大：{text[:40]}")
        return str(number.quantize(Decimal(1).scaleb(-places)))

    return Field(name, label, tuple(aliases), False, parse, "")


FIELDS = (
    text_field("ref", "原台账编号", ("案件编号", "案号", "编号", "序号"), required=True, max_length=60),
    choice_field("procedure_kind", "适用程序", KINDS, ("程序", "程序类型"), required=True),
    text_field(
        "party_name", "当事人", ("当事人姓名", "当事人名称", "被处罚人"), required=True, max_length=100
    ),
    choice_field("party_kind", "当事人类型", PARTY_KINDS, ("主体类型",)),
    text_field("party_contact", "联系电话", ("电话", "当事人电话"), max_length=30),
    text_field("violation", "违法行为类型", ("违法类型", "案由", "违法行为"), required=True, max_length=50),
    text_field("address", "违法地点", ("地址", "地点"), max_length=200),
    text_field("description", "案情摘要", ("案情", "违法事实", "简要案情"), max_length=5000),
    datetime_field("discovered_at", "发现时间", ("发现日期",)),
    datetime_field(
        "accepted_at", "立案时间", ("立案日期", "受理时间", "受理日期", "处罚日期"), required=True
    ),
    text_field("legal_basis", "法律依据", ("处罚依据", "违反条款"), max_length=2000),
    text_field("penalty", "处罚内容", ("处罚结果", "处理结果"), max_length=200),
    text_field("decision_no", "决定书文号", ("处罚决定书文号", "文书号", "决定书编号"), max_length=60),
    datetime_field("decided_at", "决定时间", ("决定日期", "处罚决定日期")),
    decimal_field(
        "fine_amount", "罚款金额（元）", ("罚款金额", "罚款", "罚没金额"), maximum=Decimal("9999999999")
    ),
    decimal_field("demolished_area", "拆除面积（㎡）", ("拆除面积", "拆违面积"), maximum=Decimal("99999999")),
    integer_field("demolished_sites", "拆除处数", ("拆违处数", "处数"), min_value=0, max_value=100000),
    datetime_field("executed_at", "执行完毕时间", ("执行日期", "执行完毕日期")),
    datetime_field("concluded_at", "结案时间", ("结案日期",)),
    text_field("department", "办案单位", ("承办单位", "执法中队", "办案部门"), max_length=100),
)


def _can_import(user) -> bool:
    return has_capability(user, Capability.CASE_DISPATCH) and getattr(user, "street_id", None) is not None


def _clean(number: int, values: dict) -> dict:
    from civicgrid.enforcement.models import ViolationType

    name = values["violation"]
    vt = ViolationType.objects.filter(name=name, is_active=True).first() or (
        ViolationType.objects.filter(name__startswith=name[:4], is_active=True).first()
        if len(name) >= 2
        else None
    )
    if vt is None:
        raise RowError(f"未知违法行为类型：{name}（请先在后台添加）")
    values["violation_type_id"] = vt.pk
    values["party_kind"] = values.get("party_kind") or PartyKind.PERSON
    accepted = values["accepted_at"]
    order = [("decided_at", "决定时间"), ("executed_at", "执行完毕时间"), ("concluded_at", "结案时间")]
    for key, label in order:
        if values.get(key) is not None and values[key] < accepted:
            raise RowError(f"{label}早于立案时间")
    if values.get("discovered_at") is not None and values["discovered_at"] > accepted:
        raise RowError("发现时间晚于立案时间")
    if values["procedure_kind"] == "general":
        if values.get("executed_at") and not values.get("decided_at"):
            raise RowError("有执行完毕时间但没有决定时间")
        if values.get("concluded_at") and not values.get("executed_at"):
            raise RowError("一般程序有结案时间但没有执行完毕时间")
    return values


def _describe(values: dict) -> dict[str, str]:
    kind = "简易程序" if values["procedure_kind"] == "simple" else "一般程序"
    return {"程序": kind, "当事人": values["party_name"], "罚款": values.get("fine_amount") or "—"}


def _apply(values: dict, ctx: ApplyContext):
    from civicgrid.enforcement import selectors, services
    from civicgrid.enforcement.models import ViolationType

    actor = ctx.actor
    depts = selectors.departments(user=actor).filter(street_id=getattr(actor, "street_id", None))
    name = values.get("department") or ""
    dept = depts.filter(name=name).first() if name else depts.filter(kind="enforcement").first()
    if dept is None:
        raise RowError(f"办案单位不存在：{name}" if name else "本街道没有执法部门，请填写办案单位")
    row = services.LedgerRow(
        ref=values["ref"],
        procedure_kind=values["procedure_kind"],
        party=services.Party(
            name=values["party_name"], kind=values["party_kind"], contact=values.get("party_contact") or ""
        ),
        violation_type=ViolationType.objects.get(pk=values["violation_type_id"]),
        description=values.get("description") or "",
        department=dept,
        accepted_at=values["accepted_at"],
        discovered_at=values.get("discovered_at"),
        address=values.get("address") or "",
        legal_basis=values.get("legal_basis") or "",
        penalty=values.get("penalty") or "",
        decision_no=values.get("decision_no") or "",
        decided_at=values.get("decided_at"),
        fine_amount=Decimal(values["fine_amount"]) if values.get("fine_amount") else None,
        demolished_area=Decimal(values["demolished_area"]) if values.get("demolished_area") else None,
        demolished_sites=values.get("demolished_sites"),
        executed_at=values.get("executed_at"),
        concluded_at=values.get("concluded_at"),
    )
    try:
        case = services.import_row(actor=actor, row=row)
    except DomainError as exc:
        raise RowError(exc.message) from exc
    return case.pk


SPEC = register_spec(
    ImportSpec(
        name="enforcement.cases",
        label="行政处罚案件台账",
        fields=FIELDS,
        key_field="ref",
        key_label="原台账编号",
        clean=_clean,
        describe=_describe,
        apply_row=_apply,
        can_import=_can_import,
        batch_size=200,
    )
)
