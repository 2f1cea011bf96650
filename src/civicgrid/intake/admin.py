from django.contrib import admin

from civicgrid.accounts.admin import SystemAdminOnly
from civicgrid.core.admin import AuditedAdmin
from civicgrid.intake.models import ImportJob, ImportMapping, PlacementTask


@admin.register(ImportMapping)
class ImportMappingAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("name", "source", "created_by", "updated_at")
    list_filter = ("source",)
    search_fields = ("name",)


@admin.register(ImportJob)
class ImportJobAdmin(SystemAdminOnly, admin.ModelAdmin):
    """Read-only: jobs are written by the import services."""

    list_display = (
        "pk",
        "original_name",
        "status",
        "total",
        "succeeded",
        "failed",
        "created_by",
        "created_at",
    )
    list_filter = ("status", "source")
    search_fields = ("original_name",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PlacementTask)
class PlacementTaskAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ("pk", "case", "address", "status", "created_at", "placed_by", "placed_at")
    list_filter = ("status",)
    search_fields = ("address",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
