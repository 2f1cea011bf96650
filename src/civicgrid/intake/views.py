"""Screens of the 12345 import: upload → mapping → preview → start → progress (htmx) → result; placement queue.

Only 派遣员 / 值班长 / 系统管理员 (403 for everyone else; 404 for objects outside the user's scope).
"""

from __future__ import annotations

from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.core.errors import DomainError, NotFound, ValidationFailed
from civicgrid.intake import importing, selectors, services
from civicgrid.intake.forms import MappingForm, PlaceForm, UploadForm
from civicgrid.intake.models import JobStatus

PREVIEW_ROWS = 20


def importer_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.can_import(request.user):
            raise PermissionDenied("只有派遣员、值班长和系统管理员可以导入工单")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


@importer_required
@require_GET
def job_list(request):
    page = Paginator(selectors.visible_jobs(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "intake/import_jobs.html", {"page": page})


@importer_required
@require_http_methods(["GET", "POST"])
def upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.create_job(
                actor=request.user, upload=form.cleaned_data["file"], source=form.cleaned_data["source"]
            )
        except ValidationFailed as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("intake:mapping", pk=job.pk)
    recent = selectors.visible_jobs(user=request.user)[:5]
    return render(request, "intake/import_upload.html", {"form": form, "recent": recent})


@importer_required
@require_http_methods(["GET", "POST"])
def mapping(request, pk: int):
    job = selectors.get_job(user=request.user, pk=pk)
    if job.status != JobStatus.DRAFT:
        return redirect("intake:job", pk=job.pk)
    fields = services.fields_for(job.source)
    saved = selectors.mappings(user=request.user, source=job.source)
    initial = dict(job.mapping)
    applied = None
    if request.method == "GET" and request.GET.get("use"):
        applied = selectors.get_mapping(user=request.user, pk=request.GET["use"])
        headers = set(job.headers)
        initial = {k: v for k, v in applied.mapping.items() if v in headers}
    form = MappingForm(request.POST or None, fields=fields, headers=job.headers, initial_mapping=initial)
    if request.method == "POST" and form.is_valid():
        chosen = form.mapping()
        try:
            services.set_mapping(actor=request.user, job=job, mapping=chosen)
            if form.cleaned_data.get("save_as"):
                services.save_mapping(
                    actor=request.user, name=form.cleaned_data["save_as"], source=job.source, mapping=chosen
                )
                messages.success(request, f"已保存字段对应方案「{form.cleaned_data['save_as']}」")
        except ValidationFailed as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("intake:preview", pk=job.pk)
    suggested = importing.suggest_mapping(job.headers, fields)
    head = [
        {
            "number": n,
            "text": "｜".join(t for t in texts if t)[:120] or "（空行）",
            "chosen": n == job.header_row,
        }
        for n, texts in job.head_rows
    ]
    return render(
        request,
        "intake/import_mapping.html",
        {
            "job": job,
            "form": form,
            "saved": saved,
            "applied": applied,
            "suggested": suggested,
            "head": head,
        },
    )


@importer_required
@require_POST
def header_row(request, pk: int):
    job = selectors.get_job(user=request.user, pk=pk)
    try:
        services.set_header_row(actor=request.user, job=job, header_row=request.POST.get("header_row"))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已将第 {job.header_row} 行作为表头，并重新推荐了字段对应")
    return redirect("intake:mapping", pk=job.pk)


@importer_required
@require_GET
def preview(request, pk: int):
    job = selectors.get_job(user=request.user, pk=pk)
    if job.status != JobStatus.DRAFT:
        return redirect("intake:job", pk=job.pk)
    fields = services.fields_for(job.source)
    reader = services.open_job_table(job)
    try:
        try:
            binding = importing.Binding.bind(job.mapping, reader.headers, fields)
        except ValidationFailed as exc:
            messages.error(request, exc.message)
            return redirect("intake:mapping", pk=job.pk)
        handler = services.handler_for(job, actor=request.user)
        rows = importing.preview(reader, binding, handler, limit=PREVIEW_ROWS)
    finally:
        reader.close()
    columns = [f for f, _ in binding.columns]
    return render(
        request,
        "intake/import_preview.html",
        {
            "job": job,
            "rows": rows,
            "columns": columns,
            "ok_count": sum(1 for r in rows if r.ok),
            "bad_count": sum(1 for r in rows if not r.ok),
            "warn_count": sum(1 for r in rows if r.ok and r.warnings),
        },
    )


@importer_required
@require_POST
def start(request, pk: int):
    job = selectors.get_job(user=request.user, pk=pk)
    try:
        if job.status == JobStatus.DRAFT:
            services.start_job(actor=request.user, job=job)
        else:  # pressed again (a second tab, a reload, a job whose worker died): say what happens
            messages.info(request, services.rerun_job(actor=request.user, job=job))
    except DomainError as exc:
        (messages.info if job.status != JobStatus.DRAFT else messages.error)(request, exc.message)
        return redirect("intake:preview" if job.status == JobStatus.DRAFT else "intake:job", pk=job.pk)
    return redirect("intake:job", pk=job.pk)


def _recovered(job):
    """A job whose worker died is resumed as soon as someone looks at it (the message on it says so)."""
    from civicgrid.core import background

    if background.recover_if_stale(job):
        job.refresh_from_db()
    return job


@importer_required
@require_GET
def job_detail(request, pk: int):
    job = _recovered(selectors.get_job(user=request.user, pk=pk))
    errors = job.errors.all()[:50]
    return render(request, "intake/import_job.html", {"job": job, "errors": errors})


@importer_required
@require_GET
def job_progress(request, pk: int):
    job = _recovered(selectors.get_job(user=request.user, pk=pk))
    return render(request, "intake/_import_progress.html", {"job": job})


@importer_required
@require_GET
def error_report(request, pk: int):
    job = selectors.get_job(user=request.user, pk=pk)
    if not job.error_report_path:
        raise Http404("该导入任务没有错误报告")
    path = Path(settings.DATA_DIR) / job.error_report_path
    if not path.is_file():
        raise Http404("错误报告文件不存在")
    return FileResponse(
        open(path, "rb"),  # noqa: SIM115 (FileResponse closes it)
        as_attachment=True,
        filename=f"导入错误报告_{job.pk}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@importer_required
@require_GET
def placements(request):
    qs = selectors.open_placements(user=request.user)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "intake/placements.html", {"page": page, "open_count": qs.count()})


@importer_required
@require_POST
def place(request, pk: int):
    task = selectors.get_placement(user=request.user, pk=pk)
    form = PlaceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请先在地图上点选位置")
        return redirect("intake:placements")
    try:
        services.place_case(
            actor=request.user, task=task, lng=form.cleaned_data["lng"], lat=form.cleaned_data["lat"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"案件 {task.case.display_number} 已定位")
    return redirect("intake:placements")
