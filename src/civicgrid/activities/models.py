"""活动台账 (宣讲、培训、演练、志愿服务 … with 场次/人次/户数), 应急预案 register (with its review cycle) and 志愿者 with
their 时间银行 (hours earned and spent).

Every row belongs to a 街道 (``street``) and, optionally, a 社区 (empty: a 街道-level row); the selectors scope by both.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models

from civicgrid.cases.models import Attachment
from civicgrid.core import clock
from civicgrid.core.scoping import RestrictedQuerySet
from civicgrid.places.models import Community, Street

DEFAULT_REVIEW_MONTHS = 12


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, the day clamped to the target month (01-31 + 1 → 02-28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class ActivityKind(models.TextChoices):
    PUBLICITY = "publicity", "宣讲/宣传"
    TRAINING = "training", "培训"
    DRILL = "drill", "演练"
    VOLUNTEER = "volunteer", "志愿服务"
    PARTNERSHIP = "partnership", "共建"
    DELIBERATION = "deliberation", "议事"
    CULTURE = "culture", "文体"


class Activity(models.Model):
    """One activity (or a series of the same, counted in 场次) with its reach: 人次, 户数, materials (份)."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(
        Community,
        verbose_name="社区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="留空：街道组织的活动",
    )
    kind = models.CharField("类型", max_length=16, choices=ActivityKind.choices)
    name = models.CharField("活动名称", max_length=100)
    date = models.DateField("日期", db_index=True)
    end_date = models.DateField("结束日期", null=True, blank=True)
    place = models.CharField("地点", max_length=100)
    organiser = models.CharField("组织者", max_length=60, blank=True)
    sessions = models.PositiveIntegerField("场次", default=1)
    attendance = models.PositiveIntegerField("人次", default=0)
    households = models.PositiveIntegerField("户数", default=0)
    materials = models.PositiveIntegerField("发放资料（份）", default=0)
    summary = models.TextField("活动情况", blank=True, max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", default=clock.now)
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "活动"
        verbose_name_plural = "活动台账"
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}"


class ActivityPhoto(models.Model):
    """A photo of an activity: a validated, thumbnailed upload of the case attachments' store, not on any case."""

    activity = models.ForeignKey(
        Activity, verbose_name="活动", on_delete=models.CASCADE, related_name="photos"
    )
    attachment = models.OneToOneField(
        Attachment, verbose_name="照片", on_delete=models.CASCADE, related_name="activity_photo"
    )

    class Meta:
        verbose_name = "活动照片"
        verbose_name_plural = "活动照片"
        ordering = ["activity", "pk"]

    def __str__(self):
        return f"{self.activity_id}: {self.attachment_id}"


class PlanLevel(models.TextChoices):
    OVERALL = "overall", "总体预案"
    SPECIAL = "special", "专项预案"
    COMMUNITY = "community", "社区预案"


class EmergencyPlan(models.Model):
    """应急预案. Next review due = last reviewed (else issued) + ``review_months``; overdue when that day has passed."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(
        Community, verbose_name="社区", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    level = models.CharField("级别", max_length=12, choices=PlanLevel.choices)
    name = models.CharField("预案名称", max_length=100)
    department = models.CharField("牵头部门", max_length=60, blank=True)
    issued_on = models.DateField("印发日期")
    reviewed_on = models.DateField("最近复核日期", null=True, blank=True)
    review_months = models.PositiveSmallIntegerField("复核周期（月）", default=DEFAULT_REVIEW_MONTHS)
    note = models.CharField("备注", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "应急预案"
        verbose_name_plural = "应急预案"
        ordering = ["level", "name"]
        constraints = [models.UniqueConstraint(fields=["street", "name"], name="activities_plan_street_name")]

    def __str__(self):
        return self.name

    @property
    def next_review_due(self) -> date:
        return add_months(self.reviewed_on or self.issued_on, self.review_months)

    def overdue_on(self, day: date) -> bool:
        return self.next_review_due < day

    @property
    def overdue(self) -> bool:
        return self.overdue_on(clock.local_now().date())


class Volunteer(models.Model):
    """志愿者. The phone is stored as digits and shown masked (:func:`civicgrid.activities.selectors.mask_phone`)."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(
        Community, verbose_name="社区", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField("姓名", max_length=30)
    phone = models.CharField("联系电话", max_length=12, blank=True)
    skills = models.CharField("特长/服务方向", max_length=200, blank=True)
    registered_on = models.DateField("注册日期")
    is_active = models.BooleanField("在册", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "志愿者"
        verbose_name_plural = "志愿者"
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["street", "name", "phone"], name="activities_volunteer_key")
        ]

    def __str__(self):
        return self.name


class EntryKind(models.TextChoices):
    EARN = "earn", "存入（服务）"
    SPEND = "spend", "支取（兑换）"


class TimeBankEntry(models.Model):
    """One 时间银行 entry: hours earned by service or spent (兑换). Balance = Σ earned − Σ spent, never negative."""

    volunteer = models.ForeignKey(
        Volunteer, verbose_name="志愿者", on_delete=models.CASCADE, related_name="entries"
    )
    date = models.DateField("日期", db_index=True)
    kind = models.CharField("类型", max_length=8, choices=EntryKind.choices)
    hours = models.DecimalField("小时", max_digits=6, decimal_places=1)
    activity = models.ForeignKey(
        Activity, verbose_name="活动", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", default=clock.now)

    class Meta:
        verbose_name = "时间银行记录"
        verbose_name_plural = "时间银行记录"
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(hours__gt=Decimal(0)), name="activities_hours_pos")
        ]

    def __str__(self):
        return f"{self.volunteer_id} {self.get_kind_display()} {self.hours}"
