from django.contrib import admin

from civicgrid.reports.models import Report, ReportTemplate, ReportVersion


@admin.register(ReportTemplate)
class ReportTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "street", "district", "is_active", "size", "uploaded_by", "uploaded_at")
    list_filter = ("is_active", "street", "district")
    exclude = ("content",)
    readonly_fields = ("street", "district", "name", "sha256", "size", "uploaded_by", "uploaded_at")

    def has_add_permission(self, request):
        return False  # uploaded on /reports/templates/ (checked by rendering it once)


class VersionInline(admin.TabularInline):
    model = ReportVersion
    fields = ("number", "sha256", "created_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("__str__", "street", "district", "start", "end", "created_by", "created_at")
    list_filter = ("street", "district")
    readonly_fields = (
        "street", "district", "start", "end", "rounding", "template", "manual", "created_by", "created_at",
    )  # fmt: skip
    inlines = [VersionInline]

    def has_add_permission(self, request):
        return False  # drafted on /reports/ or with `civicgrid report draft`
