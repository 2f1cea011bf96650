from django.contrib import admin

from civicgrid.accounts.admin import SystemAdminOnly
from civicgrid.core.admin import AuditedAdmin
from civicgrid.enforcement.models import ViolationType


@admin.register(ViolationType)
class ViolationTypeAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("name", "code", "order", "is_active")
    list_editable = ("order", "is_active")
    search_fields = ("name", "code")
