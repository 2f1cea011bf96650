"""基础台账: 人员 (personal data encrypted at rest), 户 (一户一档 with its 救助帮扶 items), 入户走访, and the
admin-editable lists (人员标签 with the 重点人员 visit interval, 走访检查项 "1+4+X").

Every row belongs to a 街道 (``street``) and, where known, a 网格; the selectors scope by both.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from civicgrid.cases.models import Case
from civicgrid.core import clock
from civicgrid.core.scoping import RestrictedQuerySet
from civicgrid.places.models import Building, Grid, Street, Unit


class PersonTag(models.Model):
    """人员标签 (低保, 特困, 边缘, 残疾, 独居高龄 …). ``visit_interval_days`` set: a 重点人员 tag — a person carrying it
    must be visited at least every that many days (the shortest interval of a person's tags applies)."""

    code = models.SlugField("编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=30, unique=True)
    visit_interval_days = models.PositiveSmallIntegerField(
        "走访周期（天）", null=True, blank=True, help_text="留空：不是重点人员标签"
    )
    order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "人员标签"
        verbose_name_plural = "人员标签"
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class Residence(models.TextChoices):
    HUJI = "huji", "户籍人口"
    RESIDENT = "resident", "常住人口"
    FLOATING = "floating", "流动人口"


class FloatingStatus(models.TextChoices):
    REGISTERED = "registered", "已登记"
    LISTED = "listed", "在册"
    CANCELLED = "cancelled", "已注销"


class Household(models.Model):
    """户 (一户一档): a dwelling — a room of a building — and the people living in it."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(Building, verbose_name="楼栋", on_delete=models.PROTECT, related_name="+")
    room = models.CharField("室号", max_length=20)
    note = models.CharField("备注", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="建档人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("建档时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "户"
        verbose_name_plural = "户（一户一档）"
        ordering = ["building__name", "room"]
        constraints = [
            models.UniqueConstraint(fields=["building", "room"], name="registers_household_building_room")
        ]

    def __str__(self):
        return f"{self.building.name}{self.room}室"


class Person(models.Model):
    """人员. The ID number and phone are stored only encrypted (``*_cipher``), found by ``id_hash`` (HMAC) and shown
    through ``id_masked`` / ``phone_masked`` unless the viewer holds the full-view capability."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        Household, verbose_name="户", null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    relation = models.CharField("与户主关系", max_length=10, blank=True)
    name = models.CharField("姓名", max_length=30)
    id_cipher = models.TextField("身份证号（密文）")
    id_hash = models.CharField("身份证号检索摘要", max_length=64, unique=True)
    id_masked = models.CharField("身份证号（脱敏）", max_length=18)
    phone_cipher = models.TextField("联系电话（密文）", blank=True)
    phone_masked = models.CharField("联系电话（脱敏）", max_length=20, blank=True)
    residence = models.CharField("人口类型", max_length=10, choices=Residence.choices)
    tags = models.ManyToManyField(PersonTag, verbose_name="标签", blank=True, related_name="people")
    floating_status = models.CharField(
        "流动人口状态", max_length=12, choices=FloatingStatus.choices, blank=True
    )
    registered_on = models.DateField("登记日期", null=True, blank=True)
    listed_on = models.DateField("在册日期", null=True, blank=True)
    left_on = models.DateField("离开日期", null=True, blank=True)
    cancelled_on = models.DateField("注销日期", null=True, blank=True)
    is_active = models.BooleanField("在册", default=True)
    purged_at = models.DateTimeField(
        "个人信息清除时间", null=True, blank=True, help_text="超过保存期限后身份证号、电话已清除"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="采集人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("采集时间", default=clock.now)
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        ordering = ["grid__code", "name", "pk"]

    def __str__(self):
        return f"{self.name}（{self.id_masked}）"


class AccessLog(models.Model):
    """个人信息查阅记录: each full view of a person's ID number / phone (who, when, which person, why)."""

    person = models.ForeignKey(Person, verbose_name="人员", on_delete=models.CASCADE, related_name="accesses")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="查阅人", on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("查阅时间", default=clock.now, db_index=True)
    reason = models.CharField("查阅事由", max_length=200)
    channel = models.CharField("渠道", max_length=10, default="web")

    class Meta:
        verbose_name = "个人信息查阅记录"
        verbose_name_plural = "个人信息查阅记录"
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.user} → {self.person_id} @ {self.at:%Y-%m-%d %H:%M}"


class AssistanceKind(models.TextChoices):
    DIBAO = "dibao", "最低生活保障（低保）"
    TEKUN = "tekun", "特困供养"
    BIANYUAN = "bianyuan", "低保边缘"
    DISABILITY = "disability", "残疾人两项补贴"
    TEMPORARY = "temporary", "临时救助"


class AssistanceItem(models.Model):
    """一户一档's 救助帮扶 item: 认定日, 复核日, 退出日."""

    household = models.ForeignKey(
        Household, verbose_name="户", on_delete=models.CASCADE, related_name="assistance"
    )
    person = models.ForeignKey(
        Person, verbose_name="对象", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField("救助类别", max_length=12, choices=AssistanceKind.choices)
    recognized_on = models.DateField("认定日期")
    review_on = models.DateField("复核日期", null=True, blank=True)
    exited_on = models.DateField("退出日期", null=True, blank=True)
    monthly_amount = models.DecimalField("月保障金（元）", max_digits=9, decimal_places=2, default=0)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "救助帮扶"
        verbose_name_plural = "救助帮扶"
        ordering = ["household", "-recognized_on"]

    def __str__(self):
        return f"{self.get_kind_display()}（{self.recognized_on}）"


class AssistancePayment(models.Model):
    """一户一档's monthly 保障金 payment (imported from the 民政 monthly sheet): one row per person (or whole
    household), 救助类别 and month."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        Household, verbose_name="户", on_delete=models.CASCADE, related_name="payments"
    )
    person = models.ForeignKey(
        Person, verbose_name="对象", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    item = models.ForeignKey(
        AssistanceItem,
        verbose_name="救助帮扶项",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payments",
    )
    kind = models.CharField("救助类别", max_length=12, choices=AssistanceKind.choices)
    month = models.DateField("发放月份", help_text="该月 1 日")
    amount = models.DecimalField("发放金额（元）", max_digits=10, decimal_places=2)
    created_at = models.DateTimeField("导入时间", default=clock.now)

    class Meta:
        verbose_name = "保障金发放"
        verbose_name_plural = "保障金发放"
        ordering = ["household", "-month", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "person", "kind", "month"], name="registers_payment_once_a_month"
            )
        ]
        indexes = [models.Index(fields=["street", "month"], name="registers_payment_month")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.month:%Y-%m} {self.amount}"


class VisitCheckItem(models.Model):
    """走访检查项 ("1+4+X": 1 安全, 4 反诈/养老/… , X 街道自定)."""

    group = models.CharField("分组", max_length=10, default="X")
    text = models.CharField("检查内容", max_length=100)
    order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "走访检查项"
        verbose_name_plural = "走访检查项"
        ordering = ["order", "pk"]

    def __str__(self):
        return f"[{self.group}] {self.text}"


class VisitTarget(models.TextChoices):
    HOUSEHOLD = "household", "户"
    PERSON = "person", "人员"
    UNIT = "unit", "单位/商户"
    BUILDING = "building", "楼宇/楼栋"


class VisitMethod(models.TextChoices):
    HOME = "home", "入户走访"
    DOOR = "door", "门口交谈"
    PHONE = "phone", "电话联系"
    VIDEO = "video", "视频/微信"


class Visit(models.Model):
    """一次入户走访. ``persons``: the register people it covers (met or living there) — each counts one 人次."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(Grid, verbose_name="网格", on_delete=models.PROTECT, related_name="+")
    target_kind = models.CharField("走访对象类型", max_length=10, choices=VisitTarget.choices)
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(Building, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    target_name = models.CharField("走访对象", max_length=150)
    method = models.CharField("走访方式", max_length=10, choices=VisitMethod.choices)
    persons = models.ManyToManyField(Person, verbose_name="见到的人员", blank=True, related_name="visits")
    met_note = models.CharField("其他见到人员", max_length=200, blank=True)
    notes = models.TextField("走访情况", blank=True)
    visited_at = models.DateTimeField("走访时间", default=clock.now, db_index=True)
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="走访人", on_delete=models.PROTECT, related_name="+"
    )
    case = models.ForeignKey(
        Case, verbose_name="转工单", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_id = models.CharField(
        "手机端编号", max_length=64, blank=True, help_text="手机上生成的编号：离线录入重传只保存一次"
    )
    created_at = models.DateTimeField("录入时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "入户走访"
        verbose_name_plural = "入户走访"
        ordering = ["-visited_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["visitor", "client_id"],
                condition=~models.Q(client_id=""),
                name="registers_visit_client_once",
            )
        ]

    def __str__(self):
        return f"{self.target_name}（{clock.to_local(self.visited_at):%Y-%m-%d}）"


class VisitResult(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(VisitCheckItem, null=True, on_delete=models.SET_NULL, related_name="+")
    item_text = models.CharField("检查内容", max_length=100)
    ok = models.BooleanField("正常")
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "走访检查结果"
        verbose_name_plural = "走访检查结果"
        ordering = ["visit", "pk"]

    def __str__(self):
        return f"{self.item_text}: {'正常' if self.ok else '异常'}"
