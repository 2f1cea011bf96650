from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from civicgrid.accounts import selectors as account_selectors
from civicgrid.accounts.roles import Role
from civicgrid.core import auditlabels
from civicgrid.places import selectors as place_selectors


def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok", "db": connection.vendor})


@csrf_exempt
def api_not_found(request):
    """Any path under /api/ that no route matches: the API's JSON error, not the HTML 404 page."""
    return JsonResponse({"code": "not_found", "detail": f"接口不存在：{request.path[:200]}"}, status=404)


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


# --- background exports (only their requester sees them) ------------------------------------------


def _export_job(request, pk):
    from civicgrid.core import background, exports
    from civicgrid.core.errors import NotFound

    try:
        job = exports.get_job(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404(exc.message)
    if background.recover_if_stale(job):
        job.refresh_from_db()
    job.kind_label = exports.label(job.kind)
    return job


@login_required
def export_job(request, pk: int):
    return render(request, "core/export_job.html", {"job": _export_job(request, pk)})


@login_required
def export_progress(request, pk: int):
    return render(request, "core/_export_progress.html", {"job": _export_job(request, pk)})


@login_required
def export_download(request, pk: int):
    from pathlib import Path

    from django.conf import settings
    from django.http import FileResponse

    job = _export_job(request, pk)
    path = Path(settings.DATA_DIR) / job.file_path if job.file_path else None
    if job.status != "done" or path is None or not path.is_file():
        raise Http404("导出文件尚未生成或已被清理")
    return FileResponse(
        open(path, "rb"),  # noqa: SIM115 (FileResponse closes it)
        as_attachment=True,
        filename=job.file_name or f"导出_{job.pk}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
