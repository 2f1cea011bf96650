"""Every write of 目标考核 and 重点项目: a month's figures of an indicator, the manual forecast (with a reason),
a project's month of 累计完成投资. Keyword-only, each takes ``actor``; the write and its audit row in one
transaction. The catalogue itself (考核年度, 指标, 项目) is kept in the admin (audited there)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction

from civicgrid.core import audit, clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.goals import selectors
from civicgrid.goals.models import Actual, Indicator, Project, ProjectProgress, Source

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
