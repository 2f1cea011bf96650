"""巡访打卡: a 网格员's patrols (巡查) with their GPS track, the fixed 巡查点位 with a required visit frequency, the
check-ins (打卡) at those points, and the admin-editable settings (点位类型, the figures' rule and the monthly
scoring weights).

A patrol belongs to its 网格员 and to a 街道 (``street``); each track point and check-in records whether it lay
inside the worker's own grids (the shapely grid index, :mod:`civicgrid.core.geoindex`) when it was stored.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from civicgrid.cases.models import Case
from civicgrid.core import clock
from civicgrid.core.scoping import RestrictedQuerySet
from civicgrid.places.models import Community, Grid, Street


class PointType(models.Model):
    """巡查点位类型 (seeded: 河道, 文物, 农贸市场, 背街小巷, 垃圾房, 创文点位)."""

    code = models.SlugField("编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=50)
    order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "点位类型"
        verbose_name_plural = "点位类型"
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class Frequency(models.TextChoices):
    DAY = "day", "每日"
    WEEK = "week", "每周"
    MONTH = "month", "每月"


class PatrolPoint(models.Model):
    """一个巡查点位 with its required visit frequency (``times`` per ``period``)."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="+")
    kind = models.ForeignKey(PointType, verbose_name="点位类型", on_delete=models.PROTECT)
    name = models.CharField("点位名称", max_length=100)
    address = models.CharField("地址", max_length=200, blank=True)
    lng = models.FloatField("经度")
    lat = models.FloatField("纬度")
    radius_m = models.PositiveIntegerField("打卡半径(米)", default=150)
    period = models.CharField("频次周期", max_length=8, choices=Frequency.choices, default=Frequency.DAY)
    times = models.PositiveSmallIntegerField("每周期次数", default=1)
    is_active = models.BooleanField("启用", default=True)
    note = models.CharField("巡查要求", max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "巡查点位"
        verbose_name_plural = "巡查点位"
        ordering = ["grid", "kind", "name"]

    def __str__(self):
        return self.name

    @property
    def frequency_label(self) -> str:
        if self.period == Frequency.DAY and self.times == 1:
            return "每日"
        return f"{self.get_period_display()}{self.times}次"


class Patrol(models.Model):
    """一次巡查: started and stopped on the worker's phone. The summary fields are recomputed from the track
    whenever points arrive or the patrol stops (:func:`civicgrid.gridwork.services.summarise`)."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(
        Community, verbose_name="社区", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    grid = models.ForeignKey(
        Grid, verbose_name="主网格", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="网格员", on_delete=models.PROTECT, related_name="patrols"
    )
    client_id = models.CharField("客户端编号", max_length=64)
    started_at = models.DateTimeField("开始时间", db_index=True)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    auto_closed = models.BooleanField("系统自动结束", default=False)
    duration_s = models.PositiveIntegerField("巡查时长(秒)", default=0)
    tracked_s = models.PositiveIntegerField("有轨迹时长(秒)", default=0)
    inside_s = models.PositiveIntegerField("在格时长(秒)", default=0)
    distance_m = models.PositiveIntegerField("里程(米)", default=0)
    point_count = models.PositiveIntegerField("轨迹点数", default=0)
    check_count = models.PositiveSmallIntegerField("打卡次数", default=0)
    created_at = models.DateTimeField("录入时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "巡查记录"
        verbose_name_plural = "巡查记录"
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["worker", "client_id"], name="gridwork_patrol_client_unique"),
            models.UniqueConstraint(
                fields=["worker"], condition=Q(ended_at__isnull=True), name="gridwork_one_open_patrol"
            ),
        ]

    def __str__(self):
        return f"{self.worker}（{clock.to_local(self.started_at):%Y-%m-%d %H:%M}）"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def inside_rate(self) -> float | None:
        return round(100 * self.inside_s / self.tracked_s, 1) if self.tracked_s else None


class TrackPoint(models.Model):
    """One GPS fix of a patrol; ``client_id`` (made on the phone) makes a re-sent batch harmless."""

    patrol = models.ForeignKey(Patrol, verbose_name="巡查", on_delete=models.CASCADE, related_name="points")
    client_id = models.CharField("客户端编号", max_length=64)
    at = models.DateTimeField("定位时间")
    lng = models.FloatField("经度")
    lat = models.FloatField("纬度")
    accuracy = models.FloatField("精度(米)", null=True, blank=True)
    grid = models.ForeignKey(
        Grid, verbose_name="所在网格", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    inside = models.BooleanField("在本人网格内", default=False)

    class Meta:
        verbose_name = "轨迹点"
        verbose_name_plural = "轨迹点"
        ordering = ["patrol", "at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["patrol", "client_id"], name="gridwork_trackpoint_client_unique")
        ]

    def __str__(self):
        return f"{self.lng:.6f},{self.lat:.6f}"


class PointCheck(models.Model):
    """一次点位打卡: where the worker was, whether that lay in the worker's grids and within the point's radius,
    a score (0–100) and findings; a finding may have become a case (source 网格员巡查)."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    point = models.ForeignKey(
        PatrolPoint, verbose_name="点位", on_delete=models.PROTECT, related_name="checks"
    )
    patrol = models.ForeignKey(
        Patrol, verbose_name="巡查", null=True, blank=True, on_delete=models.SET_NULL, related_name="checks"
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="网格员", on_delete=models.PROTECT, related_name="+"
    )
    client_id = models.CharField("客户端编号", max_length=64)
    at = models.DateTimeField("打卡时间", db_index=True)
    lng = models.FloatField("经度", null=True, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)
    distance_m = models.PositiveIntegerField("距点位(米)", null=True, blank=True)
    inside = models.BooleanField("在本人网格内", default=False)
    valid = models.BooleanField("有效打卡", default=False)
    score = models.PositiveSmallIntegerField("评分", null=True, blank=True)
    findings = models.TextField("发现问题", blank=True)
    case = models.ForeignKey(
        Case, verbose_name="上报工单", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "点位打卡"
        verbose_name_plural = "点位打卡"
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["worker", "client_id"], name="gridwork_check_client_unique")
        ]

    def __str__(self):
        return f"{self.point}（{clock.to_local(self.at):%Y-%m-%d %H:%M}）"


class GridworkRule(models.Model):
    """The figures' rule and the monthly scoring weights (one row, admin-editable; see docs/gridwork.md)."""

    gps_seconds = models.PositiveSmallIntegerField("定位间隔(秒)", default=30)
    valid_minutes = models.PositiveSmallIntegerField("有效巡查最短时长(分钟)", default=30)
    max_gap_seconds = models.PositiveIntegerField("轨迹断点(秒，超过不计时)", default=600)
    report_target = models.PositiveSmallIntegerField("月主动上报目标数", default=10)
    weight_attendance = models.PositiveSmallIntegerField("权重：打卡率", default=30)
    weight_inside = models.PositiveSmallIntegerField("权重：在格率", default=20)
    weight_coverage = models.PositiveSmallIntegerField("权重：点位覆盖率", default=20)
    weight_reports = models.PositiveSmallIntegerField("权重：主动上报", default=15)
    weight_valid_reports = models.PositiveSmallIntegerField("权重：有效上报率", default=15)

    class Meta:
        verbose_name = "巡查考核规则"
        verbose_name_plural = "巡查考核规则"

    def __str__(self):
        return "巡查考核规则"

    @classmethod
    def current(cls) -> GridworkRule:
        return cls.objects.order_by("pk").first() or cls()

    @property
    def weights(self) -> dict[str, int]:
        return {
            "attendance": self.weight_attendance,
            "inside": self.weight_inside,
            "coverage": self.weight_coverage,
            "reports": self.weight_reports,
            "valid_reports": self.weight_valid_reports,
        }
