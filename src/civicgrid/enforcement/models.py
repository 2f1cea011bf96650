"""综合执法案件台账 (行政处罚): the admin-editable 违法行为类型 and the detail record of an ``enforcement`` case.

A 执法案件 itself is a case of the ``enforcement`` procedure (:mod:`civicgrid.enforcement.workflow`);
:class:`EnforcementDetail` is its one-to-one detail record. The ledger dates (受理, 决定, 执行完毕, 结案) live on the
detail record: the procedure's handlers set them when the move is made, an import of an existing ledger sets them
from the sheet. The figures (:mod:`civicgrid.enforcement.metrics`) read these dates.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from civicgrid.cases.models import Case
from civicgrid.places.models import Street


class ViolationType(models.Model):
    """违法行为类型 (seeded: 违法建设, 占道经营, 乱堆乱放, 违规户外广告, 渣土, 噪声 …)."""

    code = models.SlugField("编码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=50)
    order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "违法行为类型"
        verbose_name_plural = "违法行为类型"
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class ProcedureKind(models.TextChoices):
    SIMPLE = "simple", "简易程序"
    GENERAL = "general", "一般程序"


class PartyKind(models.TextChoices):
    PERSON = "person", "公民"
    UNIT = "unit", "法人或其他组织"


class RightsResponse(models.TextChoices):
    NONE = "none", "未提出陈述申辩"
    STATEMENT = "statement", "已陈述申辩"
    HEARING = "hearing", "申请听证"


class EnforcementDetail(models.Model):
    """The 执法案件 detail record of an ``enforcement`` case (one-to-one).

    Editable through a move's ``detail``: 违法行为类型, 法律依据, 处罚内容, 决定书文号, 罚款金额, the quantities
    entered at 处置 (拆除面积, 拆除处数, 查处起数), 当事人意见 and 移送机关. The party, the source case, the
    ledger dates and the 延期 are set by :mod:`civicgrid.enforcement.services` and the procedure's handlers.
    """

    case = models.OneToOneField(
        Case, verbose_name="案件", on_delete=models.CASCADE, related_name="enforcement_detail"
    )
    street = models.ForeignKey(
        Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+", editable=False
    )
    violation_type = models.ForeignKey(
        ViolationType, verbose_name="违法行为类型", null=True, blank=True, on_delete=models.PROTECT
    )
    party_kind = models.CharField(
        "当事人类型", max_length=8, choices=PartyKind.choices, default=PartyKind.PERSON, editable=False
    )
    party_name = models.CharField("当事人", max_length=100, editable=False)
    party_contact = models.CharField("当事人联系电话", max_length=30, blank=True, editable=False)
    discovered_at = models.DateTimeField("发现时间", editable=False)
    procedure_kind = models.CharField(
        "适用程序", max_length=8, choices=ProcedureKind.choices, blank=True, editable=False
    )
    accepted_at = models.DateTimeField("受理时间（立案/当场处罚）", null=True, blank=True, editable=False)
    notified_at = models.DateTimeField("告知时间", null=True, blank=True, editable=False)
    decided_at = models.DateTimeField("决定时间", null=True, blank=True, editable=False)
    executed_at = models.DateTimeField("执行完毕时间", null=True, blank=True, editable=False)
    concluded_at = models.DateTimeField("结案时间", null=True, blank=True, editable=False)
    legal_basis = models.TextField("法律依据", blank=True)
    penalty = models.CharField("处罚内容", max_length=200, blank=True)
    decision_no = models.CharField("决定书文号", max_length=60, blank=True)
    fine_amount = models.DecimalField(
        "罚款金额（元）",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    demolished_area = models.DecimalField(
        "拆除违建面积（㎡）",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    demolished_sites = models.PositiveIntegerField("拆除违建处数", null=True, blank=True)
    incident_count = models.PositiveIntegerField("查处起数", null=True, blank=True)
    rights_response = models.CharField(
        "当事人意见", max_length=10, choices=RightsResponse.choices, blank=True
    )
    transferred_to = models.CharField("移送机关", max_length=100, blank=True)
    extended_days = models.PositiveSmallIntegerField("已延长办案期限（日）", default=0, editable=False)
    source_case = models.ForeignKey(
        Case,
        verbose_name="来源案件",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    external_ref = models.CharField("原台账编号", max_length=60, blank=True, editable=False)

    class Meta:
        verbose_name = "执法案件明细"
        verbose_name_plural = "执法案件明细"
        indexes = [models.Index(fields=["street", "external_ref"], name="enf_detail_street_ref")]

    def __str__(self):
        return f"{self.case_id}: {self.party_name}"
