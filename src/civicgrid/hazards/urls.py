from django.urls import path

from civicgrid.hazards import views

app_name = "hazards"
urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("export.xlsx", views.export, name="export"),
    path("inspect/", views.inspect, name="inspect"),
    path("inspections/", views.inspections, name="inspections"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection"),
    path("inspections/photos/<int:photo_id>/", views.inspection_photo, name="inspection_photo"),
    path(
        "inspections/photos/<int:photo_id>/thumb/",
        views.inspection_photo,
        {"thumb": True},
        name="inspection_photo_thumb",
    ),
    path("figures/", views.figures, name="figures"),
    path("map/", views.color_map, name="map"),
    path("map.json", views.map_data, name="map_data"),
    path("fire/<int:building_id>/", views.fire_register, name="fire_register"),
]
