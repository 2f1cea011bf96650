from django.urls import path, re_path

from civicgrid.open311 import views

app_name = "open311"

_FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    path("", views.root, name="root"),
    re_path(r"^discovery" + _FMT, views.discovery, name="discovery"),
    re_path(r"^services" + _FMT, views.service_list, name="services"),
    re_path(r"^services/(?P<code>[^/]+?)" + _FMT, views.service_definition, name="service"),
    re_path(r"^requests" + _FMT, views.requests_view, name="requests"),
    re_path(r"^requests?/(?P<service_request_id>[^/]+?)" + _FMT, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[^/]+?)" + _FMT, views.token_view, name="token"),
    re_path(r"^servicerequestupdates" + _FMT, views.updates_view, name="updates"),
    re_path(r"^(?P<path>.+?)" + _FMT, views.unknown, name="unknown"),
    re_path(r"^(?P<path>.*)$", views.unknown_any, name="unknown_any"),
]
