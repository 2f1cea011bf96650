from django.urls import path

from civicgrid.enforcement import views

app_name = "enforcement"
urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("export.xlsx", views.export, name="export"),
    path("new/", views.create, name="create"),
    path("figures/", views.figures, name="figures"),
    path("<int:case_id>/", views.detail, name="detail"),
]
