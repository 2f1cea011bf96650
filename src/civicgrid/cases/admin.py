from django.contrib import admin

from civicgrid.accounts.admin import SystemAdminOnly
from civicgrid.cases.models import Case, CaseEvent, Category, Notification
from civicgrid.core.admin import AuditedAdmin


def category_in_use(category: Category) -> bool:
    return category.cases.exists() or category.children.exists()


class DefaultDepartmentFilter(admin.SimpleListFilter):
    """The catalogue is shared by every 街道: offer only the departments the administrator may see."""

    title = "默认处置部门"
    parameter_name = "default_department"

    def lookups(self, request, model_admin):
        from civicgrid.accounts.models import Department

        return [(str(d.pk), d.name) for d in Department.objects.restrict(request.user, "view")]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(default_department_id=value) if value and value.isdigit() else queryset


@admin.register(Category)
class CategoryAdmin(SystemAdminOnly, AuditedAdmin):
    """Categories are data: edit limits/departments, disable instead of deleting one in use."""

    list_display = (
        "code",
        "name",
        "kind",
        "level",
        "parent",
        "default_department_shown",
        "priority",
        "handle_limit_amount",
        "handle_limit_unit",
        "grid_worker_can_file",
        "is_enabled",
        "is_public",
    )
    list_filter = (
        "kind",
        "level",
        "is_enabled",
        "is_public",
        "priority",
        "grid_worker_can_file",
        DefaultDepartmentFilter,
    )
    list_select_related = ("parent", "default_department")
    search_fields = ("code", "std_code", "name", "synonyms")
    list_editable = ("is_enabled", "is_public")
    raw_id_fields = ("parent",)

    def get_queryset(self, request):
        from django.db.models import Exists, OuterRef

        from civicgrid.accounts.models import Department

        visible = Department.objects.restrict(request.user, "view").filter(
            pk=OuterRef("default_department_id")
        )
        return super().get_queryset(request).annotate(default_department_visible=Exists(visible))

    @admin.display(description="默认处置部门", ordering="default_department__code")
    def default_department_shown(self, obj):
        """Another 街道's department is not named to this administrator (the catalogue is shared)."""
        if not obj.default_department_id:
            return "-"
        if getattr(obj, "default_department_visible", True):
            return obj.default_department.name
        return "（其他街道的部门）"

    def has_delete_permission(self, request, obj=None):
        if not self.has_module_permission(request):
            return False
        return obj is None or not category_in_use(obj)

    def delete_queryset(self, request, queryset):
        # bulk delete from the changelist: only categories nobody uses
        super().delete_queryset(request, queryset.filter(cases__isnull=True, children__isnull=True))


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ("seq", "move", "from_state", "to_state", "actor_name", "at", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CaseStateFilter(admin.SimpleListFilter):
    """状态 of every registered procedure, by label."""

    title = "状态"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        from civicgrid.cases import procedures

        return list(procedures.all_states().items())

    def queryset(self, request, queryset):
        return queryset.filter(state=self.value()) if self.value() else queryset


@admin.register(Case)
class CaseAdmin(SystemAdminOnly, admin.ModelAdmin):
    """Read-only: cases change only through the workflow (services.perform)."""

    list_display = ("number", "title", "state_label", "source", "department", "grid", "light", "created_at")
    list_filter = (CaseStateFilter, "procedure", "source", "light", "priority")
    search_fields = ("number", "title", "description", "address")
    inlines = [CaseEventInline]

    @admin.display(description="状态", ordering="state")
    def state_label(self, obj):
        return obj.get_state_display()  # in the case's own procedure (Case.state has no fixed choices)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ("created_at", "user", "kind", "text", "read_at")
    list_filter = ("kind",)

    def get_queryset(self, request):
        # the notifications of the people of the administrator's tier (not only its own, as the scope rule)
        from civicgrid.accounts.selectors import visible_users

        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs.filter(user__in=visible_users(user=request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
