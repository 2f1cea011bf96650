from __future__ import annotations

import hmac
import os

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from civicgrid.core import auditlabels, heartbeat, observability
from civicgrid.core import selectors as core_selectors
from civicgrid.core.roles import Capability, has_capability


def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok", "db": connection.vendor})


@csrf_exempt
def api_not_found(request):
    """Any path under /api/ that no route matches: the API's JSON error, not the HTML 404 page."""
    return JsonResponse({"code": "not_found", "detail": f"接口不存在：{request.path[:200]}"}, status=404)


_code_migrations: set[tuple[str, str]] | None = None


def _unapplied_migrations() -> list[str]:
    """Migrations this code has that the database lacks (the code's graph is read from disk once)."""
    global _code_migrations
    if _code_migrations is None:
        from civicgrid.core.backup import code_migrations

        _code_migrations = code_migrations()
    with connection.cursor() as cur:
        cur.execute("SELECT app, name FROM django_migrations")
        applied = {(app, name) for app, name in cur.fetchall()}
    return sorted(f"{app}.{name}" for app, name in _code_migrations - applied)


def readyz(request):
    """Ready to serve: database reachable, schema migrated, job runner alive (when one is expected).

    200 ``{"status": "ok", ...}`` or 503 ``{"status": "unavailable", "failed": [...], ...}`` naming each failed
    check — for load balancers and monitoring; ``/healthz`` only says the process answers."""
    checks: dict[str, dict] = {}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        checks["database"] = {"ok": True, "vendor": connection.vendor}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": f"数据库无法连接：{exc.__class__.__name__}"}
    if checks["database"]["ok"]:
        try:
            pending = _unapplied_migrations()
            checks["migrations"] = {"ok": not pending, "unapplied": pending[:20]}
            if pending:
                checks["migrations"]["error"] = f"有 {len(pending)} 个迁移未应用，请运行 civicgrid migrate"
        except Exception as exc:
            checks["migrations"] = {"ok": False, "error": f"无法读取迁移状态：{exc.__class__.__name__}"}
        if heartbeat.job_runner_expected():
            try:
                age = heartbeat.age_seconds()
                limit = heartbeat.max_age_seconds()
                fresh = age is not None and age <= limit
                checks["job_runner"] = {"ok": fresh, "age_seconds": age, "max_age_seconds": limit}
                if not fresh:
                    checks["job_runner"]["error"] = (
                        "定时任务从未运行" if age is None else f"定时任务已 {int(age)} 秒没有心跳"
                    )
            except Exception as exc:
                checks["job_runner"] = {"ok": False, "error": f"无法读取心跳：{exc.__class__.__name__}"}
    failed = [name for name, c in checks.items() if not c["ok"]]
    body = {"status": "unavailable" if failed else "ok", "failed": failed, "checks": checks}
    return JsonResponse(body, status=503 if failed else 200, json_dumps_params={"ensure_ascii": False})


LOOPBACK = {"127.0.0.1", "::1"}


def metrics(request):
    """Prometheus text exposition. Allowed from loopback (not relayed by a proxy) or with the bearer token in
    ``CIVICGRID_METRICS_TOKEN``; anyone else gets 403."""
    token = os.environ.get("CIVICGRID_METRICS_TOKEN", "")
    given = request.META.get("HTTP_AUTHORIZATION", "")
    by_token = bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    direct_loopback = request.META.get("REMOTE_ADDR") in LOOPBACK and not request.META.get(
        "HTTP_X_FORWARDED_FOR"
    )
    if not (by_token or direct_loopback):
        return HttpResponse(
            "403 指标仅允许本机访问，或携带 Authorization: Bearer <CIVICGRID_METRICS_TOKEN>\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    from prometheus_client import CONTENT_TYPE_LATEST

    return HttpResponse(observability.render_metrics(), content_type=CONTENT_TYPE_LATEST)


@login_required
def audit_list(request):
    qs = core_selectors.audit_log(
        user=request.user,
        object_type=request.GET.get("object_type") or None,
        object_id=request.GET.get("object_id") or None,
        actor=request.GET.get("actor") or None,
    )
    if not has_capability(request.user, Capability.AUDIT_READ):
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


# --- import error reports (core.importer's runs) ----------------------------------------------------


@login_required
def import_errors(request, pk: int):
    """The xlsx error report of an import run (行号, 编号, 错误原因, 类型): only for those who may run its spec."""
    from django.http import FileResponse

    from civicgrid.core import importer
    from civicgrid.core.errors import NotFound

    try:
        job = importer.get_run(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404(exc.message)
    path = importer.error_report_file(job)
    if path is None:
        raise Http404("该导入任务没有错误报告")
    return FileResponse(
        open(path, "rb"),  # noqa: SIM115 (FileResponse closes it)
        as_attachment=True,
        filename=f"导入错误报告_{job.pk}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
