from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from civicgrid.core.errors import ValidationFailed
from civicgrid.core.roles import Capability, has_capability
from civicgrid.places import selectors


def _float_param(request, name: str, lo: float, hi: float) -> float:
    raw = request.GET.get(name, "")
    try:
        value = float(raw)
    except ValueError:
        raise ValidationFailed(f"参数 {name} 应为数字，收到：{raw!r}", field=name)
    if not lo <= value <= hi:
        raise ValidationFailed(f"参数 {name} 超出范围 [{lo}, {hi}]：{value}", field=name)
    return value


@login_required
def grids_geojson(request):
    """The grids this user may see, as a GeoJSON FeatureCollection (WGS84)."""
    features = [
        {
            "type": "Feature",
            "id": g.pk,
            "geometry": g.geometry,
            "properties": {
                "code": g.code,
                "name": g.name,
                "kind": g.kind,
                "community": g.community.name,
                "community_code": g.community.code,
            },
        }
        for g in selectors.visible_grids(user=request.user).filter(is_active=True)
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@login_required
def lookup(request):
    try:
        lng = _float_param(request, "lng", -180, 180)
        lat = _float_param(request, "lat", -90, 90)
    except ValidationFailed as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    grid = selectors.locate_grid(user=request.user, lng=lng, lat=lat)
    data = None
    if grid is not None:
        data = {"id": grid.pk, "code": grid.code, "name": grid.name, "community": grid.community.name}
    return JsonResponse({"lng": lng, "lat": lat, "grid": data})


@login_required
def lookup_address(request):
    """The create form's address → point proposal: ``?q=地址`` answers ``{"q", "found", "score", "grid",
    "building", "point", "point_source"}`` (only grids the user may see; ``found`` false when nothing matches)."""
    q = (request.GET.get("q") or "").strip()
    if len(q) < 2 or len(q) > 200:
        err = ValidationFailed("参数 q：请输入 2–200 个字的地址", field="q")
        return JsonResponse(err.as_dict(), status=err.status)
    found = selectors.address_point(user=request.user, text=q)
    if found is None:
        return JsonResponse({"q": q, "found": False, "grid": None, "building": None, "point": None})
    return JsonResponse({"q": q, "found": True, **found})


@require_GET
def basemap_geojson(request):
    """The offline vector base map (roads, buildings, areas, labels) as GeoJSON, for every map page including
    the public 随手拍 one: it holds streets and buildings only. Gzipped when the browser accepts it (compressed
    once per change, not per request); revalidated by ETag (304 when unchanged)."""
    payload = selectors.basemap_geojson()
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    etag = payload.etag[:-1] + '-gz"' if gzipped else payload.etag
    sent = [t.strip().removeprefix("W/") for t in request.headers.get("If-None-Match", "").split(",")]
    if etag in sent:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(
            payload.gzipped if gzipped else payload.body, content_type="application/geo+json; charset=utf-8"
        )
        if gzipped:
            response["Content-Encoding"] = "gzip"
    response["ETag"] = etag
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = "public, no-cache"
    return response


@login_required
def home(request):
    """The start page: the grid map and counts of what the user may see (the 审计管理员 sees no map)."""
    user = request.user
    ctx = {"show_map": has_capability(user, Capability.BUSINESS_VIEW)}
    if ctx["show_map"]:
        grids = selectors.visible_grids(user=user)
        ctx.update(
            grid_count=grids.count(),
            community_count=selectors.visible_communities(user=user).count(),
            building_count=selectors.visible_buildings(user=user).count(),
            unit_count=selectors.visible_units(user=user).count(),
        )
    return render(request, "core/home.html", ctx)
