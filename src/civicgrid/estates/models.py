"""出租房 (rentals with inspections and 清退), 楼宇/企业 profiles (one-to-one with places' Building/Unit: 重点楼宇,
楼长, 挂钩领导; 入驻单位 with 统一社会信用代码, 注册地, 行业, 规上, 闲置面积), 企业走访 (诉求 → case) and 专项排查
campaigns (普查清查, 燃气安全, 接种, 电动车) with their target lists and results.

Every row belongs to a 街道 (``street``) and a 网格; the selectors scope by both, like the 基础台账.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from civicgrid.cases.models import Case
from civicgrid.core import clock
from civicgrid.core.scoping import RestrictedQuerySet
from civicgrid.places.models import Building, Grid, Street, Unit
from civicgrid.registers.models import Person


class RentalStatus(models.TextChoices):
    ACTIVE = "active", "在租"
    CLEARED = "cleared", "已清退"


class Rental(models.Model):
    """出租房: a room of a building let out. The landlord is a register person or a name + phone (the phone is
    stored encrypted and shown masked, like the register's)."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(Building, verbose_name="楼栋", on_delete=models.PROTECT, related_name="+")
    room = models.CharField("室号", max_length=20)
    landlord_person = models.ForeignKey(
        Person,
        verbose_name="房东（在册人员）",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    landlord_name = models.CharField("房东姓名", max_length=30)
    landlord_phone_cipher = models.TextField("房东电话（密文）", blank=True)
    landlord_phone_masked = models.CharField("房东电话（脱敏）", max_length=20, blank=True)
    tenants = models.PositiveSmallIntegerField("租住人数", default=0)
    crowded = models.BooleanField("群租", default=False)
    three_in_one = models.BooleanField("三合一", default=False, help_text="住宿与生产、经营、仓储合用")
    status = models.CharField(
        "状态", max_length=10, choices=RentalStatus.choices, default=RentalStatus.ACTIVE
    )
    cleared_on = models.DateField("清退日期", null=True, blank=True)
    clear_reason = models.CharField("清退原因", max_length=200, blank=True)
    note = models.CharField("备注", max_length=300, blank=True)
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
        verbose_name = "出租房"
        verbose_name_plural = "出租房"
        ordering = ["building__name", "room"]
        constraints = [
            models.UniqueConstraint(fields=["building", "room"], name="estates_rental_building_room")
        ]

    def __str__(self):
        return f"{self.building.name}{self.room}室"


class InspectionResult(models.TextChoices):
    OK = "ok", "合格"
    RECTIFY = "rectify", "限期整改"
    SERIOUS = "serious", "存在严重问题"


class RentalInspection(models.Model):
    rental = models.ForeignKey(
        Rental, verbose_name="出租房", on_delete=models.CASCADE, related_name="inspections"
    )
    inspected_on = models.DateField("检查日期")
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="检查人", on_delete=models.PROTECT, related_name="+"
    )
    result = models.CharField("检查结果", max_length=10, choices=InspectionResult.choices)
    findings = models.TextField("发现问题", blank=True)
    case = models.ForeignKey(
        Case, verbose_name="转工单/隐患", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    idempotency_key = models.CharField("幂等键", max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField("录入时间", default=clock.now)

    class Meta:
        verbose_name = "出租房检查"
        verbose_name_plural = "出租房检查"
        ordering = ["-inspected_on", "-pk"]

    def __str__(self):
        return f"{self.rental} {self.inspected_on} {self.get_result_display()}"


class BuildingProfile(models.Model):
    """楼宇档案 of a places Building: 重点楼宇, 楼长, 挂钩领导."""

    building = models.OneToOneField(
        Building, verbose_name="楼宇", on_delete=models.CASCADE, related_name="estate_profile"
    )
    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="+")
    is_key = models.BooleanField("重点楼宇", default=False)
    manager_name = models.CharField("楼长", max_length=30, blank=True)
    manager_phone_masked = models.CharField("楼长电话（脱敏）", max_length=20, blank=True)
    manager_phone_cipher = models.TextField("楼长电话（密文）", blank=True)
    leader = models.CharField("挂钩领导", max_length=50, blank=True)
    total_area = models.DecimalField("建筑面积（㎡）", max_digits=10, decimal_places=1, null=True, blank=True)
    note = models.CharField("备注", max_length=300, blank=True)
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "楼宇档案"
        verbose_name_plural = "楼宇档案"
        ordering = ["-is_key", "building__name"]

    def __str__(self):
        return self.building.name


class Industry(models.TextChoices):
    IT = "it", "信息技术"
    FINANCE = "finance", "金融"
    BUSINESS = "business", "商务服务"
    TRADE = "trade", "批发零售"
    CULTURE = "culture", "文化创意"
    HEALTH = "health", "医疗健康"
    EDUCATION = "education", "教育培训"
    OTHER = "other", "其他"


class EnterpriseProfile(models.Model):
    """入驻单位 of a building: the places Unit with its 统一社会信用代码, 注册地 (in this 街道 or not), 行业, 规上
    and 闲置面积. ``moved_out_on`` set: no longer an occupant (kept for history)."""

    unit = models.OneToOneField(
        Unit, verbose_name="单位", on_delete=models.CASCADE, related_name="estate_profile"
    )
    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(
        Building, verbose_name="所在楼宇", on_delete=models.PROTECT, related_name="estate_enterprises"
    )
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True, db_index=True)
    registered_here = models.BooleanField("注册地在本街道", default=False)
    industry = models.CharField("行业", max_length=12, choices=Industry.choices, default=Industry.OTHER)
    above_scale = models.BooleanField("规上企业", default=False)
    vacant_area = models.DecimalField("闲置面积（㎡）", max_digits=9, decimal_places=1, default=0)
    moved_in_on = models.DateField("入驻日期", null=True, blank=True)
    moved_out_on = models.DateField("迁出日期", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "入驻单位"
        verbose_name_plural = "入驻单位"
        ordering = ["building__name", "unit__name"]

    def __str__(self):
        return self.unit.name


class EnterpriseVisit(models.Model):
    enterprise = models.ForeignKey(
        EnterpriseProfile, verbose_name="企业", on_delete=models.CASCADE, related_name="visits"
    )
    visited_on = models.DateField("走访日期")
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="走访人", on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField("走访情况", blank=True)
    demand = models.TextField("企业诉求", blank=True)
    case = models.ForeignKey(
        Case, verbose_name="诉求工单", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", default=clock.now)

    class Meta:
        verbose_name = "企业走访"
        verbose_name_plural = "企业走访"
        ordering = ["-visited_on", "-pk"]

    def __str__(self):
        return f"{self.enterprise} {self.visited_on}"


class CampaignKind(models.TextChoices):
    CENSUS = "census", "普查清查"
    GAS = "gas", "燃气安全"
    VACCINE = "vaccine", "接种"
    EBIKE = "ebike", "电动车"


class Campaign(models.Model):
    """专项排查: a named campaign with a target list (imported) and a result per target."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    code = models.SlugField("活动编号", max_length=20, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类别", max_length=10, choices=CampaignKind.choices)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("截止日期")
    note = models.CharField("说明", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="建立人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("建立时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "专项排查"
        verbose_name_plural = "专项排查"
        ordering = ["-starts_on", "-pk"]

    def __str__(self):
        return self.name


class TargetResult(models.TextChoices):
    PENDING = "pending", "未排查"
    CHECKED = "checked", "已排查无问题"
    PROBLEM = "problem", "发现问题"
    UNREACHABLE = "unreachable", "无法联系/入户"


class CampaignTarget(models.Model):
    campaign = models.ForeignKey(
        Campaign, verbose_name="专项排查", on_delete=models.CASCADE, related_name="targets"
    )
    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="+")
    key = models.CharField("对象编号", max_length=40)
    name = models.CharField("排查对象", max_length=100)
    address = models.CharField("地址", max_length=200, blank=True)
    building = models.ForeignKey(
        Building, verbose_name="楼栋", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.CharField(
        "排查结果", max_length=12, choices=TargetResult.choices, default=TargetResult.PENDING
    )
    note = models.CharField("说明", max_length=300, blank=True)
    checked_at = models.DateTimeField("排查时间", null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="排查人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    case = models.ForeignKey(
        Case, verbose_name="问题工单", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "排查对象"
        verbose_name_plural = "排查对象"
        ordering = ["campaign", "grid__code", "key"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "key"], name="estates_target_campaign_key")
        ]

    def __str__(self):
        return f"{self.name}（{self.get_result_display()}）"
