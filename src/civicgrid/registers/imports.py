"""人员台账 from Excel through core's importer (/imports/). The row key is the keyed hash of the ID number (the
clear number never reaches the import ledger, the error report or an audit row): re-importing the same file
changes nothing, a changed row updates that person. Rows are placed by 网格编码 and, when given, 楼栋 + 室号
(the 户 is found or created)."""

from __future__ import annotations

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
from civicgrid.registers.models import FloatingStatus, Household, Person, PersonTag, Residence


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
    person = Person.objects.filter(id_hash=str(id_number)).first()
    if person is not None and not selectors.visible_persons(user=actor).filter(pk=person.pk).exists():
        raise RowError("身份证号：该人员已在其他辖区登记")
    from civicgrid.registers.services import PERSON_AUDIT_FIELDS

    before = audit.snapshot(person, PERSON_AUDIT_FIELDS) if person else None
    if person is None:
        person = Person(id_hash=str(id_number), created_by=actor)
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
