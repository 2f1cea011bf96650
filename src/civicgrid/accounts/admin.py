from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db import transaction

from civicgrid.accounts.models import ApiToken, Department, User
from civicgrid.accounts.roles import Role
from civicgrid.core import audit
from civicgrid.core.admin import AuditedAdmin, SystemAdminOnly  # noqa: F401  (re-exported)


def _keep_in_tier(request, obj, change: bool) -> None:
    """An account or department saved here stays in the administrator's tier: a new one without a tier gets
    the administrator's; a 街道's administrator cannot make one 区-level (the pickers offer only its own 街道
    and 区, so "no 街道" is the only way out, and it is closed here)."""
    actor = request.user
    if obj.street_id is None and (
        getattr(actor, "street_id", None) is not None or (not change and obj.district_id is None)
    ):
        obj.street_id = getattr(actor, "street_id", None)
        obj.district_id = getattr(actor, "district_id", None)
    if obj.street_id is not None:
        obj.district_id = obj.street.district_id


@admin.register(Department)
class DepartmentAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("code", "name", "kind", "street", "district", "phone", "is_active", "sort_order")
    list_filter = ("kind", "is_active", ("street", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "name")

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead; cases keep pointing at it

    def save_model(self, request, obj, form, change):
        _keep_in_tier(request, obj, change)
        super().save_model(request, obj, form, change)


class PasswordForm(AdminPasswordChangeForm):
    """Django's form, with the part of its help text that Django does not translate in Chinese."""

    usable_password_help_text = (
        "是否允许该账号用密码登录。停用后只能通过其他方式（如单点登录）登录。"
        '<ul id="id_unusable_warning" class="messagelist"><li class="warning">'
        "停用后，该账号当前的密码将被清除。</li></ul>"
    )


@admin.register(User)
class UserAdmin(SystemAdminOnly, DjangoUserAdmin, AuditedAdmin):
    change_password_form = PasswordForm
    list_display = (
        "username",
        "full_name",
        "role",
        "tier",
        "department",
        "community",
        "is_active",
        "last_login",
    )
    list_filter = (
        "role",
        "is_active",
        # only the values present in the (tier-scoped) list: a filter must not name another 街道's rows
        ("street", admin.RelatedOnlyFieldListFilter),
        ("district", admin.RelatedOnlyFieldListFilter),
        ("department", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("username", "full_name", "phone")
    filter_horizontal = ("grids",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("基本信息", {"fields": ("full_name", "phone", "email")}),
        (
            "角色与辖区",
            {
                "fields": ("role", "street", "district", "department", "community", "grids"),
                "description": "街道账号填所属街道（所属区随街道自动填写）；区级账号（区指挥中心、区领导）"
                "不填街道、只填所属区，可查看本区所有街道。",
            },
        ),
        ("状态", {"fields": ("is_active", "is_staff", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "password1", "password2", "role", "full_name", "street", "district"),
                "description": "所属街道留空时为您本人所在的街道；区级账号不填街道、只填所属区。",
            },
        ),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # users are deactivated, never deleted: the audit trail points at them

    @admin.display(description="所属街道/区", ordering="street__code")
    def tier(self, obj):
        return obj.tier_label

    def save_model(self, request, obj, form, change):
        _keep_in_tier(request, obj, change)
        super().save_model(request, obj, form, change)

    def get_queryset(self, request):
        # system actors (随手拍, Open311 keys, imports) are not people: not listed, not editable here
        return super().get_queryset(request).filter(is_system=False)

    # --- 三权分立: the 系统管理员 manages accounts, but not the 审计管理员 who reads the 系统管理员's trail.
    # An auditor's account (password, role, active flag) changes only through ``civicgrid auditor`` on the
    # server; here it is read-only, and no one can be given the auditor role.

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.role == Role.AUDIT_ADMIN:
            return False
        return super().has_change_permission(request, obj)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role":
            kwargs["choices"] = [(v, label) for v, label in Role.choices if v != Role.AUDIT_ADMIN]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "role" in form.base_fields:
            form.base_fields[
                "role"
            ].help_text = "审计管理员账号只能在服务器上用 civicgrid auditor 命令管理（三权分立）"
        return form

    def user_change_password(self, request, id, form_url=""):
        """Setting someone's password is recorded (who, whose, when; never the password)."""
        with transaction.atomic():
            old = User._base_manager.filter(pk=id).values_list("password", flat=True).first()
            response = super().user_change_password(request, id, form_url)
            user = User._base_manager.filter(pk=id).first()
            if user is not None and user.password != old:
                audit.record(
                    actor=request.user,
                    action="admin.set_password",
                    obj=user,
                    note="设置密码" if user.has_usable_password() else "停用密码登录",
                )
        return response


@admin.register(ApiToken)
class ApiTokenAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("name", "user", "key_prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    # a token never changes hands: moving one whose key you hold to another account would be impersonation
    readonly_fields = ("user", "key_prefix", "key_hash", "created_at", "last_used_at")

    def get_queryset(self, request):
        # the tokens of the people of the administrator's tier
        from civicgrid.accounts.selectors import visible_users

        return super().get_queryset(request).filter(user__in=visible_users(user=request.user))

    def has_add_permission(self, request, *a):
        return False  # tokens are issued through the service so the key is shown once
