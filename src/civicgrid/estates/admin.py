from django.contrib import admin

from civicgrid.estates.models import BuildingProfile, Campaign, EnterpriseProfile, Rental


@admin.register(Rental)
class RentalAdmin(admin.ModelAdmin):
    list_display = ("building", "room", "tenants", "crowded", "three_in_one", "status", "cleared_on")
    list_filter = ("status", "crowded", "three_in_one")
    exclude = ("landlord_phone_cipher",)
    readonly_fields = ("landlord_phone_masked",)
    raw_id_fields = ("building", "grid", "landlord_person", "created_by")


@admin.register(BuildingProfile)
class BuildingProfileAdmin(admin.ModelAdmin):
    list_display = ("building", "is_key", "manager_name", "leader")
    list_filter = ("is_key",)
    exclude = ("manager_phone_cipher",)
    raw_id_fields = ("building", "grid")


@admin.register(EnterpriseProfile)
class EnterpriseProfileAdmin(admin.ModelAdmin):
    list_display = ("unit", "building", "registered_here", "industry", "above_scale", "vacant_area")
    list_filter = ("registered_here", "industry", "above_scale")
    raw_id_fields = ("unit", "building", "grid")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "starts_on", "ends_on")
    list_filter = ("kind",)
