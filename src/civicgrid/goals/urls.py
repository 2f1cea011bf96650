from django.urls import path

from civicgrid.goals import views

app_name = "goals"
urlpatterns = [
    path("", views.summary, name="summary"),
    path("summary.xlsx", views.summary_xlsx, name="summary_xlsx"),
    path("summary.docx", views.summary_docx, name="summary_docx"),
    path("indicators/<int:pk>/", views.indicator, name="indicator"),
    path("projects/", views.board, name="board"),
    path("projects.xlsx", views.board_xlsx, name="board_xlsx"),
    path("projects/<int:pk>/", views.project, name="project"),
    path("gantt/", views.gantt, name="gantt"),
    path("micro/", views.micro, name="micro"),
]
