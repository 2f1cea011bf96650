from django.urls import path

from civicgrid.supervision import views

app_name = "supervision"
urlpatterns = [
    path("", views.supervision_list, name="list"),
    path("department/", views.supervise_department, name="supervise_department"),
    path("<int:pk>/", views.detail, name="detail"),
    path("cases/<int:pk>/", views.supervise_case, name="supervise_case"),
    path("warnings/", views.warnings, name="warnings"),
    path("warnings/panel/", views.warnings_panel, name="warnings_panel"),
    path("warnings/<int:pk>/", views.warning, name="warning"),
]
