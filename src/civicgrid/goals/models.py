"""目标考核 and 重点项目: the yearly 考核指标 catalogue of a 街道 (:class:`Scorecard` → :class:`Indicator`), each
indicator's monthly year-to-date figures (:class:`Actual`), and the 街道's projects (:class:`Project`) with their
monthly 累计完成投资 (:class:`ProjectProgress`).

Every row belongs to one 街道 (``Scorecard.street`` / ``Project.street``): the selectors scope by it like the
other apps. The forecast, the status light and the 完成率 are computed (:mod:`civicgrid.goals.metrics`), never
stored — except a manual forecast override, which is kept with its reason, its author and time (and audited).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from civicgrid.core import clock
from civicgrid.core.scoping import RestrictedQuerySet
from civicgrid.places.models import Street

AMOUNT = {"max_digits": 18, "decimal_places": 4}
PERCENT = {"max_digits": 10, "decimal_places": 2}


class Scorecard(models.Model):
    """考核年度: one 街道's assessment of one year (its indicators, and the margin of the 黄灯)."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(
        "年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    title = models.CharField("名称", max_length=100, default="高质量发展绩效评价考核指标")
    yellow_margin = models.DecimalField(
        "黄灯区间",
        max_digits=6,
        decimal_places=2,
        default=5,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="总量类：距目标不超过目标的该百分比；增幅/比率类：距目标不超过该百分点",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "考核年度"
        verbose_name_plural = "考核年度"
        ordering = ["-year", "street"]
        constraints = [models.UniqueConstraint(fields=["street", "year"], name="goals_scorecard_street_year")]

    def __str__(self):
        return f"{self.street.name} {self.year}年"


class Basis(models.TextChoices):
    TOTAL = "total", "总量"
    GROWTH = "growth", "增幅"
    RATIO = "ratio", "比率"
    DONE = "done", "完成与否"


class Source(models.TextChoices):
    ENTERED = "entered", "录入"
    IMPORTED = "imported", "导入"
    COMPUTED = "computed", "平台计算"


class ForecastMode(models.TextChoices):
    AUTO = "auto", "按进度预测全年"
    NONE = "none", "不预测（按时序进度）"


class Indicator(models.Model):
    """考核指标 (one line of the summary table)."""

    scorecard = models.ForeignKey(
        Scorecard, verbose_name="考核年度", on_delete=models.CASCADE, related_name="indicators"
    )
    seq = models.PositiveSmallIntegerField("序号")
    name = models.CharField("指标名称", max_length=100)
    unit = models.CharField("单位", max_length=20, blank=True)
    basis = models.CharField("口径", max_length=10, choices=Basis.choices, default=Basis.TOTAL)
    target_total = models.DecimalField("目标总量", null=True, blank=True, **AMOUNT)
    target_growth = models.DecimalField("目标增幅(%)", null=True, blank=True, **PERCENT)
    department = models.CharField("责任科室", max_length=50, blank=True)
    leader = models.CharField("分管领导", max_length=30, blank=True)
    higher_is_better = models.BooleanField("越高越好", default=True, help_text="不勾选：越低越好（如事故数）")
    weight = models.DecimalField("权重", max_digits=6, decimal_places=2, default=1)
    source = models.CharField("数据来源", max_length=10, choices=Source.choices, default=Source.ENTERED)
    forecast_mode = models.CharField(
        "预测方式", max_length=10, choices=ForecastMode.choices, default=ForecastMode.AUTO
    )
    last_year_total = models.DecimalField(
        "上年全年总量", null=True, blank=True, help_text="有上年同期累计时用于季节占比预测", **AMOUNT
    )
    override_total = models.DecimalField("人工预计全年总量", null=True, blank=True, **AMOUNT)
    override_growth = models.DecimalField("人工预计全年增幅(%)", null=True, blank=True, **PERCENT)
    override_reason = models.CharField("人工预计理由", max_length=300, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="人工预计人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    override_at = models.DateTimeField("人工预计时间", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "考核指标"
        verbose_name_plural = "考核指标"
        ordering = ["scorecard", "seq", "pk"]
        constraints = [models.UniqueConstraint(fields=["scorecard", "seq"], name="goals_indicator_seq")]

    def __str__(self):
        return f"{self.seq}. {self.name}"

    @property
    def has_override(self) -> bool:
        return self.override_total is not None or self.override_growth is not None


class Actual(models.Model):
    """1-N月 完成: the year-to-date figures of one indicator at the end of month N."""

    indicator = models.ForeignKey(
        Indicator, verbose_name="考核指标", on_delete=models.CASCADE, related_name="actuals"
    )
    month = models.PositiveSmallIntegerField("月份", validators=[MinValueValidator(1), MaxValueValidator(12)])
    ytd_total = models.DecimalField("累计总量", null=True, blank=True, **AMOUNT)
    ytd_growth = models.DecimalField("累计增幅(%)", null=True, blank=True, **PERCENT)
    prior_ytd = models.DecimalField("上年同期累计", null=True, blank=True, **AMOUNT)
    rank = models.PositiveSmallIntegerField("全区排名", null=True, blank=True)
    source = models.CharField("来源", max_length=10, choices=Source.choices, default=Source.ENTERED)
    note = models.CharField("备注", max_length=300, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField("填报时间", default=clock.now)

    class Meta:
        verbose_name = "月度完成"
        verbose_name_plural = "月度完成"
        ordering = ["indicator", "month"]
        constraints = [models.UniqueConstraint(fields=["indicator", "month"], name="goals_actual_month")]

    def __str__(self):
        return f"{self.indicator.name} 1-{self.month}月"


class ProjectCategory(models.TextChoices):
    CONTINUED = "continued", "续建非产业"
    NEW_NONINDUSTRY = "new_nonindustry", "新建非产业"
    NEW_INDUSTRY = "new_industry", "新建产业"
    RESERVE = "reserve", "产业后备"
    LIVELIHOOD = "livelihood", "民生实事"
    OLD_ESTATE = "old_estate", "老旧小区改造"
    ELEVATOR = "elevator", "电梯加装"
    OTHER = "other", "其他"


class Project(models.Model):
    """重点项目 / 民生项目 of one 街道 and year (amounts in 万元)."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(
        "年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    category = models.CharField("类别", max_length=20, choices=ProjectCategory.choices)
    name = models.CharField("项目名称", max_length=150)
    owner = models.CharField("建设单位", max_length=100, blank=True)
    address = models.CharField("建设地点", max_length=200, blank=True)
    lng = models.FloatField("经度", null=True, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)
    total_investment = models.DecimalField("总投资(万元)", null=True, blank=True, **AMOUNT)
    annual_plan = models.DecimalField("年度计划投资(万元)", validators=[MinValueValidator(0)], **AMOUNT)
    note = models.CharField("备注", max_length=300, blank=True)
    # 电梯加装 (台) and 老旧小区改造 (个小区): how many are at each stage (申报 → 施工 → 待交付 → 投用)
    stage_applied = models.PositiveIntegerField("申报中", default=0)
    stage_building = models.PositiveIntegerField("施工中", default=0)
    stage_pending = models.PositiveIntegerField("完工待交付", default=0)
    stage_in_use = models.PositiveIntegerField("已投用", default=0)
    households = models.PositiveIntegerField("受益户数", null=True, blank=True)
    floor_area = models.DecimalField("建筑面积(㎡)", null=True, blank=True, max_digits=14, decimal_places=2)

    objects = RestrictedQuerySet.as_manager()

    STAGED = ("elevator", "old_estate")
    STAGE_FIELDS = ("stage_in_use", "stage_pending", "stage_building", "stage_applied")

    class Meta:
        verbose_name = "重点项目"
        verbose_name_plural = "重点项目"
        ordering = ["-year", "category", "name"]
        constraints = [
            models.UniqueConstraint(fields=["street", "year", "name"], name="goals_project_street_year_name")
        ]

    def __str__(self):
        return self.name

    @property
    def stages(self) -> dict[str, int]:
        return {f: getattr(self, f) for f in self.STAGE_FIELDS}


class ProjectProgress(models.Model):
    """1-N月 累计完成投资 of a project (万元) and its progress note."""

    project = models.ForeignKey(
        Project, verbose_name="项目", on_delete=models.CASCADE, related_name="progress"
    )
    month = models.PositiveSmallIntegerField("月份", validators=[MinValueValidator(1), MaxValueValidator(12)])
    cumulative = models.DecimalField("累计完成投资(万元)", validators=[MinValueValidator(0)], **AMOUNT)
    note = models.CharField("形象进度", max_length=300, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField("填报时间", default=clock.now)

    class Meta:
        verbose_name = "项目月度进度"
        verbose_name_plural = "项目月度进度"
        ordering = ["project", "month"]
        constraints = [models.UniqueConstraint(fields=["project", "month"], name="goals_progress_month")]

    def __str__(self):
        return f"{self.project.name} 1-{self.month}月"
