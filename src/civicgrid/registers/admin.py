"""Admin: the 系统管理员 edits the lists (人员标签 with the 重点人员 走访周期, 走访检查项). People, households, visits
and the access log are read-only here and masked (no cipher, no hash column is ever shown): the register is
written through its services, and the full view exists only on the person page (logged)."""

from django.contrib import admin

from civicgrid.core.admin import AuditedAdmin, SystemAdminOnly
from civicgrid.registers.models import AccessLog, Household, Person, PersonTag, Visit, VisitCheckItem


@admin.register(PersonTag)
class PersonTagAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("name", "code", "visit_interval_days", "order", "is_active")
    list_editable = ("visit_interval_days", "order", "is_active")
    search_fields = ("name", "code")


@admin.register(VisitCheckItem)
class VisitCheckItemAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("text", "group", "order", "is_active")
    list_editable = ("group", "order", "is_active")


class ReadOnly(SystemAdminOnly, admin.ModelAdmin):
    def has_add_permission(self, request, *a):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Person)
class PersonAdmin(ReadOnly):
    list_display = ("name", "id_masked", "phone_masked", "residence", "floating_status", "grid", "is_active")
    list_filter = ("residence", "floating_status", "is_active")
    search_fields = ("name",)
    fields = ("name", "id_masked", "phone_masked", "residence", "floating_status", "grid", "household", "relation",
              "tags", "registered_on", "listed_on", "left_on", "cancelled_on", "is_active", "created_at")  # fmt: skip
    list_select_related = ("grid",)


@admin.register(Household)
class HouseholdAdmin(ReadOnly):
    list_display = ("__str__", "grid", "created_at")
    list_select_related = ("building", "grid")


@admin.register(Visit)
class VisitAdmin(ReadOnly):
    list_display = ("target_name", "target_kind", "method", "visited_at", "visitor", "case")
    list_filter = ("target_kind", "method")
    exclude = ("persons",)


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnly):
    list_display = ("at", "user", "person", "reason", "channel")
    list_select_related = ("user", "person")
