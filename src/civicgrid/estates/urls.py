from django.urls import path

from civicgrid.estates import views

app_name = "estates"
urlpatterns = [
    path("", views.rentals, name="rentals"),
    path("rentals/export.xlsx", views.rentals_export, name="rentals_export"),
    path("rentals/new/", views.rental_new, name="rental_new"),
    path("rentals/<int:pk>/", views.rental, name="rental"),
    path("rentals/<int:pk>/inspect/", views.rental_inspect, name="rental_inspect"),
    path("rentals/<int:pk>/clear/", views.rental_clear, name="rental_clear"),
    path("buildings/", views.buildings, name="buildings"),
    path("buildings/save/", views.building_save, name="building_save"),
    path("buildings/<int:pk>/", views.building, name="building"),
    path("enterprises/<int:pk>/", views.enterprise, name="enterprise"),
    path("enterprises/<int:pk>/visit/", views.enterprise_visit, name="enterprise_visit"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/<int:pk>/", views.campaign, name="campaign"),
    path("campaigns/<int:pk>/export.xlsx", views.campaign_export, name="campaign_export"),
    path("targets/<int:pk>/", views.target, name="target"),
]
