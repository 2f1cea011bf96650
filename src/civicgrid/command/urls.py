from django.urls import path

from civicgrid.command import views

app_name = "command"
urlpatterns = [
    path("", views.leader, name="leader"),
    path("figures.xlsx", views.leader_xlsx, name="leader_xlsx"),
    path("brief.docx", views.brief_docx, name="brief"),
    path("screen/", views.screen, name="screen"),
    path("screen/data.json", views.screen_data, name="screen_data"),
]
