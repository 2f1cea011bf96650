from django.contrib import admin

from civicgrid.core.admin import AuditedAdmin, SystemAdminOnly
from civicgrid.places.models import Building, Community, District, Grid, Street, Unit


@admin.register(District)
class DistrictAdmin(SystemAdminOnly, AuditedAdmin):
    """区: holds the 街道; its 区-level accounts (区指挥中心, 区领导) see every 街道 of it."""

    list_display = ("code", "name", "street_count")
    search_fields = ("code", "name")

    @admin.display(description="街道数")
    def street_count(self, obj):
        return obj.streets.count()

    def has_delete_permission(self, request, obj=None):
        return False  # streets and accounts point at it


@admin.register(Street)
class StreetAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("code", "name", "division_code", "district")
    list_filter = (("district", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("code", "name")

    def has_delete_permission(self, request, obj=None):
        return False  # communities, accounts and cases point at it


@admin.register(Community)
class CommunityAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("code", "name", "kind", "street")
    search_fields = ("code", "name")


@admin.register(Grid)
class GridAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("code", "name", "kind", "community", "parent", "area_m2", "is_active")
    list_filter = ("kind", ("community", admin.RelatedOnlyFieldListFilter), "is_active")
    search_fields = ("code", "name")
    # the bounding box is derived from the geometry; shown as one Chinese-labelled line
    exclude = ("min_lng", "min_lat", "max_lng", "max_lat")
    readonly_fields = ("area_m2", "bounding_box", "updated_at")

    @admin.display(description="外接矩形（经度, 纬度）")
    def bounding_box(self, obj):
        return f"{obj.min_lng:.6f}, {obj.min_lat:.6f} — {obj.max_lng:.6f}, {obj.max_lat:.6f}"


@admin.register(Building)
class BuildingAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("name", "kind", "address", "grid")
    list_filter = ("kind",)
    search_fields = ("name", "address", "aliases")
    raw_id_fields = ("grid", "parent")


@admin.register(Unit)
class UnitAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("name", "kind", "address", "grid", "contact_phone")
    list_filter = ("kind",)
    search_fields = ("name", "address", "credit_code")
    raw_id_fields = ("grid", "building")
