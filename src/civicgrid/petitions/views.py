"""The 信访 screens: 信访台账 (+ Excel), 登记, one 信访 (prints), 来访接待, 统计; 协查任务 and 积案化解 forms.

Thin: reads through :mod:`civicgrid.petitions.selectors`, writes through :mod:`civicgrid.petitions.services`; the
moves (受理告知, 交办, 答复, 办结, 复查 …) are made on the case page (/cases/<id>/: the procedure's generated buttons).
"""

from __future__ import annotations

from datetime import date
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.accounts.roles import Capability, Role, has_capability
from civicgrid.cases.selectors import mask_id_number, mask_name, mask_phone
from civicgrid.core import clock
from civicgrid.core.errors import DomainError, NotFound, ValidationFailed
from civicgrid.petitions import exports, metrics, selectors, services
from civicgrid.petitions.models import (
    LeapLevel,
    PetitionForm,
    PetitionKind,
    PetitionTask,
    ResolveMethod,
)
from civicgrid.petitions.workflow import PROCEDURE, is_desk
from civicgrid.places.selectors import visible_grids

PAGE_SIZE = 30


def business_only(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not has_capability(request.user, Capability.BUSINESS_VIEW):
            return HttpResponseForbidden("当前角色不能查看信访")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


def ledger_only(view):
    @business_only
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.sees_ledger(request.user):
            return HttpResponseForbidden("只有信访办和领导可以查看信访台账")
        return view(request, *args, **kwargs)

    return wrapped


def _filters(request) -> dict:
    state, kind, form = (request.GET.get(k, "") for k in ("state", "kind", "form"))
    return {
        "state": state if state in PROCEDURE.state_map else "",
        "kind": kind if kind in PetitionKind.values else "",
        "form": form if form in PetitionForm.values else "",
        "q": request.GET.get("q", "").strip()[:50],
        "backlog": request.GET.get("backlog") == "1",
    }


@require_GET
@ledger_only
def ledger(request):
    f = _filters(request)
    rows = selectors.petition_rows(user=request.user, **f)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for d in page:
        d.masked_name = mask_name(d.petitioner_name)
    return render(
        request,
        "petitions/ledger.html",
        {
            "page": page,
            "f": f,
            "states": PROCEDURE.states,
            "kinds": PetitionKind.choices,
            "forms": PetitionForm.choices,
            "is_desk": is_desk(request.user),
            "query": request.GET.urlencode(),
        },
    )


@require_GET
@ledger_only
def export(request):
    if not has_capability(request.user, Capability.EXPORT_CASES):
        return HttpResponseForbidden("当前角色不能导出")
    rows = selectors.petition_rows(user=request.user, **_filters(request)).select_related("case__department")
    fh, filename = exports.write_ledger_xlsx(rows)
    return FileResponse(
        fh,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _pick(qs, value, field: str, message: str):
    if value in (None, ""):
        return None
    try:
        obj = qs.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        obj = None
    if obj is None:
        raise ValidationFailed(message, field=field)
    return obj


def _int(value, field: str, label: str, default: int = 1) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed(f"{label}必须是整数", field=field)


@require_http_methods(["GET", "POST"])
@business_only
def register(request):
    user = request.user
    if not is_desk(user):
        return HttpResponseForbidden("只有信访办人员可以登记信访")
    errors, values = {}, request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            received = None
            if request.POST.get("received_at"):
                received = parse_datetime(request.POST["received_at"])
                if received is None:
                    raise ValidationFailed("来信/来访时间格式不正确", field="received_at")
                received = clock.aware(received)
            data = services.Registration(
                form=request.POST.get("form", ""),
                kind=request.POST.get("kind", PetitionKind.FIRST),
                leap_level=request.POST.get("leap_level", ""),
                is_group=request.POST.get("is_group") == "on",
                headcount=_int(request.POST.get("headcount"), "headcount", "人数"),
                petitioner_name=request.POST.get("petitioner_name", "")[:50],
                petitioner_id_number=request.POST.get("petitioner_id_number", "")[:18],
                petitioner_phone=request.POST.get("petitioner_phone", "")[:30],
                petitioner_address=request.POST.get("petitioner_address", "")[:200],
                summary=request.POST.get("summary", "")[:400],
                description=request.POST.get("description", "")[:4000],
                lead=_pick(
                    selectors.lead_choices(user=user), request.POST.get("lead"), "lead", "请选择包案领导"
                ),
                grid=_pick(
                    visible_grids(user=user), request.POST.get("grid"), "grid", "网格不存在或不在您的辖区"
                ),
                earlier=[
                    _int(v, "earlier", "关联信访")
                    for v in request.POST.getlist("earlier")[:20]
                    if v not in ("", None)
                ],
            )
            case = services.register_petition(actor=user, data=data, received_at=received)
        except DomainError as exc:
            errors[exc.field or "__all__"] = exc.message
        else:
            messages.success(request, f"已登记信访 {case.number}，请在 15 日内受理告知")
            return redirect("petitions:detail", pk=case.pk)
    return render(
        request,
        "petitions/new.html",
        {
            "errors": errors,
            "v": values,
            "forms": PetitionForm.choices,
            "kinds": PetitionKind.choices,
            "levels": LeapLevel.choices,
            "leads": selectors.lead_choices(user=user),
            "grids": visible_grids(user=user).select_related("community").order_by("community__name", "name"),
            "earlier": selectors.earlier_choices(user=user),
        },
        status=400 if errors else 200,
    )


@require_GET
@business_only
def detail(request, pk: int):
    d = selectors.get_petition(user=request.user, pk=pk)
    desk = is_desk(request.user)
    # the full name / ID / phone only for the desk (it calls the 信访人 back); everyone else sees them masked
    person = {
        "name": d.petitioner_name if desk else mask_name(d.petitioner_name),
        "id_number": d.petitioner_id_number if desk else mask_id_number(d.petitioner_id_number),
        "phone": d.petitioner_phone if desk else mask_phone(d.petitioner_phone),
        "address": d.petitioner_address if desk else "",
    }
    workers = selectors.street_people(user=request.user, roles=(Role.GRID_WORKER,))
    if d.case.grid_id:
        workers = workers.filter(grids=d.case.grid_id)
    return render(
        request,
        "petitions/detail.html",
        {
            "d": d,
            "case": d.case,
            "person": person,
            "is_desk": desk,
            "state_label": PROCEDURE.state_label(d.case.state),
            "state_color": PROCEDURE.state_color(d.case.state),
            "stage_label": PROCEDURE.stage_label(d.case.stage) if d.case.stage else "",
            "tasks": selectors.tasks_for(user=request.user, case=d.case),
            "workers": workers if desk else [],
            "backlog": selectors.is_backlog(d),
            "methods": ResolveMethod.choices,
            "earlier": selectors.visible_petitions(user=request.user)
            .filter(later_petitions=d)
            .select_related("petition_detail"),
            "today": clock.local_now().date(),
        },
    )


@require_POST
@business_only
def add_task(request, pk: int):
    case = selectors.get_petition(user=request.user, pk=pk).case
    try:
        worker = _pick(
            selectors.street_people(user=request.user, roles=(Role.GRID_WORKER,)),
            request.POST.get("assignee"),
            "assignee",
            "请选择网格员",
        )
        if worker is None:
            raise ValidationFailed("请选择网格员", field="assignee")
        services.assign_task(
            actor=request.user, case=case, assignee=worker, text=request.POST.get("text", "")
        )
        messages.success(request, "已交办协查任务")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("petitions:detail", pk=pk)


@require_POST
@business_only
def task_done(request, pk: int):
    task = PetitionTask.objects.restrict(request.user, "view").filter(pk=pk).first()
    if task is None:
        raise Http404("任务不存在或无权查看")
    try:
        services.finish_task(actor=request.user, task=task, result=request.POST.get("result", ""))
        messages.success(request, "已完成协查任务")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("petitions:detail", pk=task.case_id)


@require_POST
@business_only
def resolve(request, pk: int):
    case = selectors.get_petition(user=request.user, pk=pk).case
    try:
        day = parse_date(request.POST.get("resolved_on", "") or "")
        if day is None:
            raise ValidationFailed("请填写化解日期", field="resolved_on")
        services.resolve_backlog(
            actor=request.user,
            case=case,
            resolved_on=day,
            method=request.POST.get("method", ""),
            note=request.POST.get("note", ""),
        )
        messages.success(request, "已登记积案化解")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("petitions:detail", pk=pk)


@require_http_methods(["GET", "POST"])
@ledger_only
def receptions(request):
    user = request.user
    errors = {}
    if request.method == "POST" and not is_desk(user):
        return HttpResponseForbidden("只有信访办人员可以登记来访接待")
    if request.method == "POST":
        try:
            day = parse_date(request.POST.get("received_on", "") or "")
            if day is None:
                raise ValidationFailed("请填写接待日期", field="received_on")
            services.record_reception(
                actor=user,
                received_on=day,
                people=_int(request.POST.get("people"), "people", "人次"),
                topic=request.POST.get("topic", ""),
                leader=_pick(
                    selectors.street_people(user=user, roles=(Role.LEADER,)),
                    request.POST.get("leader"),
                    "leader",
                    "请选择接待领导",
                ),
                petition=_pick(
                    selectors.visible_petitions(user=user),
                    request.POST.get("petition"),
                    "petition",
                    "关联信访不存在",
                ),
            )
        except DomainError as exc:
            errors[exc.field or "__all__"] = exc.message
        else:
            messages.success(request, "已登记来访接待")
            return redirect("petitions:receptions")
    rows = selectors.reception_rows(user=user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    visible = set(selectors.visible_petitions(user=user).values_list("pk", flat=True))
    return render(
        request,
        "petitions/receptions.html",
        {
            "page": page,
            "errors": errors,
            "v": request.POST if errors else {},
            "visible": visible,
            "is_desk": is_desk(user),
            "leaders": selectors.street_people(user=user, roles=(Role.LEADER,)),
            "petitions": selectors.earlier_choices(user=user),
            "today": clock.local_now().date(),
        },
        status=400 if errors else 200,
    )


def _period(request) -> tuple[date, date]:
    today = clock.local_now().date()
    end = parse_date(request.GET.get("end", "") or "") or today
    start = parse_date(request.GET.get("start", "") or "") or end.replace(month=1, day=1)
    if start > end:
        start = end
    return start, end


@require_GET
@ledger_only
def figures(request):
    start, end = _period(request)
    f = metrics.figures(user=request.user, start=start, end=end)
    return render(request, "petitions/figures.html", {"f": f, "levels": LeapLevel.choices})
