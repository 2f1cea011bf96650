from django.urls import path

from civicgrid.gridwork import views

app_name = "gridwork"
urlpatterns = [
    path("", views.patrol, name="patrol"),
    path("points/", views.points, name="points"),
    path("points/<int:pk>/check/", views.check, name="check"),
    path("patrols/", views.patrols, name="patrols"),
    path("patrols/<int:pk>/", views.replay, name="replay"),
    path("patrols/<int:pk>/track.json", views.track, name="track"),
    path("figures/", views.figures, name="figures"),
    path("scores/", views.scores, name="scores"),
    path("scores.xlsx", views.scores_export, name="scores_export"),
]
