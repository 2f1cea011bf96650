"""Excel imports through core's importer (/imports/): 活动 (``activities.activities``, row key 日期|活动名称|地点),
应急预案 (``activities.plans``, key 预案名称), 志愿者 (``activities.volunteers``, key 姓名|联系电话) and 时间银行记录
(``activities.timebank``, key 志愿者|日期|类型|小时|说明; a 支取 beyond the balance is refused). Re-importing the
same file changes nothing; a changed row updates its record. Every row is written by the same service as the pages
(scope, checks, audit); a refused row is reported with its row number and the field."""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation

from django.db.models import Q

from civicgrid.activities import selectors, services
from civicgrid.activities.models import (
    ActivityKind,
    EmergencyPlan,
    EntryKind,
    PlanLevel,
    TimeBankEntry,
    Volunteer,
)
from civicgrid.core.errors import DomainError
from civicgrid.core.importer import (
    ApplyContext,
    CellError,
    Field,
    ImportSpec,
    LedgerHandler,
    RowError,
    as_text,
    boolean_field,
    choice_field,
    date_field,
    integer_field,
    register_spec,
    text_field,
)

FIELD_LABELS = {
    "kind": "类型", "name": "名称", "date": "日期", "end_date": "结束日期", "place": "地点", "organiser": "组织者",
    "sessions": "场次", "attendance": "人次", "households": "户数", "materials": "发放资料", "summary": "活动情况",
    "community": "社区", "level": "级别", "issued_on": "印发日期", "reviewed_on": "复核日期",
    "review_months": "复核周期", "department": "牵头部门", "phone": "联系电话", "skills": "特长",
    "registered_on": "注册日期", "note": "备注",
}  # fmt: skip


def _can_import(user) -> bool:
    return selectors.can_write(user)


def _refuse(exc: DomainError):
    label = FIELD_LABELS.get(exc.field or "", "")
    return RowError(f"{label}：{exc.message}" if label else exc.message)


def _community(actor, name: str) -> int | None:
    if not name:
        return None
    c = selectors.writable_communities(user=actor).filter(name=name).first()
    c = c or selectors.writable_communities(user=actor).filter(code=name).first()
    if c is None:
        raise RowError(f"社区：「{name}」不存在或不在您的辖区")
    return c.pk


KINDS = {label: value for value, label in ActivityKind.choices} | {
    "宣讲": ActivityKind.PUBLICITY, "宣传": ActivityKind.PUBLICITY, "演练": ActivityKind.DRILL,
    "应急演练": ActivityKind.DRILL, "志愿": ActivityKind.VOLUNTEER, "共建": ActivityKind.PARTNERSHIP,
    "议事": ActivityKind.DELIBERATION, "文体": ActivityKind.CULTURE, "文体活动": ActivityKind.CULTURE,
}  # fmt: skip

ACTIVITY_FIELDS = (
    date_field("date", "日期", ("活动日期", "开始日期", "时间"), required=True),
    text_field("name", "活动名称", ("名称", "活动主题", "主题"), required=True, max_length=100),
    text_field("place", "地点", ("活动地点",), required=True, max_length=100),
    choice_field("kind", "类型", KINDS, ("活动类型", "类别"), required=True),
    text_field("community", "社区", ("所属社区",), max_length=100, help="留空：街道组织的活动"),
    date_field("end_date", "结束日期", ()),
    text_field("organiser", "组织者", ("组织单位", "主办单位", "承办单位"), max_length=60),
    integer_field("sessions", "场次", ("活动场次",), min_value=1, max_value=services.MAX_COUNT),
    integer_field("attendance", "人次", ("参与人次", "参加人数", "人数"), min_value=0, max_value=services.MAX_COUNT),
    integer_field("households", "户数", ("覆盖户数", "入户数"), min_value=0, max_value=services.MAX_COUNT),
    integer_field("materials", "发放资料（份）", ("发放资料", "资料份数", "宣传资料"), min_value=0,
                  max_value=services.MAX_COUNT),
    text_field("summary", "活动情况", ("内容", "简要情况", "备注"), max_length=2000),
)  # fmt: skip


def _activity_key(values: dict) -> str:
    return f"{values['date']:%Y-%m-%d}|{values['name']}|{values['place']}"


def _activity_apply(values: dict, ctx: ApplyContext) -> int:
    actor = ctx.actor
    data = services.ActivityData(
        kind=values["kind"],
        name=values["name"],
        date=values["date"],
        place=values["place"],
        community=_community(actor, values.get("community") or ""),
        end_date=values.get("end_date"),
        organiser=values.get("organiser") or "",
        sessions=values.get("sessions") or 1,
        attendance=values.get("attendance") or 0,
        households=values.get("households") or 0,
        materials=values.get("materials") or 0,
        summary=values.get("summary") or "",
    )
    existing = (
        selectors.visible_activities(user=actor)
        .filter(date=values["date"], name=values["name"], place=values["place"])
        .first()
    )
    try:
        if existing is None:
            a = services.create_activity(actor=actor, data=data, action="activities.activity.import")
        else:
            a = services.update_activity(
                actor=actor, activity=existing, data=data, action="activities.activity.import"
            )
    except DomainError as exc:
        raise _refuse(exc) from None
    return a.pk


ACTIVITY_SPEC = register_spec(
    ImportSpec(
        name="activities.activities",
        label="活动台账",
        fields=ACTIVITY_FIELDS,
        key_field="name",
        key_label="日期|活动名称|地点",
        row_key=_activity_key,
        key_help="同一日期 + 活动名称 + 地点为同一活动：再次导入不改动，内容变化时更新。",
        describe=lambda v: {
            "活动": f"{v['date']:%Y-%m-%d} {v['name']}",
            "社区": v.get("community") or "（街道）",
        },
        apply_row=_activity_apply,
        can_import=_can_import,
        batch_size=500,
    )
)


# --- 应急预案 -----------------------------------------------------------------------------------------------

LEVELS = {label: value for value, label in PlanLevel.choices} | {
    "总体": PlanLevel.OVERALL, "专项": PlanLevel.SPECIAL, "社区": PlanLevel.COMMUNITY,
}  # fmt: skip

PLAN_FIELDS = (
    text_field("name", "预案名称", ("名称",), required=True, max_length=100),
    choice_field("level", "级别", LEVELS, ("预案级别", "类别"), required=True),
    date_field("issued_on", "印发日期", ("发布日期", "制定日期"), required=True),
    date_field("reviewed_on", "最近复核日期", ("复核日期", "修订日期")),
    integer_field("review_months", "复核周期（月）", ("复核周期",), min_value=1, max_value=60),
    text_field("department", "牵头部门", ("责任部门", "部门"), max_length=60),
    text_field("community", "社区", ("所属社区",), max_length=100),
    text_field("note", "备注", (), max_length=300),
)


def _plan_apply(values: dict, ctx: ApplyContext) -> int:
    actor = ctx.actor
    data = services.PlanData(
        level=values["level"],
        name=values["name"],
        issued_on=values["issued_on"],
        community=_community(actor, values.get("community") or ""),
        department=values.get("department") or "",
        reviewed_on=values.get("reviewed_on"),
        review_months=values.get("review_months"),
        note=values.get("note") or "",
    )
    street_ids = {actor.street_id} if actor.street_id else None
    existing = selectors.visible_plans(user=actor).filter(name=values["name"])
    existing = existing.filter(street_id__in=street_ids).first() if street_ids else existing.first()
    if (
        existing is None
        and EmergencyPlan.objects.filter(name=values["name"], street_id=actor.street_id).exists()
    ):
        raise RowError("预案名称：该预案已由其他社区登记")
    try:
        if existing is None:
            p = services.create_plan(actor=actor, data=data, action="activities.plan.import")
        else:
            p = services.update_plan(actor=actor, plan=existing, data=data, action="activities.plan.import")
    except DomainError as exc:
        raise _refuse(exc) from None
    return p.pk


PLAN_SPEC = register_spec(
    ImportSpec(
        name="activities.plans",
        label="应急预案",
        fields=PLAN_FIELDS,
        key_field="name",
        key_label="预案名称",
        key_help="同一预案名称为同一预案：再次导入不改动，内容变化时更新。",
        describe=lambda v: {"预案": v["name"]},
        apply_row=_plan_apply,
        can_import=_can_import,
        batch_size=500,
    )
)


# --- 志愿者 -------------------------------------------------------------------------------------------------

VOLUNTEER_FIELDS = (
    text_field("name", "姓名", ("志愿者姓名", "名字"), required=True, max_length=30),
    text_field("phone", "联系电话", ("电话", "手机", "手机号"), max_length=20),
    text_field("community", "社区", ("所属社区",), max_length=100),
    text_field("skills", "特长/服务方向", ("特长", "服务方向", "技能"), max_length=200),
    date_field("registered_on", "注册日期", ("登记日期", "加入日期")),
    boolean_field("is_active", "在册", ("是否在册",)),
)


def _volunteer_clean(number: int, values: dict) -> dict:
    try:
        values["phone"] = services.normalise_phone(values.get("phone") or "")
    except DomainError as exc:
        raise _refuse(exc) from None
    return values


def _volunteer_key(values: dict) -> str:
    """姓名|masked phone|a digest of the phone: the clear number never reaches the import ledger."""
    phone = values.get("phone") or ""
    digest = hashlib.sha256(phone.encode()).hexdigest()[:10] if phone else ""
    return f"{values['name']}|{selectors.mask_phone(phone)}|{digest}"


def _volunteer_apply(values: dict, ctx: ApplyContext) -> int:
    actor = ctx.actor
    data = services.VolunteerData(
        name=values["name"],
        phone=values.get("phone") or "",
        community=_community(actor, values.get("community") or ""),
        skills=values.get("skills") or "",
        registered_on=values.get("registered_on"),
        is_active=values.get("is_active") is not False,
    )
    existing = (
        selectors.visible_volunteers(user=actor)
        .filter(name=values["name"], phone=values.get("phone") or "")
        .first()
    )
    if (
        existing is None
        and Volunteer.objects.filter(
            street_id=actor.street_id, name=values["name"], phone=values.get("phone") or ""
        ).exists()
    ):
        raise RowError("姓名：该志愿者已由其他社区登记")
    try:
        if existing is None:
            v = services.create_volunteer(actor=actor, data=data, action="activities.volunteer.import")
        else:
            v = services.update_volunteer(
                actor=actor, volunteer=existing, data=data, action="activities.volunteer.import"
            )
    except DomainError as exc:
        raise _refuse(exc) from None
    return v.pk


VOLUNTEER_SPEC = register_spec(
    ImportSpec(
        name="activities.volunteers",
        label="志愿者",
        fields=VOLUNTEER_FIELDS,
        key_field="name",
        key_label="姓名|联系电话",
        row_key=_volunteer_key,
        key_help="同一姓名 + 联系电话为同一志愿者：再次导入不改动，内容变化时更新。",
        clean=_volunteer_clean,
        describe=lambda v: {"志愿者": v["name"], "电话": selectors.mask_phone(v.get("phone") or "")},
        apply_row=_volunteer_apply,
        can_import=_can_import,
        batch_size=500,
    )
)


# --- 时间银行 -----------------------------------------------------------------------------------------------

ENTRY_KINDS = {label: value for value, label in EntryKind.choices} | {
    "存入": EntryKind.EARN, "服务": EntryKind.EARN, "获得": EntryKind.EARN, "earn": EntryKind.EARN,
    "支取": EntryKind.SPEND, "兑换": EntryKind.SPEND, "消费": EntryKind.SPEND, "spend": EntryKind.SPEND,
}  # fmt: skip
ENTRY_LABELS = {"date": "日期", "kind": "类型", "hours": "小时", "note": "说明", "activity": "活动"}


def _hours_cell(value) -> Decimal:
    text = as_text(value).replace("小时", "").replace("h", "").strip()
    try:
        hours = Decimal(text)
    except (InvalidOperation, ValueError):
        raise CellError(f"小时应为数字（可保留 1 位小数）：{as_text(value)[:40]}") from None
    if not hours.is_finite():
        raise CellError(f"小时应为数字：{as_text(value)[:40]}")
    return hours


ENTRY_FIELDS = (
    text_field("name", "姓名", ("志愿者", "志愿者姓名", "名字"), max_length=30, help="与联系电话至少填一项"),
    text_field("phone", "联系电话", ("电话", "手机", "手机号"), max_length=20,
               help="按电话找志愿者；导出文件中打码的电话（138****5678）按姓名 + 社区找"),
    text_field("community", "社区", ("所属社区",), max_length=100, help="只填姓名时用以区分同名志愿者"),
    date_field("date", "日期", ("服务日期", "记录日期", "兑换日期"), required=True),
    choice_field("kind", "类型", ENTRY_KINDS, ("存取", "收支类型", "记录类型"), required=True),
    Field("hours", "小时", ("时长", "小时数", "服务时长", "时数"), True, _hours_cell),
    text_field("note", "说明", ("备注", "内容", "服务内容"), max_length=200),
)  # fmt: skip


class EntryLedgerHandler(LedgerHandler):
    """Core's ledger handler with the volunteer looked up among the importing account's volunteers."""

    def clean(self, number: int, values: dict) -> dict:
        values["volunteer"] = self._volunteer(values)
        return super().clean(number, values)

    def _volunteer(self, values: dict) -> int:
        actor = self.ctx.actor
        name, phone = values.get("name") or "", values.get("phone") or ""
        community = values.get("community") or ""
        qs = selectors.visible_volunteers(user=actor) if actor is not None else Volunteer.objects.none()
        if phone and "*" not in phone:  # a masked phone (an exported file) says nothing: name + 社区 then
            try:
                digits = services.normalise_phone(phone)
            except DomainError as exc:
                raise _refuse(exc) from None
            found = list(qs.filter(phone=digits)[:3])
            if name:
                found = [v for v in found if v.name == name] or found
            if not found:
                raise RowError(
                    f"联系电话：没有电话为 {selectors.mask_phone(digits)} 的志愿者（或不在您的辖区）"
                )
            if len(found) > 1:
                raise RowError("联系电话：该电话登记了多位志愿者，请同时填写姓名")
            if name and found[0].name != name:
                raise RowError(f"姓名：电话 {selectors.mask_phone(digits)} 登记的志愿者是「{found[0].name}」")
            values["name"] = found[0].name
            return found[0].pk
        if not name:
            raise RowError("姓名：请填写志愿者姓名或联系电话")
        qs = qs.filter(name=name)
        if community:
            qs = qs.filter(Q(community__name=community) | Q(community__code=community))
        found = list(qs[:2])
        if not found:
            where = f"（社区「{community}」）" if community else ""
            raise RowError(f"姓名：没有名为「{name}」的志愿者{where}（或不在您的辖区）")
        if len(found) > 1:
            raise RowError(f"姓名：有多位名为「{name}」的志愿者，请填写联系电话或社区")
        return found[0].pk


def _entry_key(values: dict) -> str:
    """The volunteer (its id: no phone in the ledger) with the entry's content: the same row again adds nothing."""
    return f"{values['volunteer']}|{values['date']:%Y-%m-%d}|{values['kind']}|{values['hours']}|{values.get('note') or ''}"


def _entry_apply(values: dict, ctx: ApplyContext) -> int:
    actor = ctx.actor
    volunteer = selectors.visible_volunteers(user=actor).filter(pk=values["volunteer"]).first()
    if volunteer is None:
        raise RowError("姓名：志愿者不存在或不在您的辖区")
    try:
        hours = services.entry_hours(values["hours"])
    except DomainError as exc:
        raise RowError(f"小时：{exc.message}") from None
    note = values.get("note") or ""
    same = TimeBankEntry.objects.filter(
        volunteer=volunteer, date=values["date"], kind=values["kind"], hours=hours, note=note
    ).first()
    if same is not None:  # already recorded (on the page, or by an import whose ledger row is gone)
        return same.pk
    try:
        e = services.record_entry(actor=actor, volunteer=volunteer, day=values["date"], kind=values["kind"],
                                  hours=hours, note=note, action="activities.timebank.import")  # fmt: skip
    except DomainError as exc:
        label = ENTRY_LABELS.get(exc.field or "", "")
        raise RowError(f"{label}：{exc.message}" if label else exc.message) from None
    return e.pk


ENTRY_SPEC = register_spec(
    ImportSpec(
        name="activities.timebank",
        label="时间银行记录",
        fields=ENTRY_FIELDS,
        key_field="name",
        key_label="志愿者",
        row_key=_entry_key,
        key_help=(
            "志愿者按联系电话找（电话打码或未填时按姓名 + 社区）；同一志愿者、日期、类型、小时、说明的记录只记一次，"
            "再次导入同一文件不会增加记录。按文件中的顺序记账，支取超过当时余额的行被拒绝（余额不会为负）。"
        ),
        describe=lambda v: {
            "志愿者": v["name"],
            "记录": f"{v['date']:%Y-%m-%d} {EntryKind(v['kind']).label} {v['hours']}小时",
        },
        apply_row=_entry_apply,
        can_import=_can_import,
        ledger_handler=EntryLedgerHandler,
        batch_size=500,
    )
)
