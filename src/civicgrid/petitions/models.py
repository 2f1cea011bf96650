"""信访台账 (信访工作条例, 2022): the 信访 detail record of a ``petition`` case, the 信访办 desk register, 协查任务
given to a 网格员, and the 来访接待 register.

A 信访 itself is a case of the ``petition`` procedure (:mod:`civicgrid.petitions.workflow`);
:class:`PetitionDetail` is its one-to-one detail record. Who sees a 信访 is decided by the procedure's visibility
rule (:func:`civicgrid.petitions.selectors.visibility`): the 信访办 (:class:`DeskMember`), leaders, the case's
包案领导, a department only while the case is assigned to it, a 网格员 only with a :class:`PetitionTask` on it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from civicgrid.cases.models import Case
from civicgrid.core import clock
from civicgrid.core.scoping import RestrictedQuerySet
from civicgrid.places.models import Street


class PetitionForm(models.TextChoices):
    LETTER = "letter", "来信"
    VISIT = "visit", "来访"
    ONLINE = "online", "网上信访"
    PHONE = "phone", "电话"
    MAILBOX = "mailbox", "领导信箱"


class PetitionKind(models.TextChoices):
    FIRST = "first", "初信初访"
    REPEAT = "repeat", "重复信访"
    LEAPFROG = "leapfrog", "越级信访"


class LeapLevel(models.TextChoices):
    CITY = "city", "赴市"
    PROVINCE = "province", "赴省"
    BEIJING = "beijing", "进京"


class ResolveMethod(models.TextChoices):
    SETTLED = "settled", "依法办理解决"
    EXPLAINED = "explained", "政策解释、教育疏导"
    AID = "aid", "困难帮扶、司法救助"
    MEDIATED = "mediated", "调解和解"
    CLOSED_OUT = "closed_out", "依法终结"


class DeskMember(models.Model):
    """信访办人员: an account of the command centre (受理员/派遣员 or 值班长) working the 信访 desk of its 街道."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="petition_desk"
    )
    is_active = models.BooleanField("有效", default=True)
    note = models.CharField("备注", max_length=100, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "信访办人员"
        verbose_name_plural = "信访办人员"

    def __str__(self):
        return str(self.user)


class PetitionDetail(models.Model):
    """The 信访 detail record of a ``petition`` case (one-to-one).

    The ledger dates (登记, 受理, 答复, 办结) are written by the procedure's handlers at the moves (or by the import
    from an existing ledger); ``handle_due_at`` is the 办理期限 the 办结 was measured against (60 自然日 from 受理,
    plus an approved extension). Only ``opinion`` and ``reply`` are editable through a move's ``detail``.
    """

    case = models.OneToOneField(
        Case, verbose_name="案件", on_delete=models.CASCADE, related_name="petition_detail"
    )
    form = models.CharField("信访形式", max_length=10, choices=PetitionForm.choices, editable=False)
    kind = models.CharField(
        "信访类别", max_length=10, choices=PetitionKind.choices, default=PetitionKind.FIRST, editable=False
    )
    leap_level = models.CharField(
        "越级层级", max_length=10, choices=LeapLevel.choices, blank=True, editable=False
    )
    is_group = models.BooleanField("集体访", default=False, editable=False)
    headcount = models.PositiveIntegerField("人数", default=1, editable=False)
    summary = models.CharField("信访事项", max_length=300, editable=False)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="包案领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    earlier = models.ManyToManyField(
        Case, verbose_name="关联的前次信访", blank=True, related_name="later_petitions", editable=False
    )
    ledger_ref = models.CharField("原台账编号", max_length=40, blank=True, editable=False, db_index=True)
    registered_at = models.DateTimeField("登记时间", default=clock.now, editable=False, db_index=True)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True, editable=False)
    handle_due_at = models.DateTimeField("办理期限", null=True, blank=True, editable=False)
    replied_at = models.DateTimeField("答复时间", null=True, blank=True, editable=False)
    done_at = models.DateTimeField("办结时间", null=True, blank=True, editable=False, db_index=True)
    extension_days = models.PositiveSmallIntegerField("延期天数", default=0, editable=False)
    reopen_count = models.PositiveSmallIntegerField("复查/复核次数", default=0, editable=False)
    reviewed_at = models.DateTimeField("复查意见时间", null=True, blank=True, editable=False)
    rechecked_at = models.DateTimeField("复核意见时间", null=True, blank=True, editable=False)
    opinion = models.TextField("办理情况", blank=True)
    reply = models.TextField("处理意见（答复内容）", blank=True)
    resolved_at = models.DateField("积案化解日期", null=True, blank=True, editable=False)
    resolve_method = models.CharField(
        "化解方式", max_length=12, choices=ResolveMethod.choices, blank=True, editable=False
    )
    resolve_note = models.CharField("化解情况", max_length=300, blank=True, editable=False)

    class Meta:
        verbose_name = "信访明细"
        verbose_name_plural = "信访明细"

    def __str__(self):
        return f"{self.case_id}: {self.summary[:20]}"

    @property
    def done_on_time(self) -> bool | None:
        if self.done_at is None or self.handle_due_at is None:
            return None
        return self.done_at <= self.handle_due_at

    # the 信访人 lives in its own row (:class:`Petitioner`), so the engine's case page, which lists the detail
    # record's fields, never shows a name, ID number or phone; these read it (blank when there is none)
    def _person(self):
        try:
            return self.petitioner
        except Petitioner.DoesNotExist:
            return Petitioner()

    @property
    def petitioner_name(self) -> str:
        return self._person().name

    @property
    def petitioner_id_number(self) -> str:
        return self._person().id_number

    @property
    def petitioner_phone(self) -> str:
        return self._person().phone

    @property
    def petitioner_address(self) -> str:
        return self._person().address

    @property
    def kind_label(self) -> str:
        if self.kind == PetitionKind.LEAPFROG and self.leap_level:
            return f"越级（{self.get_leap_level_display()}）"
        return self.get_kind_display()


class Petitioner(models.Model):
    """The 信访人 of one 信访 (集体访: the representative): shown in full only to the 信访办, masked elsewhere."""

    detail = models.OneToOneField(
        PetitionDetail, verbose_name="信访", on_delete=models.CASCADE, related_name="petitioner"
    )
    name = models.CharField("信访人", max_length=50)
    id_number = models.CharField("身份证号", max_length=18, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    address = models.CharField("住址", max_length=200, blank=True)

    class Meta:
        verbose_name = "信访人"
        verbose_name_plural = "信访人"

    def __str__(self):
        return self.name[:1] + "*" * max(len(self.name) - 1, 1)


class PetitionTask(models.Model):
    """协查任务: the desk asks a 网格员 to do something about a 信访 (走访、核实、稳控). The task is what lets that
    网格员 see the 信访 (and only it)."""

    case = models.ForeignKey(
        Case, verbose_name="信访", on_delete=models.CASCADE, related_name="petition_tasks"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="网格员", on_delete=models.PROTECT, related_name="+"
    )
    text = models.CharField("任务", max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="交办人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("交办时间", default=clock.now)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    result = models.CharField("完成情况", max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "信访协查任务"
        verbose_name_plural = "信访协查任务"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.text[:30]


class Reception(models.Model):
    """来访接待: one 批次 received on one day (人次 = people in it), by a receiving leader, maybe linked to a 信访."""

    street = models.ForeignKey(Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField("接待日期", db_index=True)
    people = models.PositiveIntegerField("人次", default=1)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接待领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    petition = models.ForeignKey(
        Case,
        verbose_name="关联信访",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="receptions",
    )
    topic = models.CharField("反映事项", max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", default=clock.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = "来访接待"
        verbose_name_plural = "来访接待"
        ordering = ["-received_on", "-pk"]

    def __str__(self):
        return f"{self.received_on} {self.topic[:20]}"
