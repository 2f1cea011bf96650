"""考评设置 and 上级考核结果 are kept here by the 系统管理员 of the 街道 (scoped by the models' rules; every save audited
by AuditedAdmin). The weights are validated like the settings page: three integers summing to 100."""

from django import forms
from django.contrib import admin

from civicgrid.core.admin import AuditedAdmin, SystemAdminOnly
from civicgrid.core.errors import ValidationFailed
from civicgrid.evaluation import services
from civicgrid.evaluation.models import Assessment, Board, EvaluationSettings


class SettingsForm(forms.ModelForm):
    class Meta:
        model = EvaluationSettings
        fields = ["street", "district", *services.SETTINGS_FIELDS]

    def clean(self):
        data = super().clean()
        if not data.get("street") and not data.get("district"):
            raise forms.ValidationError("请选择街道，或为区级排名选择区")
        try:
            services.clean_settings({k: data.get(k) for k in services.SETTINGS_FIELDS})
        except ValidationFailed as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


@admin.register(EvaluationSettings)
class EvaluationSettingsAdmin(SystemAdminOnly, AuditedAdmin):
    form = SettingsForm
    list_display = ("__str__", "w_response", "w_resolve", "w_satisfaction", "min_cases", "board_size")


@admin.register(Assessment)
class AssessmentAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("street", "name", "month", "score", "rank", "total", "source")
    list_filter = ("name", "source")


@admin.register(Board)
class BoardAdmin(SystemAdminOnly, admin.ModelAdmin):
    """Read-only: a board moves only through its workflow (草拟 → 审核 → 发布)."""

    list_display = ("__str__", "street", "district", "state", "published_at")
    list_filter = ("kind", "state")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
