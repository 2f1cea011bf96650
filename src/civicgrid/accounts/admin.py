from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from civicgrid.accounts.models import ApiToken, Department, User
from civicgrid.core.admin import AuditedAdmin


class SystemAdminOnly:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.role == "system_admin"

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    has_add_permission = lambda self, request, *a: self.has_module_permission(request)  # noqa: E731
    has_change_permission = lambda self, request, obj=None: self.has_module_permission(request)  # noqa: E731
    has_delete_permission = lambda self, request, obj=None: self.has_module_permission(request)  # noqa: E731


@admin.register(Department)
class DepartmentAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("code", "name", "kind", "phone", "is_active", "sort_order")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead; cases keep pointing at it


@admin.register(User)
class UserAdmin(SystemAdminOnly, DjangoUserAdmin, AuditedAdmin):
    list_display = ("username", "full_name", "role", "department", "community", "is_active", "last_login")
    list_filter = ("role", "is_active", "department")
    search_fields = ("username", "full_name", "phone")
    filter_horizontal = ("grids",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("基本信息", {"fields": ("full_name", "phone", "email")}),
        ("角色与辖区", {"fields": ("role", "department", "community", "grids")}),
        ("状态", {"fields": ("is_active", "is_staff", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2", "role", "full_name")}),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # users are deactivated, never deleted: the audit trail points at them


@admin.register(ApiToken)
class ApiTokenAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("name", "user", "key_prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = ("key_prefix", "key_hash", "created_at", "last_used_at")

    def has_add_permission(self, request, *a):
        return False  # tokens are issued through the service so the key is shown once
