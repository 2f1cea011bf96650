"""Admin for webhooks: the 系统管理员 configures robots and reads the delivery log.

Endpoint saves are audited like every admin write, but with the secret and the URL's key/token redacted: the
audit log must not become a place to read robot credentials from.
"""

from __future__ import annotations

import urllib.parse

from django import forms
from django.contrib import admin, messages

from civicgrid.accounts.admin import SystemAdminOnly
from civicgrid.core import audit, clock
from civicgrid.core.adminsite import AuditedAdmin
from civicgrid.notify.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookKind,
)
from civicgrid.places.selectors import in_tier


def redact_url(url: str) -> str:
    """Scheme, host and path; query values (key=…, access_token=…) masked."""
    parts = urllib.parse.urlsplit(url or "")
    query = "&".join(f"{k}=***" for k, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _safe_snapshot(obj: WebhookEndpoint | None) -> dict | None:
    data = audit.snapshot(obj)
    if data is None:
        return None
    data["url"] = redact_url(data.get("url", ""))
    data["secret"] = "***" if obj.secret else ""
    return data


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label="Webhook 地址",
        max_length=500,
        assume_scheme="https",
        help_text="群机器人的 Webhook 地址（含 key / access_token），请妥善保管",
    )
    events = forms.MultipleChoiceField(
        label="推送事件", choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple, required=True
    )
    secret = forms.CharField(
        label="加签密钥",
        required=False,
        widget=forms.PasswordInput(render_value=True),
        help_text="钉钉机器人“加签”安全设置的密钥（SEC 开头）；企业微信留空",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "kind", "url", "secret", "events", "street", "department", "is_active")

    def clean(self):
        data = super().clean()
        kind, url = data.get("kind"), data.get("url") or ""
        if url and not url.lower().startswith(("https://", "http://")):
            self.add_error("url", "Webhook 地址应以 https:// 开头")
        if kind == WebhookKind.DINGTALK and data.get("secret") and not data["secret"].startswith("SEC"):
            self.add_error("secret", "钉钉加签密钥应以 SEC 开头")
        if kind == WebhookKind.WECOM and data.get("secret"):
            self.add_error("secret", "企业微信群机器人不使用加签密钥，请留空")
        return data


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(SystemAdminOnly, AuditedAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "kind", "events_display", "street", "department", "is_active", "created_at")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    actions = ["send_test"]

    def get_queryset(self, request):
        # a 街道's pushes (and the installation-wide ones only for a platform-level administrator)
        return in_tier(super().get_queryset(request), request.user)

    def audit_snapshot(self, obj):
        return _safe_snapshot(obj)

    @admin.action(description="发送测试消息")
    def send_test(self, request, queryset):
        from civicgrid.notify.sender import deliver_due

        now = clock.now()
        for ep in queryset:
            text = f"【测试】{ep.name}：CivicGrid 群机器人推送配置成功。"
            payload = (
                {"msgtype": "markdown", "markdown": {"content": text}}
                if ep.kind == WebhookKind.WECOM
                else {"msgtype": "markdown", "markdown": {"title": "测试消息", "text": text}}
            )
            WebhookDelivery.objects.create(
                endpoint=ep, event=WebhookEvent.DISPATCH, payload=payload, next_attempt_at=now, created_at=now
            )
        result = deliver_due(now)
        messages.info(
            request, f"测试消息：已发送 {result['sent']}，待重试 {result['retry']}，失败 {result['failed']}"
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SystemAdminOnly, admin.ModelAdmin):
    def get_queryset(self, request):
        return in_tier(super().get_queryset(request), request.user, "endpoint__street_id")

    list_display = (
        "created_at",
        "endpoint",
        "event",
        "case_number",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("status", "event", ("endpoint", admin.RelatedOnlyFieldListFilter))
    search_fields = ("case_number", "last_error")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["retry_now"]

    def has_add_permission(self, request, *a):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="立即重试（重新排队）")
    def retry_now(self, request, queryset):
        n = queryset.exclude(status=DeliveryStatus.SENT).update(
            status=DeliveryStatus.PENDING, next_attempt_at=clock.now(), attempts=0
        )
        messages.info(request, f"已重新排队 {n} 条推送")
