"""工作总结: Word templates, reports (a 街道 or a 区 + a period + a template + what staff typed) and their versions
(the figures' snapshot and the rendered document)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from civicgrid.core import zhnum
from civicgrid.core.scoping import RestrictedQuerySet
from civicgrid.places.models import District, Street


class Rounding(models.TextChoices):
    HALF_UP = zhnum.HALF_UP, "四舍五入"
    TRUNCATE = zhnum.TRUNCATE, "截尾（如 180/183 → 98.3%）"


class ReportTemplate(models.Model):
    """A Word template uploaded by staff (docxtpl placeholders) for the reports of one 街道, or for the whole-区
    reports of a 区 (exactly one is set). Never edited in place: a new upload of the same name retires the old
    one, so every version can be rendered again from the template it was drafted with."""

    street = models.ForeignKey(
        Street, verbose_name="街道", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        District, verbose_name="区", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="全区工作总结的模板",
    )  # fmt: skip
    name = models.CharField("名称", max_length=100)
    content = models.BinaryField("模板文件（.docx）")
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveIntegerField("大小（字节）")
    note = models.CharField("说明", max_length=200, blank=True)
    is_active = models.BooleanField("在用", default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    uploaded_at = models.DateTimeField("上传时间")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "工作总结模板"
        verbose_name_plural = "工作总结模板"
        ordering = ["street", "name", "-uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "name"],
                condition=models.Q(is_active=True),
                name="reports_template_active_name",
            ),
            models.UniqueConstraint(
                fields=["district", "name"],
                condition=models.Q(is_active=True),
                name="reports_template_active_district_name",
            ),
            models.CheckConstraint(
                condition=(models.Q(street__isnull=False) & models.Q(district__isnull=True))
                | (models.Q(street__isnull=True) & models.Q(district__isnull=False)),
                name="reports_template_street_xor_district",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def place(self) -> Street | District:
        """The 街道 (or, for the 区's reports, the 区) the template belongs to."""
        return self.street if self.street_id is not None else self.district


class Report(models.Model):
    """A report of one 街道, or of a whole 区 (its 街道 summed, with a per-街道 table): exactly one is set."""

    street = models.ForeignKey(
        Street, verbose_name="街道", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        District, verbose_name="区", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="全区报告：各街道合计",
    )  # fmt: skip
    start = models.DateField("统计起")
    end = models.DateField("统计止")
    rounding = models.CharField(
        "百分比取舍", max_length=10, choices=Rounding.choices, default=Rounding.HALF_UP
    )
    template = models.ForeignKey(
        ReportTemplate, verbose_name="模板", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="空：内置模板",
    )  # fmt: skip
    manual = models.JSONField("人工填写内容", default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="起草人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField("起草时间")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "工作总结"
        verbose_name_plural = "工作总结"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(street__isnull=False) & models.Q(district__isnull=True))
                | (models.Q(street__isnull=True) & models.Q(district__isnull=False)),
                name="reports_report_street_xor_district",
            )
        ]

    def __str__(self):
        return self.title

    @property
    def place(self) -> Street | District:
        """The 街道 or the 区 the report is of."""
        return self.street if self.street_id is not None else self.district

    @property
    def period_label(self) -> str:
        return zhnum.period_label(self.start, self.end)

    @property
    def title(self) -> str:
        return f"{self.place.name}{zhnum.title_period(self.start, self.end)}工作总结"


class ReportVersion(models.Model):
    report = models.ForeignKey(
        Report, verbose_name="工作总结", on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField("版本")
    snapshot = models.JSONField("数据快照")
    manual = models.JSONField("人工填写内容", default=dict)
    template = models.ForeignKey(
        ReportTemplate, verbose_name="模板", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    docx = models.BinaryField("Word 文档")
    sha256 = models.CharField("SHA-256", max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="生成人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField("生成时间")

    class Meta:
        verbose_name = "工作总结版本"
        verbose_name_plural = "工作总结版本"
        ordering = ["report", "-number"]
        constraints = [models.UniqueConstraint(fields=["report", "number"], name="reports_version_number")]

    def __str__(self):
        return f"{self.report} 第{self.number}版"
