"""Public 居民随手拍 URLs, mounted at ``/s/`` (short enough to print on a poster or QR code)."""

from django.urls import path

from civicgrid.intake import resident

app_name = "resident"
urlpatterns = [
    path("", resident.report, name="report"),
    path("grids.json", resident.grids_outline, name="grids"),
    path("t/", resident.track_lookup, name="lookup"),
    path("t/<str:code>/", resident.track, name="track"),
    path("t/<str:code>/photos/<int:pk>/", resident.track_photo, name="track_photo"),
    path(
        "t/<str:code>/photos/<int:pk>/thumb/", resident.track_photo, {"thumb": True}, name="track_photo_thumb"
    ),
]
