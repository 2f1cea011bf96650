from django.urls import path

from civicgrid.disputes import views

app_name = "disputes"
urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("export.xlsx", views.export, name="export"),
    path("new/", views.register, name="register"),
    path("figures/", views.figures, name="figures"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/sessions/", views.add_session, name="add_session"),
    path("<int:pk>/parties/", views.add_party, name="add_party"),
    path("<int:pk>/agreement.docx", views.agreement_docx, name="agreement"),
]
