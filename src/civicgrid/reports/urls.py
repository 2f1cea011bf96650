from django.urls import path

from civicgrid.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/v<int:number>.docx", views.download_docx, name="docx"),
    path("<int:pk>/v<int:number>.pdf", views.download_pdf, name="pdf"),
    path("<int:pk>/v<int:number>.xlsx", views.download_figures, name="figures"),
    path("templates/", views.templates, name="templates"),
    path("templates/default.docx", views.default_template, name="default_template"),
    path("templates/<int:pk>/retire", views.retire_template, name="retire_template"),
]
