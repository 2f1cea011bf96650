from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render

from civicgrid.accounts import selectors as account_selectors
from civicgrid.accounts.roles import Role
from civicgrid.core import auditlabels
from civicgrid.places import selectors as place_selectors


def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok", "db": connection.vendor})


@login_required
def home(request):
    user = request.user
    ctx = {"show_map": user.role != Role.AUDIT_ADMIN}
    if ctx["show_map"]:
        grids = place_selectors.visible_grids(user=user)
        ctx.update(
            grid_count=grids.count(),
            community_count=place_selectors.visible_communities(user=user).count(),
            building_count=place_selectors.visible_buildings(user=user).count(),
            unit_count=place_selectors.visible_units(user=user).count(),
        )
    return render(request, "core/home.html", ctx)


@login_required
def audit_list(request):
    qs = account_selectors.audit_log(
        user=request.user,
        object_type=request.GET.get("object_type") or None,
        object_id=request.GET.get("object_id") or None,
        actor=request.GET.get("actor") or None,
    )
    if request.user.role != Role.AUDIT_ADMIN:
        raise Http404("审计日志仅审计管理员可查看")
    action = request.GET.get("action")
    if action:
        qs = qs.filter(action__startswith=action)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    for e in page:
        e.action_label = auditlabels.action_label(e.action)
        e.role_label = auditlabels.role_label(e.actor_role)
        e.type_label = auditlabels.object_type_label(e.object_type)
    return render(request, "core/audit_list.html", {"page": page, "filters": request.GET})
