"""督办 and 预警 screens: the 督办 list with its counts (per department × month) and the department overdue form,
one 督办 (its cases, 销号), the case page's 督办 panel, the warnings list with filters and one warning (确认/处置),
and the embeddable open-warnings partial. Thin: reads through the selectors, writes through the services."""

from __future__ import annotations

from datetime import date
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_POST

from civicgrid.accounts.models import Department
from civicgrid.cases import selectors as case_selectors
from civicgrid.core import clock
from civicgrid.core.errors import DomainError, NotFound
from civicgrid.supervision import selectors, services, workflow
from civicgrid.supervision.models import RuleKind, SupervisionKind, SupervisionState, WarningState


def supervision_view(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.can_view(request.user):
            return HttpResponseForbidden("当前角色不能查看督办与预警")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


def _date(value) -> date | None:
    try:
        return parse_date((value or "").strip()) if value else None
    except ValueError:
        return None


def _int(value) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 0 < n < 2**63 else None


def case_panel(request, case, moves):
    """The case page's hook: the 督办 covering this case, and (值班长/领导, open case) the 督办 form."""
    user = request.user
    if not selectors.can_view(user):
        return None
    rows = selectors.supervisions_of_case(user=user, case=case)
    may = selectors.can_supervise(user) and any(m.name == "supervise" for m in moves)
    if not rows and not may:
        return None
    default_due = clock.to_local(clock.now()).date().toordinal() + services.DEFAULT_DUE_DAYS
    return (
        "supervision/_case_panel.html",
        {"case": case, "rows": rows, "may": may, "default_due": date.fromordinal(default_due).isoformat()},
    )


@require_POST
@supervision_view
def supervise_case(request, pk: int):
    case = case_selectors.get_case(user=request.user, pk=pk)
    try:
        s = services.supervise_case(
            actor=request.user,
            case=case,
            note=request.POST.get("note", ""),
            due_at=request.POST.get("due_at", ""),
        )
        messages.success(request, f"已督办，督办期限 {services._due_label(s.due_at)}")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("cases:detail", pk=case.pk)


@require_GET
@supervision_view
def supervision_list(request):
    user = request.user
    qs = selectors.visible_supervisions(user=user)
    state, kind = request.GET.get("state", ""), request.GET.get("kind", "")
    dept = _int(request.GET.get("department"))
    start, end = _date(request.GET.get("from")), _date(request.GET.get("to"))
    now = clock.now()
    if state == "overdue":
        qs = qs.filter(state=SupervisionState.OPEN, due_at__lt=now)
    elif state in SupervisionState.values:
        qs = qs.filter(state=state)
    if kind in SupervisionKind.values:
        qs = qs.filter(kind=kind)
    if dept:
        qs = qs.filter(department_id=dept)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    rows = selectors.counts(user=user, start=start, end=end, now=now)
    if dept:
        rows = [r for r in rows if r.department_id == dept]
    params = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "supervision/list.html",
        {
            "page": page,
            "counts": rows,
            "totals": selectors.totals(rows),
            "overdue_departments": selectors.overdue_by_department(user=user)
            if selectors.can_supervise(user)
            else [],
            "may": selectors.can_supervise(user),
            "departments": Department.objects.restrict(user, "view")
            .filter(supervisions__isnull=False)
            .distinct()
            .order_by("name"),
            "f": {"state": state, "kind": kind, "department": dept, "from": start, "to": end},
            "query": urlencode(params),
            "now": now,
            "default_due": date.fromordinal(
                clock.to_local(now).date().toordinal() + services.DEFAULT_DUE_DAYS
            ).isoformat(),
            "kinds": SupervisionKind.choices,
        },
    )


@require_POST
@supervision_view
def supervise_department(request):
    dept_id = _int(request.POST.get("department"))
    department = (
        Department.objects.restrict(request.user, "view").filter(pk=dept_id).first() if dept_id else None
    )
    if department is None:
        messages.error(request, "请选择被督办部门")
        return redirect("supervision:list")
    try:
        s = services.supervise_department(
            actor=request.user,
            department=department,
            note=request.POST.get("note", ""),
            due_at=request.POST.get("due_at", ""),
        )
        messages.success(request, f"已督办{department.name}超期工单 {s.items.count()} 件")
        return redirect("supervision:detail", pk=s.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("supervision:list")


@supervision_view
def detail(request, pk: int):
    s = selectors.get_supervision(user=request.user, pk=pk)
    if request.method == "POST":
        try:
            services.clear(actor=request.user, supervision=s, note=request.POST.get("note", ""))
            messages.success(request, "已销号")
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("supervision:detail", pk=s.pk)
    visible = case_selectors.visible_cases(user=request.user).values("pk")
    items = (
        s.items.filter(case__in=visible).select_related("case", "case__department").order_by("case__due_at")
    )
    return render(
        request,
        "supervision/detail.html",
        {
            "s": s,
            "items": items,
            "may_clear": selectors.can_supervise(request.user) and s.is_open,
            "past_due": s.past_due(),
        },
    )


def _warning_filters(request) -> dict:
    rule = request.GET.get("rule", "")
    state = request.GET.get("state", "open")
    return {
        "rule": rule if rule in RuleKind.values else "",
        "state": state if state in ("open", "", *WarningState.values) else "open",
        "community_id": _int(request.GET.get("community")),
        "department_id": _int(request.GET.get("department")),
        "start": _date(request.GET.get("from")),
        "end": _date(request.GET.get("to")),
    }


@require_GET
@supervision_view
def warnings(request):
    from civicgrid.places import selectors as place_selectors

    f = _warning_filters(request)
    qs = selectors.filter_warnings(selectors.visible_warnings(user=request.user), **f)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    params = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "supervision/warnings.html",
        {
            "page": page,
            "f": f,
            "rules": RuleKind.choices,
            "states": WarningState.choices,
            "communities": place_selectors.visible_communities(user=request.user).order_by("code"),
            "may": selectors.can_handle_warnings(request.user),
            "query": urlencode(params),
        },
    )


@supervision_view
def warning(request, pk: int):
    w = selectors.get_warning(user=request.user, pk=pk)
    if request.method == "POST":
        try:
            services.handle_warning(
                actor=request.user,
                warning=w,
                move=request.POST.get("move", ""),
                note=request.POST.get("note", ""),
            )
            messages.success(request, "已记录")
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("supervision:warning", pk=w.pk)
    visible = case_selectors.visible_cases(user=request.user).filter(pk__in=w.case_ids or [])
    return render(
        request,
        "supervision/warning.html",
        {
            "w": w,
            "cases": visible.select_related("category", "community").order_by("-created_at")[:50],
            "moves": workflow.moves_from(workflow.WARNING, w.state)
            if selectors.can_handle_warnings(request.user)
            else [],
            "labels": workflow.MOVE_LABELS,
        },
    )


@require_GET
@supervision_view
def warnings_panel(request):
    """The open-warnings partial alone (a dashboard may load it with htmx)."""
    return render(
        request,
        "supervision/_warnings_panel.html",
        {
            "warnings": selectors.open_warnings(user=request.user),
            "total": selectors.open_warning_count(user=request.user),
        },
    )
