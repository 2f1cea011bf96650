from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from civicgrid.core import clock
from civicgrid.core.choices import ColoredChoices
from civicgrid.core.scoping import RestrictedQuerySet


class AppendOnlyQuerySet(RestrictedQuerySet):
    def update(self, **kwargs):
        raise PermissionError("审计日志只能追加，不能修改 (audit log is append-only)")

    def delete(self):
        raise PermissionError("审计日志只能追加，不能删除 (audit log is append-only)")


class AuditLog(models.Model):
    """One row per write: who, when, what, before/after. Append-only (also enforced by DB triggers)."""

    at = models.DateTimeField("时间", default=clock.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_username = models.CharField("操作人账号", max_length=150, blank=True)
    actor_role = models.CharField("操作人角色", max_length=32, blank=True)
    action = models.CharField("动作", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    before = models.JSONField("修改前", null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField("修改后", null=True, blank=True, encoder=DjangoJSONEncoder)
    note = models.TextField("说明", blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    # hash chains (see civicgrid.core.auditchain): the chain, its gap-free sequence, previous row's hash, this row's
    # hash
    chain = models.PositiveSmallIntegerField("链", default=1, db_default=1)
    seq = models.PositiveBigIntegerField("链序号", null=True, blank=True)
    prev_hash = models.CharField("前一条哈希", max_length=64, blank=True)
    row_hash = models.CharField("本条哈希", max_length=64, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-at", "-id"]
        default_permissions = ("view",)
        # one index for "the history of this object" instead of four (two columns, each with a LIKE twin)
        indexes = [models.Index(fields=["object_type", "object_id"], name="core_audit_object")]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="core_auditlog_chain_seq")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("审计日志只能追加，不能修改 (audit log is append-only)")
        from civicgrid.core import auditchain

        auditchain.append(self)  # every new row joins the hash chain

    def delete(self, *args, **kwargs):
        raise PermissionError("审计日志只能追加，不能删除 (audit log is append-only)")


class AuditChainHead(models.Model):
    """The anchor of one audit hash chain: its last sequence number and hash. Kept apart from the log so that
    cutting rows off the end of the log is detectable (``civicgrid audit verify``). One row per chain, pk = the
    chain's number (1 … :data:`civicgrid.core.auditchain.CHAINS`)."""

    seq = models.PositiveBigIntegerField("最后序号", default=0)
    hash = models.CharField("最后哈希", max_length=64)

    class Meta:
        verbose_name = "审计链锚点"
        verbose_name_plural = "审计链锚点"
        default_permissions = ()

    def __str__(self):
        return f"#{self.seq} {self.hash[:12]}"


class RateCounter(models.Model):
    """Shared rate-limit counters (see :mod:`civicgrid.core.ratelimit`): one row per key and time slice, bumped
    with an atomic upsert so every app-server process counts against the same number."""

    key = models.CharField("键", max_length=100)
    bucket = models.BigIntegerField("时间片")
    count = models.IntegerField("次数", default=0)
    expires_at = models.DateTimeField("过期时间", db_index=True)

    class Meta:
        verbose_name = "频率计数"
        verbose_name_plural = "频率计数"
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["key", "bucket"], name="core_ratecounter_key_bucket")]

    def __str__(self):
        return f"{self.key}@{self.bucket}={self.count}"


class CacheRevision(models.Model):
    """A named counter that moves whenever the data behind a per-process cache changes (see
    :mod:`civicgrid.core.revisions`): every app server compares it with the revision its copy was built at."""

    name = models.CharField("名称", max_length=40, primary_key=True)
    revision = models.PositiveBigIntegerField("版本", default=0)

    class Meta:
        verbose_name = "缓存版本"
        verbose_name_plural = "缓存版本"

    def __str__(self):
        return f"{self.name} {self.revision}"


# --- working-time calendar (see civicgrid.core.workcalendar) -------------------------------------------
# ``updated_at`` uses the real wall clock (auto_now), not ``clock.now``: it is the cache version other app
# servers compare, so it must move forward even while a test has frozen the platform clock.


class CalendarYear(models.Model):
    """A year whose State Council holiday notice an admin has entered (as CalendarOverride rows) and confirmed.

    A year is *covered* when chinesecalendar ships its data or a confirmed row exists here; uncovered years are
    computed with weekends only and every deadline touching them is marked 暂定.
    """

    year = models.PositiveSmallIntegerField(
        "年份",
        primary_key=True,
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
    )
    confirmed = models.BooleanField(
        "已确认",
        default=False,
        help_text="已按国务院办公厅通知录入本年全部放假和调休上班日期后勾选；未确认的年份按周末推算并标记为“暂定”。",
    )
    notice = models.TextField(
        "通知",
        blank=True,
        help_text="例如：国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕×号）",
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "工作日历年度"
        verbose_name_plural = "工作日历年度"
        ordering = ["-year"]

    def __str__(self):
        return f"{self.year} 年{'（已确认）' if self.confirmed else '（未确认）'}"


class CalendarOverride(models.Model):
    """One day whose working status an admin sets by hand. Wins over chinesecalendar and the weekend rule."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("上班", help_text="勾选表示当天上班（如调休上班），不勾选表示放假")
    name = models.CharField("名称", max_length=50, blank=True, help_text="例如：春节、国庆节、调休上班")
    note = models.TextField("备注", blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "工作日历调整"
        verbose_name_plural = "工作日历调整"
        ordering = ["date"]

    def __str__(self):
        status = "上班" if self.is_workday else "放假"
        return f"{self.date:%Y-%m-%d} {status}{f' {self.name}' if self.name else ''}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class BackgroundJob(models.Model):
    """What :mod:`civicgrid.core.background` keeps on every job it runs (imports, exports): when it started and
    finished, the running worker's heartbeat and token."""

    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("最近心跳", null=True, blank=True)
    runner = models.CharField("运行进程", max_length=32, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_stale(self) -> bool:
        """Running, but its worker has not been heard of for a while (it was killed)."""
        from civicgrid.core.background import is_stale

        return is_stale(self)


# --- imports (see civicgrid.core.importer) -------------------------------------------------------------


class ImportStatus(ColoredChoices):
    DRAFT = "draft", ("待确认", "secondary")
    QUEUED = "queued", ("排队中", "info")
    RUNNING = "running", ("导入中", "primary")
    DONE = "done", ("已完成", "success")
    PARTIAL = "partial", ("已完成（有错误行）", "warning")
    FAILED = "failed", ("失败", "danger")


IMPORT_FINISHED = frozenset({ImportStatus.DONE, ImportStatus.PARTIAL, ImportStatus.FAILED})


class ImportJobBase(BackgroundJob):
    """What :mod:`civicgrid.core.importer` keeps on every import job: the stored file, its header and mapping,
    the counters, the checkpoint (last committed row) and the error report. Concrete models: the 12345 import's
    ``intake.ImportJob`` and core's :class:`ImportRun` for every other :class:`~civicgrid.core.importer.ImportSpec`."""

    status = models.CharField(
        "状态", max_length=10, choices=ImportStatus.choices, default=ImportStatus.DRAFT, db_index=True
    )
    original_name = models.CharField("原文件名", max_length=200)
    file_path = models.CharField("文件路径", max_length=300, help_text="相对于 DATA_DIR 的路径")
    file_format = models.CharField("格式", max_length=8)  # xlsx | xls | csv
    encoding = models.CharField("编码", max_length=20, blank=True)
    file_size = models.PositiveBigIntegerField("文件大小", default=0)
    header_row = models.PositiveIntegerField("表头所在行", default=0, help_text="0 = 第一个非空行")
    head_rows = models.JSONField(
        "文件前几行", default=list, help_text="[[行号, [单元格文本…]], …]，供选择表头行"
    )
    headers = models.JSONField("表头", default=list)
    mapping = models.JSONField("字段对应", default=dict)

    total = models.PositiveIntegerField("总行数", default=0)
    processed = models.PositiveIntegerField("已处理", default=0)
    succeeded = models.PositiveIntegerField("成功", default=0)
    created_count = models.PositiveIntegerField("新建", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("未变化", default=0)
    failed = models.PositiveIntegerField("失败", default=0)
    warning_count = models.PositiveIntegerField("有提示", default=0)
    checkpoint_row = models.PositiveIntegerField("已提交到第几行", default=0)
    message = models.TextField("说明", blank=True)
    error_report_path = models.CharField("错误报告", max_length=300, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("上传时间", default=clock.now)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in IMPORT_FINISHED

    @property
    def percent(self) -> int:
        if self.status in (ImportStatus.DONE, ImportStatus.PARTIAL):
            return 100
        if not self.total:
            return 0
        return min(100, int(self.processed * 100 / self.total))

    def get_status_color(self) -> str:
        return ImportStatus(self.status).color


class ImportRowErrorBase(models.Model):
    """One reported row of an import job: rejected (``error``) or imported with a cell ignored (``warning``)."""

    row_number = models.PositiveIntegerField("行号")
    reason = models.TextField("原因")
    kind = models.CharField(
        "类型", max_length=8, choices=[("error", "错误"), ("warning", "提示")], default="error"
    )

    class Meta:
        abstract = True

    def __str__(self):
        return f"第{self.row_number}行 {self.source_ref}：{self.reason}"


class ImportRun(ImportJobBase):
    """An import job of any :class:`~civicgrid.core.importer.ImportSpec` that has no job table of its own."""

    spec = models.CharField("导入类型", max_length=60, db_index=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "数据导入任务"
        verbose_name_plural = "数据导入任务"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"导入#{self.pk} {self.original_name}"


class ImportRunError(ImportRowErrorBase):
    job = models.ForeignKey(
        ImportRun, verbose_name="导入任务", on_delete=models.CASCADE, related_name="errors"
    )
    source_ref = models.CharField("编号", max_length=100, blank=True)

    class Meta:
        verbose_name = "数据导入错误行"
        verbose_name_plural = "数据导入错误行"
        ordering = ["job", "row_number", "id"]


class ImportLedger(models.Model):
    """The idempotency ledger of :mod:`civicgrid.core.importer`: one row per (spec, row key) → the object it
    became and a hash of the row, so re-importing the same file changes nothing and a changed row updates."""

    spec = models.CharField("导入类型", max_length=60)
    key = models.CharField("行键", max_length=200)
    object_id = models.CharField("对象", max_length=64, blank=True)
    row_hash = models.CharField("内容摘要", max_length=32)
    job = models.ForeignKey(
        ImportRun, verbose_name="最近导入任务", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField("导入时间", default=clock.now)

    class Meta:
        verbose_name = "导入台账"
        verbose_name_plural = "导入台账"
        constraints = [models.UniqueConstraint(fields=["spec", "key"], name="core_importledger_spec_key")]

    def __str__(self):
        return f"{self.spec}:{self.key} → {self.object_id}"


class ExportJob(BackgroundJob):
    """A large spreadsheet export made in the background (see :mod:`civicgrid.core.exports`); only the user who
    asked for it sees it and may download the file."""

    kind = models.CharField("导出内容", max_length=40)
    params = models.JSONField("筛选条件", default=list, help_text="[[参数, 值], …]（请求中的查询参数）")
    status = models.CharField(
        "状态", max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED, db_index=True
    )
    total = models.PositiveIntegerField("总行数", default=0)
    processed = models.PositiveIntegerField("已写入", default=0)
    file_path = models.CharField("文件路径", max_length=300, blank=True, help_text="相对于 DATA_DIR 的路径")
    file_name = models.CharField("下载文件名", max_length=200, blank=True)
    message = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导出人", on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField("申请时间", default=clock.now)

    class Meta:
        verbose_name = "导出任务"
        verbose_name_plural = "导出任务"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"导出#{self.pk} {self.kind}"

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, int(self.processed * 100 / self.total))


class Heartbeat(models.Model):
    """The last sign of life of a background runner (``job-runner``: the periodic jobs), for ``/readyz`` and
    ``/metrics``. Uses the real wall clock: it tells about real processes, even while a test freezes the clock."""

    name = models.CharField("名称", max_length=40, primary_key=True)
    beat_at = models.DateTimeField("最近心跳")
    owner = models.CharField("进程", max_length=100, blank=True)

    class Meta:
        verbose_name = "后台任务心跳"
        verbose_name_plural = "后台任务心跳"

    def __str__(self):
        return f"{self.name} {self.beat_at:%Y-%m-%d %H:%M:%S}"


class JobLock(models.Model):
    """A named lease for one periodic job (see :mod:`civicgrid.core.periodic`): a runner claims a round with an
    atomic ``UPDATE … WHERE name = ? AND locked_until < now AND next_run_at <= now``, so one runner at a time
    across all servers does the work, and a runner that died frees the lease when ``locked_until`` passes.
    Uses the real wall clock: it guards real processes, even while a test freezes the platform clock."""

    name = models.CharField("任务", max_length=50, primary_key=True)
    owner = models.CharField("持有者", max_length=100, blank=True)
    locked_until = models.DateTimeField("锁定至")
    last_run_at = models.DateTimeField("上次运行", null=True, blank=True)
    next_run_at = models.DateTimeField("下次运行", null=True, blank=True)

    class Meta:
        verbose_name = "定时任务锁"
        verbose_name_plural = "定时任务锁"

    def __str__(self):
        return self.name
