from django.urls import path

from civicgrid.activities import views

app_name = "activities"
urlpatterns = [
    path("", views.activities, name="list"),
    path("export.xlsx", views.activities_export, name="export"),
    path("new/", views.activity_form, name="new"),
    path("<int:pk>/", views.activity_form, name="edit"),
    path("<int:pk>/delete/", views.activity_delete, name="delete"),
    path("photos/<int:photo_id>/", views.activity_photo, name="photo"),
    path("photos/<int:photo_id>/thumb/", views.activity_photo, {"thumb": True}, name="photo_thumb"),
    path("plans/", views.plans, name="plans"),
    path("plans/export.xlsx", views.plans_export, name="plans_export"),
    path("plans/new/", views.plan_form, name="plan_new"),
    path("plans/<int:pk>/", views.plan_form, name="plan_edit"),
    path("plans/<int:pk>/delete/", views.plan_delete, name="plan_delete"),
    path("volunteers/", views.volunteers, name="volunteers"),
    path("volunteers/export.xlsx", views.volunteers_export, name="volunteers_export"),
    path("volunteers/entries.xlsx", views.entries_export, name="entries_export"),
    path("volunteers/new/", views.volunteer_form, name="volunteer_new"),
    path("volunteers/<int:pk>/", views.volunteer_form, name="volunteer_edit"),
    path("volunteers/<int:pk>/entries/", views.volunteer_entry, name="volunteer_entry"),
]
