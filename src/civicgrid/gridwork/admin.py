from django.contrib import admin

from civicgrid.accounts.admin import SystemAdminOnly
from civicgrid.core.admin import AuditedAdmin
from civicgrid.gridwork.models import GridworkRule, Patrol, PatrolPoint, PointCheck, PointType


@admin.register(PointType)
class PointTypeAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("name", "code", "order", "is_active")
    list_editable = ("order", "is_active")
    search_fields = ("name", "code")


@admin.register(PatrolPoint)
class PatrolPointAdmin(SystemAdminOnly, AuditedAdmin):
    """巡查点位: the 街道 follows from the grid."""

    list_display = ("name", "kind", "grid", "frequency_label", "radius_m", "is_active")
    list_filter = ("kind", "period", "is_active")
    search_fields = ("name", "address", "grid__name")
    fields = (
        "name",
        "kind",
        "grid",
        "address",
        "lng",
        "lat",
        "radius_m",
        "period",
        "times",
        "note",
        "is_active",
    )

    @admin.display(description="频次")
    def frequency_label(self, obj):
        return obj.frequency_label

    def save_model(self, request, obj, form, change):
        obj.street_id = obj.grid.community.street_id
        super().save_model(request, obj, form, change)


@admin.register(GridworkRule)
class GridworkRuleAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = (
        "__str__",
        "valid_minutes",
        "gps_seconds",
        "report_target",
        "weight_attendance",
        "weight_inside",
    )

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not GridworkRule.objects.exists()


class ReadOnly(SystemAdminOnly, admin.ModelAdmin):
    """Read-only: written by the services (the phone)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Patrol)
class PatrolAdmin(ReadOnly):
    list_display = ("worker", "started_at", "ended_at", "duration_s", "inside_s", "tracked_s", "point_count")
    list_filter = ("auto_closed",)
    search_fields = ("worker__username", "worker__full_name")


@admin.register(PointCheck)
class PointCheckAdmin(ReadOnly):
    list_display = ("point", "worker", "at", "valid", "inside", "score", "case")
    list_filter = ("valid", "inside")
    search_fields = ("point__name", "worker__username")
