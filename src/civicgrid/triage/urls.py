from django.urls import path

from civicgrid.triage import views

app_name = "triage"
urlpatterns = [
    path("cases/<int:pk>/", views.panel, name="panel"),
    path("suggestions/<int:sid>/pick/", views.pick, name="pick"),
    path("duplicates/<int:did>/merge/", views.merge, name="merge"),
    path("duplicates/<int:did>/dismiss/", views.dismiss, name="dismiss"),
]
