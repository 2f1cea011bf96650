"""Excel import of a 街道's existing 隐患台账 through core's importer (:mod:`civicgrid.core.importer`): the spec
``hazards.ledger`` appears in the generic wizard (``/imports/``) for the 指挥中心/值班长.

Each row becomes a ``hazard`` case (:func:`civicgrid.cases.services.import_case`) with its detail record, in the
state the sheet gives and with its dates (发现 = 检查日期, 销号 = 销号日期, both in the past):

- 已销号 (or a 销号日期) → 已销号; 已整改/待复查 → 待复查 (the 复查 clock starts at the import);
- otherwise 整改中 when the row has a 整改期限 and a 交办部门 (the 整改期限 clock runs from the 检查日期, so an
  overdue one is red at once), else 发现 (to be 交办 in the platform; the row's 整改期限 is shown as a warning).

The 检查对象 is resolved, within what the importing account sees, by unit name, then building name, then unit or
building address; else the hazard gets a named point target (its 街道 from the 所属社区 or the account's).

**Natural key** (idempotency): 街道 + 检查日期 + 检查对象 (the name as written, without spaces/punctuation, case
folded) + 隐患描述 (likewise). It is stored on the hazard (``HazardDetail.import_key``, unique) and in core's
import ledger: re-importing the same file, or a later version of the sheet with overlapping rows (renumbered,
status changed), creates nothing twice — a row whose key exists is counted unchanged and its hazard is left as the
platform has it (its 办理 happens here from then on). The 序号 is not part of the key.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction

from civicgrid.accounts.models import Department
from civicgrid.cases import services as case_services
from civicgrid.cases.models import DeadlineUnit, Source
from civicgrid.core import audit, clock
from civicgrid.core.importer import (
    WARNINGS_KEY,
    ApplyContext,
    CellError,
    CleanRow,
    Field,
    ImportSpec,
    LedgerHandler,
    Outcome,
    RowError,
    as_text,
    choice_field,
    date_field,
    normalise_header,
    parse_datetime,
    register_spec,
    text_field,
)
from civicgrid.core.roles import Capability, has_capability
from civicgrid.hazards.models import HazardCategory, HazardDetail, HazardLevel, TargetKind
from civicgrid.hazards.workflow import CODE, LEVEL_BOUNDS, REVIEW_DAYS
from civicgrid.places import selectors as place_selectors
from civicgrid.places.models import Community, Unit

SPEC_NAME = "hazards.ledger"

LEVELS = {
    "一般": HazardLevel.GENERAL,
    "一般隐患": HazardLevel.GENERAL,
    "较大": HazardLevel.SERIOUS,
    "较大隐患": HazardLevel.SERIOUS,
    "重大": HazardLevel.MAJOR,
    "重大隐患": HazardLevel.MAJOR,
}
# 整改情况/状态 as 街道 ledgers write it → closed / review / open
STATUS = {
    "已销号": "closed",
    "销号": "closed",
    "已整改销号": "closed",
    "整改完毕已销号": "closed",
    "已办结": "closed",
    "已整改": "review",
    "整改完成": "review",
    "已整改待复查": "review",
    "待复查": "review",
    "待验收": "review",
    "整改中": "open",
    "正在整改": "open",
    "限期整改": "open",
    "未整改": "open",
    "待整改": "open",
    "未交办": "open",
    "发现": "open",
}
_DAYS = re.compile(r"^(\d{1,3})\s*(?:个)?\s*(?:自然)?\s*(?:天|日)?$")


def _deadline(value) -> tuple[str, Any]:
    """整改期限: a date (2026-03-15, 2026年3月15日, an Excel date) or a number of 自然日 (``7``, ``7天``)."""
    text = as_text(value)
    m = _DAYS.match(text) if not isinstance(value, date | datetime) else None
    if m and len(text) <= 6 and not re.fullmatch(r"\d{5}(\.\d+)?", text):
        return ("days", int(m.group(1)))
    try:
        return ("date", parse_datetime(value, label="整改期限").date())
    except CellError:
        raise CellError(f"整改期限应为日期（如 2026-03-15）或天数（如 7天）：{text[:40]}") from None


def _status(value) -> str:
    key = normalise_header(as_text(value))
    if key not in STATUS:
        raise CellError(f"整改情况应为已销号、已整改（待复查）、整改中、未整改之一：{as_text(value)[:40]}")
    return STATUS[key]


FIELDS = (
    text_field("serial", "序号", ("编号", "No", "No.")),
    date_field("inspected_on", "检查日期", ("发现日期", "排查日期", "检查时间", "发现时间"), required=True),
    text_field(
        "target_name",
        "检查对象",
        ("检查对象/单位名称", "单位名称", "检查单位", "隐患单位", "隐患单位/部位", "场所名称", "企业名称"),
        required=True,
        max_length=150,
    ),
    text_field("address", "地址", ("隐患地址", "详细地址", "单位地址", "隐患部位"), max_length=200),
    text_field("category", "隐患类别", ("隐患类型", "类别"), required=True, max_length=50),
    text_field(
        "description",
        "隐患描述",
        ("隐患内容", "存在问题", "隐患情况", "问题描述"),
        required=True,
        max_length=5000,
    ),
    choice_field("level", "隐患等级", LEVELS, ("等级", "隐患级别"), required=True),
    Field(
        "deadline",
        "整改期限",
        ("整改时限", "限期整改日期", "整改截止日期"),
        parse=_deadline,
        help="整改截止日期，或自检查日期起的自然日数（如 7天）；一般 1–30、较大 1–15、重大 1–7 个自然日",
        show_raw=True,
    ),
    text_field("responsible_person", "整改责任人", ("责任人", "整改负责人"), max_length=50),
    text_field("responsible_unit", "整改责任单位", ("责任单位",), max_length=150),
    text_field("department", "交办部门", ("责任部门", "整改责任部门", "牵头部门"), max_length=100),
    Field(
        "status",
        "整改情况",
        ("整改情况/状态", "整改状态", "状态", "整改进度"),
        parse=_status,
        help="已销号（须填销号日期）、已整改/待复查、整改中/未整改；空白时按销号日期和整改期限判断",
        show_raw=True,
    ),
    date_field("closed_on", "销号日期", ("销号时间", "验收销号日期")),
    text_field("measures", "整改措施", ("整改情况说明",), max_length=2000),
    text_field("community", "所属社区", ("社区", "社区/村", "所在社区"), max_length=100),
)


def natural_key(street_id: int, inspected_on: date, target_name: str, description: str) -> str:
    """街道 + 检查日期 + 检查对象 + 隐患描述 (each text without spaces/punctuation, case folded)."""
    text = f"{normalise_header(target_name)}|{normalise_header(description)}"
    digest = hashlib.sha256(text.encode()).hexdigest()[:40]
    return f"{street_id}:{inspected_on:%Y%m%d}:{digest}"


def _at(day: date, *, end: bool = False) -> datetime:
    """00:00 北京时间 of ``day`` (``end``: of the next day, i.e. the day's 24:00)."""
    return datetime.combine(day + timedelta(days=1 if end else 0), time(0), tzinfo=clock.SHANGHAI)


def can_import(user) -> bool:
    """The 指挥中心/值班长 of a 街道 (and 区-level desk accounts: they name the 所属社区 on each row)."""
    return has_capability(user, Capability.CASE_DISPATCH)


def _short(name: str) -> str:
    return normalise_header(re.sub(r"(社区居民委员会|居民委员会|居委会|社区|村委会|村)$", "", name or ""))


class HazardLedgerHandler(LedgerHandler):
    """Core's ledger handler, with the lookups of one importing account (its tier and jurisdiction)."""

    def __init__(self, spec: ImportSpec, ctx: ApplyContext):
        super().__init__(spec, ctx)
        self.actor = ctx.actor
        self._cache: dict[str, Any] = {}

    # -- lookups, each read once per run --

    def _categories(self) -> dict[str, HazardCategory]:
        if "cat" not in self._cache:
            table = {}
            for c in HazardCategory.objects.filter(is_active=True):
                table[normalise_header(c.name)] = table[normalise_header(c.code)] = c
            self._cache["cat"] = table
        return self._cache["cat"]

    def _communities(self) -> dict[str, list[Community]]:
        if "com" not in self._cache:
            table: dict[str, list[Community]] = {}
            for c in place_selectors.visible_communities(user=self.actor):
                for k in {normalise_header(c.name), _short(c.name)}:
                    table.setdefault(k, []).append(c)
            self._cache["com"] = table
        return self._cache["com"]

    def _places(self) -> dict[str, dict]:
        if "places" not in self._cache:
            by = {"unit": {}, "building": {}, "address": {}}
            units = place_selectors.visible_units(user=self.actor).select_related("grid__community")
            buildings = place_selectors.visible_buildings(user=self.actor).select_related("grid__community")
            for u in units:
                by["unit"].setdefault(normalise_header(u.name), []).append(u)
                if u.address:
                    by["address"].setdefault(normalise_header(u.address), []).append(u)
            for b in buildings:
                by["building"].setdefault(normalise_header(b.name), []).append(b)
                if b.address:
                    by["address"].setdefault(normalise_header(b.address), []).append(b)
            self._cache["places"] = by
        return self._cache["places"]

    def _departments(self) -> dict[str, Department]:
        if "dept" not in self._cache:
            self._cache["dept"] = {
                normalise_header(d.name): d for d in Department.objects.filter(is_active=True)
            }
        return self._cache["dept"]

    def _resolve_target(self, name: str, address: str, community):
        """(kind, object) of the 检查对象: unit name, building name, then address; ``(point, None)`` else."""
        places = self._places()

        def pick(found):
            # with a 所属社区 only that community's places; a name that stays ambiguous matches nothing
            if community is not None:
                found = [o for o in found if o.grid.community_id == community.pk]
            return found[0] if len(found) == 1 else None

        for kind, key in (("unit", name), ("building", name), ("address", address), ("address", name)):
            found = places[kind].get(normalise_header(key)) if key else None
            obj = pick(found) if found else None
            if obj is not None:
                return (TargetKind.UNIT if isinstance(obj, Unit) else TargetKind.BUILDING), obj
        return TargetKind.POINT, None

    # -- the row --

    def clean(self, number: int, values: dict[str, Any]) -> dict[str, Any]:
        today = clock.local_now().date()
        warnings: list[str] = []
        values.pop("serial", None)  # shown in the preview, not part of the row's identity
        inspected_on = values["inspected_on"]
        if inspected_on > today:
            raise RowError(f"检查日期：{inspected_on:%Y-%m-%d} 晚于今天")
        if inspected_on.year < 2000:
            raise RowError(f"检查日期：{inspected_on:%Y-%m-%d} 早于 2000 年")
        cat = self._categories().get(normalise_header(values["category"]))
        if cat is None:
            names = "、".join(sorted({c.name for c in self._categories().values()}))
            raise RowError(f"隐患类别：未知类别「{values['category'][:20]}」（可用：{names}）")
        community = None
        if values.get("community"):
            found = self._communities().get(normalise_header(values["community"])) or self._communities().get(
                _short(values["community"])
            )
            if not found:
                raise RowError(f"所属社区：「{values['community'][:30]}」不存在或不在您的辖区")
            if len(found) > 1:
                raise RowError(f"所属社区：「{values['community'][:30]}」有重名，请写全称")
            community = found[0]
        kind, obj = self._resolve_target(values["target_name"], values.get("address") or "", community)
        grid = obj.grid if obj is not None else None
        if grid is not None:
            community = grid.community
        street_id = community.street_id if community is not None else getattr(self.actor, "street_id", None)
        if street_id is None:
            raise RowError("所属社区：无法确定该隐患所属街道，请填写所属社区")
        if not place_selectors.same_tier(self.actor, street_id):
            raise RowError("所属社区：不在您的辖区")
        level = values["level"]
        low, high = LEVEL_BOUNDS[level]
        days = None
        if values.get("deadline") is not None:
            how, given = values["deadline"]
            days = given if how == "days" else (given - inspected_on).days
            if not low <= days <= high:
                label = HazardLevel(level).label
                raise RowError(
                    f"整改期限：{label}隐患的整改期限须在检查日期后 {low}–{high} 个自然日内，本行为 {days} 天"
                )
        status = values.get("status")
        closed_on = values.get("closed_on")
        if closed_on is not None:
            if status in ("open", "review"):
                raise RowError("销号日期：整改情况不是「已销号」却填写了销号日期")
            if closed_on > today:
                raise RowError(f"销号日期：{closed_on:%Y-%m-%d} 晚于今天")
            if closed_on < inspected_on:
                raise RowError(f"销号日期：{closed_on:%Y-%m-%d} 早于检查日期")
            status = "closed"
        if status == "closed" and closed_on is None:
            raise RowError("销号日期：整改情况为「已销号」，请填写销号日期")
        dept = None
        if values.get("department"):
            dept = self._departments().get(normalise_header(values["department"]))
            if dept is None or not case_services.department_serves(dept, street_id):
                raise RowError(f"交办部门：「{values['department'][:30]}」不存在或不服务该街道")
        if status == "closed":
            state = "closed"
        elif status == "review":
            state = "review"
        elif days is not None and dept is not None:
            state = "fixing"
        else:
            state = "found"
            if days is not None:
                warnings.append("未填写交办部门，导入为「发现」，整改期限请在交办整改时确定")
        return {
            **values,
            "category_id": cat.pk,
            "category": cat.name,
            "community_id": community.pk if community is not None else None,
            "community": community.name if community is not None else "",
            "street_id": street_id,
            "target_kind": kind,
            "target_id": obj.pk if obj is not None else None,
            "department_id": dept.pk if dept is not None else None,
            "deadline_days": days,
            "state": state,
            "closed_on": closed_on,
            "key": natural_key(street_id, inspected_on, values["target_name"], values["description"]),
            WARNINGS_KEY: warnings,
        }

    def describe(self, values: dict[str, Any]) -> dict[str, str]:
        kind = values["target_kind"]
        target = {
            TargetKind.UNIT: "单位",
            TargetKind.BUILDING: "楼宇",
            TargetKind.POINT: "街面点位（未匹配到单位/楼宇）",
        }[kind]
        state = {"closed": "已销号", "review": "待复查", "fixing": "整改中", "found": "发现"}[values["state"]]
        out = {"检查对象": target, "导入后状态": state}
        if HazardDetail.objects.filter(import_key=values["key"]).exists():
            out["导入后状态"] = "已导入过（跳过）"
        if values.get("community"):
            out["社区"] = values["community"]
        return out

    def write_batch(self, rows: list[CleanRow]) -> list[Outcome]:
        outcomes = super().write_batch(rows)
        # a row whose hazard was imported before (same natural key, e.g. a later version of the sheet): nothing
        # was written, whatever the ledger's content hash says
        return [
            Outcome("unchanged") if row.values.get("_existing") else o
            for row, o in zip(rows, outcomes, strict=True)
        ]


def _apply(values: dict[str, Any], ctx: ApplyContext) -> int:
    from civicgrid.places.models import Building, Grid

    actor = ctx.actor
    existing = HazardDetail.objects.filter(import_key=values["key"]).values_list("case_id", flat=True).first()
    if existing is not None:
        values["_existing"] = True
        return existing
    kind, target_id = values["target_kind"], values["target_id"]
    unit = Unit.objects.select_related("grid").get(pk=target_id) if kind == TargetKind.UNIT else None
    building = (
        Building.objects.select_related("grid").get(pk=target_id) if kind == TargetKind.BUILDING else None
    )
    obj = unit or building
    grid: Grid | None = obj.grid if obj is not None else None
    state, days = values["state"], values["deadline_days"]
    created_at = _at(values["inspected_on"])
    closed_at = _at(values["closed_on"]) if state == "closed" else None
    now = clock.now()
    stage = started = limit = None
    if state == "fixing":
        stage, started, limit = "rectify", created_at, (days, DeadlineUnit.NATURAL_DAYS)
    elif state == "review":
        stage, started, limit = "review", now, (REVIEW_DAYS, DeadlineUnit.WORKING_DAYS)
    dept = Department.objects.get(pk=values["department_id"]) if values["department_id"] else None
    job_id = getattr(ctx.job, "pk", None)
    with transaction.atomic():
        case = case_services.import_case(
            actor=actor,
            procedure=CODE,
            state=state,
            description=values["description"],
            created_at=created_at,
            closed_at=closed_at,
            street_id=values["street_id"],
            grid=grid,
            community_id=values["community_id"],
            address=(
                values.get("address") or (obj.address if obj is not None else "") or values["target_name"]
            ),
            lng=obj.lng if obj is not None else None,
            lat=obj.lat if obj is not None else None,
            source=Source.OTHER,
            department=dept,
            stage=stage or "",
            stage_started_at=started,
            stage_limit=limit,
            note="隐患台账导入",
            event_data={"import_run": job_id, "key": values["key"]},
        )
        due = _at(values["inspected_on"] + timedelta(days=days), end=False) if days is not None else None
        HazardDetail.objects.create(
            case=case,
            category_id=values["category_id"],
            level=values["level"],
            target_kind=values["target_kind"],
            target_unit=unit,
            target_building=building,
            target_name=values["target_name"][:150],
            responsible_person=(values.get("responsible_person") or "")[:50],
            responsible_unit=(values.get("responsible_unit") or (unit.name if unit else ""))[:150],
            measures=values.get("measures") or "",
            # the 整改期限 (its last day 24:00) and 整改完成 of a hazard 销号 before the import; an open one gets
            # them from its own 整改 here, as any hazard does
            rectify_due_at=(due + timedelta(days=1)) if due is not None and state == "closed" else None,
            fixed_at=closed_at,
            import_key=values["key"],
        )
        audit.record(
            actor=actor,
            action="hazards.hazard.import",
            obj=case,
            after={
                "key": values["key"],
                "state": state,
                "level": values["level"],
                "target": values["target_name"],
            },
        )
    return case.pk


SPEC = register_spec(
    ImportSpec(
        name=SPEC_NAME,
        label="安全隐患台账",
        fields=FIELDS,
        key_field="target_name",
        key_label="检查对象",
        apply_row=_apply,
        ledger_handler=HazardLedgerHandler,
        can_import=can_import,
        row_key=lambda values: values["key"],
        key_help=(
            "同一街道、同一检查日期、同一检查对象、同一隐患描述（忽略空格和标点）的行视为同一隐患：重复导入或导入"
            "新版台账时不会重复建档，已导入的隐患以平台中的办理为准。"
        ),
    )
)
