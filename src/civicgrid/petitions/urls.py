from django.urls import path

from civicgrid.petitions import views

app_name = "petitions"
urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("export.xlsx", views.export, name="export"),
    path("new/", views.register, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/task/", views.add_task, name="task"),
    path("<int:pk>/resolve/", views.resolve, name="resolve"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("receptions/", views.receptions, name="receptions"),
    path("figures/", views.figures, name="figures"),
]
