"""Outbound webhooks: group robots of 企业微信 (WeCom) and 钉钉 (DingTalk) told about dispatches, lights and 督办.

A :class:`WebhookEndpoint` is one robot; every matching case event becomes one :class:`WebhookDelivery` row
(the request body is rendered when the row is written), sent later by :func:`civicgrid.notify.sender.deliver_due`
with retries. Sending never happens inside a case transaction.
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from civicgrid.core import clock
from civicgrid.core.choices import ColoredChoices


class WebhookKind(models.TextChoices):
    WECOM = "wecom", "企业微信群机器人"
    DINGTALK = "dingtalk", "钉钉群机器人"


class WebhookEvent(ColoredChoices):
    DISPATCH = "dispatch", ("案件派遣", "info")
    LIGHT_YELLOW = "light_yellow", ("黄灯预警", "warning")
    LIGHT_RED = "light_red", ("红灯超时", "danger")
    SUPERVISE = "supervise", ("督办", "danger")
    WARNING = "warning", ("预警预判", "warning")


class DeliveryStatus(ColoredChoices):
    PENDING = "pending", ("待发送", "warning")
    SENT = "sent", ("已发送", "success")
    FAILED = "failed", ("发送失败", "danger")


class WebhookEndpoint(models.Model):
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=10, choices=WebhookKind.choices)
    url = models.URLField(
        "Webhook 地址",
        max_length=500,
        help_text="群机器人的 Webhook 地址（含 key / access_token），请妥善保管",
    )
    secret = models.CharField(
        "加签密钥",
        max_length=200,
        blank=True,
        help_text="钉钉机器人“加签”安全设置的密钥（SEC 开头）；企业微信留空",
    )
    events = models.JSONField(
        "推送事件",
        default=list,
        blank=True,
        help_text="派遣、黄灯预警、红灯超时、督办、预警预判中的一项或多项",
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name="仅限部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="webhooks",
        help_text="填写后只推送当前处置部门为该部门的案件；留空推送全部案件",
    )
    street = models.ForeignKey(
        "places.Street",
        verbose_name="所属街道",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="webhooks",
        help_text="只推送该街道的案件；留空则推送所有街道的案件（仅适合只有一个街道或区级的群）",
    )
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", default=clock.now)

    class Meta:
        verbose_name = "群机器人推送"
        verbose_name_plural = "群机器人推送"
        ordering = ["name", "id"]

    def __str__(self):
        return f"{self.name}（{self.get_kind_display()}）"

    def wants(self, event: str) -> bool:
        return self.is_active and event in (self.events or [])

    def events_display(self) -> str:
        labels = dict(WebhookEvent.choices)
        return "、".join(str(labels.get(e, e)) for e in (self.events or [])) or "—"

    events_display.short_description = "推送事件"


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name="接收端", on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField("事件", max_length=16, choices=WebhookEvent.choices)
    case_id_ref = models.BigIntegerField("案件ID", null=True, blank=True, db_index=True)
    case_number = models.CharField("案件编号", max_length=32, blank=True)
    dedupe_key = models.CharField(
        "去重键", max_length=120, blank=True, help_text="同一接收端同一键只推送一次（如 event:123）"
    )
    payload = models.JSONField("消息内容", encoder=DjangoJSONEncoder)
    status = models.CharField(
        "状态", max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField("已尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试时间", null=True, blank=True)
    last_error = models.TextField("最近错误", blank=True)
    created_at = models.DateTimeField("创建时间", default=clock.now)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "推送记录"
        verbose_name_plural = "推送记录"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notify_delivery_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notify_delivery_dedupe",
            )
        ]

    def __str__(self):
        return f"{self.endpoint_id}:{self.event}:{self.case_number or self.case_id_ref}"
