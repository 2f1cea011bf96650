"""督办 (supervision of a case or of a department's overdue list) and 预警预判 (early warnings).

- :class:`Supervision` is one 督办: about one case (``kind=case``) or about the overdue cases of one department
  (``kind=department``); its :class:`SupervisionItem` rows are the cases it covers. It is tracked until 销号:
  automatically when every item's case has left the open/overdue state, or by hand with a note.
- :class:`WarningConfig` holds a 街道's rule settings (kept in the admin); :class:`EarlyWarning` is one warning a
  rule raised, unique per rule × subject × day, acknowledged by the desk (待处理 → 已确认 → 已处置).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from civicgrid.core import clock
from civicgrid.core.choices import ColoredChoices
from civicgrid.core.scoping import RestrictedQuerySet


class SupervisionKind(ColoredChoices):
    CASE = "case", ("单件督办", "danger")
    DEPARTMENT = "department", ("部门超期督办", "warning")


class SupervisionState(ColoredChoices):
    OPEN = "open", ("督办中", "danger")
    CLEARED = "cleared", ("已销号", "success")


class Supervision(models.Model):
    street = models.ForeignKey(
        "places.Street", verbose_name="街道", on_delete=models.PROTECT, related_name="supervisions"
    )
    kind = models.CharField("督办类型", max_length=12, choices=SupervisionKind.choices)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name="督办案件",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="supervisions",
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name="被督办部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervisions",
    )
    note = models.TextField("督办意见")
    due_at = models.DateTimeField("督办期限")
    state = models.CharField(
        "状态", max_length=10, choices=SupervisionState.choices, default=SupervisionState.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="督办人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("督办时间", default=clock.now, db_index=True)
    cleared_at = models.DateTimeField("销号时间", null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="销号人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cleared_auto = models.BooleanField("自动销号", default=False)
    # the case engine's 督办 event this record tracks (a case 督办 is also a move on the case's timeline)
    case_event_id = models.BigIntegerField("督办事件", null=True, blank=True, unique=True)
    clear_note = models.CharField("销号说明", max_length=500, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "督办"
        verbose_name_plural = "督办"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["street", "state"], name="supervision_street_state")]

    def __str__(self):
        what = (
            self.case.display_number if self.case_id else (self.department.name if self.department_id else "")
        )
        return f"{self.get_kind_display()} {what}"

    @property
    def is_open(self) -> bool:
        return self.state == SupervisionState.OPEN

    @property
    def state_color(self) -> str:
        return "danger" if self.past_due() else SupervisionState(self.state).color

    def past_due(self, now=None) -> bool:
        """超期未销号: still open after its 督办期限."""
        return self.is_open and self.due_at < (now or clock.now())


class SupervisionItem(models.Model):
    supervision = models.ForeignKey(
        Supervision, verbose_name="督办", on_delete=models.CASCADE, related_name="items"
    )
    case = models.ForeignKey(
        "cases.Case", verbose_name="案件", on_delete=models.CASCADE, related_name="supervision_items"
    )
    cleared_at = models.DateTimeField("解除时间", null=True, blank=True)

    class Meta:
        verbose_name = "督办案件"
        verbose_name_plural = "督办案件"
        constraints = [
            models.UniqueConstraint(fields=["supervision", "case"], name="supervision_item_unique")
        ]
        indexes = [models.Index(fields=["case", "cleared_at"], name="supervision_item_case")]

    def __str__(self):
        return f"{self.supervision_id}:{self.case_id}"


# --- early warning ------------------------------------------------------------------------------------


class RuleKind(ColoredChoices):
    SURGE = "surge", ("突增预警", "danger")
    REPEAT_ADDRESS = "repeat_address", ("重复地址", "warning")
    REPEAT_CALLER = "repeat_caller", ("重复来电", "warning")
    OVERDUE_RISK = "overdue_risk", ("超期风险", "info")


class WarningState(ColoredChoices):
    PENDING = "pending", ("待处理", "danger")
    ACKNOWLEDGED = "acknowledged", ("已确认", "warning")
    RESOLVED = "resolved", ("已处置", "success")


class WarningConfig(models.Model):
    """One 街道's rule settings; a 街道 without a row uses the defaults (the field defaults)."""

    street = models.OneToOneField(
        "places.Street", verbose_name="街道", on_delete=models.CASCADE, related_name="warning_config"
    )
    surge_enabled = models.BooleanField("启用突增预警", default=True)
    surge_weeks = models.PositiveSmallIntegerField(
        "基线周数 K", default=8, help_text="以前 K 周同一星期几的件数为基线"
    )
    surge_threshold = models.FloatField(
        "显著性阈值", default=0.001, help_text="泊松尾概率 P(X≥今日件数) 小于此值时预警"
    )
    surge_min_count = models.PositiveSmallIntegerField(
        "最少件数", default=5, help_text="今日件数少于此值不预警"
    )
    repeat_enabled = models.BooleanField("启用重复地址/来电预警", default=True)
    repeat_address_count = models.PositiveSmallIntegerField("同一地址件数 N", default=3)
    repeat_caller_count = models.PositiveSmallIntegerField("同一来电件数 N", default=3)
    repeat_days = models.PositiveSmallIntegerField("统计天数 M", default=30)
    overdue_enabled = models.BooleanField("启用超期风险预警", default=True)
    overdue_lookback_days = models.PositiveSmallIntegerField(
        "处置用时统计天数", default=90, help_text="取最近多少天内处置完成的工单估计部门处置用时"
    )
    overdue_quantile = models.PositiveSmallIntegerField("分位数（%）", default=75)
    overdue_min_samples = models.PositiveSmallIntegerField("最少样本数", default=5)
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "预警规则设置"
        verbose_name_plural = "预警规则设置"

    def __str__(self):
        return f"{self.street}的预警规则"


class EarlyWarning(models.Model):
    street = models.ForeignKey(
        "places.Street", verbose_name="街道", on_delete=models.PROTECT, related_name="early_warnings"
    )
    rule = models.CharField("预警规则", max_length=16, choices=RuleKind.choices)
    subject_key = models.CharField("对象键", max_length=120)
    day = models.DateField("预警日期")
    title = models.CharField("预警对象", max_length=200)
    message = models.CharField("预警内容", max_length=500)
    observed = models.FloatField("实际值", null=True, blank=True)
    expected = models.FloatField("期望值", null=True, blank=True)
    probability = models.FloatField("尾概率", null=True, blank=True)
    community = models.ForeignKey(
        "places.Community",
        verbose_name="社区",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    category = models.ForeignKey(
        "cases.Category",
        verbose_name="分类大类",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name="责任部门",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    case = models.ForeignKey(
        "cases.Case", verbose_name="案件", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    case_ids = models.JSONField("相关案件", default=list, blank=True)
    state = models.CharField(
        "状态", max_length=14, choices=WarningState.choices, default=WarningState.PENDING
    )
    created_at = models.DateTimeField("预警时间", default=clock.now, db_index=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_at = models.DateTimeField("处理时间", null=True, blank=True)
    handle_note = models.CharField("处理说明", max_length=500, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "预警"
        verbose_name_plural = "预警"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "rule", "subject_key", "day"], name="warning_once_per_day"
            )
        ]
        indexes = [models.Index(fields=["street", "state"], name="warning_street_state")]

    def __str__(self):
        return f"{self.get_rule_display()}：{self.title}"

    @property
    def state_color(self) -> str:
        return WarningState(self.state).color

    @property
    def rule_color(self) -> str:
        return RuleKind(self.rule).color

    @property
    def is_open(self) -> bool:
        return self.state != WarningState.RESOLVED
