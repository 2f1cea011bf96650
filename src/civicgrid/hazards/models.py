"""安全隐患台账: 检查 (inspections of a 检查对象 against a checklist), the 隐患 detail record of a ``hazard`` case,
the admin-editable lists (隐患类别, 检查表) and the per-building 消防设施 register behind the 四色地图.

A 隐患 itself is a case of the ``hazard`` procedure (:mod:`civicgrid.hazards.workflow`); :class:`HazardDetail` is
its one-to-one detail record. Every 检查 belongs to a 街道 (``street``), like every case.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from civicgrid.cases.models import Attachment, Case
from civicgrid.core import clock
from civicgrid.core.scoping import RestrictedQuerySet
from civicgrid.places.models import Building, Community, Grid, Street, Unit


class HazardLevel(models.TextChoices):
    GENERAL = "general", "一般"
    SERIOUS = "serious", "较大"
    MAJOR = "major", "重大"


class HazardCategory(models.Model):
    """隐患类别 (seeded with 六张清单, 三合一, 燃气/液化气, 电动车, 自建房, 危化, 消防设施, 其他)."""

    code = models.SlugField("编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=50)
    order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "隐患类别"
        verbose_name_plural = "隐患类别"
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class Checklist(models.Model):
    """检查表 (a checklist template an inspector works through)."""

    name = models.CharField("名称", max_length=100, unique=True)
    description = models.CharField("说明", max_length=300, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "检查表"
        verbose_name_plural = "检查表"
        ordering = ["name"]

    def __str__(self):
        return self.name


class ChecklistItem(models.Model):
    checklist = models.ForeignKey(
        Checklist, verbose_name="检查表", on_delete=models.CASCADE, related_name="items"
    )
    order = models.PositiveSmallIntegerField("序号", default=0)
    text = models.CharField("检查内容", max_length=200)
    category = models.ForeignKey(
        HazardCategory, verbose_name="对应隐患类别", null=True, blank=True, on_delete=models.SET_NULL
    )
    default_level = models.CharField(
        "默认等级", max_length=10, choices=HazardLevel.choices, default=HazardLevel.GENERAL
    )

    class Meta:
        verbose_name = "检查项"
        verbose_name_plural = "检查项"
        ordering = ["checklist", "order", "pk"]

    def __str__(self):
        return self.text


class TargetKind(models.TextChoices):
    UNIT = "unit", "企业/商户/单位"
    BUILDING = "building", "楼宇/小区/楼栋"
    COMMUNITY = "community", "社区/村"
    POINT = "point", "街面点位"


class Inspection(models.Model):
    """一次检查 (one 检查家次) of one 检查对象."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    target_kind = models.CharField("检查对象类型", max_length=10, choices=TargetKind.choices)
    unit = models.ForeignKey(
        Unit, verbose_name="企业/商户/单位", null=True, blank=True, on_delete=models.PROTECT
    )
    building = models.ForeignKey(
        Building, verbose_name="楼宇/小区/楼栋", null=True, blank=True, on_delete=models.PROTECT
    )
    community = models.ForeignKey(
        Community, verbose_name="社区/村", null=True, blank=True, on_delete=models.PROTECT
    )
    grid = models.ForeignKey(Grid, verbose_name="网格", null=True, blank=True, on_delete=models.PROTECT)
    target_name = models.CharField("检查对象", max_length=150)
    address = models.CharField("地址", max_length=200, blank=True)
    lng = models.FloatField("经度", null=True, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)
    checklist = models.ForeignKey(
        Checklist, verbose_name="检查表", null=True, blank=True, on_delete=models.PROTECT
    )
    inspected_at = models.DateTimeField("检查时间", default=clock.now, db_index=True)
    inspectors = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name="检查人员", related_name="+")
    note = models.TextField("备注", blank=True)
    hazard_count = models.PositiveSmallIntegerField("发现隐患数", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "检查记录"
        verbose_name_plural = "检查记录"
        ordering = ["-inspected_at", "-pk"]

    def __str__(self):
        return f"{self.target_name}（{clock.to_local(self.inspected_at):%Y-%m-%d}）"


class InspectionPhoto(models.Model):
    """A photo of the inspection as a whole (the scene, the 检查表 signed on paper …): a validated, thumbnailed
    upload of the case attachments' store (:func:`civicgrid.cases.attachments.store_upload`), not on any case."""

    inspection = models.ForeignKey(
        Inspection, verbose_name="检查记录", on_delete=models.CASCADE, related_name="photos"
    )
    attachment = models.OneToOneField(
        Attachment, verbose_name="照片", on_delete=models.CASCADE, related_name="hazard_inspection_photo"
    )

    class Meta:
        verbose_name = "检查照片"
        verbose_name_plural = "检查照片"
        ordering = ["inspection", "pk"]

    def __str__(self):
        return f"{self.inspection_id}: {self.attachment_id}"


class InspectionResult(models.Model):
    """One checklist item's result in one inspection."""

    inspection = models.ForeignKey(
        Inspection, verbose_name="检查记录", on_delete=models.CASCADE, related_name="results"
    )
    item = models.ForeignKey(ChecklistItem, verbose_name="检查项", null=True, on_delete=models.SET_NULL)
    item_text = models.CharField("检查内容", max_length=200)
    passed = models.BooleanField("合格")
    note = models.CharField("情况说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "检查结果"
        verbose_name_plural = "检查结果"
        ordering = ["inspection", "pk"]

    def __str__(self):
        return f"{self.item_text}: {'合格' if self.passed else '不合格'}"


class HazardDetail(models.Model):
    """The 隐患 detail record of a ``hazard`` case (one-to-one).

    Only ``category``, the 整改责任人/单位 and 整改措施 are editable through a move's ``detail`` (the engine writes
    every editable field it is given); level, place, inspection link and the recorded times are set by
    :mod:`civicgrid.hazards.services` and the procedure's handlers.
    """

    case = models.OneToOneField(
        Case, verbose_name="案件", on_delete=models.CASCADE, related_name="hazard_detail"
    )
    category = models.ForeignKey(
        HazardCategory, verbose_name="隐患类别", null=True, blank=True, on_delete=models.PROTECT
    )
    level = models.CharField(
        "隐患等级", max_length=10, choices=HazardLevel.choices, default=HazardLevel.GENERAL, editable=False
    )
    inspection = models.ForeignKey(
        Inspection,
        verbose_name="检查记录",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hazards",
        editable=False,
    )
    target_kind = models.CharField(
        "检查对象类型", max_length=10, choices=TargetKind.choices, blank=True, editable=False
    )
    target_unit = models.ForeignKey(
        Unit, verbose_name="企业/商户/单位", null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )
    target_building = models.ForeignKey(
        Building,
        verbose_name="楼宇/小区/楼栋",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        editable=False,
    )
    target_name = models.CharField("隐患单位/部位", max_length=150, blank=True, editable=False)
    responsible_person = models.CharField("整改责任人", max_length=50, blank=True)
    responsible_unit = models.CharField("整改责任单位", max_length=150, blank=True)
    measures = models.TextField("整改措施", blank=True)
    rectify_due_at = models.DateTimeField("整改期限", null=True, blank=True, editable=False)
    fixed_at = models.DateTimeField("整改完成时间", null=True, blank=True, editable=False)
    supervised = models.BooleanField("挂牌督办", default=False, editable=False)
    supervised_at = models.DateTimeField("挂牌时间", null=True, blank=True, editable=False)
    # an imported hazard's natural key (civicgrid.hazards.imports.natural_key): one hazard per key, ever
    import_key = models.CharField(
        "导入去重键", max_length=100, null=True, blank=True, unique=True, editable=False
    )

    DETAIL_HIDDEN = ("import_key",)  # not shown on the case page
    DETAIL_DAY_ENDS = ("rectify_due_at",)  # a 自然日 limit's end: shown as the last day's 24:00

    class Meta:
        verbose_name = "隐患明细"
        verbose_name_plural = "隐患明细"

    def __str__(self):
        return f"{self.case_id}: {self.get_level_display()}"

    @property
    def fixed_on_time(self) -> bool | None:
        if self.fixed_at is None or self.rectify_due_at is None:
            return None
        return self.fixed_at <= self.rectify_due_at


class Equipment(models.TextChoices):
    OK = "ok", "完好"
    FAULTY = "faulty", "损坏/过期"
    MISSING = "missing", "缺失"
    NA = "na", "不适用"


class FireSafetyRegister(models.Model):
    """消防设施 register of one building (烟感, 灭火器, 喷淋, 消防通道)."""

    building = models.OneToOneField(
        Building, verbose_name="楼宇/小区/楼栋", on_delete=models.CASCADE, related_name="fire_register"
    )
    smoke_detectors = models.CharField("烟感", max_length=8, choices=Equipment.choices, default=Equipment.OK)
    extinguishers = models.CharField("灭火器", max_length=8, choices=Equipment.choices, default=Equipment.OK)
    sprinklers = models.CharField("喷淋", max_length=8, choices=Equipment.choices, default=Equipment.NA)
    fire_lane = models.CharField("消防通道", max_length=8, choices=Equipment.choices, default=Equipment.OK)
    checked_at = models.DateField("核查日期", null=True, blank=True)
    note = models.CharField("备注", max_length=300, blank=True)

    FIELDS = ("smoke_detectors", "extinguishers", "sprinklers", "fire_lane")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "消防设施登记"
        verbose_name_plural = "消防设施登记"

    def __str__(self):
        return f"{self.building}"

    def defects(self) -> int:
        """How many of the four are 损坏/缺失."""
        return sum(getattr(self, f) in (Equipment.FAULTY, Equipment.MISSING) for f in self.FIELDS)


class ColorRule(models.Model):
    """The 四色地图 score rule (one row, admin-editable): points per open hazard by level, per overdue 整改, per
    defective 消防设施; the thresholds that make a place red / orange / yellow (below yellow: blue)."""

    general_points = models.PositiveSmallIntegerField("每处一般隐患（未销号）", default=1)
    serious_points = models.PositiveSmallIntegerField("每处较大隐患（未销号）", default=3)
    major_points = models.PositiveSmallIntegerField("每处重大隐患（未销号）", default=10)
    overdue_points = models.PositiveSmallIntegerField("每处逾期未整改", default=3)
    defect_points = models.PositiveSmallIntegerField("每项消防设施损坏/缺失", default=2)
    red_from = models.PositiveSmallIntegerField("红色（分值不低于）", default=10)
    orange_from = models.PositiveSmallIntegerField("橙色（分值不低于）", default=5)
    yellow_from = models.PositiveSmallIntegerField("黄色（分值不低于）", default=1)

    class Meta:
        verbose_name = "四色地图评分规则"
        verbose_name_plural = "四色地图评分规则"

    def __str__(self):
        return "四色地图评分规则"

    @classmethod
    def current(cls) -> ColorRule:
        return cls.objects.order_by("pk").first() or cls()

    def level_points(self, level: str) -> int:
        return {
            HazardLevel.GENERAL: self.general_points,
            HazardLevel.SERIOUS: self.serious_points,
            HazardLevel.MAJOR: self.major_points,
        }.get(level, 0)

    def color(self, score: int) -> str:
        if score >= self.red_from:
            return "red"
        if score >= self.orange_from:
            return "orange"
        if score >= self.yellow_from:
            return "yellow"
        return "blue"
