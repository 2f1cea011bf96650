from django.urls import path

from civicgrid.registers import views

app_name = "registers"
urlpatterns = [
    path("", views.persons, name="persons"),
    path("export.xlsx", views.export, name="export"),
    path("persons/new/", views.person_new, name="person_new"),
    path("persons/<int:pk>/", views.person, name="person"),
    path("persons/<int:pk>/reveal/", views.reveal, name="reveal"),
    path("persons/<int:pk>/floating/", views.floating, name="floating"),
    path("households/", views.households, name="households"),
    path("households/new/", views.household_new, name="household_new"),
    path("households/<int:pk>/", views.household, name="household"),
    path("households/<int:pk>/card/", views.household_card, name="household_card"),
    path("households/<int:pk>/visit/", views.household_visit, name="household_visit"),
    path("persons/<int:pk>/visit/", views.person_visit, name="person_visit"),
    path("households/<int:pk>/assistance/", views.assistance, name="assistance"),
    path("visits/", views.visits, name="visits"),
    path("visits/new/", views.visit_new, name="visit_new"),
    path("visits/<int:pk>/", views.visit, name="visit"),
    path("overdue/", views.overdue, name="overdue"),
    path("figures/", views.figures, name="figures"),
]
