"""人员台账 from Excel through core's importer (/imports/). The row key is the keyed hash of the ID number (the
clear number never reaches the import ledger, the error report or an audit row): re-importing the same file
changes nothing, a changed row updates that person. Rows are placed by 网格编码 and, when given, 楼栋 + 室号
(the 户 is found or created)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import Q

from civicgrid.core import audit, clock
from civicgrid.core.importer import (
    ApplyContext,
    CellError,
    Field,
    ImportSpec,
    RowError,
    as_text,
    choice_field,
    register_spec,
    text_field,
)
from civicgrid.core.roles import Capability, Role, has_capability
from civicgrid.places import selectors as place_selectors
from civicgrid.registers import crypto, selectors
from civicgrid.registers.models import (
    AssistanceItem,
    AssistanceKind,
    AssistancePayment,
    FloatingStatus,
    Household,
    Person,
    PersonTag,
    Residence,
)


class HashedId(str):
    """The row key: behaves as the keyed hash (ledger, error report); ``masked`` is what people see and the
    clear number is held only on the instance for the write."""

    raw: str
    masked: str

    def __new__(cls, raw: str):
        obj = super().__new__(cls, crypto.search_hash(raw))
        obj.raw, obj.masked = raw, crypto.mask_id(raw)
        return obj


def _parse_id(value):
    text = crypto.normalise_id(as_text(value))
    problem = crypto.id_problem(text)
    if problem:
        raise CellError(f"身份证号：{problem}（{crypto.mask_id(text)}）")
    return HashedId(text)


RESIDENCE = {"户籍": Residence.HUJI, "户籍人口": Residence.HUJI, "常住": Residence.RESIDENT,
             "常住人口": Residence.RESIDENT, "流动": Residence.FLOATING, "流动人口": Residence.FLOATING}  # fmt: skip

FIELDS = (
    text_field("name", "姓名", ("名字",), required=True, max_length=30),
    Field("id_number", "身份证号", ("身份证号码", "公民身份号码", "证件号码"), True, _parse_id),
    choice_field("residence", "人口类型", RESIDENCE, ("户籍/常住/流动", "人员类型"), required=True),
    text_field("grid_code", "网格编码", ("网格", "所属网格"), required=True, max_length=15),
    text_field("building", "楼栋", ("楼宇", "小区楼栋"), max_length=100),
    text_field("room", "室号", ("房号", "门牌"), max_length=20),
    text_field("relation", "与户主关系", ("关系",), max_length=10),
    text_field("phone", "联系电话", ("电话", "手机", "手机号"), max_length=20),
    text_field("tags", "标签", ("人员标签", "类别"), max_length=200),
)


IMPORT_ROLES = (
    Role.COMMUNITY_STAFF,
    Role.LEADER,
    Role.SYSTEM_ADMIN,
)  # a bulk task of the office, not the phone


def _can_import(user) -> bool:
    return has_capability(user, Capability.BUSINESS_VIEW) and user.role in IMPORT_ROLES


def _clean(number: int, values: dict) -> dict:
    raw = values.get("tags") or ""
    codes = [t for t in raw.replace("，", ",").replace("、", ",").split(",") if t.strip()]
    by_name = {t.name: t.code for t in PersonTag.objects.filter(is_active=True)}
    unknown = [t.strip() for t in codes if t.strip() not in by_name]
    if unknown:
        raise RowError(f"标签：未知标签 {'、'.join(unknown)}")
    values["tags"] = sorted(by_name[t.strip()] for t in codes)
    if bool(values.get("building")) != bool(values.get("room")):
        raise RowError("楼栋与室号须同时填写")
    digits = "".join(c for c in (values.get("phone") or "") if c.isdigit())
    if values.get("phone") and not 7 <= len(digits) <= 12:
        raise RowError("联系电话：应为 7–12 位数字")
    values["phone"] = digits
    return values


def _describe(values: dict) -> dict[str, str]:
    return {"身份证号": values["id_number"].masked, "电话": crypto.mask_phone(values.get("phone", ""))}


def _apply(values: dict, ctx: ApplyContext) -> int:
    actor = ctx.actor
    grid = place_selectors.visible_grids(user=actor).filter(code=values["grid_code"]).first()
    if grid is None:
        raise RowError(f"网格编码：{values['grid_code']} 不存在或不在您的辖区")
    household = None
    if values.get("building"):
        building = (
            place_selectors.visible_buildings(user=actor).filter(grid=grid, name=values["building"]).first()
        )
        if building is None:
            raise RowError(f"楼栋：本网格中没有「{values['building']}」")
        household, created = Household.objects.get_or_create(
            building=building,
            room=values["room"],
            defaults={"street_id": grid.community.street_id, "grid": grid, "created_by": actor},
        )
        if created:
            audit.record(
                actor=actor,
                action="registers.household.create",
                obj=household,
                after=audit.snapshot(household),
            )
    id_number: HashedId = values["id_number"]
    person = Person.objects.filter(id_hash__in=crypto.search_hashes(id_number.raw)).first()
    if person is not None and not selectors.visible_persons(user=actor).filter(pk=person.pk).exists():
        raise RowError("身份证号：该人员已在其他辖区登记")
    from civicgrid.registers.services import PERSON_AUDIT_FIELDS

    before = audit.snapshot(person, PERSON_AUDIT_FIELDS) if person else None
    if person is None:
        person = Person(created_by=actor)
    person.id_hash = str(id_number)  # a row still under an older key is re-hashed under the current one
    person.street_id, person.grid, person.household = grid.community.street_id, grid, household
    person.name, person.relation, person.residence = (
        values["name"],
        values.get("relation") or "",
        values["residence"],
    )
    person.id_cipher, person.id_masked = crypto.encrypt(id_number.raw), id_number.masked
    person.phone_cipher = crypto.encrypt(values["phone"])
    person.phone_masked = crypto.mask_phone(values["phone"])
    if person.residence == Residence.FLOATING and not person.floating_status:
        person.floating_status, person.registered_on = FloatingStatus.REGISTERED, clock.local_now().date()
    person.updated_at = clock.now()
    person.save()
    person.tags.set(PersonTag.objects.filter(code__in=values["tags"]))
    after = audit.snapshot(person, PERSON_AUDIT_FIELDS)
    after["tags"] = values["tags"]
    b, a = audit.diff(before, after)
    audit.record(actor=actor, action="registers.person.import", obj=person, before=b, after=a)
    return person.pk


SPEC = register_spec(
    ImportSpec(
        name="registers.persons",
        label="人员台账",
        fields=FIELDS,
        key_field="id_number",
        key_label="身份证号摘要",
        clean=_clean,
        describe=_describe,
        apply_row=_apply,
        can_import=_can_import,
        batch_size=500,
    )
)


# --- 保障金发放 (the 民政 monthly sheet) -------------------------------------------------------------------

KIND = {label: value for value, label in AssistanceKind.choices} | {
    "低保": AssistanceKind.DIBAO, "特困": AssistanceKind.TEKUN, "特困人员": AssistanceKind.TEKUN,
    "边缘": AssistanceKind.BIANYUAN, "低保边缘": AssistanceKind.BIANYUAN, "残疾人补贴": AssistanceKind.DISABILITY,
    "残疾人两项补贴": AssistanceKind.DISABILITY, "临时救助": AssistanceKind.TEMPORARY,
}  # fmt: skip
_MONTH_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:[-/.]\d{1,2}日?)?$")


def _parse_month(value) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.replace(day=1)
    text = as_text(value)
    m = _MONTH_RE.match(text) or re.match(r"^(\d{4})(\d{2})$", text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise CellError(f"发放月份应为 2026-03 或 2026年3月：{text[:20]}")
    month = date(int(m.group(1)), int(m.group(2)), 1)
    if month > clock.local_now().date() or month.year < 2000:
        raise CellError(f"发放月份不能晚于本月：{text[:20]}")
    return month


def _parse_amount(value) -> Decimal:
    text = as_text(value).replace(",", "").replace("元", "").strip()
    try:
        amount = Decimal(text).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise CellError(f"发放金额应为数字：{text[:20]}") from None
    if not Decimal("0") < amount <= Decimal("100000"):
        raise CellError(f"发放金额应大于 0、不超过 100000：{text[:20]}")
    return amount


PAYMENT_FIELDS = (
    Field("id_number", "身份证号", ("身份证号码", "公民身份号码", "证件号码"), True, _parse_id),
    text_field("name", "姓名", ("名字", "户主姓名", "救助对象"), max_length=30),
    choice_field("kind", "救助类别", KIND, ("类别", "救助类型", "保障类别"), required=True),
    Field("month", "发放月份", ("月份", "发放年月", "所属月份"), True, _parse_month),
    Field("amount", "发放金额", ("金额", "保障金", "发放金额（元）", "金额（元）"), True, _parse_amount),
)


def _payment_key(values: dict) -> str:
    return f"{values['month']:%Y-%m}|{values['id_number']}|{values['kind']}"


def _payment_describe(values: dict) -> dict[str, str]:
    return {"身份证号": values["id_number"].masked, "月份": f"{values['month']:%Y-%m}"}


def _payment_apply(values: dict, ctx: ApplyContext) -> int:
    id_number: HashedId = values["id_number"]
    person = (
        selectors.visible_persons(user=ctx.actor)
        .filter(id_hash__in=crypto.search_hashes(id_number.raw))
        .select_related("household")
        .first()
    )
    if person is None:
        raise RowError(f"身份证号：{id_number.masked} 不在人员台账（或不在您的辖区）")
    if values.get("name") and values["name"] != person.name:
        raise RowError(f"姓名：与台账不一致（台账为「{person.name}」）")
    if person.household_id is None:
        raise RowError(f"{person.name}未归户：请先在人员台账中登记住址")
    month, kind = values["month"], values["kind"]
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    item = (
        AssistanceItem.objects.filter(
            household_id=person.household_id, kind=kind, recognized_on__lte=month_end
        )
        .filter(Q(person=person) | Q(person__isnull=True))
        .filter(Q(exited_on__isnull=True) | Q(exited_on__gte=month))
        .order_by("-recognized_on")
        .first()
    )
    payment = AssistancePayment.objects.filter(
        household_id=person.household_id, person=person, kind=kind, month=month
    ).first()
    before = audit.snapshot(payment, ["amount", "item"]) if payment else None
    if payment is None:
        payment = AssistancePayment(
            street_id=person.street_id,
            household_id=person.household_id,
            person=person,
            kind=kind,
            month=month,
        )
    payment.amount, payment.item = values["amount"], item
    payment.save()
    b, a = audit.diff(before, audit.snapshot(payment, ["amount", "item"]))
    audit.record(
        actor=ctx.actor,
        action="registers.payment.import",
        obj=payment,
        object_repr=f"{person.name} {payment.get_kind_display()} {month:%Y-%m}",
        before=b,
        after=a,
    )
    return payment.pk


PAYMENT_SPEC = register_spec(
    ImportSpec(
        name="registers.payments",
        label="保障金发放（按月）",
        fields=PAYMENT_FIELDS,
        key_field="id_number",
        key_label="身份证号摘要",
        row_key=_payment_key,
        key_help="同一人、同一救助类别、同一月份为一条：同一月份的表重复导入不重复计，金额改了更新该条。",
        describe=_payment_describe,
        apply_row=_payment_apply,
        can_import=_can_import,
        batch_size=500,
    )
)
