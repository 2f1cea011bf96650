from django.contrib import admin

from civicgrid.accounts.admin import SystemAdminOnly
from civicgrid.core.admin import AuditedAdmin
from civicgrid.disputes.models import DisputeType, MediationOrg


@admin.register(DisputeType)
class DisputeTypeAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("name", "code", "order", "is_active")
    list_editable = ("order", "is_active")
    search_fields = ("name", "code")


@admin.register(MediationOrg)
class MediationOrgAdmin(SystemAdminOnly, AuditedAdmin):
    """调解组织: 街道/社区调委会 and the named 品牌调解室. The disputes themselves (with their parties' personal
    data) are not in the admin: they are read on the ledger pages, masked by role."""

    list_display = ("name", "kind", "street", "community", "order", "is_active")
    list_editable = ("order", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    raw_id_fields = ("street", "community")
