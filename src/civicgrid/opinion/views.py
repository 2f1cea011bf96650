"""The 舆情 screens: 舆情台账 (+ Excel, import), 登记, the printable record, 统计. Thin; the moves are made on the case
page (/cases/<id>/: the procedure's generated buttons and forms)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.http import require_GET, require_http_methods

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.core import clock
from civicgrid.core.errors import DomainError, NotFound, ValidationFailed
from civicgrid.opinion import exports, metrics, selectors, services
from civicgrid.opinion.imports import SPEC
from civicgrid.opinion.models import OpinionLevel, Platform
from civicgrid.opinion.workflow import may_see, procedure

PAGE_SIZE = 30


def ledger_only(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (has_capability(request.user, Capability.BUSINESS_VIEW) and may_see(request.user)):
            return HttpResponseForbidden("当前角色不能查看舆情")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


def _filters(request) -> dict:
    state, level, platform = (request.GET.get(k, "") for k in ("state", "level", "platform"))
    return {
        "state": state if state in procedure().state_map else "",
        "level": level if level in OpinionLevel.values else "",
        "platform": platform if platform in Platform.values else "",
        "text": request.GET.get("q", "").strip()[:60],
    }


@require_GET
@ledger_only
def ledger(request):
    f = _filters(request)
    page = Paginator(selectors.rows(user=request.user, **f), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "opinion/ledger.html",
        {
            "page": page,
            "f": f,
            "states": procedure().states,
            "levels": OpinionLevel.choices,
            "platforms": Platform.choices,
            "can_register": procedure().may_create(request.user),
            "can_import": SPEC.can_import(request.user),
            "query": request.GET.urlencode(),
        },
    )


@require_GET
@ledger_only
def export(request):
    if not has_capability(request.user, Capability.EXPORT_CASES):
        return HttpResponseForbidden("当前角色不能导出")
    fh, filename = exports.write_ledger_xlsx(selectors.rows(user=request.user, **_filters(request)))
    return FileResponse(
        fh,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@require_GET
@ledger_only
def detail(request, case_id: int):
    d = selectors.get_row(user=request.user, case_id=case_id)
    return render(request, "opinion/detail.html", {"d": d, "c": d.case, "printed_at": clock.local_now()})


def _when(value):
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValidationFailed("发布时间格式不正确", field="published_at")
    return clock.aware(parsed)


@require_http_methods(["GET", "POST"])
@ledger_only
def create(request):
    if not procedure().may_create(request.user):
        return HttpResponseForbidden("当前角色不能登记舆情")
    errors, status, post = [], 200, request.POST
    if request.method == "POST":
        try:
            case = services.register_opinion(
                actor=request.user,
                platform=post.get("platform", ""),
                media_name=post.get("media_name", "")[:100],
                title=post.get("title", "")[:500],
                content=post.get("content", "")[:4000],
                url=post.get("url", "")[:500],
                published_at=_when(post.get("published_at")),
            )
        except DomainError as exc:
            errors.append(exc.message)
            status = getattr(exc, "status", 422)
        else:
            messages.success(request, f"已登记舆情 {case.number}，请研判")
            return redirect("opinion:detail", case_id=case.pk)
    return render(
        request,
        "opinion/create.html",
        {"platforms": Platform.choices, "errors": errors, "post": post},
        status=status,
    )


def _period(request) -> tuple[date, date]:
    today = clock.local_now().date()
    start = parse_date(request.GET.get("start") or "") or today.replace(month=1, day=1)
    end = parse_date(request.GET.get("end") or "") or today
    if end < start:
        start, end = end, start
    if (end - start).days > 3660:
        start = end - timedelta(days=3660)
    return start, end


@require_GET
@ledger_only
def figures(request):
    start, end = _period(request)
    return render(
        request, "opinion/figures.html", {"f": metrics.figures(user=request.user, start=start, end=end)}
    )
