from django.urls import path

from civicgrid.intake import views

app_name = "intake"
urlpatterns = [
    path("", views.job_list, name="jobs"),
    path("upload/", views.upload, name="upload"),
    path("jobs/<int:pk>/mapping/", views.mapping, name="mapping"),
    path("jobs/<int:pk>/header/", views.header_row, name="header_row"),
    path("jobs/<int:pk>/preview/", views.preview, name="preview"),
    path("jobs/<int:pk>/start/", views.start, name="start"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("jobs/<int:pk>/errors.xlsx", views.error_report, name="error_report"),
    path("placements/", views.placements, name="placements"),
    path("placements/<int:pk>/place/", views.place, name="place"),
]
