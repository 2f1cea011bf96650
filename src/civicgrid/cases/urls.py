from django.urls import path

from civicgrid.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("inbox/", views.inbox, name="inbox"),
    path("new/", views.create, name="create"),
    path("export.xlsx", views.export, name="export"),
    path("<int:pk>/", views.detail, name="detail"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notification_read, name="notifications_read_all"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("photos/<int:pk>/", views.attachment, name="photo"),
    path("photos/<int:pk>/thumb/", views.attachment, {"thumb": True}, name="photo_thumb"),
]
