"""Every write of the activity ledgers. Keyword-only, each takes ``actor``; the write and its audit row commit in
one ``transaction.atomic()``. Bad input raises :class:`ValidationFailed` naming the field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from civicgrid.activities import selectors
from civicgrid.activities.models import (
    Activity,
    ActivityKind,
    ActivityPhoto,
    EmergencyPlan,
    EntryKind,
    PlanLevel,
    TimeBankEntry,
    Volunteer,
)
from civicgrid.cases.attachments import store_upload
from civicgrid.cases.models import AttachmentKind
from civicgrid.core import audit, clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.roles import Role
from civicgrid.core.validation import check_text
from civicgrid.places.models import Community

MAX_PHOTOS = 6
MAX_COUNT = 1_000_000  # 场次/人次/户数/份 of one row
MAX_HOURS = Decimal("1000")
ACTIVITY_FIELDS = ["community", "kind", "name", "date", "end_date", "place", "organiser", "sessions",
                   "attendance", "households", "materials", "summary"]  # fmt: skip
PLAN_FIELDS = [
    "community",
    "level",
    "name",
    "department",
    "issued_on",
    "reviewed_on",
    "review_months",
    "note",
]
VOLUNTEER_FIELDS = ["community", "name", "skills", "registered_on", "is_active"]


def _check_writer(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录", code="login_required")
    if not selectors.can_write(actor):
        raise PermissionDenied(f"「{actor.get_role_display()}」不能维护活动台账", code="role_not_allowed")


def _text(value, field: str, label: str, *, max_length: int, required: bool = False) -> str:
    text = (value or "").strip() if isinstance(value, str) else ("" if value is None else str(value).strip())
    check_text(text, field=field, label=label)
    if required and not text:
        raise ValidationFailed(f"请填写{label}", field=field)
    if len(text) > max_length:
        raise ValidationFailed(f"{label}不能超过 {max_length} 字", field=field)
    return text


def _count(value, field: str, label: str, *, minimum: int = 0) -> int:
    try:
        n = int(value if value not in (None, "") else 0)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{label}应为整数", field=field) from None
    if not minimum <= n <= MAX_COUNT:
        raise ValidationFailed(f"{label}应在 {minimum}–{MAX_COUNT} 之间", field=field)
    return n


def _day(value, field: str, label: str, *, required: bool = True) -> date | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(f"请填写{label}", field=field)
        return None
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed(f"{label}格式应为 YYYY-MM-DD", field=field) from None
    if value > clock.local_now().date():
        raise ValidationFailed(f"{label}不得晚于今天", field=field)
    if value.year < 2000:
        raise ValidationFailed(f"{label}不得早于 2000 年", field=field)
    return value


def _place(actor, community_id, *, field: str = "community") -> tuple[int, Community | None]:
    """(街道 id, 社区) of a new/changed row: a 社区 the actor may write in; no 社区 (a 街道-level row) for the
    街道-wide writers only — a 社区工作人员's rows are always in their 社区."""
    if community_id in (None, ""):
        if actor.role == Role.COMMUNITY_STAFF:
            community_id = actor.community_id
        elif actor.street_id is None:
            raise ValidationFailed("请选择社区（区级账号登记须指明社区）", field=field)
        else:
            return actor.street_id, None
    try:
        community = selectors.writable_communities(user=actor).get(pk=int(community_id))
    except (Community.DoesNotExist, TypeError, ValueError):
        raise ValidationFailed("社区不存在或不在您的辖区", field=field) from None
    return community.street_id, community


# --- 活动 ---------------------------------------------------------------------------------------------------


@dataclass
class ActivityData:
    kind: str
    name: str
    date: date | str | None
    place: str
    community: int | None = None
    end_date: date | str | None = None
    organiser: str = ""
    sessions: int | str = 1
    attendance: int | str = 0
    households: int | str = 0
    materials: int | str = 0
    summary: str = ""


def _apply_activity(actor, a: Activity, data: ActivityData) -> None:
    if data.kind not in ActivityKind.values:
        raise ValidationFailed("请选择活动类型", field="kind")
    a.kind = data.kind
    a.name = _text(data.name, "name", "活动名称", max_length=100, required=True)
    a.date = _day(data.date, "date", "日期")
    a.end_date = _day(data.end_date, "end_date", "结束日期", required=False)
    if a.end_date and a.end_date < a.date:
        raise ValidationFailed("结束日期不得早于开始日期", field="end_date")
    a.place = _text(data.place, "place", "地点", max_length=100, required=True)
    a.organiser = _text(data.organiser, "organiser", "组织者", max_length=60)
    a.sessions = _count(data.sessions, "sessions", "场次", minimum=1)
    a.attendance = _count(data.attendance, "attendance", "人次")
    a.households = _count(data.households, "households", "户数")
    a.materials = _count(data.materials, "materials", "发放资料份数")
    a.summary = _text(data.summary, "summary", "活动情况", max_length=2000)
    a.street_id, a.community = _place(actor, data.community)


def _photos(actor, activity: Activity, photos) -> None:
    photos = [p for p in photos or () if p]
    if activity.photos.count() + len(photos) > MAX_PHOTOS:
        raise ValidationFailed(f"活动照片最多 {MAX_PHOTOS} 张", field="photos")
    for p in photos:
        ActivityPhoto.objects.create(
            activity=activity, attachment=store_upload(file=p, kind=AttachmentKind.OTHER, actor=actor)
        )


def create_activity(
    *, actor, data: ActivityData, photos=(), action: str = "activities.activity.create"
) -> Activity:
    _check_writer(actor)
    a = Activity(created_by=actor)
    _apply_activity(actor, a, data)
    with transaction.atomic():
        a.save()
        _photos(actor, a, photos)
        after = audit.snapshot(a, ACTIVITY_FIELDS)
        after["photos"] = a.photos.count()
        audit.record(actor=actor, action=action, obj=a, after=after)
    return a


def update_activity(
    *, actor, activity: Activity, data: ActivityData, photos=(), remove_photos=(),
    action: str = "activities.activity.update",
) -> Activity:  # fmt: skip
    _check_writer(actor)
    a = selectors.visible_activities(user=actor).filter(pk=activity.pk).first()
    if a is None or not _may_change(actor, a):
        raise PermissionDenied("该活动不在您的辖区", code="out_of_scope")
    before = audit.snapshot(a, ACTIVITY_FIELDS)
    _apply_activity(actor, a, data)
    with transaction.atomic():
        a.updated_at = clock.now()
        a.save()
        removed = ActivityPhoto.objects.filter(activity=a, pk__in=[int(x) for x in remove_photos or ()])
        n_removed = len([p.attachment.delete() for p in removed.select_related("attachment")])
        _photos(actor, a, photos)
        b, after = audit.diff(before, audit.snapshot(a, ACTIVITY_FIELDS))
        if photos or n_removed:
            after["photos"] = a.photos.count()
        audit.record(actor=actor, action=action, obj=a, before=b, after=after)
    return a


def _may_change(actor, row) -> bool:
    """A 社区工作人员 changes the rows of their 社区; the 街道-wide writers those of the tier (already scoped)."""
    return actor.role != Role.COMMUNITY_STAFF or row.community_id == actor.community_id


def delete_activity(*, actor, activity: Activity) -> None:
    _check_writer(actor)
    a = selectors.visible_activities(user=actor).filter(pk=activity.pk).first()
    if a is None or not _may_change(actor, a):
        raise PermissionDenied("该活动不在您的辖区", code="out_of_scope")
    with transaction.atomic():
        before = audit.snapshot(a, ACTIVITY_FIELDS)
        audit.record(actor=actor, action="activities.activity.delete", obj=a, before=before)
        for p in a.photos.select_related("attachment"):
            p.attachment.delete()
        a.delete()


# --- 应急预案 -----------------------------------------------------------------------------------------------


@dataclass
class PlanData:
    level: str
    name: str
    issued_on: date | str | None
    community: int | None = None
    department: str = ""
    reviewed_on: date | str | None = None
    review_months: int | str | None = None
    note: str = ""


def _apply_plan(actor, p: EmergencyPlan, data: PlanData) -> None:
    if data.level not in PlanLevel.values:
        raise ValidationFailed("请选择预案级别", field="level")
    p.level = data.level
    p.name = _text(data.name, "name", "预案名称", max_length=100, required=True)
    p.department = _text(data.department, "department", "牵头部门", max_length=60)
    p.issued_on = _day(data.issued_on, "issued_on", "印发日期")
    p.reviewed_on = _day(data.reviewed_on, "reviewed_on", "复核日期", required=False)
    if p.reviewed_on and p.reviewed_on < p.issued_on:
        raise ValidationFailed("复核日期不得早于印发日期", field="reviewed_on")
    months = data.review_months if data.review_months not in (None, "") else p.review_months
    p.review_months = _count(months, "review_months", "复核周期（月）", minimum=1)
    if p.review_months > 60:
        raise ValidationFailed("复核周期（月）应在 1–60 之间", field="review_months")
    p.note = _text(data.note, "note", "备注", max_length=300)
    if p.level == PlanLevel.COMMUNITY and data.community in (None, "") and actor.role != Role.COMMUNITY_STAFF:
        raise ValidationFailed("社区预案须选择社区", field="community")
    p.street_id, p.community = _place(actor, data.community)


def _save_plan(actor, p: EmergencyPlan, *, action: str, before=None) -> EmergencyPlan:
    if EmergencyPlan.objects.filter(street_id=p.street_id, name=p.name).exclude(pk=p.pk).exists():
        raise ValidationFailed(f"本街道已有名为「{p.name}」的预案", field="name")
    with transaction.atomic():
        try:
            with transaction.atomic():
                p.save()
        except IntegrityError:
            raise ValidationFailed(f"本街道已有名为「{p.name}」的预案", field="name") from None
        b, a = audit.diff(before, audit.snapshot(p, PLAN_FIELDS))
        audit.record(actor=actor, action=action, obj=p, before=b, after=a)
    return p


def create_plan(*, actor, data: PlanData, action: str = "activities.plan.create") -> EmergencyPlan:
    _check_writer(actor)
    p = EmergencyPlan(created_by=actor)
    _apply_plan(actor, p, data)
    return _save_plan(actor, p, action=action)


def update_plan(
    *, actor, plan: EmergencyPlan, data: PlanData, action: str = "activities.plan.update"
) -> EmergencyPlan:
    _check_writer(actor)
    p = selectors.visible_plans(user=actor).filter(pk=plan.pk).first()
    if p is None or not _may_change(actor, p):
        raise PermissionDenied("该预案不在您的辖区", code="out_of_scope")
    before = audit.snapshot(p, PLAN_FIELDS)
    _apply_plan(actor, p, data)
    return _save_plan(actor, p, action=action, before=before)


def delete_plan(*, actor, plan: EmergencyPlan) -> None:
    _check_writer(actor)
    p = selectors.visible_plans(user=actor).filter(pk=plan.pk).first()
    if p is None or not _may_change(actor, p):
        raise PermissionDenied("该预案不在您的辖区", code="out_of_scope")
    with transaction.atomic():
        audit.record(
            actor=actor, action="activities.plan.delete", obj=p, before=audit.snapshot(p, PLAN_FIELDS)
        )
        p.delete()


# --- 志愿者 / 时间银行 ---------------------------------------------------------------------------------------


@dataclass
class VolunteerData:
    name: str
    phone: str = ""
    community: int | None = None
    skills: str = ""
    registered_on: date | str | None = None
    is_active: bool = True


def normalise_phone(value: str, field: str = "phone") -> str:
    digits = "".join(c for c in (value or "") if c.isdigit())
    if value and not 7 <= len(digits) <= 12:
        raise ValidationFailed("联系电话应为 7–12 位数字", field=field)
    return digits


def _apply_volunteer(actor, v: Volunteer, data: VolunteerData) -> None:
    v.name = _text(data.name, "name", "姓名", max_length=30, required=True)
    v.phone = normalise_phone(data.phone)
    v.skills = _text(data.skills, "skills", "特长/服务方向", max_length=200)
    v.registered_on = _day(data.registered_on, "registered_on", "注册日期", required=False) or (
        v.registered_on or clock.local_now().date()
    )
    v.is_active = bool(data.is_active)
    v.street_id, v.community = _place(actor, data.community)


def _save_volunteer(actor, v: Volunteer, *, action: str, before=None) -> Volunteer:
    taken = Volunteer.objects.filter(street_id=v.street_id, name=v.name, phone=v.phone).exclude(pk=v.pk)
    if taken.exists():
        raise ValidationFailed(f"已登记同名同电话的志愿者「{v.name}」", field="name")
    with transaction.atomic():
        v.save()
        after = audit.snapshot(v, VOLUNTEER_FIELDS)
        after["phone"] = selectors.mask_phone(v.phone)
        b, a = audit.diff(before, after)
        audit.record(actor=actor, action=action, obj=v, before=b, after=a)
    return v


def _volunteer_snapshot(v: Volunteer) -> dict:
    snap = audit.snapshot(v, VOLUNTEER_FIELDS)
    snap["phone"] = selectors.mask_phone(v.phone)
    return snap


def create_volunteer(*, actor, data: VolunteerData, action: str = "activities.volunteer.create") -> Volunteer:
    _check_writer(actor)
    v = Volunteer(created_by=actor)
    _apply_volunteer(actor, v, data)
    return _save_volunteer(actor, v, action=action)


def update_volunteer(
    *, actor, volunteer: Volunteer, data: VolunteerData, action: str = "activities.volunteer.update"
) -> Volunteer:
    _check_writer(actor)
    v = selectors.visible_volunteers(user=actor).filter(pk=volunteer.pk).first()
    if v is None or not _may_change(actor, v):
        raise PermissionDenied("该志愿者不在您的辖区", code="out_of_scope")
    before = _volunteer_snapshot(v)
    _apply_volunteer(actor, v, data)
    return _save_volunteer(actor, v, action=action, before=before)


def _hours(value) -> Decimal:
    try:
        h = Decimal(str(value).strip()).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationFailed("小时数应为数字（可保留 1 位小数）", field="hours") from None
    if not Decimal(0) < h <= MAX_HOURS:
        raise ValidationFailed(f"小时数应大于 0 且不超过 {MAX_HOURS}", field="hours")
    return h


def entry_hours(value) -> Decimal:
    """The hours of a 时间银行 entry (a number > 0 and ≤ MAX_HOURS, one decimal), or ValidationFailed (``hours``)."""
    return _hours(value)


def record_entry(
    *,
    actor,
    volunteer: Volunteer,
    day,
    kind: str,
    hours,
    activity_id: int | None = None,
    note: str = "",
    action: str = "activities.timebank.entry",
) -> TimeBankEntry:
    """Add a 时间银行 entry. Spending more than the volunteer's balance (Σ存入 − Σ支取) is refused (``hours``)."""
    _check_writer(actor)
    if kind not in EntryKind.values:
        raise ValidationFailed("请选择存入或支取", field="kind")
    h = _hours(hours)
    when = _day(day, "date", "日期")
    note = _text(note, "note", "说明", max_length=200)
    activity = None
    if activity_id not in (None, ""):
        try:
            activity = selectors.visible_activities(user=actor).get(pk=int(activity_id))
        except (Activity.DoesNotExist, TypeError, ValueError):
            raise ValidationFailed("活动不存在或不在您的辖区", field="activity") from None
    with transaction.atomic():
        v = selectors.visible_volunteers(user=actor).select_for_update().filter(pk=volunteer.pk).first()
        if v is None or not _may_change(actor, v):
            raise PermissionDenied("该志愿者不在您的辖区", code="out_of_scope")
        if kind == EntryKind.SPEND:
            left = selectors.balance(v)
            if h > left:
                raise ValidationFailed(
                    f"余额不足：当前余额 {left:.1f} 小时，不能支取 {h:.1f} 小时", field="hours"
                )
        e = TimeBankEntry.objects.create(
            volunteer=v, date=when, kind=kind, hours=h, activity=activity, note=note, created_by=actor
        )
        audit.record(
            actor=actor,
            action=action,
            obj=e,
            after={"volunteer": v.pk, "date": when.isoformat(), "kind": kind, "hours": str(h), "note": note},
        )
    return e
