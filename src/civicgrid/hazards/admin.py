from django.contrib import admin

from civicgrid.accounts.admin import SystemAdminOnly
from civicgrid.core.admin import AuditedAdmin
from civicgrid.hazards.models import (
    Checklist,
    ChecklistItem,
    ColorRule,
    FireSafetyRegister,
    HazardCategory,
    Inspection,
    InspectionPhoto,
    InspectionResult,
)


@admin.register(HazardCategory)
class HazardCategoryAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("name", "code", "order", "is_active")
    list_editable = ("order", "is_active")
    search_fields = ("name", "code")


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 1
    fields = ("order", "text", "category", "default_level")


@admin.register(Checklist)
class ChecklistAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("name", "is_active", "description")
    search_fields = ("name",)
    inlines = [ChecklistItemInline]


@admin.register(ColorRule)
class ColorRuleAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("__str__", "major_points", "overdue_points", "red_from", "orange_from", "yellow_from")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ColorRule.objects.exists()


@admin.register(FireSafetyRegister)
class FireSafetyRegisterAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("building", "smoke_detectors", "extinguishers", "sprinklers", "fire_lane", "checked_at")
    list_filter = ("smoke_detectors", "extinguishers", "sprinklers", "fire_lane")
    search_fields = ("building__name", "building__address")
    autocomplete_fields = ()
    raw_id_fields = ("building",)


class InspectionResultInline(admin.TabularInline):
    model = InspectionResult
    extra = 0
    fields = ("item_text", "passed", "note")
    readonly_fields = fields
    can_delete = False


class InspectionPhotoInline(admin.TabularInline):
    model = InspectionPhoto
    extra = 0
    fields = ("attachment",)
    readonly_fields = fields
    can_delete = False


@admin.register(Inspection)
class InspectionAdmin(SystemAdminOnly, admin.ModelAdmin):
    """Read-only: inspections are written by the services (the 检查 form)."""

    list_display = ("target_name", "target_kind", "inspected_at", "hazard_count", "created_by")
    list_filter = ("target_kind",)
    search_fields = ("target_name", "address")
    inlines = [InspectionResultInline, InspectionPhotoInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
