from django.contrib import admin
from django.urls import include, path, re_path

from civicgrid.core import views as core_views
from civicgrid.core.api import api
from civicgrid.gridwork import pwa as gridwork_pwa
from civicgrid.places import views as place_views

# the composition root wires the apps' API routers into the one API (core knows none of them)
api.add_router("/accounts", "civicgrid.accounts.api.router")
api.add_router("/places", "civicgrid.places.api.router")
api.add_router("/cases", "civicgrid.cases.api.router")
api.add_router("/procedures", "civicgrid.cases.api.procedures_router")
api.add_router("/hazards", "civicgrid.hazards.api.router")
api.add_router("/gridwork", "civicgrid.gridwork.api.router")
api.add_router("/triage", "civicgrid.triage.api.router")
api.add_router("/stats", "civicgrid.metrics.api.router")
api.add_router("/disputes", "civicgrid.disputes.api.router")
api.add_router("/enforcement", "civicgrid.enforcement.api.router")
api.add_router("/opinion", "civicgrid.opinion.api.router")
api.add_router("/petitions", "civicgrid.petitions.api.router")
api.add_router("/goals", "civicgrid.goals.api.router")
api.add_router("/reports", "civicgrid.reports.api.router")
api.add_router("/registers", "civicgrid.registers.api.router")
api.add_router("/evaluation", "civicgrid.evaluation.api.router")
api.add_router("/supervision", "civicgrid.supervision.api.router")
api.add_router("/estates", "civicgrid.estates.api.router")
api.add_router("/activities", "civicgrid.activities.api.router")

admin.site.site_header = "街道网格化治理平台 · 系统管理"
admin.site.site_title = "CivicGrid 管理"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("", place_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics, name="metrics"),
    # the 网格员 phone app (PWA): the worker's scope covers /field/ and /gridwork/
    path("sw.js", gridwork_pwa.service_worker, name="pwa_sw"),
    path("manifest.webmanifest", gridwork_pwa.manifest, name="pwa_manifest"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/", core_views.api_not_found),  # JSON 404 for any other path under /api/
    path("accounts/", include("civicgrid.accounts.urls")),
    path("places/", include("civicgrid.places.urls")),
    path("cases/", include("civicgrid.cases.urls")),
    path("audit/", include("civicgrid.core.urls")),
    path("exports/", include("civicgrid.core.export_urls")),
    path("imports/", include("civicgrid.core.import_urls")),
    path("intake/", include("civicgrid.intake.urls")),
    path("hazards/", include("civicgrid.hazards.urls")),
    path("gridwork/", include("civicgrid.gridwork.urls")),
    path("triage/", include("civicgrid.triage.urls")),
    path("disputes/", include("civicgrid.disputes.urls")),
    path("enforcement/", include("civicgrid.enforcement.urls")),
    path("opinion/", include("civicgrid.opinion.urls")),
    path("petitions/", include("civicgrid.petitions.urls")),
    path("goals/", include("civicgrid.goals.urls")),
    path("registers/", include("civicgrid.registers.urls")),
    path("evaluation/", include("civicgrid.evaluation.urls")),
    path("supervision/", include("civicgrid.supervision.urls")),
    path("estates/", include("civicgrid.estates.urls")),
    path("command/", include("civicgrid.command.urls")),
    path("reports/", include("civicgrid.reports.urls")),
    path("activities/", include("civicgrid.activities.urls")),
    path("s/", include("civicgrid.intake.resident_urls")),
    path("field/", include("civicgrid.intake.field_urls")),
    path("open311/v2/", include("civicgrid.open311.urls")),
]
