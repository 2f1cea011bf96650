from django.urls import path

from civicgrid.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("", views.boards, name="boards"),
    path("boards/<int:pk>/", views.board, name="board"),
    path("boards/<int:pk>/move/", views.board_move, name="board_move"),
    path("boards/<int:pk>/board.xlsx", views.board_xlsx, name="board_xlsx"),
    path("boards/<int:pk>/board.docx", views.board_docx, name="board_docx"),
    path("ranking/", views.ranking, name="ranking"),
    path("roles/", views.roles, name="roles"),
    path("settings/", views.settings_page, name="settings"),
    path("assessments/", views.assessments, name="assessments"),
]
