"""Every write of the 基础台账. Keyword-only, each takes ``actor``; the write and its audit row commit together.
Audit rows never carry the ID number or phone in clear (only the masked forms); a full view is itself written
(:func:`reveal_person`: an :class:`AccessLog` row and an audit row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q

from civicgrid.accounts.roles import Capability, Role, has_capability
from civicgrid.cases import findings
from civicgrid.core import audit, clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.places import selectors as place_selectors
from civicgrid.registers import crypto, selectors
from civicgrid.registers.models import (
    AccessLog,
    AssistanceItem,
    AssistanceKind,
    FloatingStatus,
    Household,
    Person,
    PersonTag,
    Residence,
    Visit,
    VisitCheckItem,
    VisitMethod,
    VisitResult,
    VisitTarget,
)

PERSON_AUDIT_FIELDS = [
    "name", "id_masked", "phone_masked", "residence", "grid", "household", "relation", "floating_status",
    "registered_on", "listed_on", "left_on", "cancelled_on", "is_active",
]  # fmt: skip
WRITER_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.LEADER, Role.SYSTEM_ADMIN)
MAX_BACKDATE_DAYS = 30


def _can_write(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录", code="login_required")
    if actor.role not in WRITER_ROLES or not has_capability(actor, Capability.BUSINESS_VIEW):
        raise PermissionDenied(f"「{actor.get_role_display()}」不能维护基础台账", code="role_not_allowed")


def _grid(actor, grid_id):
    try:
        grid = place_selectors.visible_grids(user=actor).get(pk=int(grid_id))
    except Exception:
        raise ValidationFailed("网格不存在或不在您的辖区", field="grid") from None
    return grid


def _building(actor, building_id):
    try:
        return (
            place_selectors.visible_buildings(user=actor)
            .select_related("grid__community")
            .get(pk=int(building_id))
        )
    except Exception:
        raise ValidationFailed("楼栋不存在或不在您的辖区", field="building") from None


def _tags(codes) -> list[PersonTag]:
    codes = [c for c in (codes or []) if c]
    found = list(PersonTag.objects.filter(code__in=codes, is_active=True))
    unknown = set(codes) - {t.code for t in found}
    if unknown:
        raise ValidationFailed(f"未知标签：{'、'.join(sorted(unknown))}", field="tags")
    return found


def _phone(value: str) -> str:
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    if value and not 7 <= len(digits) <= 12:
        raise ValidationFailed("联系电话应为 7–12 位数字", field="phone")
    return digits


@dataclass
class PersonInput:
    name: str
    id_number: str
    residence: str
    grid_id: int | None = None
    household: Household | None = None
    relation: str = ""
    phone: str = ""
    tags: tuple[str, ...] = ()
    registered_on: date | None = None


def _validate(data: PersonInput) -> str:
    name = (data.name or "").strip()
    if not name or len(name) > 30:
        raise ValidationFailed("请填写姓名（不超过 30 字）", field="name")
    problem = crypto.id_problem(data.id_number)
    if problem:
        raise ValidationFailed(problem, field="id_number")
    if data.residence not in Residence.values:
        raise ValidationFailed("请选择人口类型（户籍/常住/流动）", field="residence")
    return name


def create_person(*, actor, data: PersonInput) -> Person:
    _can_write(actor)
    name = _validate(data)
    if data.household is not None:
        household = selectors.visible_households(user=actor).filter(pk=data.household.pk).first()
        if household is None:
            raise ValidationFailed("户档不存在或不在您的辖区", field="household")
        grid = household.grid
    else:
        if data.grid_id in (None, ""):
            raise ValidationFailed("请选择网格或户", field="grid")
        grid = _grid(actor, data.grid_id)
        household = None
    id_number = crypto.normalise_id(data.id_number)
    id_hash = crypto.search_hash(id_number)
    if Person.objects.filter(id_hash__in=crypto.search_hashes(id_number)).exists():
        raise ValidationFailed("该身份证号已登记", field="id_number", code="person_duplicate")
    phone = _phone(data.phone)
    tags = _tags(data.tags)
    today = clock.local_now().date()
    floating = data.residence == Residence.FLOATING
    with transaction.atomic():
        person = Person.objects.create(
            street_id=grid.community.street_id,
            grid=grid,
            household=household,
            relation=(data.relation or "")[:10],
            name=name,
            id_cipher=crypto.encrypt(id_number),
            id_hash=id_hash,
            id_masked=crypto.mask_id(id_number),
            phone_cipher=crypto.encrypt(phone),
            phone_masked=crypto.mask_phone(phone),
            residence=data.residence,
            floating_status=FloatingStatus.REGISTERED if floating else "",
            registered_on=(data.registered_on or today) if floating else None,
            created_by=actor,
        )
        person.tags.set(tags)
        after = audit.snapshot(person, PERSON_AUDIT_FIELDS)
        after["tags"] = sorted(t.code for t in tags)
        audit.record(actor=actor, action="registers.person.create", obj=person, after=after)
    return person


def update_person(
    *,
    actor,
    person: Person,
    name: str | None = None,
    phone: str | None = None,
    residence: str | None = None,
    tags: list[str] | None = None,
    relation: str | None = None,
) -> Person:
    _can_write(actor)
    person = selectors.get_person(user=actor, pk=person.pk)
    before = audit.snapshot(person, PERSON_AUDIT_FIELDS)
    before["tags"] = sorted(t.code for t in person.tags.all())
    if name is not None:
        name = name.strip()
        if not name or len(name) > 30:
            raise ValidationFailed("请填写姓名（不超过 30 字）", field="name")
        person.name = name
    if phone is not None:
        digits = _phone(phone)
        person.phone_cipher, person.phone_masked = crypto.encrypt(digits), crypto.mask_phone(digits)
    if residence is not None:
        if residence not in Residence.values:
            raise ValidationFailed("请选择人口类型（户籍/常住/流动）", field="residence")
        person.residence = residence
    if relation is not None:
        person.relation = relation[:10]
    new_tags = _tags(tags) if tags is not None else None
    with transaction.atomic():
        person.updated_at = clock.now()
        person.save()
        if new_tags is not None:
            person.tags.set(new_tags)
        after = audit.snapshot(person, PERSON_AUDIT_FIELDS)
        after["tags"] = sorted(t.code for t in person.tags.all())
        b, a = audit.diff(before, after)
        if a:
            audit.record(actor=actor, action="registers.person.update", obj=person, before=b, after=a)
    return person


def reveal_person(*, actor, person: Person, reason: str, channel: str = "web") -> dict:
    """The full ID number and phone for a holder of ``PERSON_FULL_VIEW``; writes the access log and audit row
    first (a reveal that cannot be logged is not shown)."""
    if not selectors.can_see_full(actor):
        raise PermissionDenied("当前角色不能查看完整个人信息", code="person_full_view_denied")
    person = selectors.get_person(user=actor, pk=person.pk)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed("请填写查阅事由", field="reason")
    with transaction.atomic():
        AccessLog.objects.create(person=person, user=actor, reason=reason[:200], channel=channel[:10])
        audit.record(
            actor=actor,
            action="registers.person.reveal",
            obj=person,
            note=f"查阅事由：{reason[:200]}（{channel}）",
        )
    return {"id_number": crypto.decrypt(person.id_cipher), "phone": crypto.decrypt(person.phone_cipher)}


def create_household(*, actor, building_id, room: str, note: str = "") -> Household:
    _can_write(actor)
    building = _building(actor, building_id)
    room = (room or "").strip()
    if not room or len(room) > 20:
        raise ValidationFailed("请填写室号（不超过 20 字）", field="room")
    if Household.objects.filter(building=building, room=room).exists():
        raise ValidationFailed("该室已建档", field="room", code="household_duplicate")
    with transaction.atomic():
        hh = Household.objects.create(
            street_id=building.grid.community.street_id,
            grid=building.grid,
            building=building,
            room=room,
            note=(note or "")[:300],
            created_by=actor,
        )
        audit.record(actor=actor, action="registers.household.create", obj=hh, after=audit.snapshot(hh))
    return hh


def add_member(*, actor, household: Household, person: Person, relation: str = "") -> Person:
    _can_write(actor)
    household = selectors.get_household(user=actor, pk=household.pk)
    person = selectors.get_person(user=actor, pk=person.pk)
    with transaction.atomic():
        before = audit.snapshot(person, ["household", "relation"])
        person.household, person.relation = household, (relation or "")[:10]
        person.updated_at = clock.now()
        person.save(update_fields=["household", "relation", "updated_at"])
        audit.record(
            actor=actor,
            action="registers.person.update",
            obj=person,
            before=before,
            after=audit.snapshot(person, ["household", "relation"]),
        )
    return person


def save_assistance(
    *,
    actor,
    household: Household,
    kind: str,
    recognized_on: date,
    review_on: date | None = None,
    exited_on: date | None = None,
    monthly_amount: Decimal | int = 0,
    person: Person | None = None,
    item: AssistanceItem | None = None,
    note: str = "",
) -> AssistanceItem:
    _can_write(actor)
    household = selectors.get_household(user=actor, pk=household.pk)
    if kind not in AssistanceKind.values:
        raise ValidationFailed("请选择救助类别", field="kind")
    if recognized_on is None:
        raise ValidationFailed("请填写认定日期", field="recognized_on")
    if review_on and review_on < recognized_on:
        raise ValidationFailed("复核日期不能早于认定日期", field="review_on")
    if exited_on and exited_on < recognized_on:
        raise ValidationFailed("退出日期不能早于认定日期", field="exited_on")
    if person is not None and person.household_id != household.pk:
        raise ValidationFailed("救助对象不是本户成员", field="person")
    if Decimal(monthly_amount) < 0:
        raise ValidationFailed("月保障金不能为负", field="monthly_amount")
    with transaction.atomic():
        before = audit.snapshot(item) if item else None
        if item is None:
            item = AssistanceItem(household=household)
        elif item.household_id != household.pk:
            raise ValidationFailed("救助记录不属于本户", field="item")
        item.kind, item.recognized_on, item.review_on, item.exited_on = (
            kind,
            recognized_on,
            review_on,
            exited_on,
        )
        item.monthly_amount, item.person, item.note = Decimal(monthly_amount), person, (note or "")[:200]
        item.save()
        audit.record(
            actor=actor,
            action="registers.assistance.save",
            obj=item,
            before=before,
            after=audit.snapshot(item),
        )
    return item


# --- 入户走访 ------------------------------------------------------------------------------------------


@dataclass
class CheckAnswer:
    item: VisitCheckItem
    ok: bool
    note: str = ""


def record_visit(
    *,
    actor,
    target_kind: str,
    target_id,
    method: str,
    answers: list[CheckAnswer] = (),
    person_ids: list[int] = (),
    met_note: str = "",
    notes: str = "",
    visited_at: datetime | None = None,
    finding: str = "",
    report_as: str = "case",
    idempotency_key: str | None = None,
    client_id: str = "",
) -> Visit:
    """录入一次走访. ``finding`` non-empty: it becomes a case (source 网格员巡查) — or, ``report_as="hazard"``, a
    安全隐患 (through :mod:`civicgrid.cases.findings`) — in the same transaction and the visit links to it (one
    tap). ``person_ids``: the register people met; a household visit with none named covers every active member.
    ``client_id``: the id the phone gave the visit (offline queue): the same id again returns the first visit
    (``replayed``) and files nothing."""
    _can_write(actor)
    client_id = (client_id or "").strip()
    if len(client_id) > 64 or (client_id and not client_id.replace("-", "").isalnum()):
        raise ValidationFailed("手机端编号无效", field="client_id")
    if client_id:
        existing = Visit.objects.filter(visitor=actor, client_id=client_id).first()
        if existing is not None:
            existing.replayed = True
            return existing
    if method not in VisitMethod.values:
        raise ValidationFailed("请选择走访方式", field="method")
    now = clock.now()
    visited_at = visited_at or now
    if visited_at > now + timedelta(minutes=5) or visited_at < now - timedelta(days=MAX_BACKDATE_DAYS):
        raise ValidationFailed(f"走访时间应在近 {MAX_BACKDATE_DAYS} 天内", field="visited_at")
    household = person = unit = building = None
    if target_kind == VisitTarget.HOUSEHOLD:
        household = (
            selectors.visible_households(user=actor)
            .select_related("building")
            .filter(pk=_int(target_id))
            .first()
        )
        obj, grid, name = household, household and household.grid, household and str(household)
    elif target_kind == VisitTarget.PERSON:
        person = selectors.visible_persons(user=actor).filter(pk=_int(target_id)).first()
        obj, grid, name = person, person and person.grid, person and person.name
    elif target_kind == VisitTarget.UNIT:
        unit = place_selectors.visible_units(user=actor).filter(pk=_int(target_id)).first()
        obj, grid, name = unit, unit and unit.grid, unit and unit.name
    elif target_kind == VisitTarget.BUILDING:
        building = place_selectors.visible_buildings(user=actor).filter(pk=_int(target_id)).first()
        obj, grid, name = building, building and building.grid, building and building.name
    else:
        raise ValidationFailed("请选择走访对象类型", field="target_kind")
    if obj is None:
        raise ValidationFailed("走访对象不存在或不在您的辖区", field="target_id")
    met = list(selectors.visible_persons(user=actor).filter(pk__in=[_int(p) for p in person_ids]))
    if len(met) != len(set(person_ids)):
        raise ValidationFailed("见到的人员不存在或不在您的辖区", field="person_ids")
    if not met and household is not None:
        met = list(household.members.filter(is_active=True))
    if not met and person is not None:
        met = [person]
    for a in answers:
        if not isinstance(a.item, VisitCheckItem):
            raise ValidationFailed("未知的走访检查项", field="answers")
    finding = (finding or "").strip()
    if finding and report_as not in dict(findings.choices()):
        raise ValidationFailed("请选择上报为工单或安全隐患", field="report_as")
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                street_id=grid.community.street_id,
                grid=grid,
                target_kind=target_kind,
                household=household,
                person=person,
                unit=unit,
                building=building,
                target_name=name[:150],
                method=method,
                met_note=(met_note or "")[:200],
                notes=(notes or "")[:5000],
                visited_at=visited_at,
                visitor=actor,
                client_id=client_id,
            )
            visit.persons.set(met)
            VisitResult.objects.bulk_create(
                VisitResult(
                    visit=visit, item=a.item, item_text=a.item.text, ok=a.ok, note=(a.note or "")[:200]
                )
                for a in answers
            )
            if finding:
                lng = getattr(obj, "lng", None) or getattr(getattr(obj, "building", None), "lng", None)
                lat = getattr(obj, "lat", None) or getattr(getattr(obj, "building", None), "lat", None)
                key = idempotency_key or client_id
                case = findings.file_finding(
                    actor=actor,
                    target=report_as,
                    place=findings.Place(
                        street_id=grid.community.street_id,
                        grid=grid,
                        lng=lng,
                        lat=lat,
                        address=household.building.address if household else getattr(obj, "address", ""),
                        name=name,
                        unit=unit,
                        building=building or (household.building if household else None),
                    ),
                    description=f"入户走访发现：{finding}（走访对象：{name}）"[:2000],
                    idempotency_key=f"visit:{key}" if key else None,
                )
                visit.case = case
                visit.save(update_fields=["case"])
            after = audit.snapshot(visit, ["target_kind", "target_name", "method", "visited_at", "case"])
            after["persons"] = len(met)
            after["abnormal"] = sum(1 for a in answers if not a.ok)
            if visit.case_id:
                after["report_as"] = report_as
            audit.record(actor=actor, action="registers.visit.create", obj=visit, after=after)
    except IntegrityError:  # a concurrent retry of the same phone id won the insert
        visit = Visit.objects.filter(visitor=actor, client_id=client_id).first() if client_id else None
        if visit is None:
            raise
        visit.replayed = True
        return visit
    visit.replayed = False
    return visit


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


# --- 流动人口 登记 → 在册 → 注销 ----------------------------------------------------------------------------

FLOATING_MOVES = {  # move: (from, to, date field)
    "list": (FloatingStatus.REGISTERED, FloatingStatus.LISTED, "listed_on"),
    "cancel": (FloatingStatus.LISTED, FloatingStatus.CANCELLED, "cancelled_on"),
}


def move_floating(
    *, actor, person: Person, move: str, on: date | None = None, left_on: date | None = None
) -> Person:
    """在册 (``list``) or 注销 (``cancel``, with the date the person left: ``left_on``)."""
    _can_write(actor)
    person = selectors.get_person(user=actor, pk=person.pk)
    if person.residence != Residence.FLOATING:
        raise ValidationFailed("只有流动人口可以登记/注销", field="residence")
    if move not in FLOATING_MOVES:
        raise ValidationFailed("未知操作", field="move")
    src, dst, field = FLOATING_MOVES[move]
    if person.floating_status != src:
        raise ValidationFailed(
            f"当前状态为「{person.get_floating_status_display()}」，不能{'在册' if move == 'list' else '注销'}",
            field="move",
        )
    on = on or clock.local_now().date()
    if on > clock.local_now().date():
        raise ValidationFailed("日期不能晚于今天", field="on")
    if move == "cancel":
        if left_on is None:
            raise ValidationFailed("请填写离开日期", field="left_on")
        if left_on > on:
            raise ValidationFailed("离开日期不能晚于注销日期", field="left_on")
    with transaction.atomic():
        before = audit.snapshot(person, PERSON_AUDIT_FIELDS)
        person.floating_status = dst
        setattr(person, field, on)
        if move == "cancel":
            person.left_on, person.is_active = left_on, False
        person.updated_at = clock.now()
        person.save()
        b, a = audit.diff(before, audit.snapshot(person, PERSON_AUDIT_FIELDS))
        audit.record(actor=actor, action="registers.floating.move", obj=person, before=b, after=a)
    return person


def log_full_export(*, actor, persons: list[Person], reason: str, channel: str = "export") -> None:
    """Before a full (unmasked) export: one access-log row per person and one audit row, or nothing at all."""
    if not selectors.can_see_full(actor):
        raise PermissionDenied("当前角色不能导出完整个人信息", code="person_full_view_denied")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed("请填写导出事由", field="reason")
    with transaction.atomic():
        AccessLog.objects.bulk_create(
            AccessLog(person=p, user=actor, reason=reason[:200], channel=channel[:10]) for p in persons
        )
        audit.record(
            actor=actor,
            action="registers.person.export_full",
            object_type="registers.person",
            object_repr=f"导出完整人员信息 {len(persons)} 人",
            note=f"导出事由：{reason[:200]}",
        )


# --- retention and key rotation (run by ``civicgrid registers purge`` / ``rotate-key`` and the daily job) -------

PURGED_MASK = "（已清除）"


def purge_due(*, years: int, today: date | None = None):
    """Persons out of the register (注销 / 迁出: ``is_active`` false) whose leaving date — 注销日期, else 离开日期,
    else the last update — lies more than ``years`` years before ``today``, and not purged yet."""
    today = today or clock.local_now().date()
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - years, day=28)
    cutoff_at = datetime.combine(cutoff, datetime.min.time(), tzinfo=clock.SHANGHAI)
    left_before = (
        Q(cancelled_on__lt=cutoff)
        | Q(cancelled_on__isnull=True, left_on__lt=cutoff)
        | Q(cancelled_on__isnull=True, left_on__isnull=True, updated_at__lt=cutoff_at)
    )
    return Person.objects.filter(is_active=False, purged_at__isnull=True).filter(left_before)


def purge_personal_data(*, actor=None, years: int, today: date | None = None, dry_run: bool = False) -> int:
    """超期清除: the ID number and phone of :func:`purge_due` persons are erased (cipher, hash and masked forms;
    name, address and visits stay for the statistics). One audit row names the persons and the rule. Returns the
    number purged (or due, with ``dry_run``)."""
    if years < 1:
        raise ValidationFailed("保存期限至少 1 年", field="years")
    due = purge_due(years=years, today=today)
    if dry_run:
        return due.count()
    now = clock.now()
    with transaction.atomic():
        rows = list(due.select_for_update().values_list("pk", "name"))
        for pk, _name in rows:  # id_hash is unique: a non-identifying placeholder per row
            Person.objects.filter(pk=pk).update(
                id_cipher="",
                id_hash=f"purged:{pk}",
                id_masked=PURGED_MASK,
                phone_cipher="",
                phone_masked="",
                purged_at=now,
            )
        if rows:
            audit.record(
                actor=actor,
                action="registers.person.purge",
                object_type="registers.person",
                object_repr=f"超期清除个人信息 {len(rows)} 人",
                after={"persons": [pk for pk, _ in rows], "years": years},
                note=f"注销/迁出满 {years} 年，清除身份证号、联系电话",
            )
    return len(rows)


def rotate_keys(*, actor=None, batch: int = 500) -> dict:
    """Re-encrypt every ID number / phone under the current key and re-hash the ID numbers (rows under an older
    listed key are read with it); the import ledgers keyed by the hash follow, so a re-import stays idempotent.
    Each batch commits alone (a stopped run resumes: rows already rotated are rotated again harmlessly); one
    audit row at the end with the counts."""
    done = changed_hashes = 0
    last = 0
    while True:
        with transaction.atomic():
            people = list(
                Person.objects.filter(pk__gt=last, purged_at__isnull=True)
                .order_by("pk")
                .only("pk", "id_cipher", "id_hash", "phone_cipher")[:batch]
            )
            if not people:
                break
            renamed = {}
            for p in people:
                clear = crypto.decrypt(p.id_cipher)
                if crypto.id_problem(clear):  # not readable under any listed key: left as it is
                    continue
                new_hash = crypto.search_hash(clear)
                if new_hash != p.id_hash:
                    renamed[p.id_hash] = new_hash
                p.id_cipher, p.phone_cipher = crypto.rotate(p.id_cipher), crypto.rotate(p.phone_cipher)
                p.id_hash = new_hash
                done += 1
            Person.objects.bulk_update(people, ["id_cipher", "phone_cipher", "id_hash"])
            if renamed:
                _rekey_ledgers(renamed)
            changed_hashes += len(renamed)
            last = people[-1].pk
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="registers.keys.rotate",
            object_type="registers.person",
            object_repr=f"个人信息密钥轮换 {done} 人",
            after={"rotated": done, "rehashed": changed_hashes, "keys": crypto.key_count()},
        )
    return {"rotated": done, "rehashed": changed_hashes}


def _rekey_ledgers(renamed: dict[str, str]) -> None:
    """The import ledgers' row keys carry the ID hash (人员: the hash; 保障金: month|hash|kind)."""
    from civicgrid.core.models import ImportLedger

    for entry in ImportLedger.objects.filter(spec="registers.persons", key__in=list(renamed)):
        entry.key = renamed[entry.key]
        entry.save(update_fields=["key"])
    olds = list(renamed)
    for i in range(0, len(olds), 100):
        match = Q()
        for old in olds[i : i + 100]:
            match |= Q(key__contains=f"|{old}|")
        for entry in ImportLedger.objects.filter(match, spec="registers.payments"):
            old = entry.key.split("|")[1]
            entry.key = entry.key.replace(f"|{old}|", f"|{renamed[old]}|")
            entry.save(update_fields=["key"])
