from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import Group

from civicgrid.core import auditlabels, scoping
from civicgrid.core.adminsite import AuditedAdmin
from civicgrid.core.models import AuditLog, JobLock
from civicgrid.core.roles import Capability, has_capability

# Authorisation is by role (accounts.roles); Django's permission groups are not used, and an editable group
# admin would only be a way around the roles.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


class _LabelledFilter(admin.SimpleListFilter):
    """A filter over one code column that shows the codes' Chinese labels."""

    field = ""

    def label(self, code: str) -> str:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        codes = (
            model_admin.model.objects.exclude(**{self.field: ""})
            .values_list(self.field, flat=True)
            .distinct()
            .order_by(self.field)
        )
        return [(c, self.label(c)) for c in codes]

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class ActionFilter(_LabelledFilter):
    title, parameter_name, field = "动作", "action", "action"
    label = staticmethod(auditlabels.action_label)


class ObjectTypeFilter(_LabelledFilter):
    title, parameter_name, field = "对象类型", "object_type", "object_type"
    label = staticmethod(auditlabels.object_type_label)


class RoleFilter(_LabelledFilter):
    title, parameter_name, field = "操作人角色", "actor_role", "actor_role"
    label = staticmethod(auditlabels.role_label)


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only, and only for the 审计管理员 (三权分立)."""

    list_display = (
        "at",
        "actor_username",
        "role_label",
        "action_label",
        "object_type",
        "object_id",
        "object_repr",
        "ip",
    )
    list_filter = (ActionFilter, ObjectTypeFilter, RoleFilter)
    search_fields = ("actor_username", "object_repr", "object_id", "note")
    date_hierarchy = "at"

    @admin.display(description="操作人角色", ordering="actor_role")
    def role_label(self, obj):
        return auditlabels.role_label(obj.actor_role)

    @admin.display(description="动作", ordering="action")
    def action_label(self, obj):
        return f"{auditlabels.action_label(obj.action)}（{obj.action}）"

    def get_queryset(self, request):
        # the scope rule (narrowed to the auditor's tier by accounts.selectors)
        return AuditLog.objects.restrict(request.user, "view")

    def _is_auditor(self, request):
        return request.user.is_active and getattr(request.user, "role", None) == "audit_admin"

    def has_module_permission(self, request):
        return self._is_auditor(request)

    def has_view_permission(self, request, obj=None):
        return self._is_auditor(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- working-time calendar ------------------------------------------------------------------------------
from civicgrid.core.models import CalendarOverride, CalendarYear  # noqa: E402


class SystemAdminOnly:
    """Admin pages only the 系统管理员 may open (``Capability.SYSTEM_CONFIGURE``)."""

    def has_module_permission(self, request):
        return has_capability(request.user, Capability.SYSTEM_CONFIGURE)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    has_add_permission = lambda self, request, *a: self.has_module_permission(request)  # noqa: E731
    has_change_permission = lambda self, request, obj=None: self.has_module_permission(request)  # noqa: E731
    has_delete_permission = lambda self, request, obj=None: self.has_module_permission(request)  # noqa: E731

    # Tiers: a 街道's 系统管理员 lists and edits only its own 街道's rows (streets, communities, grids, accounts,
    # departments …), and picks only those in forms — the models' ``change``/``view`` scope rules decide, as
    # everywhere else. A platform-level 系统管理员 (no 街道, no 区) sees every row.

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if scoping.has_rule(self.model):
            qs = qs.filter(pk__in=self.model._default_manager.restrict(request.user, "view").values("pk"))
        return qs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        model = db_field.related_model
        if "queryset" not in kwargs and scoping.has_rule(model):
            kwargs["queryset"] = model._default_manager.restrict(request.user, "view")
            if getattr(model, "USERNAME_FIELD", None):
                kwargs["queryset"] = kwargs["queryset"].filter(is_system=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        model = db_field.related_model
        if "queryset" not in kwargs and scoping.has_rule(model):
            kwargs["queryset"] = model._default_manager.restrict(request.user, "view")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


_WEEKDAYS = "一二三四五六日"


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(SystemAdminOnly, AuditedAdmin):
    """Days set by hand (国务院通知的放假、调休上班，或本街道的临时调整). They win over the built-in data."""

    list_display = ("date", "weekday", "is_workday", "name", "note", "updated_at")
    list_filter = ("is_workday",)
    search_fields = ("name", "note")
    date_hierarchy = "date"
    ordering = ("-date",)

    @admin.display(description="星期")
    def weekday(self, obj):
        return f"周{_WEEKDAYS[obj.date.weekday()]}"


@admin.register(CalendarYear)
class CalendarYearAdmin(SystemAdminOnly, AuditedAdmin):
    """A year is entered by adding its CalendarOverride rows and then ticking 已确认 here."""

    list_display = ("year", "confirmed", "builtin_data", "override_count", "updated_at")
    list_filter = ("confirmed",)
    fields = ("year", "confirmed", "notice", "updated_at")
    readonly_fields = ("updated_at",)

    def get_readonly_fields(self, request, obj=None):
        return ("year", "updated_at") if obj is not None else ("updated_at",)

    @admin.display(description="内置数据", boolean=True)
    def builtin_data(self, obj):
        from civicgrid.core.workcalendar import has_builtin_data

        return has_builtin_data(obj.year)

    @admin.display(description="已录入调整天数")
    def override_count(self, obj):
        return CalendarOverride.objects.filter(date__year=obj.year).count()


@admin.register(JobLock)
class JobLockAdmin(SystemAdminOnly, admin.ModelAdmin):
    """Read-only: the periodic runner (:mod:`civicgrid.core.periodic`) takes and releases these leases itself."""

    list_display = ("job", "holder", "until", "last_run", "next_run")
    fields = ("job", "holder", "until", "last_run", "next_run")
    readonly_fields = fields

    @admin.display(description="任务", ordering="name")
    def job(self, obj):
        return obj.name

    @admin.display(description="持有者（服务器/进程）", ordering="owner")
    def holder(self, obj):
        return obj.owner or "—"

    @admin.display(description="锁定至", ordering="locked_until")
    def until(self, obj):
        return obj.locked_until

    @admin.display(description="上次运行", ordering="last_run_at")
    def last_run(self, obj):
        return obj.last_run_at

    @admin.display(description="下次运行", ordering="next_run_at")
    def next_run(self, obj):
        return obj.next_run_at

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
