"""智能分拨: the admin-editable keyword lists of the cold start and the record of every suggestion shown on a case
with what the dispatcher then chose (the training data of the learned model and the measure of its hit rate).

The learned models themselves are files (``CIVICGRID_DATA_DIR/triage/models/v0001.npz`` …, see
:mod:`civicgrid.triage.modelstore`), not rows: every app server loads the newest one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from civicgrid.cases.models import Case, Category
from civicgrid.core import clock


class TriageKeyword(models.Model):
    """关键词 of one category for the cold start, beyond its name and synonyms (one word or phrase a line)."""

    category = models.OneToOneField(
        Category, verbose_name="分类", on_delete=models.CASCADE, related_name="triage_keywords"
    )
    words = models.TextField("关键词", blank=True, help_text="每行一个词或短语；也可用 | 或 、分隔")
    weight = models.FloatField(
        "权重", default=2.0, help_text="命中一个关键词的得分（分类名称 3 分，同义词 2 分）"
    )
    updated_at = models.DateTimeField("更新时间", default=clock.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="更新人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "分拨关键词"
        verbose_name_plural = "分拨关键词"
        ordering = ["category__code"]

    def __str__(self):
        return f"{self.category.name}：{self.word_list()[:5]}"

    def word_list(self) -> list[str]:
        return split_words(self.words)


def split_words(text: str) -> list[str]:
    out: list[str] = []
    for part in (
        (text or "").replace("|", "\n").replace("、", "\n").replace("，", "\n").replace(",", "\n").split("\n")
    ):
        w = part.strip()
        if w and w not in out:
            out.append(w)
    return out


class Outcome(models.TextChoices):
    PENDING = "pending", "待定"
    ACCEPTED = "accepted", "采用建议"
    OVERRIDDEN = "overridden", "改选"


class TriageSuggestion(models.Model):
    """One suggestion shown for a case: the top-3 categories with scores and reasons, and what was chosen."""

    case = models.ForeignKey(
        Case, verbose_name="工单", on_delete=models.CASCADE, related_name="triage_suggestions"
    )
    created_at = models.DateTimeField("建议时间", default=clock.now, db_index=True)
    shown_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="查看人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField("依据", max_length=16)  # "keywords" (cold start) | "model"
    model_version = models.CharField("模型版本", max_length=40, blank=True)
    text_digest = models.CharField("文本摘要", max_length=64)  # the text the suggestion was made for
    items = models.JSONField("建议", default=list)  # [{category, code, name, score, terms}]
    category = models.ForeignKey(
        Category, verbose_name="建议分类", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name="建议部门",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confidence = models.FloatField("置信度", default=0)
    picked_category = models.ForeignKey(
        Category,
        verbose_name="点选的建议",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    picked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="点选人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    final_category = models.ForeignKey(
        Category, verbose_name="最终分类", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    final_department = models.ForeignKey(
        "accounts.Department",
        verbose_name="最终部门",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.CharField("结果", max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    decided_at = models.DateTimeField("确定时间", null=True, blank=True)
    auto_dispatched = models.BooleanField("自动派遣", default=False)

    class Meta:
        verbose_name = "分拨建议"
        verbose_name_plural = "分拨建议"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["case", "-created_at"])]

    def __str__(self):
        return f"{self.case_id}：{self.category.name if self.category_id else '—'}"


class DuplicateStatus(models.TextChoices):
    PENDING = "pending", "待确认"
    MERGED = "merged", "已合并"
    DISMISSED = "dismissed", "不是重复"


class DuplicateCandidate(models.Model):
    """合并: an earlier case (``candidate``) that the intake check found to describe the same problem as ``case``,
    with the score and the reasons; the dispatcher merges (the earlier case stays master) or dismisses it."""

    case = models.ForeignKey(
        Case, verbose_name="工单", on_delete=models.CASCADE, related_name="duplicate_candidates"
    )
    candidate = models.ForeignKey(
        Case, verbose_name="疑似重复的工单", on_delete=models.CASCADE, related_name="+"
    )
    score = models.FloatField("相似度")
    reasons = models.JSONField(
        "依据", default=dict
    )  # distance_m, text/address similarity, grid, family, category
    status = models.CharField(
        "状态", max_length=12, choices=DuplicateStatus.choices, default=DuplicateStatus.PENDING
    )
    created_at = models.DateTimeField("发现时间", default=clock.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "疑似重复工单"
        verbose_name_plural = "疑似重复工单"
        ordering = ["-score", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "candidate"], name="triage_duplicate_pair_unique")
        ]

    def __str__(self):
        return f"{self.case_id} ≈ {self.candidate_id}（{self.score:.2f}）"


class StreetTriageSetting(models.Model):
    """Per 街道: whether the learned model may 受理 + 派遣 a new case by itself, and from which confidence."""

    street = models.OneToOneField(
        "places.Street", verbose_name="街道", on_delete=models.CASCADE, related_name="triage_setting"
    )
    auto_dispatch = models.BooleanField("自动派遣", default=False)
    threshold = models.FloatField(
        "置信度阈值", default=0.9, help_text="学习模型的校准置信度达到此值（0–1）才自动受理并派遣"
    )
    updated_at = models.DateTimeField("更新时间", default=clock.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="更新人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "街道自动派遣设置"
        verbose_name_plural = "街道自动派遣设置"

    def __str__(self):
        return f"{self.street}：{'开启' if self.auto_dispatch else '关闭'}（≥ {self.threshold:.2f}）"


class IntakeCursor(models.Model):
    """How far the intake round (the duplicate check and the auto-dispatch hook of new cases) has come: the
    highest case id it has looked at. One row per round kind."""

    name = models.CharField("名称", max_length=30, primary_key=True)
    last_case_id = models.BigIntegerField("最后检查的工单 id", default=0)
    updated_at = models.DateTimeField("更新时间", default=clock.now)

    class Meta:
        verbose_name = "新工单检查进度"
        verbose_name_plural = "新工单检查进度"

    def __str__(self):
        return f"{self.name}: {self.last_case_id}"
