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
