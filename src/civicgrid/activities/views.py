"""The activity ledgers' screens: 活动 (list with filters and totals, form with photos, Excel), 应急预案 (register
with the review due/overdue, form, Excel) and 志愿者 (register with 时间银行 balances, form with the entries, Excel).
Thin: reads via selectors, writes via services; imports go through core's import wizard (/imports/<spec>/new/)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.activities import exports, selectors, services
from civicgrid.activities.models import ActivityKind, EntryKind, PlanLevel
from civicgrid.core import clock
from civicgrid.core.errors import DomainError, NotFound
from civicgrid.core.roles import Capability, has_capability
from civicgrid.core.validation import MAX_DB_INT

PAGE_SIZE = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def ledger_view(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.can_view(request.user):
            return HttpResponseForbidden("当前角色不能查看活动台账")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return wrapped


def _date(value):
    try:
        return parse_date(value or "") or None
    except ValueError:
        return None


def _int(value):
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 0 < n <= MAX_DB_INT else None


def _can_export(user) -> bool:
    return has_capability(user, Capability.EXPORT_CASES)


# --- 活动 ---------------------------------------------------------------------------------------------------


def _filters(source) -> dict:
    kind = source.get("kind", "")
    start, end = _date(source.get("start")), _date(source.get("end"))
    if start and end and end < start:
        start, end = end, start
    return {
        "kind": kind if kind in ActivityKind.values else "",
        "community": _int(source.get("community")),
        "start": start,
        "end": end,
        "q": source.get("q", "")[:50],
    }


@require_GET
@ledger_view
def activities(request):
    f = _filters(request.GET)
    qs = selectors.activity_rows(user=request.user, **f)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/list.html",
        {
            "page": page,
            "f": f,
            "kinds": ActivityKind.choices,
            "communities": selectors.visible_communities(user=request.user),
            "total": selectors.totals(qs),
            "by_kind": selectors.totals_by_kind(qs).values(),
            "can_write": selectors.can_write(request.user),
            "can_export": _can_export(request.user),
            "query": request.GET.urlencode(),
        },
    )


@require_GET
@ledger_view
def activities_export(request):
    if not _can_export(request.user):
        return HttpResponseForbidden("当前角色不能导出")
    fh, filename = exports.write_activities_xlsx(
        selectors.activity_rows(user=request.user, **_filters(request.GET))
    )
    return FileResponse(fh, as_attachment=True, filename=filename, content_type=XLSX)


def _activity_data(post) -> services.ActivityData:
    return services.ActivityData(
        kind=post.get("kind", ""),
        name=post.get("name", ""),
        date=post.get("date", ""),
        place=post.get("place", ""),
        community=post.get("community") or None,
        end_date=post.get("end_date") or None,
        organiser=post.get("organiser", ""),
        sessions=post.get("sessions", "1"),
        attendance=post.get("attendance", "0"),
        households=post.get("households", "0"),
        materials=post.get("materials", "0"),
        summary=post.get("summary", ""),
    )


@require_http_methods(["GET", "POST"])
@ledger_view
def activity_form(request, pk: int | None = None):
    a = selectors.get_activity(user=request.user, pk=pk) if pk else None
    can_edit = selectors.can_write(request.user) and (a is None or services._may_change(request.user, a))
    if a is None and not can_edit:
        return HttpResponseForbidden("当前角色不能登记活动")
    errors = {}
    if request.method == "POST":
        if not can_edit:
            return HttpResponseForbidden("当前角色不能修改该活动")
        try:
            kw = {"actor": request.user, "data": _activity_data(request.POST),
                  "photos": request.FILES.getlist("photos")}  # fmt: skip
            if a is None:
                a = services.create_activity(**kw)
                messages.success(request, "已登记活动")
            else:
                remove = [x for x in request.POST.getlist("remove_photo") if x.isdigit()]
                a = services.update_activity(activity=a, remove_photos=remove, **kw)
                messages.success(request, "已保存")
            return redirect("activities:edit", pk=a.pk)
        except DomainError as exc:
            errors[exc.field or "__all__"] = exc.message
    return render(
        request,
        "activities/form.html",
        {
            "a": a,
            "data": request.POST if request.method == "POST" else None,
            "errors": errors,
            "can_edit": can_edit,
            "kinds": ActivityKind.choices,
            "communities": selectors.writable_communities(user=request.user),
            "today": clock.local_now().date(),
            "max_photos": services.MAX_PHOTOS,
        },
    )


@require_POST
@ledger_view
def activity_delete(request, pk: int):
    a = selectors.get_activity(user=request.user, pk=pk)
    try:
        services.delete_activity(actor=request.user, activity=a)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("activities:edit", pk=a.pk)
    messages.success(request, "已删除活动")
    return redirect("activities:list")


@require_GET
@ledger_view
def activity_photo(request, photo_id: int, thumb: bool = False):
    from civicgrid.cases.attachments import file_response

    photo = selectors.activity_photo(user=request.user, pk=photo_id)
    try:
        return file_response(photo.attachment, thumb=thumb, redirect_remote=False)
    except NotFound as exc:
        raise Http404(exc.message) from exc


# --- 应急预案 -----------------------------------------------------------------------------------------------


def _plan_filters(source) -> dict:
    level = source.get("level", "")
    return {
        "level": level if level in PlanLevel.values else "",
        "overdue": {"1": True, "0": False}.get(source.get("overdue", "")),
    }


@require_GET
@ledger_view
def plans(request):
    f = _plan_filters(request.GET)
    rows = selectors.plan_rows(user=request.user, **f)
    return render(
        request,
        "activities/plans.html",
        {
            "rows": rows,
            "f": f,
            "levels": PlanLevel.choices,
            "overdue_count": sum(p.is_overdue for p in rows),
            "can_write": selectors.can_write(request.user),
            "can_export": _can_export(request.user),
            "query": request.GET.urlencode(),
        },
    )


@require_GET
@ledger_view
def plans_export(request):
    if not _can_export(request.user):
        return HttpResponseForbidden("当前角色不能导出")
    fh, filename = exports.write_plans_xlsx(
        selectors.plan_rows(user=request.user, **_plan_filters(request.GET))
    )
    return FileResponse(fh, as_attachment=True, filename=filename, content_type=XLSX)


@require_http_methods(["GET", "POST"])
@ledger_view
def plan_form(request, pk: int | None = None):
    p = selectors.get_plan(user=request.user, pk=pk) if pk else None
    can_edit = selectors.can_write(request.user) and (p is None or services._may_change(request.user, p))
    if p is None and not can_edit:
        return HttpResponseForbidden("当前角色不能登记预案")
    errors = {}
    if request.method == "POST":
        if not can_edit:
            return HttpResponseForbidden("当前角色不能修改该预案")
        post = request.POST
        data = services.PlanData(
            level=post.get("level", ""), name=post.get("name", ""), issued_on=post.get("issued_on", ""),
            community=post.get("community") or None, department=post.get("department", ""),
            reviewed_on=post.get("reviewed_on") or None, review_months=post.get("review_months") or None,
            note=post.get("note", ""),
        )  # fmt: skip
        try:
            if p is None:
                p = services.create_plan(actor=request.user, data=data)
            else:
                p = services.update_plan(actor=request.user, plan=p, data=data)
            messages.success(request, "已保存预案")
            return redirect("activities:plans")
        except DomainError as exc:
            errors[exc.field or "__all__"] = exc.message
    return render(
        request,
        "activities/plan_form.html",
        {
            "p": p,
            "data": request.POST if request.method == "POST" else None,
            "errors": errors,
            "can_edit": can_edit,
            "levels": PlanLevel.choices,
            "communities": selectors.writable_communities(user=request.user),
        },
    )


@require_POST
@ledger_view
def plan_delete(request, pk: int):
    p = selectors.get_plan(user=request.user, pk=pk)
    try:
        services.delete_plan(actor=request.user, plan=p)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("activities:plan_edit", pk=p.pk)
    messages.success(request, "已删除预案")
    return redirect("activities:plans")


# --- 志愿者 / 时间银行 ---------------------------------------------------------------------------------------


def _volunteer_filters(source) -> dict:
    return {
        "q": source.get("q", "")[:30],
        "community": _int(source.get("community")),
        "active": {"1": True, "0": False}.get(source.get("active", "1")),
    }


@require_GET
@ledger_view
def volunteers(request):
    f = _volunteer_filters(request.GET)
    qs = selectors.volunteer_rows(user=request.user, **f)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for v in page:
        v.shown_phone = selectors.mask_phone(v.phone)
        v.balance = v.earned - v.spent
    return render(
        request,
        "activities/volunteers.html",
        {
            "page": page,
            "f": f,
            "count": qs.count(),
            "communities": selectors.visible_communities(user=request.user),
            "can_write": selectors.can_write(request.user),
            "can_export": _can_export(request.user),
            "query": request.GET.urlencode(),
        },
    )


@require_GET
@ledger_view
def volunteers_export(request):
    if not _can_export(request.user):
        return HttpResponseForbidden("当前角色不能导出")
    rows = selectors.volunteer_rows(user=request.user, **_volunteer_filters(request.GET))
    fh, filename = exports.write_volunteers_xlsx(rows)
    return FileResponse(fh, as_attachment=True, filename=filename, content_type=XLSX)


@require_GET
@ledger_view
def entries_export(request):
    """时间银行 records of the volunteers shown (filters: 姓名, 社区, 起止日期), in the import's columns."""
    if not _can_export(request.user):
        return HttpResponseForbidden("当前角色不能导出")
    start, end = _date(request.GET.get("start")), _date(request.GET.get("end"))
    rows = selectors.entry_rows(user=request.user, start=start, end=end, community=_int(request.GET.get("community")),
                                q=request.GET.get("q", "")[:30])  # fmt: skip
    fh, filename = exports.write_entries_xlsx(rows)
    return FileResponse(fh, as_attachment=True, filename=filename, content_type=XLSX)


def _volunteer_context(request, v, *, can_edit, errors=None, data=None, entry_errors=None, entry_data=None):
    return {
        "v": v,
        "shown_phone": selectors.mask_phone(v.phone) if v else "",
        "balance": selectors.balance(v) if v else None,
        "entries": selectors.entries_of(v)[:200] if v else [],
        "entry_kinds": EntryKind.choices,
        "recent_activities": selectors.visible_activities(user=request.user).order_by("-date", "-pk")[:50]
        if can_edit
        else [],
        "data": data,
        "errors": errors or {},
        "entry_errors": entry_errors or {},
        "entry_data": entry_data,
        "can_edit": can_edit,
        "communities": selectors.writable_communities(user=request.user),
        "today": clock.local_now().date(),
    }


@require_http_methods(["GET", "POST"])
@ledger_view
def volunteer_form(request, pk: int | None = None):
    v = selectors.get_volunteer(user=request.user, pk=pk) if pk else None
    can_edit = selectors.can_write(request.user) and (v is None or services._may_change(request.user, v))
    if v is None and not can_edit:
        return HttpResponseForbidden("当前角色不能登记志愿者")
    errors = {}
    if request.method == "POST":
        if not can_edit:
            return HttpResponseForbidden("当前角色不能修改该志愿者")
        post = request.POST
        data = services.VolunteerData(
            name=post.get("name", ""),
            phone=post.get("phone") or (v.phone if v else ""),  # blank on an edit: keep the stored phone
            community=post.get("community") or None,
            skills=post.get("skills", ""),
            registered_on=post.get("registered_on") or None,
            is_active=bool(post.get("is_active")),
        )
        try:
            if v is None:
                v = services.create_volunteer(actor=request.user, data=data)
            else:
                v = services.update_volunteer(actor=request.user, volunteer=v, data=data)
            messages.success(request, "已保存志愿者")
            return redirect("activities:volunteer_edit", pk=v.pk)
        except DomainError as exc:
            errors[exc.field or "__all__"] = exc.message
    ctx = _volunteer_context(
        request, v, can_edit=can_edit, errors=errors, data=request.POST if request.method == "POST" else None
    )
    return render(request, "activities/volunteer_form.html", ctx)


@require_POST
@ledger_view
def volunteer_entry(request, pk: int):
    v = selectors.get_volunteer(user=request.user, pk=pk)
    can_edit = selectors.can_write(request.user) and services._may_change(request.user, v)
    if not can_edit:
        return HttpResponseForbidden("当前角色不能记录时间银行")
    post = request.POST
    try:
        services.record_entry(
            actor=request.user, volunteer=v, day=post.get("date", ""), kind=post.get("kind", ""),
            hours=post.get("hours", ""), activity_id=post.get("activity") or None, note=post.get("note", ""),
        )  # fmt: skip
        messages.success(request, "已记录")
        return redirect("activities:volunteer_edit", pk=v.pk)
    except DomainError as exc:
        ctx = _volunteer_context(
            request, v, can_edit=True, entry_errors={exc.field or "__all__": exc.message}, entry_data=post
        )
        return render(request, "activities/volunteer_form.html", ctx, status=400)
