"""Intake: imports of external case lists (the 12345 hotline export first).

- :class:`ImportMapping` a saved column mapping (target field → source column header) per source.
- :class:`ImportJob` one uploaded file and its background run (counters, timestamps, error report).
- :class:`ImportRowError` one rejected row of a job (row number, 工单编号, reason in Chinese).
- :class:`ImportedRecord` the idempotency ledger: one row per (source, source_ref) → the case it became, plus a
  hash of the row so an unchanged row in a re-imported file costs nothing.
- :class:`PlacementTask` an imported case whose address could not be placed in a grid, waiting for a dispatcher.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from civicgrid.core import clock
from civicgrid.core.choices import ColoredChoices
from civicgrid.core.models import IMPORT_FINISHED, ImportJobBase, ImportRowErrorBase, ImportStatus
from civicgrid.core.scoping import RestrictedQuerySet


class ImportSource(models.TextChoices):
    """Which row mapping (``civicgrid.intake.hotline`` …) a file goes through. Values match ``cases.Source``."""

    HOTLINE_12345 = "hotline_12345", "12345热线"


class ImportMapping(models.Model):
    name = models.CharField("名称", max_length=100)
    source = models.CharField("来源", max_length=20, choices=ImportSource.choices, db_index=True)
    mapping = models.JSONField("字段对应", default=dict, help_text="目标字段 → 源文件列名")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", default=clock.now)
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "导入字段对应方案"
        verbose_name_plural = "导入字段对应方案"
        ordering = ["source", "name"]
        constraints = [models.UniqueConstraint(fields=["source", "name"], name="intake_mapping_source_name")]

    def __str__(self):
        return f"{self.get_source_display()} · {self.name}"


JobStatus = ImportStatus  # the import job's states are core's (civicgrid.core.importer)
FINISHED_STATUSES = IMPORT_FINISHED


class ImportJob(ImportJobBase):
    """One uploaded 12345 file and its background run; the generic fields are core's (:class:`ImportJobBase`)."""

    source = models.CharField(
        "来源", max_length=20, choices=ImportSource.choices, default=ImportSource.HOTLINE_12345
    )
    placement_count = models.PositiveIntegerField("待定位", default=0)

    class Meta:
        verbose_name = "导入任务"
        verbose_name_plural = "导入任务"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"导入#{self.pk} {self.original_name}"


class ImportRowError(ImportRowErrorBase):
    job = models.ForeignKey(
        ImportJob, verbose_name="导入任务", on_delete=models.CASCADE, related_name="errors"
    )
    source_ref = models.CharField("工单编号", max_length=100, blank=True)

    class Meta:
        verbose_name = "导入错误行"
        verbose_name_plural = "导入错误行"
        ordering = ["job", "row_number", "id"]


class ImportedRecord(models.Model):
    """Ledger: which case a (source, source_ref) became. The unique constraint is what makes re-imports safe."""

    source = models.CharField("来源", max_length=20)
    source_ref = models.CharField("来源编号", max_length=100, db_index=True)
    case = models.ForeignKey("cases.Case", verbose_name="案件", on_delete=models.CASCADE, related_name="+")
    row_hash = models.CharField("内容摘要", max_length=32)
    job = models.ForeignKey(
        ImportJob, verbose_name="最近导入任务", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField("导入时间", default=clock.now)

    class Meta:
        verbose_name = "已导入工单"
        verbose_name_plural = "已导入工单"
        constraints = [
            models.UniqueConstraint(fields=["source", "source_ref"], name="intake_record_source_ref_unique")
        ]

    def __str__(self):
        return f"{self.source}:{self.source_ref} → {self.case_id}"


class PlacementStatus(ColoredChoices):
    OPEN = "open", ("待定位", "warning")
    PLACED = "placed", ("已定位", "success")


class PlacementTask(models.Model):
    """An imported case whose 事发地址 matched no building/grid: a dispatcher places it on the map."""

    case = models.ForeignKey("cases.Case", verbose_name="案件", on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(
        ImportJob, verbose_name="导入任务", null=True, on_delete=models.SET_NULL, related_name="placements"
    )
    address = models.CharField("事发地址", max_length=200, blank=True)
    # an open 工单 waits here unaccepted; placing it 立案 and dispatches it to this department with this limit
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name="待派遣部门",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    limit_amount = models.PositiveIntegerField("办理时限", null=True, blank=True)
    limit_unit = models.CharField("时限单位", max_length=16, blank=True)
    status = models.CharField(
        "状态", max_length=8, choices=PlacementStatus.choices, default=PlacementStatus.OPEN, db_index=True
    )
    created_at = models.DateTimeField("创建时间", default=clock.now)
    placed_at = models.DateTimeField("定位时间", null=True, blank=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="定位人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "待定位工单"
        verbose_name_plural = "待定位工单"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="open"), name="intake_placement_one_open_per_case"
            )
        ]

    def __str__(self):
        return f"待定位 {self.case_id} {self.address}"
