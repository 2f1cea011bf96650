from django.urls import path

from civicgrid.core import import_views as views

app_name = "imports"
urlpatterns = [
    path("", views.index, name="index"),
    path("<str:spec>/new/", views.new, name="new"),
    path("<str:spec>/template.xlsx", views.template, name="template"),
    path("runs/<int:pk>/", views.run, name="run"),
    path("runs/<int:pk>/header/", views.header_row, name="header_row"),
    path("runs/<int:pk>/mapping/", views.mapping, name="mapping"),
    path("runs/<int:pk>/start/", views.start, name="start"),
    path("runs/<int:pk>/progress/", views.progress, name="progress"),
]
