from django import forms
from django.contrib import admin, messages

from civicgrid.accounts.admin import SystemAdminOnly
from civicgrid.core.errors import DomainError
from civicgrid.open311 import services
from civicgrid.open311.models import InboundUpdate, Open311Key, ServiceRequest
from civicgrid.places.selectors import in_tier


class Open311KeyForm(forms.ModelForm):
    class Meta:
        model = Open311Key
        fields = ("name", "jurisdiction")


@admin.register(Open311Key)
class Open311KeyAdmin(SystemAdminOnly, admin.ModelAdmin):
    """Keys are issued through :func:`services.issue_key` (the plain key is shown once, as a message) and revoked
    with the list action; they are never edited or deleted (requests point at them)."""

    form = Open311KeyForm

    def get_queryset(self, request):
        return in_tier(super().get_queryset(request), request.user, "jurisdiction_id")

    list_display = (
        "name",
        "key_prefix",
        "jurisdiction",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (("jurisdiction", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name", "key_prefix")
    actions = ["revoke_selected"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "jurisdiction")
        return (
            "name",
            "key_prefix",
            "jurisdiction",
            "service_user",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        )

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        key, plain = services.issue_key(
            actor=request.user, name=form.cleaned_data["name"], street=form.cleaned_data["jurisdiction"]
        )
        for f in Open311Key._meta.concrete_fields:
            setattr(obj, f.attname, getattr(key, f.attname))
        obj._state.adding = False
        messages.warning(request, f"新 api_key（只显示这一次，请立即复制并安全转交对接方）：{plain}")

    @admin.action(description="吊销所选密钥")
    def revoke_selected(self, request, queryset):
        done = 0
        for key in queryset.filter(revoked_at__isnull=True):
            try:
                services.revoke_key(actor=request.user, key=key)
                done += 1
            except DomainError as exc:
                messages.error(request, f"{key}: {exc.message}")
        messages.success(request, f"已吊销 {done} 个密钥")


class ReadOnlyAdmin(SystemAdminOnly, admin.ModelAdmin):
    def get_queryset(self, request):
        return in_tier(super().get_queryset(request), request.user, "case__street_id")

    def has_add_permission(self, request, *a):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyAdmin):
    list_display = ("service_request_id", "case", "service_code", "key", "jurisdiction", "created_at")
    search_fields = ("service_request_id", "case__number")
    raw_id_fields = ("case",)


@admin.register(InboundUpdate)
class InboundUpdateAdmin(ReadOnlyAdmin):
    list_display = ("case", "external_update_id", "status", "key", "updated_datetime", "received_at")
    search_fields = ("external_update_id",)
    raw_id_fields = ("case", "event")
