"""矛盾纠纷（人民调解）台账: the admin-editable lists (纠纷类型, 调解组织) and the 纠纷 detail record of a ``dispute``
case with its 当事人 and 调解记录.

A dispute itself is a case of the ``dispute`` procedure (:mod:`civicgrid.disputes.workflow`); :class:`DisputeDetail`
is its one-to-one detail record. The figures read the record's own dates (``received_on`` 受理日期, ``ended_on``
调解终结日期), which an imported ledger row carries from the file.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from civicgrid.cases.models import Case
from civicgrid.core import clock
from civicgrid.core.scoping import RestrictedQuerySet
from civicgrid.places.models import Community, Street


class DisputeSource(models.TextChoices):
    SCREENING = "screening", "排查"
    APPLICATION = "application", "当事人申请"
    POLICE = "police", "警调衔接"
    CASE = "case", "12345/网格转办"
    COURT = "court", "法院委派"


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", "申请人"
    RESPONDENT = "respondent", "被申请人"
    THIRD = "third", "第三人"


class Outcome(models.TextChoices):
    SUCCESS = "success", "调解成功"
    FAILED = "failed", "调解不成功"
    TERMINATED = "terminated", "终止调解"


class Fulfilment(models.TextChoices):
    FULL = "full", "已履行"
    PARTIAL = "partial", "部分履行"
    NONE = "none", "未履行"


class OrgKind(models.TextChoices):
    STREET = "street", "街道人民调解委员会"
    COMMUNITY = "community", "社区（村）人民调解委员会"
    STUDIO = "studio", "品牌调解室"
    OTHER = "other", "其他调解组织"


class DisputeType(models.Model):
    """纠纷类型 (seeded with 婚姻家庭, 邻里, 物业, 劳资, 土地/房屋, 消费, 交通事故, 医疗, 其他)."""

    code = models.SlugField("编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=50)
    order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "纠纷类型"
        verbose_name_plural = "纠纷类型"
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class MediationOrg(models.Model):
    """调解组织: 街道调委会, 社区调委会, a named 品牌调解室 (e.g. 老娘舅工作室). ``street`` empty: any 街道."""

    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=10, choices=OrgKind.choices, default=OrgKind.STREET)
    street = models.ForeignKey(
        Street, verbose_name="所属街道", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    community = models.ForeignKey(
        Community, verbose_name="所属社区", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "调解组织"
        verbose_name_plural = "调解组织"
        ordering = ["order", "name"]
        constraints = [models.UniqueConstraint(fields=["street", "name"], name="dispute_org_unique_name")]

    def __str__(self):
        return self.name


class DisputeDetail(models.Model):
    """The 纠纷 detail record of a ``dispute`` case (one-to-one).

    Only 协议内容, 履行情况 and 回访结果 are editable through a move's ``detail`` (the engine writes every editable
    field it is given); the rest is written by :mod:`civicgrid.disputes.services` and the procedure's handlers.
    """

    case = models.OneToOneField(
        Case, verbose_name="案件", on_delete=models.CASCADE, related_name="dispute_detail"
    )
    source = models.CharField("纠纷来源", max_length=12, choices=DisputeSource.choices, editable=False)
    police_station = models.CharField("移交派出所", max_length=60, blank=True, editable=False)
    police_ref = models.CharField("警情号", max_length=40, blank=True, editable=False)
    court_name = models.CharField("委派法院", max_length=60, blank=True, editable=False)
    linked_case = models.ForeignKey(
        Case,
        verbose_name="关联工单",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    dispute_type = models.ForeignKey(
        DisputeType, verbose_name="纠纷类型", on_delete=models.PROTECT, editable=False
    )
    org = models.ForeignKey(MediationOrg, verbose_name="调解组织", on_delete=models.PROTECT, editable=False)
    amount = models.DecimalField(
        "涉及金额（元）", max_digits=14, decimal_places=2, null=True, blank=True, editable=False
    )
    received_on = models.DateField("受理日期", db_index=True, editable=False)
    ended_on = models.DateField("调解终结日期", null=True, blank=True, db_index=True, editable=False)
    outcome = models.CharField("调解结果", max_length=12, choices=Outcome.choices, blank=True, editable=False)
    agreement_terms = models.TextField("协议内容", blank=True)
    agreement_no = models.CharField("协议书编号", max_length=30, blank=True, editable=False)
    fulfilment = models.CharField("履行情况", max_length=10, choices=Fulfilment.choices, blank=True)
    followup_on = models.DateField("回访日期", null=True, blank=True, editable=False)
    followup_result = models.CharField("回访结果", max_length=300, blank=True)
    ledger_no = models.CharField("原台账编号", max_length=40, blank=True, db_index=True, editable=False)

    # free text that names the parties: shown (masked for those without 人民调解权限) on the 纠纷 page, not on the
    # generic case page, which masks nothing
    DETAIL_HIDDEN = ("agreement_terms", "followup_result", "ledger_no")

    class Meta:
        verbose_name = "纠纷明细"
        verbose_name_plural = "纠纷明细"

    def __str__(self):
        return f"{self.case_id}: {self.dispute_type_id}"


class Party(models.Model):
    """当事人 of a dispute. Name and contact are shown in full only to the 调解 desk
    (``Capability.DISPUTE_MEDIATE``); everyone else sees them masked."""

    dispute = models.ForeignKey(
        DisputeDetail, verbose_name="纠纷", on_delete=models.CASCADE, related_name="parties"
    )
    role = models.CharField("身份", max_length=12, choices=PartyRole.choices)
    name = models.CharField("姓名/名称", max_length=60)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    address = models.CharField("住址", max_length=150, blank=True)

    class Meta:
        verbose_name = "当事人"
        verbose_name_plural = "当事人"
        ordering = ["dispute", "pk"]

    def __str__(self):
        return f"{self.get_role_display()}"


class MediationSession(models.Model):
    """一次调解 (date, mediators, what happened)."""

    dispute = models.ForeignKey(
        DisputeDetail, verbose_name="纠纷", on_delete=models.CASCADE, related_name="sessions"
    )
    held_on = models.DateField("调解日期")
    mediators = models.CharField("调解员", max_length=100)
    notes = models.TextField("调解情况")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("录入时间", default=clock.now)

    class Meta:
        verbose_name = "调解记录"
        verbose_name_plural = "调解记录"
        ordering = ["dispute", "held_on", "pk"]

    def __str__(self):
        return f"{self.held_on:%Y-%m-%d}"
