"""舆情台账: the detail record of an ``opinion`` case (a piece of public opinion found in the media or online).

A 舆情 itself is a case of the ``opinion`` procedure (:mod:`civicgrid.opinion.workflow`); :class:`OpinionDetail`
is its one-to-one detail record: where it was published (platform, media/account, link), its 研判 level, the
处置 actions, the public 回应 and the ledger dates the figures read (收集, 研判, 回应, 办结).
"""

from __future__ import annotations

from django.db import models

from civicgrid.cases.models import Case
from civicgrid.places.models import Street


class Platform(models.TextChoices):
    NEWS = "news", "新闻媒体"
    WEIBO = "weibo", "微博"
    WECHAT = "wechat", "微信（公众号/群）"
    VIDEO = "video", "抖音/快手等短视频"
    FORUM = "forum", "论坛/贴吧/社区网站"
    GOV = "gov", "政务平台留言"
    OTHER = "other", "其他"


class OpinionLevel(models.TextChoices):
    """研判 level: 一般 / 较大 / 重大 (see docs/opinion.md)."""

    GENERAL = "general", "一般"
    SERIOUS = "serious", "较大"
    MAJOR = "major", "重大"


class OpinionDetail(models.Model):
    """The 舆情 detail record of an ``opinion`` case (one-to-one). Editable through a move's ``detail``: 研判等级,
    研判意见, 处置措施, 回应内容 and 回应渠道; the source and the dates are set by the services and handlers."""

    case = models.OneToOneField(
        Case, verbose_name="案件", on_delete=models.CASCADE, related_name="opinion_detail"
    )
    street = models.ForeignKey(
        Street, verbose_name="街道", on_delete=models.PROTECT, related_name="+", editable=False
    )
    platform = models.CharField(
        "来源平台", max_length=10, choices=Platform.choices, default=Platform.OTHER, editable=False
    )
    media_name = models.CharField("媒体/账号名称", max_length=100, blank=True, editable=False)
    url = models.URLField("链接", max_length=500, blank=True, editable=False)
    published_at = models.DateTimeField("发布时间", null=True, blank=True, editable=False)
    collected_at = models.DateTimeField("收集时间", editable=False)
    level = models.CharField("研判等级", max_length=10, choices=OpinionLevel.choices, blank=True)
    assessment = models.TextField("研判意见", blank=True)
    actions = models.TextField("处置措施", blank=True)
    response_text = models.TextField("回应内容", blank=True)
    response_channel = models.CharField("回应渠道", max_length=100, blank=True)
    assessed_at = models.DateTimeField("研判时间", null=True, blank=True, editable=False)
    handled_at = models.DateTimeField("处置完成时间", null=True, blank=True, editable=False)
    responded_at = models.DateTimeField("回应时间", null=True, blank=True, editable=False)
    concluded_at = models.DateTimeField("办结时间", null=True, blank=True, editable=False)
    external_ref = models.CharField("原台账编号", max_length=60, blank=True, editable=False)

    class Meta:
        verbose_name = "舆情明细"
        verbose_name_plural = "舆情明细"
        indexes = [models.Index(fields=["street", "external_ref"], name="opinion_detail_street_ref")]

    def __str__(self):
        return f"{self.case_id}: {self.media_name}"
