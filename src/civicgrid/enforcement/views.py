"""The 综合执法 screens: 执法案件台账 (+ Excel, import), 登记 (create form), the printable record, 统计.

Thin: reads through :mod:`civicgrid.enforcement.selectors`, writes through :mod:`civicgrid.enforcement.services`;
the case's moves are made on the case page (/cases/<id>/: the procedure's generated buttons and forms).
"""

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
from civicgrid.cases.selectors import mask_phone
from civicgrid.core import clock
from civicgrid.core.errors import DomainError, NotFound, ValidationFailed
from civicgrid.enforcement import exports, metrics, selectors, services
from civicgrid.enforcement.imports import SPEC
from civicgrid.enforcement.models import PartyKind, ProcedureKind
from civicgrid.enforcement.workflow import may_see, procedure

PAGE_SIZE = 30


def _may_see(user) -> bool:
    return has_capability(user, Capability.BUSINESS_VIEW) and may_see(user)


def ledger_only(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not _may_see(request.user):
            return HttpResponseForbidden("当前角色不能查看执法案件")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


def _filters(request) -> dict:
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    return {
        "state": state if state in procedure().state_map else "",
        "kind": kind if kind in ProcedureKind.values else "",
        "violation": request.GET.get("violation", "")[:30],
        "text": request.GET.get("q", "").strip()[:60],
    }


@require_GET
@ledger_only
def ledger(request):
    f = _filters(request)
    rows = selectors.rows(user=request.user, **f)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "enforcement/ledger.html",
        {
            "page": page,
            "f": f,
            "states": procedure().states,
            "kinds": ProcedureKind.choices,
            "types": selectors.violation_types(),
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
    return render(
        request,
        "enforcement/detail.html",
        {
            "d": d,
            "c": d.case,
            "contact": d.party_contact
            if has_capability(request.user, Capability.SEE_FULL_PHONE)
            else mask_phone(d.party_contact),
            "printed_at": clock.local_now(),
        },
    )


def _when(value):
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValidationFailed("发现时间格式不正确", field="discovered_at")
    return clock.aware(parsed)


@require_http_methods(["GET", "POST"])
@ledger_only
def create(request):
    if not procedure().may_create(request.user):
        return HttpResponseForbidden("当前角色不能登记执法案件")
    depts = list(selectors.departments(user=request.user)[:200])
    types = list(selectors.violation_types())
    errors, status = [], 200
    post = request.POST
    if request.method == "POST":
        try:
            vt = next((t for t in types if str(t.pk) == post.get("violation_type")), None)
            dept = next((d for d in depts if str(d.pk) == post.get("department")), None)
            source = None
            if post.get("source_case", "").strip():
                source = selectors.find_source_case(user=request.user, number=post["source_case"][:16])
                if source is None:
                    raise ValidationFailed("来源案件不存在或无权查看", field="source_case")
            case = services.register_case(
                actor=request.user,
                party=services.Party(
                    name=post.get("party_name", "")[:100],
                    kind=post.get("party_kind", PartyKind.PERSON),
                    contact=post.get("party_contact", "")[:30],
                ),
                violation_type=vt,
                description=post.get("description", "")[:5000],
                department=dept,
                discovered_at=_when(post.get("discovered_at")),
                address=post.get("address", "")[:200],
                source_case=source,
                note=post.get("note", "")[:2000],
                attachments=request.FILES.getlist("photos")[:6],
            )
        except DomainError as exc:
            errors.append(exc.message)
            status = getattr(exc, "status", 422)
        else:
            messages.success(request, f"已登记执法案件 {case.number}，已交{dept.name}立案审查")
            return redirect("enforcement:detail", case_id=case.pk)
    return render(
        request,
        "enforcement/create.html",
        {
            "departments": depts,
            "types": types,
            "party_kinds": PartyKind.choices,
            "now": clock.local_now().strftime("%Y-%m-%dT%H:%M"),
            "errors": errors,
            "post": post,
        },
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
        request, "enforcement/figures.html", {"f": metrics.figures(user=request.user, start=start, end=end)}
    )
