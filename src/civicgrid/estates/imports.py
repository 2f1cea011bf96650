"""Excel imports through core's importer (/imports/): 出租房 (``estates.rentals``), 专项排查 target lists
(``estates.targets``) and 楼宇入驻单位 (``estates.enterprises``). Each is keyed by a natural key (网格编码|楼栋|室号;
活动编号|对象编号; the credit code, else 网格编码|楼宇|单位名称), so re-importing the
same file changes nothing and a changed row updates its record. Every row is written by the same service as the
pages (scope, checks, audit)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from civicgrid.core import audit, clock
from civicgrid.core.errors import DomainError
from civicgrid.core.importer import (
    ApplyContext,
    CellError,
    Field,
    ImportSpec,
    RowError,
    as_text,
    boolean_field,
    choice_field,
    date_field,
    integer_field,
    register_spec,
    text_field,
)
from civicgrid.core.roles import Capability, Role, has_capability
from civicgrid.estates import selectors, services
from civicgrid.estates.models import CampaignTarget, Industry, Rental
from civicgrid.places import selectors as place_selectors
from civicgrid.places.models import Unit
from civicgrid.registers import crypto

IMPORT_ROLES = (Role.COMMUNITY_STAFF, Role.LEADER, Role.SYSTEM_ADMIN)  # office work, not the phone


def _can_import(user) -> bool:
    return has_capability(user, Capability.BUSINESS_VIEW) and user.role in IMPORT_ROLES


def _grid(actor, code: str):
    grid = place_selectors.visible_grids(user=actor).filter(code=code).first()
    if grid is None or not services.in_patch(actor, grid):
        raise RowError(f"网格编码：{code} 不存在或不在您的辖区")
    return grid


def _building(actor, grid, name: str):
    b = place_selectors.visible_buildings(user=actor).filter(grid=grid, name=name).first()
    if b is None:
        raise RowError(f"楼栋：网格 {grid.code} 中没有「{name}」")
    return b


# --- 出租房 ------------------------------------------------------------------------------------------------

RENTAL_FIELDS = (
    text_field("grid_code", "网格编码", ("网格", "所属网格"), required=True, max_length=15),
    text_field("building", "楼栋", ("楼宇", "小区楼栋"), required=True, max_length=100),
    text_field("room", "室号", ("房号", "门牌"), required=True, max_length=20),
    text_field("landlord_name", "房东姓名", ("房东", "出租人"), required=True, max_length=30),
    text_field("landlord_phone", "房东电话", ("房东联系电话", "出租人电话"), max_length=20),
    integer_field("tenants", "租住人数", ("承租人数", "居住人数"), min_value=0, max_value=500),
    boolean_field("crowded", "群租", ("是否群租",)),
    boolean_field("three_in_one", "三合一", ("是否三合一",)),
    text_field("note", "备注", (), max_length=300),
)


def _rental_key(values: dict) -> str:
    return f"{values['grid_code']}|{values['building']}|{values['room']}"


def _rental_clean(number: int, values: dict) -> dict:
    phone = values.get("landlord_phone") or ""
    digits = "".join(c for c in phone if c.isdigit())
    if phone and not 7 <= len(digits) <= 12:
        raise RowError("房东电话：应为 7–12 位数字")
    values["landlord_phone"] = digits
    return values


def _rental_describe(values: dict) -> dict[str, str]:
    return {
        "地址": f"{values['building']}{values['room']}室",
        "房东电话": crypto.mask_phone(values.get("landlord_phone") or ""),
    }


def _rental_apply(values: dict, ctx: ApplyContext) -> int:
    actor = ctx.actor
    grid = _grid(actor, values["grid_code"])
    building = _building(actor, grid, values["building"])
    rental = Rental.objects.filter(building=building, room=values["room"]).first()
    if rental is not None and not selectors.visible_rentals(user=actor).filter(pk=rental.pk).exists():
        raise RowError("室号：该出租房已在其他辖区登记")
    try:
        rental = services.save_rental(
            actor=actor,
            rental=rental,
            building_id=building.pk,
            room=values["room"],
            landlord_name=values["landlord_name"],
            landlord_phone=values.get("landlord_phone") or "",
            tenants=values.get("tenants") or 0,
            crowded=bool(values.get("crowded")),
            three_in_one=bool(values.get("three_in_one")),
            note=values.get("note") or "",
            action="estates.rental.import",
        )
    except DomainError as exc:
        raise RowError(exc.message) from None
    return rental.pk


RENTAL_SPEC = register_spec(
    ImportSpec(
        name="estates.rentals",
        label="出租房",
        fields=RENTAL_FIELDS,
        key_field="room",
        key_label="网格编码|楼栋|室号",
        row_key=_rental_key,
        key_help="同一网格编码 + 楼栋 + 室号为同一套出租房：再次导入不改动，内容变化时更新。",
        clean=_rental_clean,
        describe=_rental_describe,
        apply_row=_rental_apply,
        can_import=_can_import,
        batch_size=500,
    )
)


# --- 专项排查 target lists ---------------------------------------------------------------------------------

TARGET_FIELDS = (
    text_field("campaign", "活动编号", ("专项排查编号", "排查编号"), required=True, max_length=20),
    text_field("key", "对象编号", ("编号", "序号"), required=True, max_length=40),
    text_field("name", "排查对象", ("对象", "名称", "户名"), required=True, max_length=100),
    text_field("grid_code", "网格编码", ("网格", "所属网格"), required=True, max_length=15),
    text_field("building", "楼栋", ("楼宇",), max_length=100),
    text_field("address", "地址", ("住址", "详细地址"), max_length=200),
)


def _target_key(values: dict) -> str:
    return f"{values['campaign']}|{values['key']}"


def _target_apply(values: dict, ctx: ApplyContext) -> int:
    actor = ctx.actor
    campaign = selectors.visible_campaigns(user=actor).filter(code=values["campaign"]).first()
    if campaign is None:
        raise RowError(f"活动编号：{values['campaign']} 不存在或无权查看")
    grid = _grid(actor, values["grid_code"])
    if grid.community.street_id != campaign.street_id:
        raise RowError("网格编码：网格不属于该专项排查的街道")
    building = _building(actor, grid, values["building"]) if values.get("building") else None
    target = CampaignTarget.objects.filter(campaign=campaign, key=values["key"]).first()
    if target is not None and not selectors.visible_targets(user=actor).filter(pk=target.pk).exists():
        raise RowError("对象编号：该对象已由其他辖区导入")
    created = target is None
    target = target or CampaignTarget(campaign=campaign, key=values["key"])
    target.street_id, target.grid, target.building = campaign.street_id, grid, building
    target.name, target.address = (
        values["name"],
        values.get("address") or (building.address if building else ""),
    )
    target.save()
    audit.record(
        actor=actor,
        action="estates.target.import",
        obj=target,
        after={
            "campaign": campaign.code,
            "key": target.key,
            "created": created,
            "at": str(clock.local_now().date()),
        },
    )
    return target.pk


TARGET_SPEC = register_spec(
    ImportSpec(
        name="estates.targets",
        label="专项排查对象",
        fields=TARGET_FIELDS,
        key_field="key",
        key_label="活动编号|对象编号",
        row_key=_target_key,
        key_help="同一活动编号 + 对象编号为同一排查对象：再次导入不改动，内容变化时更新（已录入的排查结果保留）。",
        describe=lambda v: {"对象": v["name"]},
        apply_row=_target_apply,
        can_import=_can_import,
        batch_size=500,
    )
)


# --- 入驻单位 (楼宇企业) -------------------------------------------------------------------------------------


def _area(value):
    text = as_text(value).replace(",", "").removesuffix("㎡").removesuffix("平方米").strip()
    try:
        number = Decimal(text or "0")
    except InvalidOperation:
        raise CellError(f"闲置面积应为数字：{text[:40]}") from None
    if not Decimal(0) <= number < Decimal(10**7):
        raise CellError(f"闲置面积应为非负数：{text[:40]}")
    return number


def _credit_code(value):
    code = as_text(value).upper().replace(" ", "")
    if code and (problem := services.uscc_problem(code)):
        raise CellError(f"统一社会信用代码：{problem}")
    return code


INDUSTRY = {label: code for code, label in Industry.choices}
ENTERPRISE_FIELDS = (
    text_field("grid_code", "网格编码", ("网格", "所属网格"), required=True, max_length=15),
    text_field("building", "楼宇", ("楼栋", "所在楼宇"), required=True, max_length=100),
    text_field("name", "单位名称", ("企业名称", "单位", "企业"), required=True, max_length=150),
    Field("credit_code", "统一社会信用代码", ("信用代码", "社会信用代码"), False, _credit_code),
    boolean_field("registered_here", "注册地在本街道", ("注册地在本街道", "本街道注册", "是否本街道注册")),
    choice_field("industry", "行业", INDUSTRY, ("所属行业",)),
    boolean_field("above_scale", "规上企业", ("规上", "是否规上")),
    Field("vacant_area", "闲置面积", ("闲置面积（㎡）", "空置面积"), False, _area),
    date_field("moved_in_on", "入驻日期", ("入驻时间",)),
    date_field("moved_out_on", "迁出日期", ("迁出时间",)),
)


def _enterprise_key(values: dict) -> str:
    return values.get("credit_code") or f"{values['grid_code']}|{values['building']}|{values['name']}"


def _enterprise_apply(values: dict, ctx: ApplyContext) -> int:
    """The unit is found in the building by credit code, else by name; a new one is added to the building."""
    actor = ctx.actor
    grid = _grid(actor, values["grid_code"])
    building = _building(actor, grid, values["building"])
    units = place_selectors.visible_units(user=actor).filter(building=building)
    unit = (
        units.filter(credit_code=values["credit_code"]).first() if values.get("credit_code") else None
    ) or (units.filter(name=values["name"]).first())
    if unit is None:
        unit = Unit.objects.create(
            grid=grid, building=building, kind="enterprise", name=values["name"],
            credit_code=values.get("credit_code") or "", address=building.address, lng=building.lng, lat=building.lat,
        )  # fmt: skip
    try:
        profile = services.save_enterprise(
            actor=actor,
            unit_id=unit.pk,
            credit_code=values.get("credit_code") or "",
            registered_here=bool(values.get("registered_here")),
            industry=values.get("industry") or Industry.OTHER,
            above_scale=bool(values.get("above_scale")),
            vacant_area=values.get("vacant_area") or 0,
            moved_in_on=values.get("moved_in_on"),
            moved_out_on=values.get("moved_out_on"),
        )
    except DomainError as exc:
        raise RowError(exc.message) from None
    return profile.pk


ENTERPRISE_SPEC = register_spec(
    ImportSpec(
        name="estates.enterprises",
        label="楼宇入驻单位",
        fields=ENTERPRISE_FIELDS,
        key_field="name",
        key_label="统一社会信用代码（无则 网格编码|楼宇|单位名称）",
        row_key=_enterprise_key,
        key_help="有统一社会信用代码的按代码识别，没有的按网格编码 + 楼宇 + 单位名称识别；再次导入不改动，内容变化时更新。",
        describe=lambda v: {"单位": v["name"], "楼宇": v["building"]},
        apply_row=_enterprise_apply,
        can_import=_can_import,
        batch_size=500,
    )
)
