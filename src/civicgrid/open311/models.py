"""Open311 GeoReport v2 bookkeeping: API keys, the link from a service request to its case, and the updates a
peer system posted through FixMyStreet's ``servicerequestupdates`` extension.

The cases themselves live in :mod:`civicgrid.cases`; nothing here duplicates their state.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from civicgrid.core import clock


class Open311Key(models.Model):
    """An ``api_key`` for one 街道 (jurisdiction). Only the sha256 of the key is stored; it is shown once."""

    PREFIX = "o311_"
    PREFIX_LENGTH = 10

    name = models.CharField("用途/对接系统", max_length=100)
    key_prefix = models.CharField("前缀", max_length=12, db_index=True)
    key_hash = models.CharField("密钥摘要 (sha256)", max_length=64, unique=True)
    jurisdiction = models.ForeignKey(
        "places.Street", verbose_name="所属街道", on_delete=models.PROTECT, related_name="open311_keys"
    )
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="接口账号",
        on_delete=models.PROTECT,
        related_name="open311_key",
        help_text="案件引擎只接受用户作为操作人：每个密钥有一个不可登录的专用账号（网格员角色、无网格）",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", default=clock.now)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)

    class Meta:
        verbose_name = "Open311 接口密钥"
        verbose_name_plural = "Open311 接口密钥"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def new_key(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ServiceRequest(models.Model):
    """A case that came in through ``POST requests``: its public id, its token and what Open311 carried that
    the case does not (attribute answers, media_url, the client's account/device ids, e-mail)."""

    service_request_id = models.CharField("服务请求编号", max_length=32, unique=True)
    token = models.CharField("令牌", max_length=64, unique=True)
    case = models.OneToOneField(
        "cases.Case", verbose_name="案件", on_delete=models.PROTECT, related_name="open311_request"
    )
    key = models.ForeignKey(
        Open311Key, verbose_name="提交密钥", on_delete=models.PROTECT, related_name="service_requests"
    )
    jurisdiction = models.ForeignKey(
        "places.Street", verbose_name="所属街道", on_delete=models.PROTECT, related_name="+"
    )
    service_code = models.CharField("服务编码", max_length=12)
    attributes = models.JSONField("附加属性", default=dict, blank=True)
    media_url = models.URLField("媒体链接", max_length=500, blank=True)
    address_id = models.CharField("地址编号", max_length=100, blank=True)
    email = models.EmailField("电子邮箱", blank=True)
    device_id = models.CharField("设备编号", max_length=100, blank=True)
    account_id = models.CharField("账号编号", max_length=100, blank=True)
    created_at = models.DateTimeField("提交时间", default=clock.now)

    class Meta:
        verbose_name = "Open311 服务请求"
        verbose_name_plural = "Open311 服务请求"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.service_request_id

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(24)


class InboundUpdate(models.Model):
    """An update a peer system posted (``POST servicerequestupdates``); the public note itself is a case event."""

    key = models.ForeignKey(Open311Key, verbose_name="提交密钥", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        "cases.Case", verbose_name="案件", on_delete=models.CASCADE, related_name="open311_inbound_updates"
    )
    external_update_id = models.CharField("对方更新编号", max_length=100, blank=True)
    event = models.ForeignKey(
        "cases.CaseEvent",
        verbose_name="流转记录",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField("对方状态", max_length=32)
    description = models.TextField("说明")
    media_url = models.URLField("媒体链接", max_length=500, blank=True)
    updated_datetime = models.DateTimeField("对方更新时间")
    received_at = models.DateTimeField("接收时间", default=clock.now)

    class Meta:
        verbose_name = "Open311 外部更新"
        verbose_name_plural = "Open311 外部更新"
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "external_update_id"],
                condition=~Q(external_update_id=""),
                name="open311_inbound_update_unique",
            )
        ]

    def __str__(self):
        return f"{self.case_id}:{self.external_update_id or self.pk}"
