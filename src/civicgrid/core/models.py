from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from civicgrid.core import clock
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
    object_type = models.CharField("对象类型", max_length=64, blank=True, db_index=True)
    object_id = models.CharField("对象ID", max_length=64, blank=True, db_index=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    before = models.JSONField("修改前", null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField("修改后", null=True, blank=True, encoder=DjangoJSONEncoder)
    note = models.TextField("说明", blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-at", "-id"]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("审计日志只能追加，不能修改 (audit log is append-only)")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计日志只能追加，不能删除 (audit log is append-only)")
