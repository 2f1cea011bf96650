"""Every write of 目标考核 and 重点项目: a month's figures of an indicator, the manual forecast (with a reason),
a project's month of 累计完成投资. Keyword-only, each takes ``actor``; the write and its audit row in one
transaction. Also the project's 节点 (planned/actual), a problem raised on it (→ a 工单), the items of an
电梯加装 / 老旧小区改造 project and their stage, 民生微实事 and their flow, and the "平台计算" indicators' figures
from the metrics module. The catalogue itself (考核年度, 指标, 项目) is kept in the admin (audited there)."""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction

from civicgrid.cases import services as case_services
from civicgrid.core import audit, clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.goals import metrics, selectors, workflow
from civicgrid.goals.models import (
    STAGE_FIELD,
    Actual,
    Indicator,
    MicroProject,
    MicroStepLog,
    MilestoneKind,
    Project,
    ProjectIssue,
    ProjectMilestone,
    ProjectProgress,
    Source,
    Stage,
    StageItem,
)
from civicgrid.metrics import registry as metric_registry
from civicgrid.metrics import selectors as metric_selectors
from civicgrid.places import selectors as place_selectors

AMOUNT_LIMIT = Decimal("1e13")
PERCENT_LIMIT = Decimal("1e7")
ACTUAL_FIELDS = ["month", "ytd_total", "ytd_growth", "prior_ytd", "rank", "source", "note"]


def _can_edit(actor) -> None:
    if not selectors.can_edit(actor):
        raise PermissionDenied("当前角色不能填报目标考核数据", code="forbidden")


def decimal_or_none(value, *, field: str, label: str, limit: Decimal = AMOUNT_LIMIT) -> Decimal | None:
    """A number from a form/API/sheet value (blank → None); anything else is a clear error naming the field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        d = Decimal(str(value).strip().replace(",", "").rstrip("%"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{label}不是数字：{value}", field=field)
    if not d.is_finite() or abs(d) >= limit:
        raise ValidationFailed(f"{label}超出范围：{value}", field=field)
    return d


def month_of(value, *, field: str = "month") -> int:
    try:
        m = int(str(value).strip().rstrip("月"))
    except (TypeError, ValueError):
        raise ValidationFailed(f"月份应为 1–12：{value}", field=field)
    if not 1 <= m <= 12:
        raise ValidationFailed(f"月份应为 1–12：{value}", field=field)
    return m


def _rank(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        r = int(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"排名应为正整数：{value}", field="rank")
    if not 1 <= r <= 999:
        raise ValidationFailed(f"排名应为 1–999：{value}", field="rank")
    return r


def save_actual(
    *,
    actor,
    indicator: Indicator,
    month,
    ytd_total=None,
    ytd_growth=None,
    prior_ytd=None,
    rank=None,
    note: str = "",
    source: str = Source.ENTERED,
    check_scope: bool = True,
) -> Actual:
    """The 1-N月 figures of ``indicator`` (created or replaced). At least 累计总量 or 累计增幅 is required."""
    _can_edit(actor)
    if check_scope:
        indicator = selectors.get_indicator(user=actor, pk=indicator.pk)
    values = {
        "month": month_of(month),
        "ytd_total": decimal_or_none(ytd_total, field="ytd_total", label="累计总量"),
        "ytd_growth": decimal_or_none(ytd_growth, field="ytd_growth", label="累计增幅", limit=PERCENT_LIMIT),
        "prior_ytd": decimal_or_none(prior_ytd, field="prior_ytd", label="上年同期累计"),
        "rank": _rank(rank),
        "source": source,
        "note": (note or "").strip()[:300],
    }
    if values["ytd_total"] is None and values["ytd_growth"] is None:
        raise ValidationFailed("请填写累计总量或累计增幅", field="ytd_total")
    if values["prior_ytd"] is not None and values["prior_ytd"] < 0:
        raise ValidationFailed("上年同期累计不能为负数", field="prior_ytd")
    with transaction.atomic():
        row = Actual.objects.select_for_update().filter(indicator=indicator, month=values["month"]).first()
        before = audit.snapshot(row, ACTUAL_FIELDS) if row else None
        if row is None:
            row = Actual(indicator=indicator, month=values["month"])
        for k, v in values.items():
            setattr(row, k, v)
        row.updated_by, row.updated_at = actor, clock.now()
        row.save()
        row.refresh_from_db()  # the stored (rounded) values, as ``before`` will read them next time
        after = audit.snapshot(row, ACTUAL_FIELDS)
        b, a = audit.diff(before, after) if before else (None, after)
        if before is None or a:
            audit.record(
                actor=actor,
                action="goals.actual.import" if source == Source.IMPORTED else "goals.actual.save",
                obj=row,
                before=b,
                after=a,
            )
    return row


OVERRIDE_FIELDS = ["override_total", "override_growth", "override_reason"]


def set_override(*, actor, indicator: Indicator, total=None, growth=None, reason: str = "") -> Indicator:
    """人工预计全年: replaces the computed forecast; a reason is required."""
    _can_edit(actor)
    indicator = selectors.get_indicator(user=actor, pk=indicator.pk)
    t = decimal_or_none(total, field="override_total", label="预计全年总量")
    g = decimal_or_none(growth, field="override_growth", label="预计全年增幅", limit=PERCENT_LIMIT)
    reason = (reason or "").strip()
    if t is None and g is None:
        raise ValidationFailed("请填写预计全年总量或增幅", field="override_total")
    if not reason:
        raise ValidationFailed("请填写人工预计的理由", field="override_reason")
    with transaction.atomic():
        ind = Indicator.objects.select_for_update().get(pk=indicator.pk)
        before = audit.snapshot(ind, OVERRIDE_FIELDS)
        ind.override_total, ind.override_growth, ind.override_reason = t, g, reason[:300]
        ind.override_by, ind.override_at = actor, clock.now()
        ind.save(update_fields=[*OVERRIDE_FIELDS, "override_by", "override_at"])
        ind.refresh_from_db()
        audit.record(
            actor=actor,
            action="goals.forecast.override",
            obj=ind,
            before=before,
            after=audit.snapshot(ind, OVERRIDE_FIELDS),
        )
    return ind


def clear_override(*, actor, indicator: Indicator) -> Indicator:
    _can_edit(actor)
    indicator = selectors.get_indicator(user=actor, pk=indicator.pk)
    with transaction.atomic():
        ind = Indicator.objects.select_for_update().get(pk=indicator.pk)
        if not ind.has_override:
            return ind
        before = audit.snapshot(ind, OVERRIDE_FIELDS)
        ind.override_total = ind.override_growth = None
        ind.override_reason, ind.override_by, ind.override_at = "", None, None
        ind.save(update_fields=[*OVERRIDE_FIELDS, "override_by", "override_at"])
        audit.record(actor=actor, action="goals.forecast.clear", obj=ind, before=before)
    return ind


def save_progress(*, actor, project: Project, month, cumulative, note: str = "") -> ProjectProgress:
    """1-N月 累计完成投资 (万元) of ``project``; it may not fall below an earlier month's figure."""
    _can_edit(actor)
    project = selectors.get_project(user=actor, pk=project.pk)
    m = month_of(month)
    amount = decimal_or_none(cumulative, field="cumulative", label="累计完成投资")
    if amount is None:
        raise ValidationFailed("请填写累计完成投资", field="cumulative")
    if amount < 0:
        raise ValidationFailed("累计完成投资不能为负数", field="cumulative")
    with transaction.atomic():
        earlier = ProjectProgress.objects.filter(project=project, month__lt=m).order_by("-month").first()
        if earlier is not None and amount < earlier.cumulative:
            raise ValidationFailed(
                f"累计完成投资不能小于 1-{earlier.month}月的 {earlier.cumulative.normalize():f} 万元",
                field="cumulative",
            )
        row = ProjectProgress.objects.select_for_update().filter(project=project, month=m).first()
        before = audit.snapshot(row, ["month", "cumulative", "note"]) if row else None
        row = row or ProjectProgress(project=project, month=m)
        row.cumulative, row.note = amount, (note or "").strip()[:300]
        row.updated_by, row.updated_at = actor, clock.now()
        row.save()
        row.refresh_from_db()
        audit.record(
            actor=actor,
            action="goals.progress.save",
            obj=row,
            before=before,
            after=audit.snapshot(row, ["month", "cumulative", "note"]),
        )
    return row


# --- location ---------------------------------------------------------------------------------------------

LOCATION_FIELDS = ["lng", "lat"]


def _coordinate(value, *, field: str, label: str, bound: int) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(f"{label}不是数字：{value}", field=field) from None
    if not (-bound <= number <= bound):  # also refuses nan
        raise ValidationFailed(f"{label}应在 -{bound}–{bound} 之间：{value}", field=field)
    return round(number, 6)


def set_location(*, actor, project: Project, lng, lat) -> Project:
    """The project's point on the map (WGS-84); both blank clears it."""
    _can_edit(actor)
    project = selectors.get_project(user=actor, pk=project.pk)
    x = _coordinate(lng, field="lng", label="经度", bound=180)
    y = _coordinate(lat, field="lat", label="纬度", bound=90)
    if (x is None) != (y is None):
        raise ValidationFailed("经度和纬度须同时填写", field="lng" if x is None else "lat")
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        before = audit.snapshot(project, LOCATION_FIELDS)
        project.lng, project.lat = x, y
        project.save(update_fields=LOCATION_FIELDS)
        audit.record(
            actor=actor,
            action="goals.project.location",
            obj=project,
            before=before,
            after=audit.snapshot(project, LOCATION_FIELDS),
        )
    return project


# --- milestones -------------------------------------------------------------------------------------------

MILESTONE_FIELDS = ["planned", "actual", "note"]


def date_or_none(value, *, field: str, label: str) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, date):
        return value
    try:
        d = date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"{label}日期格式不正确：{value}（应为 YYYY-MM-DD）", field=field)
    if not 2000 <= d.year <= 2100:
        raise ValidationFailed(f"{label}日期超出范围：{value}", field=field)
    return d


def save_milestones(*, actor, project: Project, rows: Mapping[str, Mapping]) -> list[ProjectMilestone]:
    """计划/实际日期 of a project's 节点 (``rows``: {kind: {"planned", "actual", "note"}}; a kind left out is kept).
    An actual date may not lie in the future; a 节点 with neither date is removed."""
    _can_edit(actor)
    project = selectors.get_project(user=actor, pk=project.pk)
    today = clock.local_now().date()
    clean: dict[str, dict] = {}
    for kind, row in rows.items():
        if kind not in MilestoneKind.values:
            raise ValidationFailed(f"未知节点：{kind}", field="kind")
        label = MilestoneKind(kind).label
        planned = date_or_none(row.get("planned"), field=f"{kind}_planned", label=f"{label}计划")
        actual = date_or_none(row.get("actual"), field=f"{kind}_actual", label=f"{label}实际")
        if actual is not None and actual > today:
            raise ValidationFailed(f"{label}的实际日期不能晚于今天", field=f"{kind}_actual")
        clean[kind] = {"planned": planned, "actual": actual, "note": (row.get("note") or "").strip()[:200]}
    with transaction.atomic():
        existing = {m.kind: m for m in ProjectMilestone.objects.select_for_update().filter(project=project)}
        for kind, values in clean.items():
            row = existing.get(kind)
            before = audit.snapshot(row, MILESTONE_FIELDS) if row else None
            if values["planned"] is None and values["actual"] is None and not values["note"]:
                if row is not None:
                    row.delete()
                    existing.pop(kind)
                    audit.record(actor=actor, action="goals.milestone.save", obj=project, before=before)
                continue
            row = row or ProjectMilestone(project=project, kind=kind)
            for k, v in values.items():
                setattr(row, k, v)
            after = audit.snapshot(row, MILESTONE_FIELDS)
            if before is not None and before == after:
                continue
            row.updated_by, row.updated_at = actor, clock.now()
            row.save()
            existing[kind] = row
            audit.record(
                actor=actor,
                action="goals.milestone.save",
                obj=project,
                before=before,
                after={"节点": MilestoneKind(kind).label, **after},
            )
    return sorted(existing.values(), key=lambda m: ProjectMilestone.ORDER.index(m.kind))


def raise_issue(*, actor, project: Project, text: str) -> ProjectIssue:
    """A problem of a project (征地、管线迁改、资金…) becomes a 工单 of the project's 街道 (case engine), linked here."""
    _can_edit(actor)
    project = selectors.get_project(user=actor, pk=project.pk)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("请描述项目遇到的问题", field="text")
    if len(text) > 1000:
        raise ValidationFailed("问题描述不能超过 1000 字", field="text")
    with transaction.atomic():
        case = case_services.create_case(
            actor=actor,
            source="other",
            source_ref=f"重点项目#{project.pk}",
            description=f"【重点项目问题】{project.name}：{text}",
            address=project.address,
            lng=project.lng,
            lat=project.lat,
            street_id=project.street_id,
        )
        issue = ProjectIssue.objects.create(project=project, text=text, case=case, raised_by=actor)
        audit.record(
            actor=actor,
            action="goals.issue.raise",
            obj=project,
            after={"问题": text, "工单": case.number or case.pk},
        )
    return issue


# --- 电梯加装 / 老旧小区改造 items --------------------------------------------------------------------------


def _sync_stages(project: Project) -> None:
    """The project's stage counts, 户数 and 建筑面积 from its items (when it has any)."""
    items = list(StageItem.objects.filter(project=project))
    if not items:
        return
    for stage, fname in STAGE_FIELD.items():
        setattr(project, fname, sum(1 for i in items if i.stage == stage))
    project.households = sum(i.households for i in items)
    project.floor_area = sum((i.floor_area for i in items), Decimal(0))
    project.save(update_fields=[*STAGE_FIELD.values(), "households", "floor_area"])


sync_stages = _sync_stages


def add_stage_item(
    *,
    actor,
    project: Project,
    name: str,
    community: str = "",
    stage: str = Stage.APPLIED,
    households=0,
    floor_area=0,
    note: str = "",
) -> StageItem:
    _can_edit(actor)
    project = selectors.get_project(user=actor, pk=project.pk)
    if project.category not in Project.STAGED:
        raise ValidationFailed("只有电梯加装、老旧小区改造项目登记阶段明细", field="project")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请填写名称", field="name")
    if stage not in Stage.values:
        raise ValidationFailed(f"未知阶段：{stage}", field="stage")
    hh = decimal_or_none(households, field="households", label="户数") or Decimal(0)
    area = decimal_or_none(floor_area, field="floor_area", label="建筑面积") or Decimal(0)
    if hh < 0 or hh != int(hh):
        raise ValidationFailed("户数应为非负整数", field="households")
    if area < 0:
        raise ValidationFailed("建筑面积不能为负数", field="floor_area")
    with transaction.atomic():
        if StageItem.objects.filter(project=project, name=name[:100]).exists():
            raise ValidationFailed(f"已有同名明细：{name}", field="name")
        item = StageItem.objects.create(
            project=project,
            name=name[:100],
            community=(community or "").strip()[:50],
            stage=stage,
            households=int(hh),
            floor_area=area,
            stage_since=clock.local_now().date(),
            note=(note or "").strip()[:200],
        )
        _sync_stages(project)
        audit.record(
            actor=actor,
            action="goals.stage.add",
            obj=project,
            after={"名称": item.name, "阶段": item.get_stage_display(), "户数": item.households},
        )
    return item


def advance_stage_item(*, actor, item: StageItem) -> StageItem:
    """One stage forward (申报 → 施工 → 完工待交付 → 投用); the guard raises at 投用."""
    _can_edit(actor)
    project = selectors.get_project(user=actor, pk=item.project_id)
    with transaction.atomic():
        item = StageItem.objects.select_for_update().get(pk=item.pk, project=project)
        before = item.get_stage_display()
        item.stage = workflow.next_stage(item.stage)
        item.stage_since = clock.local_now().date()
        item.save(update_fields=["stage", "stage_since"])
        _sync_stages(project)
        audit.record(
            actor=actor,
            action="goals.stage.advance",
            obj=project,
            before={"名称": item.name, "阶段": before},
            after={"名称": item.name, "阶段": item.get_stage_display()},
        )
    return item


# --- 民生微实事 ----------------------------------------------------------------------------------------------


def create_micro(
    *,
    actor,
    street_id: int | None = None,
    year,
    name: str,
    community: str = "",
    proposer: str = "",
    budget=None,
) -> MicroProject:
    """A 民生微实事 enters the flow at 征集 (the 街道: the actor's own unless a 区 account names one)."""
    _can_edit(actor)
    street_id = street_id or getattr(actor, "street_id", None)
    if street_id is None or not place_selectors.same_tier(actor, street_id):
        raise ValidationFailed("请选择您辖区内的街道", field="street")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationFailed(f"年度不正确：{year}", field="year")
    if not 2000 <= year <= 2100:
        raise ValidationFailed(f"年度不正确：{year}", field="year")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请填写项目名称", field="name")
    if len(name) > 150:
        raise ValidationFailed("项目名称不能超过 150 字", field="name")
    money = decimal_or_none(budget, field="budget", label="预算", limit=Decimal("1e9"))
    if money is not None and money < 0:
        raise ValidationFailed("预算不能为负数", field="budget")
    with transaction.atomic():
        if MicroProject.objects.filter(street_id=street_id, year=year, name=name).exists():
            raise ValidationFailed(f"{year}年已有同名项目：{name}", field="name")
        item = MicroProject.objects.create(
            street_id=street_id,
            year=year,
            name=name,
            community=(community or "").strip()[:50],
            proposer=(proposer or "").strip()[:100],
            budget=money,
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="goals.micro.create",
            obj=item,
            after={"名称": name, "年度": year, "社区": item.community},
        )
    return item


def move_micro(*, actor, item: MicroProject, move: str, note: str = "", rating: str = "") -> MicroProject:
    """下一步 (to the next step the 街道 uses) or 不予采纳 (before 实施); 评议 → 办结 records the 评议结果."""
    _can_edit(actor)
    item = selectors.get_micro(user=actor, pk=item.pk)
    with transaction.atomic():
        item = MicroProject.objects.select_for_update().get(pk=item.pk)
        flow = selectors.micro_flow(street_id=item.street_id)
        new = workflow.apply(item.step, move, flow.enabled)
        if move == "drop" and not (note or "").strip():
            raise ValidationFailed("请填写不予采纳的理由", field="note")
        old = item.step
        item.step = new
        if old == "review" and not rating:
            rating = note  # the 评议 step's remark is its result (满意 / 基本满意 …)
        if rating:
            item.rating = rating.strip()[:50]
        item.save(update_fields=["step", "rating"])
        MicroStepLog.objects.create(
            item=item, from_step=old, to_step=new, note=(note or "").strip()[:300], by=actor
        )
        audit.record(
            actor=actor,
            action="goals.micro.move",
            obj=item,
            before={"步骤": flow.label(old)},
            after={"步骤": flow.label(new), "意见": (note or "").strip()[:300]},
        )
    return item


# --- platform-computed indicators ---------------------------------------------------------------------------


def recompute_indicator(
    *, actor, indicator: Indicator, month: int, check_scope: bool = True
) -> Actual | None:
    """The 1-N月 figure of a "平台计算" indicator from the metrics module: its metric over 1 January … the end of
    month N (today at the latest) for the indicator's 街道; for counts also last year's same period (上年同期累计)
    and the growth. ``actor=None``: the monthly job. Returns ``None`` when there is nothing to compute yet."""
    if actor is not None:
        _can_edit(actor)
    if check_scope and actor is not None:
        indicator = selectors.get_indicator(user=actor, pk=indicator.pk)
    m = month_of(month)
    figures = computed_figures(indicator=indicator, month=m)
    if figures is None:
        return None
    total, growth, prior, note = figures
    with transaction.atomic():
        row = Actual.objects.select_for_update().filter(indicator=indicator, month=m).first()
        before = audit.snapshot(row, ACTUAL_FIELDS) if row else None
        row = row or Actual(indicator=indicator, month=m)
        row.ytd_total, row.ytd_growth, row.prior_ytd = total, growth, prior
        row.source, row.note = Source.COMPUTED, note[:300]
        row.updated_by, row.updated_at = actor, clock.now()
        row.save()
        row.refresh_from_db()
        after = audit.snapshot(row, ACTUAL_FIELDS)
        b, a = audit.diff(before, after) if before else (None, after)
        if before is None or a:
            audit.record(actor=actor, action="goals.actual.compute", obj=row, before=b, after=a)
    return row


def computed_figures(*, indicator: Indicator, month: int):
    """(1-N月 value, growth %, last year's same period, the note) of a "平台计算" indicator, or ``None``."""
    if indicator.source != Source.COMPUTED or not indicator.metric:
        raise ValidationFailed("该指标不是“平台计算”来源，或未选择平台指标", field="metric")
    if indicator.metric not in metric_registry.REGISTRY:
        raise ValidationFailed(f"统计模块中没有该指标：{indicator.metric}", field="metric")
    m = month
    card = indicator.scorecard
    start = date(card.year, 1, 1)
    end = min(date(card.year, m, monthrange(card.year, m)[1]), clock.local_now().date())
    if end < start:
        return None
    metric = metric_registry.get(indicator.metric)
    counters = metric_selectors.rollup_counters(user=None, start=start, end=end, street_id=card.street_id)[
        None
    ]
    value = metric.value(metric_registry.with_derived(counters))
    if value is None:
        return None
    total, growth, prior = Decimal(str(value)), None, None
    if metric.kind == metric_registry.COUNT:
        last = metric_selectors.rollup_counters(
            user=None,
            start=start.replace(year=card.year - 1),
            end=metric_selectors.shift_year(end),
            street_id=card.street_id,
        )[None]
        prior = Decimal(str(metric.value(metric_registry.with_derived(last)) or 0))
        growth = metrics.q2((total / prior - 1) * metrics.HUNDRED) if prior else None
    note = f"平台计算：{metric.label}（{metric.formula}），{start:%m月%d日}至{end:%m月%d日}"
    return total, growth, prior, note[:300]


def recompute_due(*, today: date | None = None) -> int:
    """The monthly job: every "平台计算" indicator of this year's catalogues, for the last completed month (in
    January: December of last year's catalogue) and the current month so far. Returns the rows written."""
    today = today or clock.local_now().date()
    periods = [(today.year, today.month)]
    periods.append((today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12))
    n = 0
    for year, month in periods:
        for ind in Indicator.objects.filter(
            source=Source.COMPUTED, scorecard__year=year, metric__in=list(metric_registry.REGISTRY)
        ).select_related("scorecard"):
            if recompute_indicator(actor=None, indicator=ind, month=month, check_scope=False) is not None:
                n += 1
    return n
