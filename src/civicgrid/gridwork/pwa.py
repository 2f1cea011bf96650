"""The 网格员 phone app as an installable PWA: the web app manifest and the service worker.

The worker is a Django view (not a static file) so it can be served from ``/sw.js`` with a scope covering both
``/field/`` and ``/gridwork/`` (``Service-Worker-Allowed: /``), carry its own Content-Security-Policy (the base-map
tile origins in ``connect-src``, since the worker fetches tiles) and know the static files to precache and a
version (a hash of the worker and those files: a deployment with new files replaces the old caches).
What it caches and how: ``gridwork/sw.js`` and docs/user-guide.md (离线使用).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from civicgrid.core.middleware import content_security_policy

# the app shell: every static file the 网格员 pages load (precached when the worker installs)
SHELL_STATIC = (
    "vendor/bootstrap/bootstrap.min.css",
    "css/civicgrid.css",
    "css/resident.css",
    "css/gridwork.css",
    "css/basemap.css",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/images/marker-icon.png",
    "vendor/leaflet/images/marker-icon-2x.png",
    "vendor/leaflet/images/marker-shadow.png",
    "vendor/htmx/htmx.min.js",
    "js/safe.js",
    "js/site.js",
    "js/basemap.js",
    "js/resident.js",
    "js/field.js",
    "js/gridwork.js",
    "js/offline.js",
    "js/visit.js",
    "img/favicon.svg",
    "img/icon-192.png",
    "img/icon-512.png",
)
# the pages the worker controls (network first, the last copy when offline); anything else passes through
APP_PAGES = (
    r"^/field/$",
    r"^/gridwork/$",
    r"^/gridwork/points/\d+/check/$",
    r"^/registers/households/$",  # 入户走访 offline: the worker's 户 list and each 户's visit form
    r"^/registers/(households|persons)/\d+/visit/$",
)
TILE_CACHE_MAX = 800  # map tiles / vector base answers kept (oldest dropped first)


@lru_cache(maxsize=1)
def _version() -> str:
    h = hashlib.sha256(render_to_string("gridwork/sw.js", {"config": "{}"}).encode())
    for name in SHELL_STATIC:
        path = finders.find(name)
        if path:
            with open(path, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()[:12]


def _tile_origins() -> list[str]:
    origins = (getattr(settings, "CIVICGRID", None) or {}).get("MAP_TILE_ORIGINS") or ()
    return [
        str(o).rstrip("/") for o in ([origins] if isinstance(origins, str) else origins) if "*" not in str(o)
    ]


def worker_config() -> dict:
    return {
        "version": _version(),
        "shell": [static(name) for name in SHELL_STATIC],
        "pages": list(APP_PAGES),
        "staticPrefix": settings.STATIC_URL,
        "tileOrigins": _tile_origins(),
        "tileMax": TILE_CACHE_MAX,
    }


@require_GET
def service_worker(request):
    body = render_to_string("gridwork/sw.js", {"config": json.dumps(worker_config(), ensure_ascii=False)})
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    # the worker's own policy: same-origin only, plus the tile servers it fetches from
    policy = content_security_policy().replace(
        "connect-src 'self'", " ".join(["connect-src 'self'", *_tile_origins()])
    )
    response["Content-Security-Policy"] = policy
    return response


@require_GET
def manifest(request):
    data = {
        "name": "网格通 · 网格员",
        "short_name": "网格通",
        "description": "网格员巡查打卡与问题上报；没有网络时先存在手机里，联网后自动上传。",
        "lang": "zh-CN",
        "id": "/gridwork/",
        "start_url": "/gridwork/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#1d4e89",
        "icons": [
            {"src": static("img/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("img/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("img/icon-512-maskable.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
        "shortcuts": [
            {"name": "巡查打卡", "url": "/gridwork/"},
            {"name": "巡查上报", "url": "/field/"},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json; charset=utf-8"
    return response
