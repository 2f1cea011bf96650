"""行政问效: the 三率 weights of a 街道 (:class:`EvaluationSettings`), the monthly 红黑榜 (:class:`Board`, frozen
when published: the ranking is stored as a snapshot) and the assessment results a higher level sends
(:class:`Assessment`, e.g. 城市长效管理考核 score and rank per month per 街道).

The figures themselves are never stored here except in a board's snapshot: the live rankings are computed from the
metrics module (:mod:`civicgrid.metrics.selectors`) and the role scores from the cases' timeline
(:mod:`civicgrid.evaluation.selectors`); docs/evaluation.md gives every formula.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from civicgrid.core import clock
from civicgrid.core.scoping import RestrictedQuerySet
from civicgrid.places.models import District, Street

DEFAULT_WEIGHTS = {"w_response": 30, "w_resolve": 35, "w_satisfaction": 35}
DEFAULT_MIN_CASES = 5
DEFAULT_BOARD_SIZE = 3


class EvaluationSettings(models.Model):
    """The weights of the 三率 composite, the sample size needed to be ranked and the size of the 红/黑榜, per 街道
    (``street``) or for the 区-level ranking of the 街道 (``district``, no ``street``). Without a row the defaults
    apply (响应 30 / 解决 35 / 满意 35, at least 5 cases, 3 on each list)."""

    street = models.OneToOneField(
        Street, verbose_name="街道", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    district = models.OneToOneField(
        District,
        verbose_name="区（区级排名）",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    w_response = models.PositiveSmallIntegerField(
        "响应率权重", default=30, validators=[MaxValueValidator(100)]
    )
    w_resolve = models.PositiveSmallIntegerField(
        "解决率权重", default=35, validators=[MaxValueValidator(100)]
    )
    w_satisfaction = models.PositiveSmallIntegerField(
        "满意率权重", default=35, validators=[MaxValueValidator(100)]
    )
    min_cases = models.PositiveSmallIntegerField(
        "参与排名的最少件数",
        default=DEFAULT_MIN_CASES,
        validators=[MinValueValidator(1), MaxValueValidator(10000)],
        help_text="样本量（部门：派遣数；社区/网格/街道：立案数；网格员：上报数+核查数）少于此数的单列，不排名",
    )
    board_size = models.PositiveSmallIntegerField(
        "红/黑榜各列前几名",
        default=DEFAULT_BOARD_SIZE,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "考评设置"
        verbose_name_plural = "考评设置"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(street__isnull=False) | models.Q(district__isnull=False),
                name="evaluation_settings_owner",
            ),
        ]

    def __str__(self):
        owner = self.street.name if self.street_id else (self.district.name if self.district_id else "")
        return f"{owner} 考评设置"

    @property
    def weights(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in DEFAULT_WEIGHTS}


class BoardKind(models.TextChoices):
    DEPARTMENT = "department", "处置部门"
    COMMUNITY = "community", "社区"
    GRID = "grid", "网格"
    GRID_WORKER = "grid_worker", "网格员"
    STREET = "street", "街道（区级）"


class BoardState(models.TextChoices):
    DRAFT = "draft", "草拟"
    REVIEW = "review", "待审核"
    PUBLISHED = "published", "已发布"


class Board(models.Model):
    """One month's 红黑榜 of one kind: the ranking as computed when it was (re)drafted — every ranked row with its
    figures and rank, the rows listed apart (small samples, no figure) — and the 红榜 (top N) and 黑榜 (bottom N).
    Published boards never change (the services refuse every move from 已发布)."""

    kind = models.CharField("榜单类型", max_length=12, choices=BoardKind.choices)
    month = models.DateField("月份", help_text="该月 1 日")
    street = models.ForeignKey(
        Street, verbose_name="街道", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    district = models.ForeignKey(
        District, verbose_name="区", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField("状态", max_length=10, choices=BoardState.choices, default=BoardState.DRAFT)
    size = models.PositiveSmallIntegerField("红/黑榜各几名", default=DEFAULT_BOARD_SIZE)
    min_cases = models.PositiveSmallIntegerField("最少件数", default=DEFAULT_MIN_CASES)
    weights = models.JSONField("权重", default=dict)
    rows = models.JSONField("排名快照", default=list)  # ranked rows, best first (see selectors.ranking)
    apart = models.JSONField("单列（样本不足/无数据）", default=list)
    red = models.JSONField("红榜", default=list)  # keys of the rows on the 红榜
    black = models.JSONField("黑榜", default=list)
    note = models.TextField("说明", blank=True)
    review_note = models.TextField("审核意见", blank=True)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="草拟人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    drafted_at = models.DateTimeField("草拟时间", default=clock.now)
    computed_at = models.DateTimeField("计算时间", default=clock.now)
    submitted_at = models.DateTimeField("提交审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "红黑榜"
        verbose_name_plural = "红黑榜"
        ordering = ["-month", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "month", "street"],
                condition=models.Q(street__isnull=False),
                name="evaluation_board_street_month",
            ),
            models.UniqueConstraint(
                fields=["kind", "month", "district"],
                condition=models.Q(street__isnull=True),
                name="evaluation_board_district_month",
            ),
            models.CheckConstraint(
                condition=models.Q(street__isnull=False) | models.Q(district__isnull=False),
                name="evaluation_board_owner",
            ),
        ]

    def __str__(self):
        return f"{self.month:%Y年%m月} {self.get_kind_display()}红黑榜"

    @property
    def owner_name(self) -> str:
        if self.street_id:
            return self.street.name
        return self.district.name if self.district_id else ""


class Assessment(models.Model):
    """One month's result of a higher-level assessment of one 街道 (e.g. 城市长效管理考核: 得分, 全区排名)."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    name = models.CharField("考核名称", max_length=60, default="城市长效管理考核")
    month = models.DateField("月份", help_text="该月 1 日")
    score = models.DecimalField(
        "得分",
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(10000)],
    )
    rank = models.PositiveSmallIntegerField("排名", null=True, blank=True)
    total = models.PositiveSmallIntegerField("参评单位数", null=True, blank=True)
    note = models.CharField("备注", max_length=300, blank=True)
    source = models.CharField("来源", max_length=10, default="imported")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "上级考核结果"
        verbose_name_plural = "上级考核结果"
        ordering = ["street", "name", "month"]
        constraints = [
            models.UniqueConstraint(fields=["street", "name", "month"], name="evaluation_assessment_key"),
        ]

    def __str__(self):
        return f"{self.street.name} {self.name} {self.month:%Y-%m}"
