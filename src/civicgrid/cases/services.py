"""Every write to cases. Keyword-only, typed, takes ``actor``.

Each service writes the case, its timeline entry (:class:`CaseEvent`) and an audit row in ONE
``transaction.atomic()``; notifications and the ``case_event_committed`` signal run on commit.

- :func:`create_case` — 上报 (optionally 立案 at once); idempotent per (actor, ``idempotency_key``).
- :func:`perform` — the one entry point for every move of :mod:`civicgrid.cases.workflow`. Optimistic: the caller
  passes the ``version`` it read; the row is locked (``select_for_update``) and written with
  ``UPDATE … WHERE id = ? AND version = ?`` — a changed version raises :class:`StaleVersion` (409).
- :func:`import_closed_cases` — record many cases handled to the end elsewhere (:class:`HistoricalCase`, e.g.
  12345 历史工单) in their final state, set-based: numbers, one ``import`` timeline entry each, one audit row.
- :func:`bulk_import_history` — many cases with their whole lives, played in memory by a
  :mod:`civicgrid.cases.history` engine (same guard and clocks as :func:`perform`), inserted set-based.
- :func:`update_imported_cases` — a changed import row refreshes its case (set-based, one timeline entry each).
- :func:`import_case` — one case of another procedure taken over from a ledger kept elsewhere, in the state and
  with the (past) times the ledger gives, its stage clock started when the ledger says.
- :func:`relocate_case` — set a case's location (a click on the map), one timeline entry and one audit row.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.db.models.base import ModelState
from django.db.models.signals import post_save, pre_save

from civicgrid.accounts.models import Department, User
from civicgrid.accounts.roles import Role
from civicgrid.cases import deadlines, procedures, workflow
from civicgrid.cases.attachments import store_upload
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import (
    PRIORITY_ORDER,
    Attachment,
    AttachmentKind,
    Case,
    CaseDepartment,
    CaseEvent,
    CaseNumberCounter,
    CaseState,
    Category,
    DeadlineUnit,
    ExtensionRequest,
    ExtensionStatus,
    Notification,
    NotificationKind,
    Priority,
    Rating,
    Source,
    Stage,
)
from civicgrid.cases.notifications import (
    case_event_committed,
    department_members,
    notify_on_commit,
    users_with_roles,
)
from civicgrid.core import audit, auditchain, bulk, clock
from civicgrid.core.bulk import SetBasedInserter
from civicgrid.core.errors import NotFound, PermissionDenied, StaleVersion, ValidationFailed
from civicgrid.core.roles import Capability, has_capability, roles_with
from civicgrid.places.models import Building, Grid

log = logging.getLogger(__name__)

# who may report (上报) a case at all
CREATOR_ROLES = roles_with(Capability.CASE_CREATE)
# moves a user may make on any case they can see, without being able to change it: 督办 (an instruction from
# the 值班长 or 领导; the case's handling stays with whoever has it)
OVERSIGHT_MOVES = frozenset({"supervise"})

_CASE_FIELDS = [f for f in Case._meta.concrete_fields if not f.primary_key]


# --- facts for the guard --------------------------------------------------------------------------


def _own_grid_ids(user) -> set[int]:
    cached = getattr(user, "_cg_grid_ids", None)
    if cached is None:
        ids = set(user.grids.values_list("pk", flat=True)) if user.role == Role.GRID_WORKER else set()
        if ids:
            ids |= set(Grid.objects.filter(parent_id__in=ids).values_list("pk", flat=True))
        cached = user._cg_grid_ids = ids
    return cached


def facts_for(case: Case, user) -> workflow.Facts:
    role = user.role
    own_grid = role == Role.GRID_WORKER and case.grid_id is not None and case.grid_id in _own_grid_ids(user)
    can_file = (
        role == Role.GRID_WORKER
        and case.category_id is not None
        and case.category.grid_worker_can_file
        and (own_grid or (case.created_by_id is not None and case.created_by_id == user.pk))
    )
    proc = procedures.for_case(case)
    pending = case.state in proc.extension_states and (
        ExtensionRequest.objects.filter(case_id=case.pk, status=ExtensionStatus.PENDING).exists()
    )
    return workflow.Facts(
        met=proc.preconditions_met(case) if proc.preconditions else frozenset(),
        own_department=role == Role.DEPT_HANDLER
        and user.department_id is not None
        and case.department_id == user.department_id,
        own_grid=own_grid,
        own_community=role == Role.COMMUNITY_STAFF
        and user.community_id is not None
        and case.community_id == user.community_id,
        can_file=can_file,
        extension_pending=pending,
    )


# --- helpers --------------------------------------------------------------------------------------


def _require(value, field: str, message: str):
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationFailed(message, field=field, code=CaseErrorCode.FIELD_REQUIRED)
    return value.strip() if isinstance(value, str) else value


# Choices.values builds a new list on every access: the hot paths test against these instead (with _one_of)
_SOURCE_VALUES = frozenset(Source.values)
_PRIORITY_VALUES = frozenset(Priority.values)
_RATING_VALUES = frozenset(Rating.values)


def _one_of(value, values: frozenset) -> bool:
    """``value in values`` for whatever a caller passes (a list or a dict is not one of them, not a TypeError)."""
    return isinstance(value, str) and value in values


def _actor_name(actor) -> str:
    if actor is None:
        return "系统"
    return getattr(actor, "display_name", None) or actor.get_username()


def allocate_number(now: datetime | None = None) -> str:
    """Next case number ``C`` + YYYYMMDD (Asia/Shanghai) + 5-digit daily sequence. Call inside a transaction.

    The per-day counter row is created if missing and incremented, holding its row lock until commit, so
    concurrent allocations serialise on PostgreSQL and SQLite alike and a rolled-back transaction gives its
    number back. (:func:`allocate_numbers` for one day.)
    """
    return allocate_numbers([clock.to_local(now or clock.now()).date()])[0]


def allocate_numbers(days: list[date]) -> list[str]:
    """One case number per entry of ``days`` (Asia/Shanghai dates), in order, from the per-day counter.

    Set-based, whatever the number of days. PostgreSQL: one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` creates
    the missing counter rows and advances the others, in day order, each row locked until commit. SQLite (which
    holds its database write lock): the missing rows are created, then all advanced by one ``UPDATE … FROM
    (VALUES …) RETURNING``. So concurrent allocators serialise per day without deadlocking, and a rolled-back
    transaction gives its numbers back. Call inside a transaction.
    Raises :class:`ValidationFailed` (``number``) when a day's 99,999 numbers are used up.
    """
    if not days:
        return []
    wanted: dict[date, int] = defaultdict(int)
    for d in days:
        wanted[d] += 1
    ordered = sorted(wanted)
    table = connection.ops.quote_name(CaseNumberCounter._meta.db_table)
    last: dict[date, int] = {}
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # one upsert whatever the number of days, taking the rows' locks in day order; the days and counts
            # go as array literals (a date list parameter is quoted element by element on the client)
            cur.execute(
                f"INSERT INTO {table} AS c (day, last) "
                "SELECT d, n FROM unnest(%s::date[], %s::int[]) AS v(d, n) ORDER BY d "
                "ON CONFLICT (day) DO UPDATE SET last = c.last + EXCLUDED.last RETURNING c.day, c.last",
                [
                    "{" + ",".join(d.isoformat() for d in ordered) + "}",
                    "{" + ",".join(str(wanted[d]) for d in ordered) + "}",
                ],
            )
            last.update(cur.fetchall())
        else:
            # what bulk_create(ignore_conflicts=True) writes, without a model instance per day
            cur.executemany(
                f"INSERT OR IGNORE INTO {table} (day, last) VALUES (%s, 0)",
                [(d.isoformat(),) for d in ordered],
            )
            for start in range(0, len(ordered), 400):  # stay under SQLite's bound-parameter limit
                chunk = ordered[start : start + 400]
                values = ", ".join(["(%s, %s)"] * len(chunk))
                params = [x for d in chunk for x in (d.isoformat(), wanted[d])]
                cur.execute(
                    f"UPDATE {table} SET last = last + v.n "
                    f"FROM (SELECT column1 AS d, column2 AS n FROM (VALUES {values}) AS vv) AS v "
                    f"WHERE {table}.day = v.d RETURNING day, last",
                    params,
                )
                for day, value in cur.fetchall():
                    last[date.fromisoformat(day) if isinstance(day, str) else day] = value
    next_seq: dict[date, int] = {}
    for d, n in wanted.items():
        if last[d] > 99999:
            raise ValidationFailed(
                f"{d:%Y-%m-%d} 当日案件编号已用尽（99999）",
                field="number",
                code=CaseErrorCode.NUMBERS_EXHAUSTED,
            )
        next_seq[d] = last[d] - n
    prefix = {d: f"C{d.year:04d}{d.month:02d}{d.day:02d}" for d in wanted}
    out = []
    for d in days:
        next_seq[d] += 1
        out.append(f"{prefix[d]}{next_seq[d]:05d}")
    return out


def _title(case: Case) -> str:
    where = case.address or (case.grid.name if case.grid_id else "")
    what = case.category.name if case.category_id else (case.description.strip().splitlines() or [""])[0][:30]
    return (f"{what} · {where}" if where else what)[:200]


def default_department(category: Category | None, case: Case | None = None) -> Department | None:
    """The category's default 处置部门 (the one an administrator set, else the seed's department code), active.

    With ``case``: only a department serving the case's 街道 (its own, or a 区-level one of its 区) — the
    catalogue is shared by every 街道, its default department belongs to one of them."""
    if category is None:
        return None
    dept = None
    if category.default_department_id:
        dept = category.default_department if category.default_department.is_active else None
    elif category.default_department_code:
        dept = Department.objects.filter(code=category.default_department_code, is_active=True).first()
    if dept is not None and case is not None and not department_serves(dept, case.street_id):
        return None
    return dept


def _resolve_place(
    *, lng: float | None, lat: float | None, address: str, grid: Grid | None
) -> tuple[float | None, float | None, Grid | None]:
    if (lng is None) != (lat is None):
        raise ValidationFailed(
            "经度和纬度须同时提供", field="lng" if lng is None else "lat", code=CaseErrorCode.INVALID_LOCATION
        )
    if lng is not None:
        if not (-180 <= lng <= 180):
            raise ValidationFailed("经度超出范围", field="lng", code=CaseErrorCode.INVALID_LOCATION)
        if not (-90 <= lat <= 90):
            raise ValidationFailed("纬度超出范围", field="lat", code=CaseErrorCode.INVALID_LOCATION)
    if grid is None and lng is not None:
        grid_id = _locate_grid_id(lng, lat)
        if grid_id is not None:
            from civicgrid.places.selectors import grid_card

            # with its community, from the per-process copy (no query); a grid newer than that copy is read
            grid = grid_card(grid_id) or Grid.objects.select_related("community").filter(pk=grid_id).first()
    if grid is None and address:
        building = (
            Building.objects.select_related("grid__community").filter(address=address).first()
            or Building.objects.select_related("grid__community").filter(aliases__contains=address).first()
        )
        if building is not None:
            grid = building.grid
            if lng is None and building.lng is not None:
                lng, lat = building.lng, building.lat
    return lng, lat, grid


# roles bound to a patch of the 街道: what they report must lie in their own grids / community
PLACE_BOUND_ROLES = frozenset({Role.GRID_WORKER, Role.COMMUNITY_STAFF})


def _grid_community_id(grid: Grid | None, grid_id: int | None) -> int | None:
    if grid is not None and grid.pk == grid_id:
        return grid.community_id
    if grid_id is None:
        return None
    from civicgrid.places.selectors import grid_card

    card = grid_card(grid_id)
    if card is not None:
        return card.community_id
    return Grid.objects.filter(pk=grid_id).values_list("community_id", flat=True).first()


def _street_of_grid(grid_id: int | None) -> int | None:
    """The 街道 of a grid, from the per-process grid cards (no query); a grid newer than them is read."""
    if grid_id is None:
        return None
    from civicgrid.places.selectors import grid_card

    card = grid_card(grid_id)
    if card is not None:
        return card.community.street_id
    return Grid.objects.filter(pk=grid_id).values_list("community__street_id", flat=True).first()


def case_street_id(
    *, actor, grid: Grid | None = None, grid_id: int | None = None, street_id: int | None = None
) -> int | None:
    """The 街道 a new case belongs to: its grid's; else ``street_id`` when given (an import row's 所属街道);
    else the creating account's (a 街道 desk, a channel's system actor); else the only 街道 of the account's 区,
    or of the database. ``None`` when none of these decides (a case without a place filed by a 区-level account
    in a 区 of several 街道)."""
    given = street_id
    if grid is not None:
        community = grid.community if Grid._meta.get_field("community").is_cached(grid) else None
        if community is not None:
            return community.street_id
        grid_id = grid.pk
    if grid_id is not None:
        street_id = _street_of_grid(grid_id)
        if street_id is not None:
            return street_id
    if given is not None:
        return given
    street_id = getattr(actor, "street_id", None)
    if street_id is not None:
        return street_id
    from civicgrid.places.selectors import only_street_id, tier_street_ids

    if getattr(actor, "district_id", None) is not None:
        ids = tier_street_ids(actor)
        return ids[0] if ids and len(ids) == 1 else None
    return only_street_id()


def _check_street_in_tier(actor, street_id: int | None, *, field: str) -> None:
    """A case is filed only in the actor's tier: a 街道 desk in its 街道, the 区 level in its 区."""
    from civicgrid.places.selectors import same_tier, tier_street_ids

    if street_id is None:
        if tier_street_ids(actor) is None:
            return
        raise ValidationFailed(
            "无法确定工单所属街道：请标注位置或选择网格",
            field=field,
            code=CaseErrorCode.INVALID_LOCATION,
        )
    if not same_tier(actor, street_id):
        raise PermissionDenied(
            "该位置不在您所属街道（区）的辖区内，不能在此上报或立案",
            field=field,
            code=CaseErrorCode.OUT_OF_JURISDICTION,
        )


def _in_patch(actor, grid_id: int | None, community_id: int | None) -> bool:
    if grid_id is None:
        return False
    if actor.role == Role.GRID_WORKER:
        return grid_id in _own_grid_ids(actor)
    return actor.community_id is not None and community_id == actor.community_id


def _check_place_in_patch(
    actor, *, point: tuple[float, float] | None, given_grid: Grid | None, grid: Grid | None
) -> None:
    """A 网格员 / 社区工作人员 reports only inside their own grids / community: the point given (located by the
    grid index), the grid given, and the grid an address resolved to must each lie there. Raises
    :class:`ValidationFailed` (point in no grid) or :class:`PermissionDenied` (outside), naming the field."""
    if actor.role not in PLACE_BOUND_ROLES:
        return
    patch = "您负责的网格" if actor.role == Role.GRID_WORKER else "本社区"
    outside = f"不在{patch}内，不能在此上报或立案；其他区域的问题请联系指挥中心"
    if point is not None:
        located_id = grid.pk if given_grid is None and grid is not None else _locate_grid_id(*point)
        if located_id is None:
            raise ValidationFailed(
                "经纬度：该位置不在任何网格内，请在网格范围内选点",
                field="lng",
                code=CaseErrorCode.NOT_IN_ANY_GRID,
            )
        if not _in_patch(actor, located_id, _grid_community_id(grid, located_id)):
            raise PermissionDenied(
                f"经纬度：该位置{outside}", field="lng", code=CaseErrorCode.OUT_OF_JURISDICTION
            )
    if given_grid is not None:
        if not _in_patch(actor, given_grid.pk, given_grid.community_id):
            raise PermissionDenied(
                f"网格：所选网格{outside}", field="grid", code=CaseErrorCode.OUT_OF_JURISDICTION
            )
    elif point is None and grid is not None and not _in_patch(actor, grid.pk, grid.community_id):
        raise PermissionDenied(
            f"地址：该地址所在网格{outside}", field="address", code=CaseErrorCode.OUT_OF_JURISDICTION
        )


def _locate_grid_id(lng: float, lat: float) -> int | None:
    try:
        from civicgrid.places.selectors import locate_grid_id
    except ImportError:  # the places selector is the public entry; the index module is its implementation
        from civicgrid.core.geoindex import locate as locate_grid_id
    return locate_grid_id(lng, lat)


def _store_attachments(
    attachments: Iterable, *, actor, case: Case, event: CaseEvent | None, kind: str
) -> list:
    stored = []
    for item in attachments or ():
        if isinstance(item, Attachment):
            if item.case_id not in (None, case.pk):
                raise ValidationFailed(
                    "附件属于其他案件", field="attachments", code=CaseErrorCode.ATTACHMENT_INVALID
                )
            if item.uploaded_by_id not in (None, getattr(actor, "pk", None)):
                raise ValidationFailed(
                    "只能使用自己上传的附件", field="attachments", code=CaseErrorCode.ATTACHMENT_INVALID
                )
            item.case = case
            item.event = event
            if item.kind == AttachmentKind.OTHER and kind != AttachmentKind.OTHER:
                item.kind = kind
            item.save(update_fields=["case", "event", "kind"])
            stored.append(item)
        else:
            stored.append(store_upload(file=item, kind=kind, actor=actor, case=case, event=event))
    return stored


def _append_event(
    case: Case, *, move: str, from_state: str, actor, note: str = "", data: dict | None = None, now: datetime
) -> CaseEvent:
    if move == "create":
        last = 0  # a brand-new case has no events yet
    else:
        last = CaseEvent.objects.filter(case_id=case.pk).aggregate(m=Max("seq"))["m"] or 0
    event = _new_event(
        case, seq=last + 1, move=move, from_state=from_state, actor=actor, note=note, data=data, now=now
    )
    event.save(force_insert=True)
    return event


def _new_event(
    case: Case,
    *,
    seq: int,
    move: str,
    from_state: str,
    actor,
    note: str = "",
    data: dict | None = None,
    now: datetime,
) -> CaseEvent:
    """The unsaved timeline entry of ``move`` (number ``seq``) on ``case``."""
    return CaseEvent(
        case=case,
        seq=seq,
        move=move,
        from_state=from_state,
        to_state=case.state,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=_actor_name(actor)[:150],
        actor_role=getattr(actor, "role", "") or "",
        at=now,
        note=note,
        data=data or {},
        clock=deadlines.snapshot(case, now),
    )


def _signal_on_commit(case: Case, event: CaseEvent) -> None:
    def send():
        case_event_committed.send(
            sender=Case,
            case_id=case.pk,
            event_id=event.pk,
            move=event.move,
            from_state=event.from_state,
            to_state=event.to_state,
        )

    transaction.on_commit(send)


# --- create ---------------------------------------------------------------------------------------


def create_case(
    *,
    actor,
    source: str,
    description: str,
    category: Category | None = None,
    lng: float | None = None,
    lat: float | None = None,
    address: str = "",
    grid: Grid | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    source_ref: str = "",
    occurred_at: datetime | None = None,
    idempotency_key: str | None = None,
    attachments: Iterable = (),
    auto_accept: bool = False,
    channel: str = "",
    place_checked: bool = False,
    procedure: str = procedures.DEFAULT_CODE,
    street_id: int | None = None,
) -> Case:
    """上报 a case (state ``reported``; ``auto_accept`` also 立案 it in the same transaction).

    A 网格员 / 社区工作人员 may report only inside their own grids / community (:func:`_check_place_in_patch`).
    ``place_checked``: the caller is a public intake channel (居民随手拍, Open311) acting through a service account
    and has already checked the place against its own jurisdiction (the 街道); the account's patch does not apply.

    The case belongs to a 街道 (:func:`case_street_id`: its grid's, else ``street_id``, else the actor's …), which
    must lie in the actor's tier unless ``place_checked``.

    A retry with the same ``idempotency_key`` by the same actor returns the case created the first time (that
    instance carries ``idempotent_replay = True``). The first request pays no extra query for the key: the unique
    constraint on (created_by, idempotency_key) decides, and only a refused insert (or refused input) looks the
    earlier case up.

    A new case carries ``created_events``: the timeline entries this call wrote, each with ``stored_attachments``,
    so a caller can answer with the case without reading it back (``None`` when ``auto_accept`` also moved it).

    ``procedure``: the 办理程序 the case follows (:mod:`civicgrid.cases.procedures`); it starts in that
    procedure's initial state and, unless the procedure numbers at a move, gets its number now.
    """
    proc = procedures.get(procedure) if procedure != procedures.DEFAULT_CODE else None
    if proc is not None and auto_accept:
        raise ValidationFailed(
            f"「{proc.label}」没有立案操作", field="auto_accept", code=CaseErrorCode.INVALID_INPUT
        )
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    if proc is None and not has_capability(actor, Capability.CASE_CREATE):
        raise PermissionDenied(
            f"「{actor.get_role_display()}」无权上报案件", code=CaseErrorCode.ROLE_NOT_ALLOWED
        )
    if proc is not None and not proc.may_create(actor):
        raise PermissionDenied(
            f"「{actor.get_role_display()}」无权新建「{proc.label}」工单", code=CaseErrorCode.ROLE_NOT_ALLOWED
        )
    key = (idempotency_key or "").strip() or None
    if key is not None and len(key) > 100:
        raise ValidationFailed(
            "幂等键不能超过 100 个字符", field="idempotency_key", code=CaseErrorCode.IDEMPOTENCY_KEY_INVALID
        )
    try:
        if not _one_of(source, _SOURCE_VALUES):
            raise ValidationFailed(f"未知来源：{source}", field="source", code=CaseErrorCode.INVALID_INPUT)
        description = _require(description, "description", "请填写问题描述")
        if len(description) > 5000:
            raise ValidationFailed(
                "问题描述不能超过 5000 字", field="description", code=CaseErrorCode.INVALID_INPUT
            )
        if category is not None and not category.is_enabled:
            raise ValidationFailed(
                f"分类「{category.name}」已停用", field="category", code=CaseErrorCode.CATEGORY_DISABLED
            )
        if category is not None and category.level != "minor":
            raise ValidationFailed(
                "请选择具体的小类", field="category", code=CaseErrorCode.CATEGORY_NOT_MINOR
            )
        if occurred_at is not None and (occurred_at.tzinfo is None):
            raise ValidationFailed(
                "发生时间必须带时区", field="occurred_at", code=CaseErrorCode.INVALID_INPUT
            )
        address = (address or "").strip()[:200]
        given_grid, point = grid, ((lng, lat) if lng is not None and lat is not None else None)
        lng, lat, grid = _resolve_place(lng=lng, lat=lat, address=address, grid=grid)
        if not place_checked:
            _check_place_in_patch(actor, point=point, given_grid=given_grid, grid=grid)
        street_id = case_street_id(actor=actor, grid=grid, street_id=street_id)
        if not place_checked:
            _check_street_in_tier(
                actor, street_id, field="grid" if given_grid is not None else ("lng" if point else "address")
            )
    except ValidationFailed:
        # a retry of a request that was accepted earlier answers with that case even if its input would be
        # refused now (a category disabled since, say)
        existing = _idempotent_replay(actor, key)
        if existing is not None:
            return existing
        raise
    now = clock.now()
    # PostgreSQL, a case without photos, 立案 or a number to allocate: case, timeline entry and audit row are written
    # as one statement (_insert_created), atomic by itself — no transaction of its own unless the caller has one
    one_statement = (
        connection.vendor == "postgresql"
        and not auto_accept
        and (proc is None or not proc.number_at_create)
        and isinstance(attachments, list | tuple)
        and not attachments
    )
    try:
        with (
            transaction.atomic()
            if not one_statement or connection.in_atomic_block
            else contextlib.nullcontext()
        ):
            case = Case(
                description=description,
                source=source,
                source_ref=(source_ref or "")[:100],
                category=category,
                priority=category.priority if category else Priority.NORMAL,
                lng=lng,
                lat=lat,
                address=address,
                grid=grid,
                street_id=street_id,
                reporter_name=(reporter_name or "")[:50],
                reporter_phone=(reporter_phone or "")[:30],
                created_by=actor,
                idempotency_key=key,
                occurred_at=occurred_at,
                created_at=now,
                updated_at=now,
            )
            if grid is not None:
                # a located grid comes with its community already loaded (one query for both)
                if Grid._meta.get_field("community").is_cached(grid):
                    case.community = grid.community
                else:
                    case.community_id = grid.community_id
            if proc is not None:
                case.procedure, case.state = proc.code, proc.initial
                if proc.number_at_create:
                    case.number = allocate_number(now)
            case.title = _title(case)
            data = {"source": source, "auto_accept": auto_accept, **({"channel": channel} if channel else {})}
            if one_statement:
                event = _insert_created(case, actor=actor, data=data, now=now)
            else:
                case.save()
                event = _append_event(
                    case, move="create", from_state="", actor=actor, note="", data=data, now=now
                )
                event.stored_attachments = _store_attachments(
                    attachments, actor=actor, case=case, event=event, kind=AttachmentKind.BEFORE
                )
                audit.record(actor=actor, action="cases.case.create", obj=case, after=audit.snapshot(case))
            _signal_on_commit(case, event)
            if auto_accept:
                case = _perform_locked(
                    actor=actor, case=case, move="accept", version=case.version, now=now, channel=channel
                )
    except IntegrityError:
        # a request with the same key committed first (a retry, or two at once): answer with its case
        existing = _idempotent_replay(actor, key)
        if existing is None:
            raise
        return existing
    case.created_events = None if auto_accept else [event]
    return case


# the new case's and timeline entry's ids, taken by the statement that writes them
_CASE_IDS = {"id": bulk.pending_id_sql(0)}
_EVENT_IDS = {"id": bulk.pending_id_sql(1), "case_id": bulk.pending_id_sql(0)}


def _insert_created(case: Case, *, actor, data: dict, now: datetime) -> CaseEvent:
    """PostgreSQL: write the new ``case``, its ``create`` timeline entry and its audit row as ONE statement
    (:func:`civicgrid.core.audit.record` with ``together``) that also takes their ids: one round trip instead of
    BEGIN, three INSERTs and COMMIT. Writes exactly what ``save()`` + :func:`_append_event` + ``audit.record``
    would; a refused insert (the idempotency key) writes nothing. (With ``pre_save`` receivers, which expect the
    id set, or a text that happens to hold the stand-in number: the ids are taken first, one round trip more.)"""
    if pre_save.has_listeners(Case) or pre_save.has_listeners(CaseEvent):
        return _insert_created_with_ids(case, actor=actor, data=data, now=now)
    case.pk = bulk.PENDING_ID
    event = _new_event(case, seq=1, move="create", from_state="", actor=actor, note="", data=data, now=now)
    together = [
        bulk.insert_statement(case, computed=_CASE_IDS),
        bulk.insert_statement(event, computed=_EVENT_IDS),
    ]
    after = audit.snapshot(case)
    try:
        # the request's first query: it doubles as the connection health check
        row = bulk.as_health_check(
            lambda: audit.record(
                actor=actor,
                action="cases.case.create",
                obj=case,
                after=after,
                together=together,
                new_ids=(Case, CaseEvent),
            )
        )
    except auditchain.PendingIdClash:
        case.pk = None
        return _insert_created_with_ids(case, actor=actor, data=data, now=now)
    case.pk, event.pk = row.new_ids
    event.case_id = case.pk
    return _written(case, event)


def _insert_created_with_ids(case: Case, *, actor, data: dict, now: datetime) -> CaseEvent:
    """:func:`_insert_created` with the ids taken first (two round trips)."""
    case.pk, event_id = bulk.take_ids(Case, CaseEvent)
    event = _new_event(case, seq=1, move="create", from_state="", actor=actor, note="", data=data, now=now)
    event.pk = event_id
    using = connection.alias
    for obj in (case, event):
        if pre_save.has_listeners(type(obj)):
            pre_save.send(sender=type(obj), instance=obj, raw=False, using=using, update_fields=None)
    audit.record(
        actor=actor,
        action="cases.case.create",
        obj=case,
        after=audit.snapshot(case),
        together=[bulk.insert_statement(case), bulk.insert_statement(event)],
    )
    return _written(case, event)


def _written(case: Case, event: CaseEvent) -> CaseEvent:
    """The new case and its timeline entry are stored: loaded instances now, ``post_save`` sent as ``save()``
    would have."""
    bulk.mark_saved(case, event)
    using = connection.alias
    for obj in (case, event):
        if post_save.has_listeners(type(obj)):
            post_save.send(
                sender=type(obj), instance=obj, created=True, update_fields=None, raw=False, using=using
            )
    event.stored_attachments = []
    return event


def _idempotent_replay(actor, key: str | None) -> Case | None:
    if key is None:
        return None
    existing = Case.objects.filter(created_by=actor, idempotency_key=key).first()
    if existing is not None:
        existing.idempotent_replay = True
    return existing


# --- historical import ----------------------------------------------------------------------------


@dataclasses.dataclass
class HistoricalCase:
    """A case handled to the end in another system (e.g. a 12345 工单 with a 办结时间), to be recorded as such.

    Ids, not model instances: a historical import hands over thousands of rows per call. ``community`` follows
    from ``grid_id``; the title from the category's name and the address (or the grid's name), the priority from
    the category. ``event_data`` is merged into the timeline entry's data (e.g. the import job and row number).
    """

    source_ref: str
    description: str
    category_id: int
    created_at: datetime  # 上报/来电时间 (aware); also the 立案 time and, with a department, the 派遣 time
    closed_at: datetime  # 办结时间 (aware, not before ``created_at``)
    address: str = ""
    grid_id: int | None = None
    lng: float | None = None
    lat: float | None = None
    department_id: int | None = None
    street_id: int | None = None  # the 街道; default: the grid's, else the importing account's
    reporter_name: str = ""
    reporter_phone: str = ""
    due_at: datetime | None = None  # 办理时限: the case counts as overdue when closed after it
    rating: str = ""  # a :class:`Rating` value, or "" (not rated)
    result: str = ""  # 办理结果 → ``handling_feedback``
    event_data: dict = dataclasses.field(default_factory=dict)


_import_inserters: dict[str, dict[str, SetBasedInserter]] = {}


def _inserters_for_import() -> dict[str, SetBasedInserter]:
    found = _import_inserters.get(connection.vendor)
    if found is None:
        found = _import_inserters[connection.vendor] = {
            "case": SetBasedInserter(Case),
            "event": SetBasedInserter(CaseEvent, take_ids=False),  # nothing links to these: no ids up front
            "link": SetBasedInserter(CaseDepartment, take_ids=False),
        }
    return found


def _bad_row(index: int, h: HistoricalCase, field: str, message: str) -> ValidationFailed:
    ref = getattr(h, "source_ref", "") or ""
    return ValidationFailed(
        f"第 {index + 1} 条（来源编号 {ref or '空'}）：{message}",
        field=field,
        details={"index": index, "source_ref": ref},
        code=CaseErrorCode.IMPORT_ROW_INVALID,
    )


def _check_historical(rows: list[HistoricalCase]) -> None:
    """Field checks that need no database (the ids are checked against it once per batch)."""
    seen: set[str] = set()
    for i, h in enumerate(rows):
        if not isinstance(h, HistoricalCase):
            raise _bad_row(i, h, "rows", "不是 HistoricalCase")
        ref = h.source_ref
        if not isinstance(ref, str) or not ref.strip():
            raise _bad_row(i, h, "source_ref", "来源编号为空")
        if len(ref) > 100:
            raise _bad_row(i, h, "source_ref", "来源编号超过 100 个字符")
        if ref in seen:
            raise _bad_row(i, h, "source_ref", "来源编号在本批中重复")
        seen.add(ref)
        if not isinstance(h.description, str) or not h.description.strip():
            raise _bad_row(i, h, "description", "问题描述为空")
        if len(h.description) > 5000:
            raise _bad_row(i, h, "description", "问题描述不能超过 5000 字")
        if h.category_id is None:
            raise _bad_row(i, h, "category", "缺少案件分类")
        created_at, closed_at, due_at = h.created_at, h.closed_at, h.due_at
        if not isinstance(created_at, datetime) or created_at.tzinfo is None:
            raise _bad_row(i, h, "created_at", "时间缺失或不带时区")
        if not isinstance(closed_at, datetime) or closed_at.tzinfo is None:
            raise _bad_row(i, h, "closed_at", "时间缺失或不带时区")
        if due_at is not None and (not isinstance(due_at, datetime) or due_at.tzinfo is None):
            raise _bad_row(i, h, "due_at", "时间缺失或不带时区")
        if h.closed_at < h.created_at:
            raise _bad_row(i, h, "closed_at", "办结时间早于上报时间")
        if h.rating and not _one_of(h.rating, _RATING_VALUES):
            raise _bad_row(i, h, "rating", f"未知回访评价：{h.rating}")
        if (h.lng is None) != (h.lat is None):
            raise _bad_row(
                i,
                h,
                "lng" if h.lng is None else "lat",
                "经度和纬度须同时提供",
            )
        if h.lng is not None and not (-180 <= h.lng <= 180):
            raise _bad_row(i, h, "lng", "经度超出范围")
        if h.lat is not None and not (-90 <= h.lat <= 90):
            raise _bad_row(i, h, "lat", "纬度超出范围")
        if len(h.address or "") > 200:
            raise _bad_row(i, h, "address", "地址不能超过 200 个字符")
        if len(h.reporter_name or "") > 50:
            raise _bad_row(i, h, "reporter_name", "反映人不能超过 50 个字符")
        if len(h.reporter_phone or "") > 30:
            raise _bad_row(i, h, "reporter_phone", "反映人电话不能超过 30 个字符")


def _known(model, ids: set, *fields: str) -> dict:
    if not ids:
        return {}
    return {row[0]: row[1:] for row in model.objects.filter(pk__in=ids).values_list("pk", *fields)}


def import_closed_cases(*, actor, rows: list[HistoricalCase], source: str, batch_note: str) -> list[Case]:
    """Record cases that were handled to the end elsewhere, in their final state, set-based.

    Each case gets a number from the engine's daily counter (:func:`allocate_numbers`, by the day of its
    ``created_at``), state ``rated`` when a rating is given else ``closed``, the 立案/派遣 times at ``created_at``
    and the 处置/结案 times at ``closed_at``, no running clock; one timeline entry (move ``import``, note
    ``batch_note``), a :class:`CaseDepartment` link when it has a department, and the batch one audit row
    (``cases.case.import_closed``) — all in one ``transaction.atomic()``. No notifications, no signals: nothing
    is left to do on these cases. ``source_ref`` must be unique within ``rows``; against existing cases the
    caller decides (the 12345 import keeps a ledger and adopts hand-entered cases), since a (``source``,
    ``source_ref``) pair may legitimately repeat (a 工单 registered twice by hand, then merged).

    The engine's moves cannot replay such a case (``finish`` needs the department's own handler and an
    after-photo), which is why this entry exists; the caller has checked the actor may import (``actor`` may be
    ``None`` for a system job). Raises :class:`ValidationFailed` naming the field (``details`` gives the row's
    index and ``source_ref``) for bad input, before writing anything. Returns the cases, in the order of ``rows``.
    """
    cases, case_ids = _import_closed(actor=actor, rows=rows, source=source, batch_note=batch_note)
    return _loaded_cases(cases, case_ids)


def import_closed_case_ids(*, actor, rows: list[HistoricalCase], source: str, batch_note: str) -> list[int]:
    """:func:`import_closed_cases` for bulk callers that only link rows to the new cases: the same checks and
    writes, returning the new case ids (in the order of ``rows``) instead of :class:`Case` instances."""
    return _import_closed(actor=actor, rows=rows, source=source, batch_note=batch_note)[1]


def _import_closed(
    *, actor, rows: list[HistoricalCase], source: str, batch_note: str
) -> tuple[list[dict], list[int]]:
    """The work of :func:`import_closed_cases`: the case rows written (dicts by attname) and their ids."""
    if actor is not None and not (getattr(actor, "is_authenticated", False) and actor.is_active):
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    if not _one_of(source, _SOURCE_VALUES):
        raise ValidationFailed(f"未知来源：{source}", field="source", code=CaseErrorCode.INVALID_INPUT)
    rows = list(rows)
    if not rows:
        return [], []
    _check_historical(rows)
    categories = _known(Category, {h.category_id for h in rows}, "name", "priority", "level", "is_enabled")
    grids = _known(Grid, {h.grid_id for h in rows if h.grid_id is not None}, "name", "community_id")
    departments = _known(Department, {h.department_id for h in rows if h.department_id is not None})
    for i, h in enumerate(rows):
        cat = categories.get(h.category_id)
        if cat is None:
            raise _bad_row(i, h, "category", "案件分类不存在")
        if cat[2] != "minor" or not cat[3]:
            raise _bad_row(
                i, h, "category", f"分类「{cat[0]}」不可用于立案", code=CaseErrorCode.CATEGORY_DISABLED
            )
        if h.grid_id is not None and h.grid_id not in grids:
            raise _bad_row(i, h, "grid", "网格不存在")
        if h.department_id is not None and h.department_id not in departments:
            raise _bad_row(i, h, "department", "处置部门不存在")

    street_for_grid = {gid: _street_of_grid(gid) for gid in grids}
    default_street = case_street_id(actor=actor) if any(h.street_id is None for h in rows) else None
    from civicgrid.places.selectors import same_tier

    for i, h in enumerate(rows):
        if h.street_id is not None and actor is not None and not same_tier(actor, h.street_id):
            raise _bad_row(i, h, "street", "所属街道不在导入人的辖区内")
    now = clock.now()
    authenticated = actor is not None
    actor_id = actor.pk if authenticated else None
    actor_name = _actor_name(actor)[:150]
    actor_role = (getattr(actor, "role", "") or "") if authenticated else ""
    to_local = clock.to_local
    inserters = _inserters_for_import()
    with transaction.atomic():
        numbers = allocate_numbers([to_local(h.created_at).date() for h in rows])
        cases: list[dict] = []
        for h, number in zip(rows, numbers, strict=True):
            cat_name, priority = categories[h.category_id][:2]
            grid = grids.get(h.grid_id) if h.grid_id is not None else None
            address = (h.address or "").strip()
            where = address or (grid[0] if grid else "")
            due_at, closed_at, created_at = h.due_at, h.closed_at, h.created_at
            street_id = street_for_grid.get(h.grid_id) or h.street_id or default_street
            cases.append(
                {
                    "number": number,
                    "title": (f"{cat_name} · {where}" if where else cat_name)[:200],
                    "description": h.description,
                    "source": source,
                    "source_ref": h.source_ref,
                    "category_id": h.category_id,
                    "priority": priority,
                    "state": CaseState.RATED if h.rating else CaseState.CLOSED,
                    "version": 1,
                    "lng": h.lng,
                    "lat": h.lat,
                    "address": address,
                    "grid_id": h.grid_id,
                    "community_id": grid[1] if grid else None,
                    "street_id": street_id,
                    "department_id": h.department_id,
                    "reporter_name": h.reporter_name or "",
                    "reporter_phone": h.reporter_phone or "",
                    "created_by_id": actor_id,
                    "rating": h.rating or "",
                    "handling_feedback": h.result or "",
                    "due_at": due_at,
                    "is_overdue": bool(due_at and closed_at > due_at),
                    "stage": "",
                    "light": "",
                    "created_at": created_at,
                    "accepted_at": created_at,
                    "dispatched_at": created_at if h.department_id else None,
                    "handled_at": closed_at,
                    "closed_at": closed_at,
                    "updated_at": now,
                }
            )
        case_ids = inserters["case"].insert(cases)
        events, links = [], []
        for h, case_id, case in zip(rows, case_ids, cases, strict=True):
            events.append(
                {
                    "case_id": case_id,
                    "seq": 1,
                    "move": "import",
                    "from_state": "",
                    "to_state": case["state"],
                    "actor_id": actor_id,
                    "actor_name": actor_name,
                    "actor_role": actor_role,
                    "at": now,
                    "note": batch_note,
                    "data": {**h.event_data, "source_ref": h.source_ref, "closed_at": h.closed_at},
                    "clock": {},
                }
            )
            if h.department_id:
                links.append(
                    {"case_id": case_id, "department_id": h.department_id, "first_assigned_at": h.created_at}
                )
        inserters["event"].insert(events)
        inserters["link"].insert(links)
        audit.record(
            actor=actor,
            action="cases.case.import_closed",
            object_type="cases.case",
            object_id=None,
            object_repr=f"导入已办结案件 {len(rows)} 件",
            after={
                "source": source,
                "count": len(rows),
                "numbers": [numbers[0], numbers[-1]],
                "ids": [case_ids[0], case_ids[-1]],
            },
            note=batch_note,
        )
    return cases, case_ids


def _loaded_cases(rows: list[dict], ids: list[int]) -> list[Case]:
    """Case instances for rows just inserted, as if read back (``_state.adding`` False), without a query.

    Built as ``Model.from_db`` would, minus ``Model.__init__``'s per-field ``setattr`` (a third of a historical
    import's per-row Python time): the values go straight into the instance ``__dict__``, which is where the field
    descriptors read them from. No ``pre_init``/``post_init`` signal is sent (the project connects none to Case).
    """
    if not rows:
        return []
    given = rows[0].keys()
    defaults = {f.attname: f.get_default() for f in _CASE_FIELDS if f.attname not in given}
    db = connection.alias
    new, state_cls = Case.__new__, ModelState
    out = []
    for case_id, row in zip(ids, rows, strict=True):
        obj = new(Case)
        state = state_cls()
        state.adding, state.db = False, db
        obj.__dict__.update(defaults)
        obj.__dict__.update(row)
        obj.__dict__["id"] = case_id
        obj._state = state
        out.append(obj)
    return out


@dataclasses.dataclass
class PastCase:
    """A case of a registered procedure whose whole history happened in the past (a demo year, a ledger kept
    elsewhere), to be recorded at once: the unsaved ``case`` (procedure, number, place, people and times set by the
    caller), its unsaved timeline ``events`` in order — the first one the ``create`` into the procedure's initial
    state — and the unsaved ``departments`` links of the departments it went to."""

    case: Case
    events: list[CaseEvent]
    departments: list[CaseDepartment] = dataclasses.field(default_factory=list)


def _check_past(index: int, row: PastCase, now: datetime) -> None:
    """Every move of ``row`` is one the procedure's table allows, from the state the one before left, in time
    order, none in the future (the guard's table; roles are not checked: these moves were made elsewhere)."""

    def bad(field: str, message: str) -> ValidationFailed:
        return ValidationFailed(
            f"第 {index + 1} 件：{message}",
            field=field,
            details={"index": index},
            code=CaseErrorCode.INVALID_INPUT,
        )

    case = row.case
    try:
        proc = procedures.get(case.procedure)
    except Exception as exc:
        raise bad("procedure", f"未知办理程序：{case.procedure}") from exc
    if not row.events or row.events[0].move != "create":
        raise bad("events", "流转记录须以上报（create）开始")
    state, last_at = "", None
    for k, ev in enumerate(row.events):
        if ev.at is None or ev.at.tzinfo is None or ev.at > now:
            raise bad("events", f"第 {k + 1} 条流转时间须带时区且不晚于现在")
        if last_at is not None and ev.at < last_at:
            raise bad("events", f"第 {k + 1} 条流转时间早于上一条")
        if k == 0:
            if ev.from_state or ev.to_state != proc.initial:
                raise bad("events", f"上报应进入「{proc.state_label(proc.initial)}」")
        else:
            try:
                move = proc.get_move(ev.move)
            except Exception as exc:
                raise bad("events", f"「{proc.label}」没有操作 {ev.move}") from exc
            target = ev.from_state if move.target == workflow.STAY else move.target
            if ev.from_state != state or state not in move.sources:
                raise bad("events", f"第 {k + 1} 条：「{ev.move}」不能从「{proc.state_label(state)}」进行")
            if move.target != workflow.PREVIOUS and ev.to_state != target:
                raise bad("events", f"第 {k + 1} 条：「{ev.move}」应进入「{proc.state_label(target)}」")
        state, last_at = ev.to_state, ev.at
    if (state in proc.closed) != (case.closed_at is not None):
        raise bad("closed_at", "已结束的工单须有结束时间，未结束的不能有")


def record_past_cases(*, actor, rows: list[PastCase], batch_size: int = 500) -> list[Case]:
    """Record ``rows`` (:class:`PastCase`) set-based — the cases, then their timeline entries and department
    links, one INSERT per table and batch — after checking every timeline against its procedure's table
    (:func:`_check_past`; the first bad row raises :class:`ValidationFailed` naming it, and nothing is written).
    Each case's ``state``, ``version`` and ``updated_at`` follow from its timeline; ``seq`` is numbered here.
    One audit row (``cases.case.record_past``) for the call; a procedure's handlers do not run (the caller writes
    the detail records, in the same transaction). Returns the saved cases."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    now = clock.now()
    for i, row in enumerate(rows):
        _check_past(i, row, now)
    with transaction.atomic():
        cases = []
        for row in rows:
            case = row.case
            case.state = row.events[-1].to_state
            case.version = len(row.events)
            case.updated_at = row.events[-1].at
            cases.append(case)
        Case.objects.bulk_create(cases, batch_size=batch_size)
        events, links = [], []
        for row in rows:
            for seq, ev in enumerate(row.events, start=1):
                ev.case, ev.seq = row.case, seq
                if ev.actor is not None and not ev.actor_name:
                    ev.actor_name = (ev.actor.full_name or ev.actor.username)[:150]
                    ev.actor_role = ev.actor.role
                events.append(ev)
            for link in row.departments:
                link.case = row.case
                links.append(link)
        CaseEvent.objects.bulk_create(events, batch_size=2 * batch_size)
        CaseDepartment.objects.bulk_create(links, batch_size=batch_size)
        by_procedure: dict[str, int] = defaultdict(int)
        for case in cases:
            by_procedure[case.procedure] += 1
        audit.record(
            actor=actor,
            action="cases.case.record_past",
            object_type="cases.case",
            object_repr=f"{len(cases)} 件历史工单",
            after={"cases": len(cases), "by_procedure": dict(by_procedure), "events": len(events)},
            note="一次记录已办结/办理中的历史工单及其流转",
        )
    return cases


def import_case(
    *,
    actor,
    procedure: str,
    state: str,
    description: str,
    created_at: datetime,
    street_id: int,
    closed_at: datetime | None = None,
    grid: Grid | None = None,
    community_id: int | None = None,
    address: str = "",
    lng: float | None = None,
    lat: float | None = None,
    source: str = Source.OTHER,
    source_ref: str = "",
    department: Department | None = None,
    stage: str = "",
    stage_started_at: datetime | None = None,
    stage_limit: tuple[int, str] | None = None,
    note: str = "",
    event_data: dict | None = None,
) -> Case:
    """Take over one case of ``procedure`` from a ledger kept elsewhere (e.g. a 街道's 隐患台账 in Excel), in
    ``state`` and with the ledger's times: ``created_at`` (发现), ``closed_at`` (结束; required exactly when
    ``state`` is one of the procedure's closed states), both in the past; ``stage`` (one of the procedure's
    stages) runs from ``stage_started_at`` with ``stage_limit`` (amount, unit) and its light is computed now.

    One ``import`` timeline entry (note ``note``) and an audit row (``cases.case.import``), in one transaction.
    The caller checked who may import; here the 街道 must lie in the actor's tier. A procedure's handlers do not
    run: the caller writes the detail record in the same transaction. Raises :class:`ValidationFailed` naming
    the field."""
    from civicgrid.places.selectors import same_tier

    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    proc = procedures.get(procedure)
    if proc.code == procedures.DEFAULT_CODE:
        raise ValidationFailed(
            "标准流程的工单请用 12345 导入", field="procedure", code=CaseErrorCode.INVALID_INPUT
        )
    if state not in proc.state_map:
        raise ValidationFailed(f"未知状态：{state}", field="state", code=CaseErrorCode.INVALID_INPUT)
    if not _one_of(source, _SOURCE_VALUES):
        raise ValidationFailed(f"未知来源：{source}", field="source", code=CaseErrorCode.INVALID_INPUT)
    description = _require(description, "description", "请填写问题描述")
    now = clock.now()
    for name, value in (
        ("created_at", created_at),
        ("closed_at", closed_at),
        ("stage_started_at", stage_started_at),
    ):
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise ValidationFailed("时间必须带时区", field=name, code=CaseErrorCode.INVALID_INPUT)
        if value is not None and value > now:
            raise ValidationFailed("时间不能晚于现在", field=name, code=CaseErrorCode.INVALID_INPUT)
    if created_at is None:
        raise ValidationFailed("请填写发现时间", field="created_at", code=CaseErrorCode.FIELD_REQUIRED)
    closed = state in proc.closed
    if closed != (closed_at is not None):
        raise ValidationFailed(
            "已结束的工单须有结束时间，未结束的不能有", field="closed_at", code=CaseErrorCode.INVALID_INPUT
        )
    if closed_at is not None and closed_at < created_at:
        raise ValidationFailed("结束时间早于发现时间", field="closed_at", code=CaseErrorCode.INVALID_INPUT)
    if stage and (stage not in proc.stage_map or closed or stage_started_at is None or stage_limit is None):
        raise ValidationFailed(f"无法开始时限环节：{stage}", field="stage", code=CaseErrorCode.INVALID_INPUT)
    if not same_tier(actor, street_id):
        raise ValidationFailed(
            "所属街道不在导入人的辖区内", field="street", code=CaseErrorCode.OUT_OF_JURISDICTION
        )
    if department is not None:
        department = _check_department(department)
    with transaction.atomic():
        case = Case(
            procedure=proc.code,
            state=state,
            description=description[:5000],
            source=source,
            source_ref=(source_ref or "")[:100],
            lng=lng,
            lat=lat,
            address=(address or "").strip()[:200],
            grid=grid,
            community_id=grid.community_id if grid is not None else community_id,
            street_id=street_id,
            department=department,
            created_by=actor,
            created_at=created_at,
            accepted_at=created_at,
            dispatched_at=(stage_started_at or created_at) if department is not None else None,
            closed_at=closed_at,
            updated_at=now,
        )
        case.number = allocate_number(created_at)
        case.title = _title(case)
        if stage:
            deadlines.start_stage(case, stage, stage_started_at, stage_limit)
            deadlines.refresh(case, now)
        case.save(force_insert=True)
        if department is not None:
            CaseDepartment.objects.create(
                case=case, department=department, first_assigned_at=case.dispatched_at
            )
        event = _append_event(
            case,
            move="import",
            from_state="",
            actor=actor,
            note=note,
            data={**(event_data or {}), "created_at": created_at, "closed_at": closed_at},
            now=now,
        )
        audit.record(actor=actor, action="cases.case.import", obj=case, after=audit.snapshot(case), note=note)
        _signal_on_commit(case, event)
    return case


# --- moves ----------------------------------------------------------------------------------------


def perform(
    *,
    actor,
    case: Case,
    move: str,
    version: int,
    note: str = "",
    department: Department | None = None,
    reason: str = "",
    amount: int | None = None,
    unit: str | None = None,
    rating: str | None = None,
    target_case: Case | None = None,
    attachments: Iterable = (),
    category: Category | None = None,
    priority: str | None = None,
    redo: bool = False,
    channel: str = "",
    detail: dict | None = None,
) -> Case:
    """Make ``move`` on ``case`` (any move of the case's procedure, :mod:`civicgrid.cases.procedures`; the
    standard one's are :data:`civicgrid.cases.workflow.MOVES`; ``-`` or ``_``).

    Raises NotFound (out of scope), StaleVersion (``version`` is not the current one), IllegalTransition (not
    legal from the current state), PermissionDenied (the role may not), ValidationFailed (naming the field).
    Extra keywords: ``category``/``priority`` may be set when accepting; ``amount``/``unit`` with ``dispatch`` set
    the 处置 limit instead of the category's (a 12345 工单 brings its own 办理时限); ``redo`` with a 不满意
    ``rating`` sends the case back to the department (重办); ``channel`` (:mod:`civicgrid.cases.channels`:
    ``import`` …) records on the timeline entry that it came through an import or an interface rather than a
    person at a desk. ``detail``: values of the procedure's detail record (its fields by name).
    """
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    from civicgrid.cases.selectors import visible_cases

    if not visible_cases(user=actor).filter(pk=case.pk).exists():
        raise NotFound("案件不存在或无权查看", code=CaseErrorCode.NOT_FOUND)
    with transaction.atomic():
        return _perform_locked(
            actor=actor,
            case=case,
            move=move,
            version=version,
            now=clock.now(),
            note=note,
            department=department,
            reason=reason,
            amount=amount,
            unit=unit,
            rating=rating,
            target_case=target_case,
            attachments=attachments,
            category=category,
            priority=priority,
            redo=redo,
            channel=channel,
            detail=detail,
        )


def _perform_locked(*, actor, case: Case, move: str, version: int, now: datetime, **kw) -> Case:
    proc = procedures.for_case(case)  # a case never changes its procedure
    m = proc.get_move(move)
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise ValidationFailed("版本号必须是整数", field="version", code=CaseErrorCode.INVALID_VERSION)
    locked = Case.objects.select_for_update(of=("self",)).select_related("category", "grid").get(pk=case.pk)
    if locked.version != version:
        raise StaleVersion(
            details={"current_version": locked.version, "state": locked.state},
            code=CaseErrorCode.STALE_VERSION,
        )
    proc.check(locked.state, m, actor.role, facts_for(locked, actor))
    # second guard: the workflow table says which role may make the move, the scope which cases this user may
    # change at all (e.g. 领导 change none, a department only what is assigned to it now)
    if m.name not in OVERSIGHT_MOVES:
        from civicgrid.cases.selectors import can_change

        if not can_change(user=actor, case=locked):
            raise PermissionDenied(
                f"该工单不在您可办理的范围内，不能执行「{m.label}」", code=CaseErrorCode.OUT_OF_JURISDICTION
            )
    from_state = locked.state
    before = audit.snapshot(locked)
    ctx = _Ctx(actor=actor, case=locked, move=m, now=now, **kw)
    if proc.handlers_own_rules:
        data = proc.handler(m.name)(ctx) or {}
    else:
        chosen = _generic_before(ctx, proc)
        data = {**ctx.generic_data, **(proc.handler(m.name)(ctx) or {})}
    if m.target != workflow.STAY:
        locked.state = workflow.target_state(m, from_state, locked.suspended_from)
    if ctx.override_state:
        locked.state = ctx.override_state
    if not proc.handlers_own_rules:
        _generic_after(ctx, proc, from_state, chosen)
    deadlines.refresh(locked, now)
    locked.version = version + 1
    locked.updated_at = now
    values = {f.attname: getattr(locked, f.attname) for f in _CASE_FIELDS}
    if Case.objects.filter(pk=locked.pk, version=version).update(**values) != 1:
        raise StaleVersion(code=CaseErrorCode.STALE_VERSION)
    note = (kw.get("note") or "").strip()
    reason = (kw.get("reason") or "").strip()
    event = _append_event(
        locked,
        move=m.name,
        from_state=from_state,
        actor=actor,
        note=note or reason,
        data={
            k: v
            for k, v in {**data, "reason": reason or None, "channel": kw.get("channel") or None}.items()
            if v not in (None, "")
        },
        now=now,
    )
    if ctx.pending_attachments is not None:
        _store_attachments(
            ctx.pending_attachments, actor=actor, case=locked, event=event, kind=ctx.attachment_kind
        )
    b, a = audit.diff(before, audit.snapshot(locked))
    audit.record(
        actor=actor, action=f"cases.case.{m.name}", obj=locked, before=b, after=a, note=note or reason
    )
    for fn in ctx.after_commit:
        fn()
    _signal_on_commit(locked, event)
    # the caller's instance reflects the move too (fields and cached relations)
    case.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})
    case._state.fields_cache = dict(locked._state.fields_cache)
    return locked


class _Ctx:
    def __init__(
        self,
        *,
        actor,
        case: Case,
        move,
        now,
        note="",
        department=None,
        reason="",
        amount=None,
        unit=None,
        rating=None,
        target_case=None,
        attachments=(),
        category=None,
        priority=None,
        redo=False,
        channel="",
        detail=None,
    ):
        self.actor, self.case, self.move, self.now = actor, case, move, now
        self.detail = dict(detail or {})
        self.detail_record = None
        self.generic_data: dict = {}
        self.channel = channel
        self.note = (note or "").strip()
        self.department, self.reason = department, (reason or "").strip()
        self.amount, self.unit, self.rating = amount, unit, rating
        self.target_case, self.attachments = target_case, list(attachments or ())
        self.category, self.priority, self.redo = category, priority, redo
        self.override_state: str | None = None
        self.pending_attachments: list | None = self.attachments or None
        self.attachment_kind = AttachmentKind.OTHER
        self.after_commit: list = []

    def require_reason(self, label: str = "原因") -> str:
        return _require(self.reason, "reason", f"请填写{label}")

    def notify(self, users_fn, kind: str, text: str) -> None:
        case = self.case
        self.after_commit.append(lambda: notify_on_commit(users_fn=users_fn, case=case, kind=kind, text=text))


def _dispatch_desk():
    return users_with_roles(Role.DISPATCHER, Role.SHIFT_LEADER)


def _check_department(dept, case: Case | None = None) -> Department:
    if dept is None:
        raise ValidationFailed("请选择处置部门", field="department", code=CaseErrorCode.CANNOT_DISPATCH)
    if not isinstance(dept, Department):
        dept = Department.objects.filter(pk=dept).first()
        if dept is None:
            raise ValidationFailed("处置部门不存在", field="department", code=CaseErrorCode.CANNOT_DISPATCH)
    if not dept.is_active:
        raise ValidationFailed(
            f"部门「{dept.name}」已停用", field="department", code=CaseErrorCode.CANNOT_DISPATCH
        )
    if case is not None and not department_serves(dept, case.street_id):
        raise ValidationFailed(
            f"部门「{dept.name}」不属于本案所在街道（或其所在区）",
            field="department",
            code=CaseErrorCode.CANNOT_DISPATCH,
        )
    return dept


def department_serves(dept: Department, street_id: int | None) -> bool:
    """A case goes to a department of its own 街道, or to a 区-level department of its 街道's 区. A department
    without a tier (a database of several 街道, not yet assigned) and a case without a 街道 are not checked."""
    if street_id is None or (dept.street_id is None and dept.district_id is None):
        return True
    if dept.street_id is not None:
        return dept.street_id == street_id
    from civicgrid.places.models import Street

    return Street.objects.filter(pk=street_id, district_id=dept.district_id).exists()


def _assign(
    ctx: _Ctx, dept: Department, limit: tuple[int, str] | None = None, *, extension: int = 0
) -> list[int]:
    """Give the case to ``dept``: a fresh 签收/处置 clock from now with ``limit`` (default: the category's) plus
    ``extension`` units already approved, the department's link (access), and every other department's access
    ends — they are told, and their unread notifications about the case (their work items) are cleared. Returns
    the ids of those departments."""
    case = ctx.case
    case.department = dept
    case.returned = False
    case.dispatched_at = ctx.now
    link, created = CaseDepartment.objects.get_or_create(
        case=case, department=dept, defaults={"first_assigned_at": ctx.now}
    )
    if not created and link.revoked_at is not None:
        link.revoked_at = None
        link.save(update_fields=["revoked_at"])
    others = CaseDepartment.objects.filter(case=case, revoked_at__isnull=True).exclude(department=dept)
    revoked = list(others.values_list("department_id", flat=True))
    if revoked:
        others.update(revoked_at=ctx.now)
        Notification.objects.filter(
            case=case, user__department_id__in=revoked, user__role=Role.DEPT_HANDLER, read_at__isnull=True
        ).update(read_at=ctx.now)
        ctx.notify(
            lambda: [u for d in revoked for u in department_members(d)],
            NotificationKind.REASSIGNED,
            f"案件 {case.display_number} 已改派给「{dept.name}」，贵部门不再办理",
        )
    _cancel_pending_extension(ctx, "案件已改派，延期申请自动失效")
    deadlines.start_stage(case, Stage.HANDLE, ctx.now, limit, extension=extension)
    dept_id = dept.pk
    ctx.notify(
        lambda: department_members(dept_id),
        NotificationKind.DISPATCHED,
        f"新派遣案件 {case.display_number}：{case.title}",
    )
    return revoked


def _cancel_pending_extension(ctx: _Ctx, note: str) -> None:
    ExtensionRequest.objects.filter(case=ctx.case, status=ExtensionStatus.PENDING).update(
        status=ExtensionStatus.DENIED, decided_at=ctx.now, decision_note=note
    )


def _h_accept(ctx: _Ctx):
    case = ctx.case
    category = ctx.category or case.category
    if category is None:
        raise ValidationFailed("立案前请选择案件分类", field="category", code=CaseErrorCode.FIELD_REQUIRED)
    if not category.is_enabled or category.level != "minor":
        raise ValidationFailed(
            f"分类「{category.name}」不可用于立案", field="category", code=CaseErrorCode.CATEGORY_DISABLED
        )
    if ctx.category is not None and ctx.actor.role == Role.GRID_WORKER and not category.grid_worker_can_file:
        raise PermissionDenied("该分类不允许网格员自行立案", code=CaseErrorCode.CATEGORY_NOT_FILEABLE)
    if ctx.priority:
        if not _one_of(ctx.priority, _PRIORITY_VALUES):
            raise ValidationFailed(
                f"未知紧急程度：{ctx.priority}", field="priority", code=CaseErrorCode.INVALID_INPUT
            )
        case.priority = ctx.priority
    elif case.category_id != category.pk:
        case.priority = category.priority
    case.category = category
    case.title = _title(case)
    case.number = case.number or allocate_number(ctx.now)
    case.accepted_at = ctx.now
    deadlines.start_stage(case, Stage.DISPATCH, ctx.now)
    return {"number": case.number, "category": category.code}


def _h_reject(ctx: _Ctx):
    ctx.require_reason("不予受理的理由")
    ctx.case.closed_at = ctx.now
    deadlines.stop_clock(ctx.case)


def _dispatch_limit(ctx: _Ctx) -> tuple[int, str] | None:
    """A 处置 limit given with the dispatch (e.g. a 12345 工单's own 办理时限) instead of the category's."""
    if ctx.amount is None:
        return None
    try:
        amount = int(ctx.amount)
    except (TypeError, ValueError):
        raise ValidationFailed("办理时限必须是正整数", field="amount", code=CaseErrorCode.INVALID_LIMIT)
    if amount < 1 or amount > 10_000:
        raise ValidationFailed(
            "办理时限必须是 1 到 10000 之间的整数", field="amount", code=CaseErrorCode.INVALID_LIMIT
        )
    if ctx.unit not in DeadlineUnit.values:
        labels = "/".join(str(u.label) for u in DeadlineUnit)
        raise ValidationFailed(f"请选择时限单位（{labels}）", field="unit", code=CaseErrorCode.INVALID_LIMIT)
    return amount, ctx.unit


def _h_dispatch(ctx: _Ctx):
    dept = _check_department(ctx.department or default_department(ctx.case.category, ctx.case), ctx.case)
    after_return = ctx.case.returned  # a department returned it: this 派遣 is a 改派
    limit = _dispatch_limit(ctx)
    revoked = _assign(ctx, dept, limit)
    data = {
        "department": dept.pk,
        "department_name": dept.name,
        "after_return": after_return or None,
        "previous_department": revoked[0] if after_return and revoked else None,
    }
    if limit:
        data["limit"] = {"amount": limit[0], "unit": limit[1]}
    return data


def _h_sign(ctx: _Ctx):
    return {"department": ctx.case.department_id}


def _h_return(ctx: _Ctx):
    ctx.require_reason("退回理由")
    case = ctx.case
    old = case.department
    case.department = None
    case.returned = True
    _cancel_pending_extension(ctx, "案件已退回，延期申请自动失效")
    deadlines.start_stage(case, Stage.DISPATCH, ctx.now)
    ctx.notify(
        _dispatch_desk,
        NotificationKind.RETURNED,
        f"案件 {case.display_number} 被「{old.name if old else ''}」退回：{ctx.reason}",
    )
    return {"department": old.pk if old else None, "department_name": old.name if old else ""}


def _h_reassign(ctx: _Ctx):
    dept = _check_department(ctx.department, ctx.case)
    if dept.pk == ctx.case.department_id:
        raise ValidationFailed(
            "改派的部门与当前部门相同", field="department", code=CaseErrorCode.CANNOT_DISPATCH
        )
    case = ctx.case
    old = case.department
    # the new department gets a fresh clock to sign and handle; an extension approved for this 处置 stage stays
    kept = case.extension_amount if case.stage == Stage.HANDLE else 0
    _assign(ctx, dept, extension=kept)
    return {
        "department": dept.pk,
        "department_name": dept.name,
        "previous_department": old.pk if old else None,
        "previous_department_name": old.name if old else "",
        "extension_kept": kept or None,
    }


def _h_finish(ctx: _Ctx):
    _require(ctx.note, "note", "请填写处置情况反馈")
    if not ctx.attachments:
        raise ValidationFailed("请上传处置后照片", field="attachments", code=CaseErrorCode.FIELD_REQUIRED)
    case = ctx.case
    case.handling_feedback = ctx.note
    case.handled_at = ctx.now
    ctx.attachment_kind = AttachmentKind.AFTER
    _cancel_pending_extension(ctx, "已处置完成，延期申请自动失效")
    deadlines.start_stage(case, Stage.VERIFY, ctx.now)


def _h_verify_pass(ctx: _Ctx):
    return None


def _h_verify_fail(ctx: _Ctx):
    ctx.require_reason("核查不通过的原因")
    case = ctx.case
    case.rework_count += 1
    case.handled_at = None
    deadlines.start_stage(case, Stage.HANDLE, ctx.now)
    dept_id = case.department_id
    ctx.notify(
        lambda: department_members(dept_id),
        NotificationKind.REWORK,
        f"案件 {case.display_number} 核查未通过，请返工：{ctx.reason}",
    )
    return {"rework_count": case.rework_count}


def _h_close(ctx: _Ctx):
    ctx.case.closed_at = ctx.now
    deadlines.stop_clock(ctx.case)


def _h_rate(ctx: _Ctx):
    if not _one_of(ctx.rating, _RATING_VALUES):
        raise ValidationFailed(
            "请选择回访评价（满意/基本满意/不满意）", field="rating", code=CaseErrorCode.FIELD_REQUIRED
        )
    case = ctx.case
    case.rating = ctx.rating
    if ctx.redo:
        if ctx.rating != Rating.DISSATISFIED:
            raise ValidationFailed(
                "只有「不满意」的案件可以重办", field="redo", code=CaseErrorCode.REDO_NOT_ALLOWED
            )
        dept = _check_department(ctx.department or case.department, case)
        case.redo_count += 1
        case.closed_at = None
        case.handled_at = None
        _assign(ctx, dept)
        ctx.override_state = CaseState.DISPATCHED
        return {"rating": ctx.rating, "redo": True, "department": dept.pk}
    return {"rating": ctx.rating}


def _h_request_extension(ctx: _Ctx):
    case = ctx.case
    try:
        amount = int(ctx.amount)
    except (TypeError, ValueError):
        raise ValidationFailed("请填写延期时长（正整数）", field="amount", code=CaseErrorCode.INVALID_LIMIT)
    if amount <= 0:
        raise ValidationFailed("延期时长必须大于 0", field="amount", code=CaseErrorCode.INVALID_LIMIT)
    if ctx.unit != case.limit_unit:
        raise ValidationFailed(
            f"延期单位须与当前时限单位一致（{case.get_limit_unit_display()}）",
            field="unit",
            code=CaseErrorCode.EXTENSION_MISMATCH,
        )
    ctx.require_reason("延期理由")
    req = ExtensionRequest.objects.create(
        case=case,
        stage=case.stage,
        amount=amount,
        unit=ctx.unit,
        reason=ctx.reason,
        requested_by=ctx.actor,
        requested_at=ctx.now,
    )
    ctx.notify(
        lambda: users_with_roles(Role.SHIFT_LEADER),
        NotificationKind.EXTENSION_REQUEST,
        f"案件 {case.display_number} 申请延期 {amount} {case.get_limit_unit_display()}：{ctx.reason}",
    )
    return {"extension_request": req.pk, "amount": amount, "unit": ctx.unit}


def _decide_extension(ctx: _Ctx, approve: bool):
    case = ctx.case
    req = ExtensionRequest.objects.select_for_update().get(case=case, status=ExtensionStatus.PENDING)
    req.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.DENIED
    req.decided_by = ctx.actor
    req.decided_at = ctx.now
    req.decision_note = ctx.note or ctx.reason
    req.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    if approve:
        if req.stage != case.stage or req.unit != case.limit_unit:
            raise ValidationFailed(
                "延期申请与当前时限环节不一致，请驳回后重新申请",
                field="amount",
                code=CaseErrorCode.EXTENSION_MISMATCH,
            )
        deadlines.add_extension(case, req.amount)
    requester_id = req.requested_by_id
    verdict = "已批准" if approve else "未批准"
    ctx.notify(
        lambda: list(User.objects.filter(pk=requester_id)),
        NotificationKind.EXTENSION_DECIDED,
        f"案件 {case.display_number} 的延期申请{verdict}",
    )
    return {"extension_request": req.pk, "amount": req.amount, "unit": req.unit, "approved": approve}


def _h_approve_extension(ctx: _Ctx):
    return _decide_extension(ctx, True)


def _h_deny_extension(ctx: _Ctx):
    return _decide_extension(ctx, False)


def _h_suspend(ctx: _Ctx):
    ctx.require_reason("挂账原因")
    ctx.case.suspended_from = ctx.case.state
    deadlines.pause(ctx.case, ctx.now)
    return {"suspended_from": ctx.case.suspended_from}


def _h_resume(ctx: _Ctx):
    case = ctx.case
    deadlines.unpause(case, ctx.now)
    ctx.override_state = case.suspended_from or CaseState.ACCEPTED
    case.suspended_from = ""
    return {"resumed_to": ctx.override_state}


def _h_void(ctx: _Ctx):
    ctx.require_reason("作废原因")
    _cancel_pending_extension(ctx, "案件已作废")
    ctx.case.closed_at = ctx.now
    deadlines.stop_clock(ctx.case)


def _h_merge(ctx: _Ctx):
    from civicgrid.cases.selectors import visible_cases

    target = ctx.target_case
    if target is None:
        raise ValidationFailed("请选择合并到的案件", field="target_case", code=CaseErrorCode.FIELD_REQUIRED)
    if not isinstance(target, Case):
        target = Case.objects.filter(pk=target).first()
    if target is None or not visible_cases(user=ctx.actor).filter(pk=target.pk).exists():
        raise ValidationFailed(
            "要合并到的案件不存在", field="target_case", code=CaseErrorCode.MERGE_TARGET_INVALID
        )
    if target.pk == ctx.case.pk:
        raise ValidationFailed("不能合并到自身", field="target_case", code=CaseErrorCode.MERGE_TARGET_INVALID)
    if target.street_id != ctx.case.street_id:  # (a 区 desk sees both): each 街道 keeps its own cases
        raise ValidationFailed(
            "不能合并到其他街道的案件", field="target_case", code=CaseErrorCode.MERGE_TARGET_INVALID
        )
    if target.state in procedures.for_case(target).terminal:
        raise ValidationFailed(
            "目标案件已办结或作废，不能合并", field="target_case", code=CaseErrorCode.MERGE_TARGET_INVALID
        )
    ctx.case.duplicate_of = target
    ctx.case.closed_at = ctx.now
    deadlines.stop_clock(ctx.case)
    return {"target_case": target.pk, "target_number": target.display_number}


def _h_supervise(ctx: _Ctx):
    _require(ctx.note, "note", "请填写督办意见")
    case = ctx.case
    case.supervise_count += 1
    before = case.priority
    case.priority = supervised_priority(before)
    dept_id = case.department_id
    raised = f"，紧急程度提升为「{Priority(case.priority).label}」" if case.priority != before else ""
    text = f"案件 {case.display_number} 被督办{raised}：{ctx.note}"
    ctx.notify(lambda: department_members(dept_id) + _dispatch_desk(), NotificationKind.SUPERVISE, text)
    return {
        "priority": case.priority,
        "priority_from": before if case.priority != before else None,
        "supervise_count": case.supervise_count,
    }


def supervised_priority(priority: str) -> str:
    """督办 raises the case's 紧急程度 one step (普通 → 紧急 → 特急); 特急 stays 特急."""
    idx = PRIORITY_ORDER.index(Priority(priority))
    return PRIORITY_ORDER[min(idx + 1, len(PRIORITY_ORDER) - 1)]


_HANDLERS = {
    "accept": _h_accept,
    "reject": _h_reject,
    "dispatch": _h_dispatch,
    "sign": _h_sign,
    "return": _h_return,
    "reassign": _h_reassign,
    "finish": _h_finish,
    "verify_pass": _h_verify_pass,
    "verify_fail": _h_verify_fail,
    "close": _h_close,
    "rate": _h_rate,
    "request_extension": _h_request_extension,
    "approve_extension": _h_approve_extension,
    "deny_extension": _h_deny_extension,
    "suspend": _h_suspend,
    "resume": _h_resume,
    "void": _h_void,
    "merge": _h_merge,
    "supervise": _h_supervise,
}
assert set(_HANDLERS) == set(workflow.MOVES), "every move needs a handler"
procedures.STANDARD.handlers.update(_HANDLERS)


# --- the engine's rules for every other procedure (procedures.Procedure.handlers_own_rules = False) ---------

_CTX_INPUT = {
    "note": "note",
    "reason": "reason",
    "department": "department",
    "amount": "amount",
    "unit": "unit",
    "rating": "rating",
    "attachments": "attachments",
    "target_case": "target_case",
}


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _generic_before(ctx: _Ctx, proc) -> tuple[int, str] | None:
    """Before the move's handler: required input, the department, the rating, a stage limit chosen at this move
    (within the procedure's bounds) and the detail record. Returns the chosen limit."""
    m, case = ctx.move, ctx.case
    detail_names = set(procedures.detail_field_names(proc))
    for f in m.required:
        if f in detail_names:
            continue
        if _blank(getattr(ctx, _CTX_INPUT[f])):
            label = procedures.INPUT_FIELDS[f]
            raise ValidationFailed(f"请填写{label}", field=f, code=CaseErrorCode.FIELD_REQUIRED)
    fields = procedures.move_fields(m)
    if "department" in fields and ctx.department is not None:
        dept = _check_department(ctx.department)
        case.department = dept
        link, created = CaseDepartment.objects.get_or_create(
            case=case, department=dept, defaults={"first_assigned_at": ctx.now}
        )
        if not created and link.revoked_at is not None:
            link.revoked_at = None
            link.save(update_fields=["revoked_at"])
        ctx.generic_data.update(department=dept.pk, department_name=dept.name)
    if "rating" in fields and ctx.rating not in (None, ""):
        if not _one_of(ctx.rating, _RATING_VALUES):
            raise ValidationFailed(
                "请选择评价（满意/基本满意/不满意）", field="rating", code=CaseErrorCode.INVALID_INPUT
            )
        case.rating = ctx.rating
        ctx.generic_data["rating"] = ctx.rating
    chosen = None
    bounds = proc.chosen_at(m.name)
    if bounds is not None:
        chosen = bounds.validate(ctx.amount, ctx.unit)
        ctx.generic_data["limit"] = {"amount": chosen[0], "unit": chosen[1]}
    if proc.detail_model is not None and (ctx.detail or m.detail_fields):
        _write_detail(ctx, proc, detail_names)
    return chosen


def _write_detail(ctx: _Ctx, proc, names: set[str]) -> None:
    from django.core.exceptions import ValidationError

    unknown = sorted(set(ctx.detail) - names)
    if unknown:
        raise ValidationFailed(
            f"未知明细字段：{', '.join(unknown)}", field=unknown[0], code=CaseErrorCode.INVALID_INPUT
        )
    model = proc.detail_model
    record = proc.detail_of(ctx.case) or model(case=ctx.case)
    changed = {}
    for name, value in ctx.detail.items():
        f = model._meta.get_field(name)
        if isinstance(value, str):
            value = value.strip()
        if _blank(value):
            value = None if f.null else ("" if f.empty_strings_allowed else None)
            if value is None and not f.null:
                continue  # left blank: the requirement below decides
        else:
            try:
                value = f.clean(value, record)
            except ValidationError as exc:
                raise ValidationFailed(
                    f"「{f.verbose_name}」{'；'.join(exc.messages)}",
                    field=name,
                    code=CaseErrorCode.INVALID_INPUT,
                )
        setattr(record, f.attname, value)
        changed[name] = value
    for name in ctx.move.detail_fields:
        if _blank(getattr(record, model._meta.get_field(name).attname)):
            f = model._meta.get_field(name)
            raise ValidationFailed(f"请填写{f.verbose_name}", field=name, code=CaseErrorCode.DETAIL_REQUIRED)
    record.save()
    ctx.detail_record = record
    if changed:
        ctx.generic_data["detail"] = changed


def _generic_after(ctx: _Ctx, proc, from_state: str, chosen: tuple[int, str] | None) -> None:
    """After the state changed: stage clocks (stop, start with the rule's limit), pause/unpause in the
    procedure's ``paused`` states, ``closed_at`` on entering/leaving its ``closed`` states."""
    case, name, now = ctx.case, ctx.move.name, ctx.now
    to_state = case.state
    if to_state in proc.paused and from_state not in proc.paused:
        case.suspended_from = from_state
        deadlines.pause(case, now)
    elif from_state in proc.paused and to_state not in proc.paused:
        case.suspended_from = ""
        deadlines.unpause(case, now)
    if name in proc.stops or to_state in proc.closed:
        deadlines.stop_clock(case)
    rule = proc.starts.get(name)
    if rule is not None:
        deadlines.start_stage(case, rule.code, now, proc.limit_for(case, rule.code, chosen=chosen))
    if to_state in proc.closed and from_state not in proc.closed:
        case.closed_at = now
    elif from_state in proc.closed and to_state not in proc.closed:
        case.closed_at = None


# --- notifications and attachments for the API/UI -------------------------------------------------


def add_public_note(*, actor, case: Case, note: str, data: dict | None = None) -> CaseEvent:
    """Append a public note (a reply a resident or a peer system may see) to the timeline; the state stays.

    Used by integrations (Open311 ``servicerequestupdates``); the caller has already checked its own
    jurisdiction. Write, timeline entry and audit row commit together.
    """
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("公开回复内容不能为空", field="note", code=CaseErrorCode.FIELD_REQUIRED)
    now = clock.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
        event = _append_event(
            locked,
            move="public_note",
            from_state=locked.state,
            actor=actor,
            note=note,
            data={**(data or {}), "public_note": note},
            now=now,
        )
        audit.record(
            actor=actor, action="cases.case.public_note", obj=locked, after={"note": note}, note=note
        )
        _signal_on_commit(locked, event)
    return event


def upload_attachment(*, actor, file, kind: str = AttachmentKind.OTHER) -> Attachment:
    """Upload a photo before a move (``POST /cases/attachments``); attach it by id in the move."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    if not has_capability(actor, Capability.ATTACHMENT_UPLOAD):
        raise PermissionDenied("当前角色不能上传案件附件", code=CaseErrorCode.ROLE_NOT_ALLOWED)
    with transaction.atomic():
        att = store_upload(file=file, kind=kind, actor=actor)
        audit.record(actor=actor, action="cases.attachment.upload", obj=att, after={"sha256": att.sha256})
    return att


# --- history, set-based -----------------------------------------------------------------------------


def bulk_import_history(*, actor, engine, photos: list[bytes], audit_record: dict | None = None) -> dict:
    """Insert everything a :mod:`civicgrid.cases.history` engine played (cases, timelines, photos, department
    links, extension requests, number counters; for :class:`~civicgrid.cases.history.RecentHistoryEngine` also
    the audit rows and notifications), set-based, in one transaction. Every move was checked by the workflow
    guard when it was played. ``photos`` are the JPEG bytes the engine's photo indexes refer to: each is stored
    once (content-addressed) and every photo row points at its file. ``audit_record`` (keyword arguments of
    :func:`civicgrid.core.audit.record`) adds one summary audit row, e.g. for history written without per-move
    audit. Returns the counts written."""
    from civicgrid.cases import history
    from civicgrid.cases.history import HistoryEngine

    if not isinstance(engine, HistoryEngine):
        raise TypeError("bulk_import_history needs a civicgrid.cases.history engine")
    for sim in engine.sims:  # the engines play the standard procedure only
        history.check_standard(sim.case.procedure)
    if actor is not None and not (getattr(actor, "is_authenticated", False) and actor.is_active):
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    with transaction.atomic():
        templates = [
            store_upload(file=(f"history{k + 1}.jpg", data), kind="after") for k, data in enumerate(photos)
        ]
        written = engine.write(templates)
        for tpl in templates:
            tpl.delete()  # the files stay: every photo row points at them
        if audit_record:
            after = {**(audit_record.get("after") or {}), **written}
            audit.record(actor=actor, **{**audit_record, "after": after})
    return written


# --- imports: a changed row, a located case ------------------------------------------------------------

# what an import may change on a case the workflow is running (its state and clocks belong to the workflow)
IMPORT_DESCRIPTIVE_FIELDS = frozenset({"description", "reporter_name", "reporter_phone"})
# what it may refresh on a case it wrote in its final state, untouched since
IMPORT_FINAL_FIELDS = IMPORT_DESCRIPTIVE_FIELDS | {
    "title",
    "category_id",
    "priority",
    "state",
    "lng",
    "lat",
    "address",
    "grid_id",
    "community_id",
    "street_id",
    "department_id",
    "rating",
    "handling_feedback",
    "due_at",
    "is_overdue",
    "stage",
    "light",
    "created_at",
    "accepted_at",
    "dispatched_at",
    "handled_at",
    "closed_at",
}


@dataclasses.dataclass
class ImportedCaseUpdate:
    """A changed import row for one case: field values by attname, the timeline note and data."""

    case: Case
    changes: dict
    note: str
    data: dict = dataclasses.field(default_factory=dict)


def imported_untouched_ids(case_ids: Iterable[int]) -> set[int]:
    """Of ``case_ids``, the cases whose timeline holds only import entries (nobody has worked on them since)."""
    ids = list(case_ids)
    touched = set(
        CaseEvent.objects.filter(case_id__in=ids)
        .exclude(move__in=["import", "import_update"])
        .values_list("case_id", flat=True)
    )
    return set(ids) - touched


def update_imported_cases(*, actor, updates: list[ImportedCaseUpdate], channel: str = "import") -> list[Case]:
    """Apply changed import rows to their cases, set-based: the fields, a version bump, one ``import_update``
    timeline entry each (with the import's channel) and the department link, in one transaction.

    A case the workflow is running (or anyone has worked on) takes only the descriptive fields (诉求内容, 诉求人,
    电话); a case the import wrote in its final state and nobody touched since may be refreshed in full. Anything
    else is refused (:class:`ValidationFailed` naming the field), so an import never moves a case's state."""
    if actor is not None and not (getattr(actor, "is_authenticated", False) and actor.is_active):
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    updates = list(updates)
    if not updates:
        return []
    untouched = imported_untouched_ids(u.case.pk for u in updates)
    final = (CaseState.CLOSED, CaseState.RATED)
    for u in updates:
        allowed = IMPORT_FINAL_FIELDS
        if u.case.state not in final or u.case.pk not in untouched:
            allowed = IMPORT_DESCRIPTIVE_FIELDS
        for name in u.changes:
            if name not in allowed:
                raise ValidationFailed(
                    f"案件 {u.case.display_number} 正在办理，导入不能修改「{name}」",
                    field=name,
                    code=CaseErrorCode.IMPORT_ROW_INVALID,
                )
    now = clock.now()
    ids = [u.case.pk for u in updates]
    last_seq = dict(
        CaseEvent.objects.filter(case_id__in=ids)
        .values("case_id")
        .annotate(m=Max("seq"))
        .values_list("case_id", "m")
    )
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    actor_name, actor_role = _actor_name(actor)[:150], getattr(actor, "role", "") or ""
    changed = {"version", "updated_at"}
    events, cases = [], []
    with transaction.atomic():
        for u in updates:
            case = u.case
            before_state = case.state
            for name, value in u.changes.items():
                setattr(case, name, value)
                changed.add(name)
            if "grid_id" in u.changes and case.grid_id is not None:
                # a case moved to another grid follows it to that grid's 街道
                street_id = _street_of_grid(case.grid_id)
                if street_id is not None and street_id != case.street_id:
                    case.street_id = street_id
                    changed.add("street_id")
            case.version += 1
            case.updated_at = now
            cases.append(case)
            seq = last_seq.get(case.pk, 0) + 1
            last_seq[case.pk] = seq
            events.append(
                CaseEvent(
                    case_id=case.pk,
                    seq=seq,
                    move="import_update",
                    from_state=before_state,
                    to_state=case.state,
                    actor=actor_obj,
                    actor_name=actor_name,
                    actor_role=actor_role,
                    at=now,
                    note=u.note,
                    data={**u.data, "channel": channel} if channel else dict(u.data),
                )
            )
        fields = sorted(f[:-3] if f.endswith("_id") else f for f in changed)
        Case.objects.bulk_update(cases, fields)
        CaseEvent.objects.bulk_create(events)
        links = [
            CaseDepartment(case_id=c.pk, department_id=c.department_id, first_assigned_at=c.created_at)
            for c in cases
            if c.department_id
        ]
        CaseDepartment.objects.bulk_create(links, ignore_conflicts=True)
    return cases


def relocate_case(
    *, actor, case: Case, grid: Grid, lng: float, lat: float, note: str, data: dict | None = None
) -> Case:
    """Set where a case is (point, grid, community), e.g. an imported 工单 placed by a click on the map.

    Optimistic like :func:`perform` (the row is locked and written only at the version read), one ``locate``
    timeline entry; call inside the caller's ``transaction.atomic()`` (its audit row goes with it). A voided or
    merged case is refused."""
    from civicgrid.core.errors import Conflict

    if not (getattr(actor, "is_authenticated", False) and actor.is_active):
        raise PermissionDenied("请先登录", code=CaseErrorCode.LOGIN_REQUIRED)
    now = clock.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.state in (CaseState.VOIDED, CaseState.MERGED):
            raise Conflict("案件已作废或已合并，无需定位", code=CaseErrorCode.ILLEGAL_TRANSITION)
        version = locked.version
        changed = Case.objects.filter(pk=case.pk, version=version).update(
            lng=lng,
            lat=lat,
            grid_id=grid.pk,
            community_id=grid.community_id,
            street_id=_street_of_grid(grid.pk),
            version=version + 1,
            updated_at=now,
        )
        if changed != 1:
            raise Conflict("案件已被他人修改，请刷新后重试", code=CaseErrorCode.STALE_VERSION)
        locked.refresh_from_db()
        _append_event(
            locked,
            move="locate",
            from_state=locked.state,
            actor=actor,
            note=note,
            data={"lng": lng, "lat": lat, "grid": grid.pk, **(data or {})},
            now=now,
        )
    return locked
