"""Web pages of the generic import (:mod:`civicgrid.core.importer`) for every spec without a job table of its own
(``spec.handler is None``; the 12345 import has its own wizard under ``/intake/``):

``/imports/`` the specs the user may run and their recent runs → ``/imports/<spec>/new/`` upload →
``/imports/runs/<pk>/`` header row, column mapping, preview with each row's problems, start, progress (htmx
polling of ``/imports/runs/<pk>/progress/``) and the result with its counts and the error report
(``/exports/imports/<pk>/errors/``). ``/imports/<spec>/template.xlsx`` is the blank sheet to fill in.

Thin: every read and write goes through the importer's services and selectors. An unknown spec or another
user's run is a 404; a spec the user may not run is a 403.
"""

from __future__ import annotations

import io
import logging
from functools import wraps
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.core import background, importer
from civicgrid.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from civicgrid.core.models import ImportStatus

log = logging.getLogger(__name__)

PREVIEW_ROWS = 20


class UploadForm(forms.Form):
    file = forms.FileField(
        label="数据文件",
        help_text="Excel（.xlsx 或旧版 .xls）或 CSV（UTF-8 / GBK 均可）；表头上方的标题行会自动跳过",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv,.txt", "class": "form-control"}),
    )


class MappingForm(forms.Form):
    """One select per target field (choices: the file's headers)."""

    def __init__(self, *args, fields, headers, initial_mapping=None, **kw):
        super().__init__(*args, **kw)
        self.target_fields = list(fields)
        choices = [("", "— 不导入 —")] + [(h, h) for h in headers if h]
        initial_mapping = initial_mapping or {}
        for f in self.target_fields:
            self.fields[f"map_{f.name}"] = forms.ChoiceField(
                label=f.label + (" *" if f.required else ""),
                choices=choices,
                required=False,
                initial=initial_mapping.get(f.name, ""),
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    def mapping(self) -> dict[str, str]:
        return {f.name: self.cleaned_data.get(f"map_{f.name}") or "" for f in self.target_fields}

    def rows(self):
        for f in self.target_fields:
            yield f, self[f"map_{f.name}"]


def _spec_or_404(name: str) -> importer.ImportSpec:
    spec = importer.SPECS.get(name)
    if spec is None or spec.handler is not None:  # a spec with its own wizard (12345) is not served here
        raise Http404("未知的导入类型")
    return spec


def _require(spec: importer.ImportSpec, user) -> None:
    if not spec.can_import(user):
        raise DjangoPermissionDenied(f"无权导入{spec.label}")


def domain_errors(view):
    """Service errors as pages: not found → 404, not allowed → 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from None

    return wrapped


def _run(request, pk: int):
    """The run (404 when the user may not see it) and its spec; a run whose worker died resumes when looked at."""
    job = importer.get_run(user=request.user, pk=pk)
    spec = _spec_or_404(job.spec)
    if background.recover_if_stale(job):
        job.refresh_from_db()
    return job, spec


@domain_errors
@require_GET
def index(request):
    specs = importer.importable_specs(user=request.user)
    runs = importer.visible_runs(user=request.user).select_related("created_by")
    if not specs and not runs.exists():
        raise DjangoPermissionDenied("没有可以导入的数据")
    labels = {s.name: s.label for s in importer.SPECS.values()}
    page = Paginator(runs, 30).get_page(request.GET.get("page"))
    for job in page:
        job.spec_label = labels.get(job.spec, job.spec)
    return render(request, "core/imports/index.html", {"specs": specs, "page": page})


@domain_errors
@require_http_methods(["GET", "POST"])
def new(request, spec: str):
    spec_obj = _spec_or_404(spec)
    _require(spec_obj, request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = importer.create_run(actor=request.user, spec=spec_obj, upload=form.cleaned_data["file"])
        except ValidationFailed as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("imports:run", pk=job.pk)
    recent = importer.visible_runs(user=request.user, spec=spec_obj.name)[:5]
    return render(request, "core/imports/new.html", {"spec": spec_obj, "form": form, "recent": recent})


@domain_errors
@require_GET
def template(request, spec: str):
    spec_obj = _spec_or_404(spec)
    _require(spec_obj, request.user)
    buf = io.BytesIO()
    importer.template_workbook(spec_obj, buf)
    response = HttpResponse(
        buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    filename = f"{spec_obj.label}导入模板.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def _head(job) -> list[dict]:
    return [
        {
            "number": n,
            "text": "｜".join(t for t in texts if t)[:120] or "（空行）",
            "chosen": n == job.header_row,
        }
        for n, texts in job.head_rows
    ]


def _preview(request, job) -> tuple[list, list, str]:
    """(rows, columns, problem): the preview of a draft run, or why there is none (nothing stops the page)."""
    spec = importer.get_spec(job.spec)
    try:
        rows = importer.preview_run(actor=request.user, job=job, limit=PREVIEW_ROWS)
    except ValidationFailed as exc:
        return [], [], exc.message
    except OSError:
        log.warning("import run %s: file %s cannot be read", job.pk, job.file_path)
        return [], [], "上传的文件已不存在或无法读取，请重新上传"
    except Exception as exc:  # a damaged file read further than its header
        log.exception("preview of import run %s failed", job.pk)
        return [], [], f"无法读取文件：{exc.__class__.__name__}"
    mapped = {c["field"] for r in rows[:1] for c in r.cells}
    columns = [f for f in spec.fields if f.name in mapped] if rows else []
    return rows, columns, ""


@domain_errors
@require_GET
def run(request, pk: int):
    job, spec = _run(request, pk)
    context = {"job": job, "spec": spec, "errors": _errors(job)}
    if job.status == ImportStatus.DRAFT:
        _require(spec, request.user)
        form = MappingForm(fields=spec.fields, headers=job.headers, initial_mapping=job.mapping)
        rows, columns, problem = _preview(request, job)
        context.update(
            form=form,
            head=_head(job),
            suggested=importer.suggest_mapping(job.headers, spec.fields),
            rows=rows,
            columns=columns,
            preview_problem=problem,
            ok_count=sum(1 for r in rows if r.ok),
            bad_count=sum(1 for r in rows if not r.ok),
            warn_count=sum(1 for r in rows if r.ok and r.warnings),
        )
    return render(request, "core/imports/run.html", context)


@domain_errors
@require_POST
def mapping(request, pk: int):
    job, spec = _run(request, pk)
    if job.status != ImportStatus.DRAFT:
        messages.info(request, "该导入任务已开始，不能再修改字段对应")
        return redirect("imports:run", pk=job.pk)
    form = MappingForm(request.POST, fields=spec.fields, headers=job.headers)
    if not form.is_valid():
        problems = "；".join(f"{form.fields[k].label}：{'、'.join(v)}" for k, v in form.errors.items())
        messages.error(request, f"字段对应有误：{problems}")
        return redirect("imports:run", pk=job.pk)
    try:
        importer.set_run_mapping(actor=request.user, job=job, mapping=form.mapping())
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("imports:run", pk=job.pk)
    messages.success(request, "已保存字段对应，请核对下方预览后开始导入")
    return redirect(reverse("imports:run", kwargs={"pk": job.pk}) + "#preview")


@domain_errors
@require_POST
def header_row(request, pk: int):
    job, _spec = _run(request, pk)
    try:
        importer.set_run_header_row(actor=request.user, job=job, header_row=request.POST.get("header_row"))
    except DomainError as exc:
        messages.error(request, exc.message)
    except OSError:
        messages.error(request, "上传的文件已不存在或无法读取，请重新上传")
    else:
        messages.success(request, f"已将第 {job.header_row} 行作为表头，并重新推荐了字段对应")
    return redirect("imports:run", pk=job.pk)


@domain_errors
@require_POST
def start(request, pk: int):
    job, _spec = _run(request, pk)
    if job.status != ImportStatus.DRAFT:
        messages.info(request, f"该导入任务{job.get_status_display()}，无需再次开始")
        return redirect("imports:run", pk=job.pk)
    try:
        importer.start_run(actor=request.user, job=job)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("imports:run", pk=job.pk)


@domain_errors
@require_GET
def progress(request, pk: int):
    job, spec = _run(request, pk)
    return render(request, "core/imports/_progress.html", {"job": job, "spec": spec, "errors": _errors(job)})


def _errors(job) -> list:
    """The first reported rows of a finished run (shown with the result; the report has them all)."""
    return list(job.errors.all()[:50]) if job.is_finished else []
