"""The metrics module's tables: one fact row per case (what the case contributes to the figures) and the daily
rollup (day × 街道 × 社区 × 网格 × 部门 × 分类 × 来源 × 办理程序 → counts) the figures are read from.

Both are derived data, written only by :mod:`civicgrid.metrics.services` (the incremental job and ``rebuild``).
Dimension columns are plain integers (0 = none), not foreign keys: the rollup must not block deleting or
merging places, and a unique key over NULLs would not be unique on PostgreSQL.
"""

from __future__ import annotations

from django.db import models

# the counters of one rollup row (docs/metrics.md §汇总表 names what each one counts)
COUNTERS: tuple[str, ...] = (
    "received",  # 受理: created that day (作废 excluded)
    "received_grid",  # of those, source 网格员巡查
    "merged",  # of those, 已合并 (重复)
    "rejected",  # of those, 不予受理
    "accepted",  # 立案 that day (作废/合并 excluded)
    "accepted_done",  # of those, 办结 now
    "dispatched",  # last 派遣 that day
    "responded",  # of those, 签收 within the 派遣 limit
    "done",  # 办结 that day
    "done_on_time",  # of those, never overdue
    "rated",  # of those, 已评价
    "rated_satisfied",
    "rated_basic",
    "reworked",  # of those, 返工 at least once
    "extended",  # of those, an approved 延期
    "handle_n",  # of those, with a 立案 time (for the average)
    "handle_seconds",  # Σ (办结 − 立案) seconds over handle_n
)

DIMENSIONS: tuple[str, ...] = (
    "street_id",
    "community_id",
    "grid_id",
    "department_id",
    "category_id",
    "source",
    "procedure",
)


class DailyRollup(models.Model):
    day = models.DateField("日期")
    street_id = models.IntegerField("街道", default=0)
    community_id = models.IntegerField("社区", default=0)
    grid_id = models.IntegerField("网格", default=0)
    department_id = models.IntegerField("部门", default=0)
    category_id = models.IntegerField("分类", default=0)
    source = models.CharField("来源", max_length=20, blank=True)
    procedure = models.CharField("办理程序", max_length=24, blank=True)

    received = models.IntegerField("受理", default=0)
    received_grid = models.IntegerField("网格上报", default=0)
    merged = models.IntegerField("合并(重复)", default=0)
    rejected = models.IntegerField("不予受理", default=0)
    accepted = models.IntegerField("立案", default=0)
    accepted_done = models.IntegerField("立案且已办结", default=0)
    dispatched = models.IntegerField("派遣", default=0)
    responded = models.IntegerField("按时签收", default=0)
    done = models.IntegerField("办结", default=0)
    done_on_time = models.IntegerField("按期办结", default=0)
    rated = models.IntegerField("已评价", default=0)
    rated_satisfied = models.IntegerField("满意", default=0)
    rated_basic = models.IntegerField("基本满意", default=0)
    reworked = models.IntegerField("返工", default=0)
    extended = models.IntegerField("延期", default=0)
    handle_n = models.IntegerField("计时件数", default=0)
    handle_seconds = models.BigIntegerField("办理时长合计(秒)", default=0)

    class Meta:
        verbose_name = "统计日汇总"
        verbose_name_plural = "统计日汇总"
        constraints = [
            models.UniqueConstraint(fields=["day", *DIMENSIONS], name="metrics_rollup_key"),
        ]
        indexes = [models.Index(fields=["street_id", "day"], name="metrics_rollup_street_day")]

    def __str__(self):
        return f"{self.day} {self.street_id}/{self.community_id}/{self.grid_id}"


# the groupings the coarse rollup keeps, each summed over every other dimension: "" the 街道's totals, else the
# DailyRollup column it is grouped by (its value, as text, in ``RollupCube.key``)
CUBE_KINDS: dict[str, str] = {
    "": "",
    "community": "community_id",
    "grid": "grid_id",
    "department": "department_id",
    "category": "category_id",
    "source": "source",
}
DAY, MONTH = "d", "m"
# the groupings also kept per day (the others per month only: a period's days outside its whole months are read
# from the daily rollup, which a 街道's few weeks keep small — a day level per 网格/分类/部门 would hold more rows
# than there are cases)
DAY_KINDS: tuple[str, ...] = ("",)


class RollupCube(models.Model):
    """The coarse rollup: the daily rollup summed per month (and, for the 街道 totals, per day) × 街道 × 办理程序
    × one grouping — what the dashboards read when no per-role filter applies (selectors choose it by the query's
    grouping; docs/metrics.md §汇总表). Written together with DailyRollup (same deltas, same transaction); always equal to
    ``DailyRollup`` summed by these columns (tests/metrics/test_rollup_property.py)."""

    level = models.CharField("粒度", max_length=1)  # "d" one day, "m" the calendar month starting on ``day``
    day = models.DateField("日期或月初")
    street_id = models.IntegerField("街道", default=0)
    procedure = models.CharField("办理程序", max_length=24, blank=True)
    kind = models.CharField("分组", max_length=12, blank=True)
    key = models.CharField("分组值", max_length=24, blank=True)

    received = models.IntegerField("受理", default=0)
    received_grid = models.IntegerField("网格上报", default=0)
    merged = models.IntegerField("合并(重复)", default=0)
    rejected = models.IntegerField("不予受理", default=0)
    accepted = models.IntegerField("立案", default=0)
    accepted_done = models.IntegerField("立案且已办结", default=0)
    dispatched = models.IntegerField("派遣", default=0)
    responded = models.IntegerField("按时签收", default=0)
    done = models.IntegerField("办结", default=0)
    done_on_time = models.IntegerField("按期办结", default=0)
    rated = models.IntegerField("已评价", default=0)
    rated_satisfied = models.IntegerField("满意", default=0)
    rated_basic = models.IntegerField("基本满意", default=0)
    reworked = models.IntegerField("返工", default=0)
    extended = models.IntegerField("延期", default=0)
    handle_n = models.IntegerField("计时件数", default=0)
    handle_seconds = models.BigIntegerField("办理时长合计(秒)", default=0)

    class Meta:
        verbose_name = "统计分级汇总"
        verbose_name_plural = "统计分级汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "level", "street_id", "day", "procedure", "key"], name="metrics_cube_key"
            ),
        ]
        indexes = [models.Index(fields=["kind", "level", "day"], name="metrics_cube_kind_day")]

    def __str__(self):
        return f"{self.level}{self.day} {self.street_id} {self.kind}={self.key}"


class CaseFact(models.Model):
    """What one case contributes, as last applied to the rollup (the job diffs against it)."""

    case_id = models.BigIntegerField("案件", primary_key=True)
    street_id = models.IntegerField(default=0)
    community_id = models.IntegerField(default=0)
    grid_id = models.IntegerField(default=0)
    department_id = models.IntegerField(default=0)
    category_id = models.IntegerField(default=0)
    source = models.CharField(max_length=20, blank=True)
    procedure = models.CharField(max_length=24, blank=True)
    # what the case adds to which day: {"YYYY-MM-DD": {counter: n}} (see services.contributions)
    days = models.JSONField(default=dict)

    class Meta:
        verbose_name = "统计案件事实"
        verbose_name_plural = "统计案件事实"

    def __str__(self):
        return f"fact {self.case_id}"


class RollupState(models.Model):
    """The job's watermarks (one row, pk 1)."""

    last_case_id = models.BigIntegerField(default=0)
    last_event_id = models.BigIntegerField(default=0)
    updated_since = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "统计汇总进度"
        verbose_name_plural = "统计汇总进度"

    def __str__(self):
        return f"case>{self.last_case_id} event>{self.last_event_id}"
