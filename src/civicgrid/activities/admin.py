from django.contrib import admin

from civicgrid.activities.models import Activity, EmergencyPlan, Volunteer


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "kind", "community", "sessions", "attendance", "households")
    list_filter = ("kind",)
    raw_id_fields = ("street", "community", "created_by")


@admin.register(EmergencyPlan)
class EmergencyPlanAdmin(admin.ModelAdmin):
    list_display = ("name", "level", "department", "issued_on", "reviewed_on", "review_months")
    list_filter = ("level",)
    raw_id_fields = ("street", "community", "created_by")


@admin.register(Volunteer)
class VolunteerAdmin(admin.ModelAdmin):
    list_display = ("name", "community", "skills", "registered_on", "is_active")
    list_filter = ("is_active",)
    exclude = ("phone",)
    raw_id_fields = ("street", "community", "created_by")
