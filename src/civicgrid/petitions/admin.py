"""Admin: the 信访办 desk register only. The 信访 themselves, their tasks and the 接待 register are never shown in
the admin: the 系统管理员 is not among those who may see 信访 (see docs/petitions.md, 可见范围)."""

from django.contrib import admin

from civicgrid.accounts.admin import SystemAdminOnly
from civicgrid.core.admin import AuditedAdmin
from civicgrid.petitions.models import DeskMember
from civicgrid.petitions.workflow import DESK_ROLES


@admin.register(DeskMember)
class DeskMemberAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("user", "is_active", "note")
    list_editable = ("is_active",)
    search_fields = ("user__username", "user__full_name")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            from civicgrid.accounts.models import User

            kwargs["queryset"] = User.objects.restrict(request.user, "change").filter(
                role__in=DESK_ROLES, is_system=False
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
