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
    metric = models.CharField(
        "平台指标",
        max_length=40,
        blank=True,
        help_text="来源为“平台计算”时：统计模块的指标名（如 satisfaction_rate 满意率、on_time_rate 按期办结率）",
    )
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


# --- milestones, problems, stage items, 民生微实事 ---------------------------------------------------------


class MilestoneKind(models.TextChoices):
    """The six 形象节点 of a construction project, in their order."""

    PERMIT = "permit", "施工许可"
    START = "start", "开工"
    GROUND = "ground", "正负零"
    TOPPED = "topped", "主体结顶"
    COMPLETED = "completed", "竣工"
    DELIVERED = "delivered", "交付"


class ProjectMilestone(models.Model):
    """One 节点 of a project: planned and actual date (either may be unknown)."""

    project = models.ForeignKey(
        Project, verbose_name="项目", on_delete=models.CASCADE, related_name="milestones"
    )
    kind = models.CharField("节点", max_length=12, choices=MilestoneKind.choices)
    planned = models.DateField("计划日期", null=True, blank=True)
    actual = models.DateField("实际日期", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField("填报时间", default=clock.now)

    ORDER = [k for k, _ in MilestoneKind.choices]

    class Meta:
        verbose_name = "项目节点"
        verbose_name_plural = "项目节点"
        ordering = ["project", "kind"]
        constraints = [models.UniqueConstraint(fields=["project", "kind"], name="goals_milestone_kind")]

    def __str__(self):
        return f"{self.project.name} {self.get_kind_display()}"


class ProjectIssue(models.Model):
    """A problem raised on a project (征地、管线迁改、资金…): it becomes a 工单 in the case engine."""

    project = models.ForeignKey(Project, verbose_name="项目", on_delete=models.CASCADE, related_name="issues")
    text = models.CharField("问题", max_length=1000)
    case = models.ForeignKey(
        "cases.Case", verbose_name="工单", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提出人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField("提出时间", default=clock.now)

    class Meta:
        verbose_name = "项目问题"
        verbose_name_plural = "项目问题"
        ordering = ["-raised_at", "-pk"]

    def __str__(self):
        return f"{self.project.name}：{self.text[:30]}"


class Stage(models.TextChoices):
    """电梯加装 / 老旧小区改造: where one item (一台电梯 / 一个小区) is."""

    APPLIED = "applied", "申报"
    BUILDING = "building", "施工"
    PENDING = "pending", "完工待交付"
    IN_USE = "in_use", "投用"


STAGE_FIELD = {
    Stage.APPLIED: "stage_applied",
    Stage.BUILDING: "stage_building",
    Stage.PENDING: "stage_pending",
    Stage.IN_USE: "stage_in_use",
}


class StageItem(models.Model):
    """一台电梯 (电梯加装) or 一个小区 (老旧小区改造) of a project, with its stage; the project's stage counts,
    户数 and 建筑面积 are the sums over its items once it has any."""

    project = models.ForeignKey(
        Project, verbose_name="项目", on_delete=models.CASCADE, related_name="stage_items"
    )
    name = models.CharField("名称", max_length=100, help_text="如：翠苑一区 12 幢 2 单元；某某小区")
    community = models.CharField("所在社区", max_length=50, blank=True)
    stage = models.CharField("阶段", max_length=10, choices=Stage.choices, default=Stage.APPLIED)
    households = models.PositiveIntegerField("户数", default=0)
    floor_area = models.DecimalField("建筑面积(㎡)", max_digits=14, decimal_places=2, default=0)
    stage_since = models.DateField("进入本阶段日期", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "阶段明细"
        verbose_name_plural = "阶段明细"
        ordering = ["project", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="goals_stageitem_name")]

    def __str__(self):
        return self.name


class MicroStep(models.TextChoices):
    """民生微实事: the flow (征集 → 议事 → 确定 → 实施 → 验收 → 评议), then 办结; or 未采纳."""

    COLLECT = "collect", "征集"
    DELIBERATE = "deliberate", "议事"
    DECIDE = "decide", "确定"
    IMPLEMENT = "implement", "实施"
    ACCEPT = "accept", "验收"
    REVIEW = "review", "评议"
    CLOSED = "closed", "办结"
    DROPPED = "dropped", "未采纳"


class MicroFlowStep(models.Model):
    """How a 街道 runs the flow: a step may be renamed (e.g. 议事 → 居民议事会) or skipped (disabled)."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.CASCADE, related_name="+")
    step = models.CharField(
        "步骤", max_length=12, choices=[c for c in MicroStep.choices if c[0] not in ("closed", "dropped")]
    )
    label = models.CharField("显示名称", max_length=20, blank=True, help_text="留空：用默认名称")
    enabled = models.BooleanField("启用", default=True, help_text="不启用：流转时跳过这一步")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "民生微实事流程设置"
        verbose_name_plural = "民生微实事流程设置"
        ordering = ["street", "step"]
        constraints = [models.UniqueConstraint(fields=["street", "step"], name="goals_microflow_step")]

    def __str__(self):
        return f"{self.street.name} {self.get_step_display()}"


class MicroProject(models.Model):
    """一件民生微实事 of a 街道's year: collected from residents, deliberated, decided, carried out, accepted, and
    rated by residents."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(
        "年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    name = models.CharField("项目名称", max_length=150)
    community = models.CharField("社区", max_length=50, blank=True)
    proposer = models.CharField("提出人/来源", max_length=100, blank=True)
    budget = models.DecimalField("预算(万元)", null=True, blank=True, max_digits=12, decimal_places=2)
    step = models.CharField("当前步骤", max_length=12, choices=MicroStep.choices, default=MicroStep.COLLECT)
    rating = models.CharField("评议结果", max_length=50, blank=True)
    note = models.CharField("备注", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "民生微实事"
        verbose_name_plural = "民生微实事"
        ordering = ["-year", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["street", "year", "name"], name="goals_micro_street_year_name")
        ]

    def __str__(self):
        return self.name


class MicroStepLog(models.Model):
    """One move of a 民生微实事 (from → to, who, when, the 意见)."""

    item = models.ForeignKey(
        MicroProject, verbose_name="民生微实事", on_delete=models.CASCADE, related_name="log"
    )
    from_step = models.CharField("原步骤", max_length=12, choices=MicroStep.choices)
    to_step = models.CharField("新步骤", max_length=12, choices=MicroStep.choices)
    note = models.CharField("意见", max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("时间", default=clock.now)

    class Meta:
        verbose_name = "民生微实事流转记录"
        verbose_name_plural = "民生微实事流转记录"
        ordering = ["item", "at", "pk"]

    def __str__(self):
        return f"{self.item.name}：{self.get_from_step_display()} → {self.get_to_step_display()}"
