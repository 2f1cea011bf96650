"""The case engine's data: categories (GB/T 47678.5 + 街道 classes), cases, their timeline, attachments,
extension requests, in-app notifications, and the small bookkeeping tables (daily number counter, job lock).

Writes go through :mod:`civicgrid.cases.services`; reads through :mod:`civicgrid.cases.selectors`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from civicgrid.core import clock
from civicgrid.core.choices import ColoredChoices, DeadlineUnit, Light  # noqa: F401 (re-exported)
from civicgrid.core.scoping import RestrictedQuerySet

# --- choice sets ----------------------------------------------------------------------------------


class CaseState(ColoredChoices):
    REPORTED = "reported", ("上报", "secondary")
    ACCEPTED = "accepted", ("已立案待派遣", "primary")
    REJECTED = "rejected", ("不予受理", "dark")
    DISPATCHED = "dispatched", ("已派遣待签收", "info")
    HANDLING = "handling", ("处置中", "warning")
    HANDLED = "handled", ("处置完成待核查", "info")
    VERIFIED = "verified", ("核查通过待结案", "primary")
    CLOSED = "closed", ("已结案", "success")
    RATED = "rated", ("已回访", "success")
    SUSPENDED = "suspended", ("挂账", "secondary")
    VOIDED = "voided", ("作废", "dark")
    MERGED = "merged", ("已合并", "dark")


# the state groups (open / closed / terminal / done / paused) are the procedure's: civicgrid.cases.procedures


class Source(ColoredChoices):
    GRID_PATROL = "grid_patrol", ("网格员巡查", "success")
    HOTLINE_12345 = "hotline_12345", ("12345热线", "primary")
    RESIDENT = "resident", ("居民随手拍", "info")
    LEADER = "leader", ("领导交办", "danger")
    MEDIA = "media", ("媒体舆情", "warning")
    PETITION = "petition", ("信访", "warning")
    DISPATCHER = "dispatcher", ("指挥中心受理", "primary")
    OPEN311 = "open311", ("Open311 对接", "info")
    OTHER = "other", ("其他", "secondary")


class Priority(ColoredChoices):
    NORMAL = "normal", ("普通", "secondary")
    URGENT = "urgent", ("紧急", "warning")
    CRITICAL = "critical", ("特急", "danger")


PRIORITY_ORDER = [Priority.NORMAL, Priority.URGENT, Priority.CRITICAL]


class Stage(ColoredChoices):
    DISPATCH = "dispatch", ("派遣时限", "primary")
    HANDLE = "handle", ("处置时限", "warning")
    VERIFY = "verify", ("核查结案时限", "info")


class Rating(ColoredChoices):
    SATISFIED = "satisfied", ("满意", "success")
    BASIC = "basic", ("基本满意", "info")
    DISSATISFIED = "dissatisfied", ("不满意", "danger")


class CategoryKind(ColoredChoices):
    COMPONENT = "component", ("管理部件", "info")
    MATTER = "matter", ("管理事项", "primary")
    STREET = "street", ("街道事项", "success")


class CategoryLevel(models.TextChoices):
    MAJOR = "major", "大类"
    MINOR = "minor", "小类"


# --- categories -----------------------------------------------------------------------------------


class Category(models.Model):
    """A 大类 or 小类 of 管理部件 / 管理事项 (GB/T 47678.5) or of the 街道's own matters (9xxxx).

    ``code`` is unique across kinds: the standard reuses 01001… for both 部件 and 事项, so ``code`` is the kind
    letter + the standard code (``B01001`` 部件, ``S06010`` 事项, ``J91001`` 街道事项; 大类 ``B01``/``S06``/``J91``) and
    ``std_code`` keeps the bare code of the standard.
    """

    parent = models.ForeignKey(
        "self",
        verbose_name="所属大类",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.CharField("层级", max_length=8, choices=CategoryLevel.choices, default=CategoryLevel.MINOR)
    code = models.CharField("分类编码", max_length=12, unique=True)
    std_code = models.CharField("标准编码", max_length=8, db_index=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=12, choices=CategoryKind.choices, db_index=True)
    synonyms = models.CharField("同义词", max_length=300, blank=True, help_text="以 | 分隔")
    default_department = models.ForeignKey(
        "accounts.Department",
        verbose_name="默认处置部门",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="default_categories",
    )
    default_department_code = models.CharField(
        "默认处置部门编码", max_length=32, blank=True, help_text="种子数据中的部门编码，部门建立后自动关联"
    )
    priority = models.CharField(
        "默认紧急程度", max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    accept_condition = models.TextField("立案条件", blank=True)
    close_condition = models.TextField("结案条件", blank=True)
    dispatch_limit_amount = models.PositiveIntegerField("派遣时限", default=2)
    dispatch_limit_unit = models.CharField(
        "派遣时限单位", max_length=16, choices=DeadlineUnit.choices, default=DeadlineUnit.WORKING_HOURS
    )
    handle_limit_amount = models.PositiveIntegerField("处置时限", default=3)
    handle_limit_unit = models.CharField(
        "处置时限单位", max_length=16, choices=DeadlineUnit.choices, default=DeadlineUnit.WORKING_DAYS
    )
    verify_limit_amount = models.PositiveIntegerField("核查结案时限", default=1)
    verify_limit_unit = models.CharField(
        "核查结案时限单位", max_length=16, choices=DeadlineUnit.choices, default=DeadlineUnit.WORKING_DAYS
    )
    is_enabled = models.BooleanField("启用", default=True)
    grid_worker_can_file = models.BooleanField("网格员可自行立案", default=False)
    is_public = models.BooleanField(
        "对外公开",
        default=False,
        help_text="勾选后，该分类出现在 Open311 服务目录中，其工单（已脱敏）可经 Open311 公开查询；"
        "大类未勾选时其下小类均不公开。信访、矛盾纠纷、民生救助等涉及个人的分类不要勾选",
    )
    sort = models.PositiveIntegerField("排序", default=0)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "案件分类"
        verbose_name_plural = "案件分类"
        ordering = ["kind", "sort", "code"]

    def __str__(self):
        return f"{self.std_code} {self.name}"

    def limit_for(self, stage: str) -> tuple[int, str]:
        return getattr(self, f"{stage}_limit_amount"), getattr(self, f"{stage}_limit_unit")

    @property
    def synonym_list(self) -> list[str]:
        return [s for s in self.synonyms.split("|") if s]


# --- cases ----------------------------------------------------------------------------------------


class CaseNumberCounter(models.Model):
    """One row per Asia/Shanghai day; ``last`` is the last sequence handed out (locked with select_for_update)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "案件编号计数器"
        verbose_name_plural = "案件编号计数器"

    def __str__(self):
        return f"{self.day:%Y%m%d}: {self.last}"


class Case(models.Model):
    number = models.CharField("案件编号", max_length=16, null=True, blank=True)  # unique: see Meta
    title = models.CharField("标题", max_length=200, blank=True)
    description = models.TextField("问题描述")
    source = models.CharField("来源", max_length=20, choices=Source.choices)
    source_ref = models.CharField("来源编号", max_length=100, blank=True)
    category = models.ForeignKey(
        Category,
        verbose_name="分类",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    priority = models.CharField("紧急程度", max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    # the 办理程序 (civicgrid.cases.procedures): its states, moves and stages; ``state`` and ``stage`` hold the
    # procedure's own values (no fixed choices: each procedure labels them)
    procedure = models.CharField("办理程序", max_length=24, default="standard", db_index=True)
    state = models.CharField("状态", max_length=16, default=CaseState.REPORTED)
    version = models.PositiveIntegerField("版本", default=1)
    suspended_from = models.CharField("挂账前状态", max_length=16, blank=True)
    returned = models.BooleanField("被退回待改派", default=False)

    # where
    lng = models.FloatField("经度", null=True, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name="网格",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    community = models.ForeignKey(
        "places.Community",
        verbose_name="社区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    # the 街道 the case belongs to (the tier it is scoped by): from its grid/community, else the creating
    # account's / channel's 街道; kept in step by relocate and import updates (cases.services only)
    street = models.ForeignKey(
        "places.Street",
        verbose_name="街道",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )

    # who
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name="当前处置部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    past_departments = models.ManyToManyField(
        "accounts.Department",
        verbose_name="曾派遣部门",
        blank=True,
        related_name="past_cases",
        through="CaseDepartment",
    )
    reporter_name = models.CharField("反映人", max_length=50, blank=True)
    reporter_phone = models.CharField("反映人电话", max_length=30, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="created_cases",
    )
    idempotency_key = models.CharField("幂等键", max_length=100, null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name="合并到",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )

    # outcome
    rating = models.CharField("回访评价", max_length=16, choices=Rating.choices, blank=True)
    redo_count = models.PositiveSmallIntegerField("重办次数", default=0)
    rework_count = models.PositiveSmallIntegerField("返工次数", default=0)
    supervise_count = models.PositiveSmallIntegerField("督办次数", default=0)
    handling_feedback = models.TextField("处置反馈", blank=True)

    # current stage clock (see civicgrid.cases.deadlines)
    stage = models.CharField("当前时限环节", max_length=10, blank=True)
    clock_started_at = models.DateTimeField("计时开始", null=True, blank=True)
    limit_amount = models.PositiveIntegerField("时限", null=True, blank=True)
    limit_unit = models.CharField("时限单位", max_length=16, choices=DeadlineUnit.choices, blank=True)
    extension_amount = models.PositiveIntegerField("已批准延期", default=0)
    budget_seconds = models.FloatField("时限(计时秒)", null=True, blank=True)
    paused_measure_seconds = models.FloatField("挂账累计(计时秒)", default=0)
    paused_since = models.DateTimeField("挂账开始", null=True, blank=True)
    due_at = models.DateTimeField("到期时间", null=True, blank=True, db_index=True)
    due_provisional = models.BooleanField("到期时间待定（日历未覆盖）", default=False)
    light = models.CharField("亮灯", max_length=8, choices=Light.choices, blank=True)
    last_notified_light = models.CharField("已通知亮灯", max_length=8, blank=True)
    is_overdue = models.BooleanField("曾超时", default=False)

    # when
    occurred_at = models.DateTimeField("发生时间", null=True, blank=True)
    created_at = models.DateTimeField("上报时间", default=clock.now, db_index=True)
    accepted_at = models.DateTimeField("立案时间", null=True, blank=True)
    dispatched_at = models.DateTimeField("派遣时间", null=True, blank=True)
    handled_at = models.DateTimeField("处置完成时间", null=True, blank=True)
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "案件"
        verbose_name_plural = "案件"
        ordering = ["-created_at", "-id"]
        constraints = [
            # a constraint, not unique=True: PostgreSQL would add a second (LIKE) index that no query uses
            models.UniqueConstraint(fields=["number"], name="cases_case_number_unique"),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="cases_case_idempotency_unique",
            ),
        ]
        # Every index is paid for on each insert (intake and import are write-heavy), so only these: no
        # single-column indexes on low-cardinality columns and no LIKE (varchar_pattern_ops) twins.
        indexes = [
            models.Index(fields=["state", "light"], name="cases_case_state_light"),
            models.Index(fields=["light"], name="cases_case_light"),
            models.Index(fields=["source", "source_ref"], name="cases_case_source_ref"),
        ]

    def __str__(self):
        return self.number or f"待受理#{self.pk}"

    @property
    def display_number(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        from civicgrid.cases import procedures

        return self.state in procedures.for_case(self).open

    def get_state_display(self) -> str:
        from civicgrid.cases import procedures

        return procedures.for_case(self).state_label(self.state)

    def get_state_color(self) -> str:
        from civicgrid.cases import procedures

        return procedures.for_case(self).state_color(self.state)

    def get_stage_display(self) -> str:
        from civicgrid.cases import procedures

        return procedures.for_case(self).stage_label(self.stage) if self.stage else ""

    def get_procedure_display(self) -> str:
        from civicgrid.cases import procedures

        return procedures.for_case(self).label


class CaseDepartment(models.Model):
    """Every department a case was ever dispatched to. A department keeps read access to a case it returned
    until the case is assigned to another department (派遣/改派 elsewhere): then ``revoked_at`` is set and it no
    longer sees the case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="department_links")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    first_assigned_at = models.DateTimeField(default=clock.now)
    revoked_at = models.DateTimeField("失去查看权限时间", null=True, blank=True)

    class Meta:
        verbose_name = "案件派遣部门"
        verbose_name_plural = "案件派遣部门"
        constraints = [models.UniqueConstraint(fields=["case", "department"], name="cases_casedept_unique")]

    def __str__(self):
        return f"{self.case_id} → {self.department_id}"


class AppendOnlyEventQuerySet(RestrictedQuerySet):
    def update(self, **kwargs):
        raise PermissionError("案件流转记录只能追加 (case timeline is append-only)")


class CaseEvent(models.Model):
    """One timeline entry per move (append-only)."""

    # no index of its own: the unique (case, seq) index starts with it
    case = models.ForeignKey(
        Case, verbose_name="案件", on_delete=models.CASCADE, related_name="events", db_index=False
    )
    seq = models.PositiveIntegerField("序号")
    move = models.CharField("动作", max_length=24)
    from_state = models.CharField("原状态", max_length=16, blank=True)
    to_state = models.CharField("新状态", max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField("操作人姓名", max_length=150, blank=True)
    actor_role = models.CharField("操作人角色", max_length=32, blank=True)
    at = models.DateTimeField("时间", default=clock.now)
    note = models.TextField("说明", blank=True)
    data = models.JSONField("数据", default=dict, blank=True, encoder=DjangoJSONEncoder)
    clock = models.JSONField("时限快照", default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = AppendOnlyEventQuerySet.as_manager()

    class Meta:
        verbose_name = "案件流转记录"
        verbose_name_plural = "案件流转记录"
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="cases_event_seq_unique")]

    def __str__(self):
        return f"{self.case_id}#{self.seq} {self.move}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("案件流转记录只能追加 (case timeline is append-only)")
        super().save(*args, **kwargs)


class AttachmentKind(models.TextChoices):
    BEFORE = "before", "处置前"
    AFTER = "after", "处置后"
    OTHER = "other", "其他"


class Attachment(models.Model):
    """An uploaded photo; the file lives under MEDIA_ROOT at a content-addressed (sha256) path."""

    case = models.ForeignKey(
        Case, verbose_name="案件", null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    event = models.ForeignKey(
        CaseEvent,
        verbose_name="流转记录",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    kind = models.CharField(
        "类型", max_length=8, choices=AttachmentKind.choices, default=AttachmentKind.OTHER
    )
    file = models.FileField("文件", max_length=200)
    thumbnail = models.FileField("缩略图", max_length=200, blank=True)
    original_name = models.CharField("原文件名", max_length=200, blank=True)
    content_type = models.CharField("类型", max_length=50)
    size = models.PositiveIntegerField("大小")
    sha256 = models.CharField(max_length=64, db_index=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("上传时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.original_name or self.sha256[:12]


class ExtensionStatus(ColoredChoices):
    PENDING = "pending", ("待审批", "warning")
    APPROVED = "approved", ("已批准", "success")
    DENIED = "denied", ("未批准", "danger")


class ExtensionRequest(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extension_requests")
    # the stage code of the case's procedure (its StageRule codes; the standard procedure's are Stage)
    stage = models.CharField("环节", max_length=10)
    amount = models.PositiveIntegerField("延期时长")
    unit = models.CharField("单位", max_length=16, choices=DeadlineUnit.choices)
    reason = models.TextField("理由")
    status = models.CharField(
        "状态", max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=clock.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="cases_one_pending_extension"
            )
        ]

    def __str__(self):
        return f"{self.case_id} +{self.amount} {self.unit} ({self.status})"

    def get_stage_display(self) -> str:
        """The stage's label in the case's procedure (``stage`` has no choices: any procedure's codes)."""
        from civicgrid.cases import procedures

        return procedures.for_case(self.case).stage_label(self.stage) if self.stage else ""


class NotificationKind(ColoredChoices):
    DISPATCHED = "dispatched", ("新派遣", "info")
    YELLOW = "yellow", ("即将超时", "warning")
    RED = "red", ("已超时", "danger")
    SUPERVISE = "supervise", ("督办", "danger")
    EXTENSION_REQUEST = "extension_request", ("延期申请", "warning")
    EXTENSION_DECIDED = "extension_decided", ("延期审批结果", "info")
    RETURNED = "returned", ("退回", "warning")
    REWORK = "rework", ("返工", "warning")
    REASSIGNED = "reassigned", ("已改派", "secondary")
    WARNING = "warning", ("预警", "warning")


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接收人",
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    case = models.ForeignKey(
        Case,
        verbose_name="案件",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField("类型", max_length=24, choices=NotificationKind.choices)
    text = models.CharField("内容", max_length=300)
    created_at = models.DateTimeField("时间", default=clock.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "站内通知"
        verbose_name_plural = "站内通知"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="cases_notif_user_read")]

    def __str__(self):
        return self.text
