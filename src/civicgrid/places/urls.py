from django.urls import path

from civicgrid.places import views

app_name = "places"
urlpatterns = [
    path("grids.geojson", views.grids_geojson, name="grids_geojson"),
    path("lookup", views.lookup, name="lookup"),
    path("lookup-address", views.lookup_address, name="lookup_address"),
    path("basemap.geojson", views.basemap_geojson, name="basemap"),
]
