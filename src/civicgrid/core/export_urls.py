from django.urls import path

from civicgrid.core import views

app_name = "exports"
urlpatterns = [
    path("<int:pk>/", views.export_job, name="job"),
    path("<int:pk>/progress/", views.export_progress, name="progress"),
    path("<int:pk>/download/", views.export_download, name="download"),
    # the error report of a core.importer run (core owns no other URL prefix for downloads)
    path("imports/<int:pk>/errors/", views.import_errors, name="import_errors"),
]
