from django.urls import path

from civicgrid.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("versions/<int:pk>.docx", views.download_docx, name="docx"),
    path("versions/<int:pk>.pdf", views.download_pdf, name="pdf"),
    path("versions/<int:pk>.xlsx", views.download_figures, name="figures"),
    path("templates/", views.templates, name="templates"),
    path("templates/default.docx", views.default_template, name="default_template"),
    path("templates/<int:pk>/retire", views.retire_template, name="retire_template"),
]
