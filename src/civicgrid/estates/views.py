"""The estates screens: 出租房 (list with filters and Excel, new, detail with the phone inspection form and 清退),
楼宇 (list with the 楼宇注册率, detail with its 入驻单位), 企业 (detail with 企业走访), 专项排查 (list, progress page
with coverage per 社区/网格/网格员, the phone result form, Excel). Thin: reads via selectors, writes via services."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.core.errors import DomainError, NotFound, ValidationFailed
from civicgrid.core.validation import MAX_DB_INT
from civicgrid.estates import exports, metrics, selectors, services
from civicgrid.estates.models import CampaignKind, InspectionResult, RentalStatus, TargetResult
from civicgrid.hazards.models import HazardLevel
from civicgrid.places import selectors as place_selectors

PAGE_SIZE = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def estates_view(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.can_view(request.user):
            return HttpResponseForbidden("当前角色不能查看基础台账")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


def _date(value):
    try:
        return parse_date(value or "") or None
    except ValueError:
        return None


def _bool(value: str):
    return {"1": True, "0": False}.get(value or "")


def _int(value):
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 0 <= n <= MAX_DB_INT else None


def _rental_filters(source) -> dict:
    status = source.get("status", "")
    return {
        "q": source.get("q", "")[:50],
        "grid": _int(source.get("grid")),
        "crowded": _bool(source.get("crowded")),
        "three_in_one": _bool(source.get("three_in_one")),
        "status": status if status in RentalStatus.values else "",
    }


@require_GET
@estates_view
def rentals(request):
    f = _rental_filters(request.GET)
    qs = selectors.rental_rows(user=request.user, **f)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for r in page:
        r.shown_landlord = selectors.shown_name(request.user, r.landlord_name)
    return render(
        request,
        "estates/rentals.html",
        {
            "page": page,
            "f": f,
            "grids": place_selectors.visible_grids(user=request.user).filter(
                pk__in=selectors.visible_rentals(user=request.user).values("grid_id")
            ),
            "statuses": RentalStatus.choices,
            "can_write": services.can_write(request.user),
            "query": request.GET.urlencode(),
            "stats": {
                "total": qs.count(),
                "crowded": qs.filter(crowded=True).count(),
                "cleared": qs.filter(status=RentalStatus.CLEARED).count(),
            },
        },
    )


@require_GET
@estates_view
def rentals_export(request):
    if not has_capability(request.user, Capability.EXPORT_CASES):
        return HttpResponseForbidden("当前角色不能导出")
    rows = selectors.rental_rows(user=request.user, **_rental_filters(request.GET))
    fh, filename = exports.write_rentals_xlsx(rows, user=request.user)
    return FileResponse(fh, as_attachment=True, filename=filename, content_type=XLSX)


@require_http_methods(["GET", "POST"])
@estates_view
def rental_new(request):
    if not services.can_write(request.user):
        return HttpResponseForbidden("当前角色不能登记出租房")
    errors = []
    if request.method == "POST":
        try:
            r = services.save_rental(
                actor=request.user,
                building_id=request.POST.get("building"),
                room=request.POST.get("room", ""),
                landlord_name=request.POST.get("landlord_name", ""),
                landlord_phone=request.POST.get("landlord_phone", ""),
                tenants=_int(request.POST.get("tenants")) or 0,
                crowded=bool(request.POST.get("crowded")),
                three_in_one=bool(request.POST.get("three_in_one")),
                note=request.POST.get("note", ""),
            )
            messages.success(request, "已登记出租房")
            return redirect("estates:rental", pk=r.pk)
        except DomainError as exc:
            errors.append(exc.message)
    buildings = services.writable_buildings(request.user).filter(kind="block")
    return render(
        request,
        "estates/rental_new.html",
        {"errors": errors, "buildings": buildings.order_by("name")[:500], "data": request.POST},
    )


def _rental_context(request, r) -> dict:
    return {
        "r": r,
        "landlord": selectors.shown_name(request.user, r.landlord_name),
        "inspections": selectors.inspections(rental=r),
        "results": InspectionResult.choices,
        "levels": HazardLevel.choices,
        "can_write": services.can_write(request.user) and services.in_patch(request.user, r.grid),
        "key": uuid.uuid4().hex,
    }


@require_GET
@estates_view
def rental(request, pk):
    r = selectors.get_rental(user=request.user, pk=pk)
    return render(request, "estates/rental.html", _rental_context(request, r))


@require_POST
@estates_view
def rental_inspect(request, pk):
    r = selectors.get_rental(user=request.user, pk=pk)
    try:
        i = services.inspect_rental(
            actor=request.user,
            rental=r,
            result=request.POST.get("result", ""),
            findings=request.POST.get("findings", ""),
            inspected_on=_date(request.POST.get("inspected_on")),
            to=request.POST.get("to", ""),
            hazard_level=request.POST.get("hazard_level", HazardLevel.GENERAL),
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
        messages.success(request, "已录入检查" + ("，并已上报" if i.case_id else ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("estates:rental", pk=r.pk)


@require_POST
@estates_view
def rental_clear(request, pk):
    r = selectors.get_rental(user=request.user, pk=pk)
    try:
        services.clear_rental(
            actor=request.user, rental=r, cleared_on=_date(request.POST.get("cleared_on")),
            reason=request.POST.get("reason", ""),
        )  # fmt: skip
        messages.success(request, "已清退")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("estates:rental", pk=r.pk)


# --- 楼宇 / 企业 ------------------------------------------------------------------------------------------


@require_GET
@estates_view
def buildings(request):
    key_only = request.GET.get("all") != "1"
    rows = list(selectors.building_rows(user=request.user, key_only=key_only)[:500])
    enterprises = selectors.visible_enterprises(user=request.user)
    reg = metrics.registration(enterprises)
    for p in rows:
        p.reg = reg.get(p.building_id, {"occupants": 0, "registered_here": 0, "rate": None})
        p.shown_manager = selectors.shown_name(request.user, p.manager_name)
    return render(
        request,
        "estates/buildings.html",
        {
            "rows": rows,
            "key_only": key_only,
            "streets": metrics.street_registration(enterprises).values(),
            "can_write": services.can_write(request.user),
            "unprofiled": services.writable_buildings(request.user)
            .filter(kind="tower", estate_profile__isnull=True)
            .order_by("name")[:300],
            "formula": metrics.REGISTRATION_RATE.formula,
        },
    )


@require_POST
@estates_view
def building_save(request):
    """登记/修改楼宇档案 (重点楼宇, 楼长, 挂钩领导) of a places building."""
    try:
        area = request.POST.get("total_area", "").strip()
        p = services.save_building_profile(
            actor=request.user,
            building_id=request.POST.get("building"),
            is_key=bool(request.POST.get("is_key")),
            manager_name=request.POST.get("manager_name", ""),
            manager_phone=request.POST.get("manager_phone") or None,  # blank: keep the stored phone
            leader=request.POST.get("leader", ""),
            total_area=_decimal(area) if area else None,
            note=request.POST.get("note", ""),
        )
        messages.success(request, "已保存楼宇档案")
        return redirect("estates:building", pk=p.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("estates:buildings")


def _decimal(text: str):
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationFailed("建筑面积应为数字", field="total_area") from None


@require_GET
@estates_view
def building(request, pk):
    p = selectors.get_building(user=request.user, pk=pk)
    ents = list(selectors.enterprise_rows(user=request.user, building=p))
    reg = metrics.registration(
        selectors.visible_enterprises(user=request.user).filter(building_id=p.building_id)
    )
    return render(
        request,
        "estates/building.html",
        {
            "p": p,
            "ents": ents,
            "reg": reg["total"],
            "manager": selectors.shown_name(request.user, p.manager_name),
        },
    )


@require_GET
@estates_view
def enterprise(request, pk):
    e = selectors.get_enterprise(user=request.user, pk=pk)
    return render(
        request,
        "estates/enterprise.html",
        {
            "e": e,
            "profile": selectors.visible_buildings(user=request.user)
            .filter(building_id=e.building_id)
            .first(),
            "visits": e.visits.select_related("visitor", "case")[:50],
            "can_write": services.can_write(request.user) and services.in_patch(request.user, e.grid),
            "key": uuid.uuid4().hex,
        },
    )


@require_POST
@estates_view
def enterprise_visit(request, pk):
    e = selectors.get_enterprise(user=request.user, pk=pk)
    try:
        v = services.visit_enterprise(
            actor=request.user,
            enterprise=e,
            notes=request.POST.get("notes", ""),
            demand=request.POST.get("demand", ""),
            visited_on=_date(request.POST.get("visited_on")),
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
        messages.success(request, "已录入企业走访" + ("，诉求已上报工单" if v.case_id else ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("estates:enterprise", pk=e.pk)


# --- 专项排查 -----------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@estates_view
def campaigns(request):
    can_create = request.user.role in services.CAMPAIGN_ROLES
    errors = []
    if request.method == "POST":
        if not can_create:
            return HttpResponseForbidden("当前角色不能建立专项排查")
        try:
            c = services.create_campaign(
                actor=request.user,
                code=request.POST.get("code", ""),
                name=request.POST.get("name", ""),
                kind=request.POST.get("kind", ""),
                starts_on=_date(request.POST.get("starts_on")),
                ends_on=_date(request.POST.get("ends_on")),
                note=request.POST.get("note", ""),
            )
            messages.success(request, "已建立专项排查，请导入排查对象")
            return redirect("estates:campaign", pk=c.pk)
        except DomainError as exc:
            errors.append(exc.message)
    rows = list(selectors.visible_campaigns(user=request.user))
    for c in rows:
        c.cov = metrics.coverage(
            selectors.visible_targets(user=request.user).filter(campaign=c), by="community"
        )[-1]
    return render(
        request,
        "estates/campaigns.html",
        {"rows": rows, "kinds": CampaignKind.choices, "can_create": can_create, "errors": errors},
    )


@require_GET
@estates_view
def campaign(request, pk):
    c = selectors.get_campaign(user=request.user, pk=pk)
    by = request.GET.get("by", "community")
    by = by if by in ("community", "grid", "worker") else "community"
    result = request.GET.get("result", "")
    result = result if result in TargetResult.values else ""
    targets = selectors.visible_targets(user=request.user).filter(campaign=c)
    page = Paginator(selectors.target_rows(user=request.user, campaign=c, result=result), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "estates/campaign.html",
        {
            "c": c,
            "by": by,
            "result": result,
            "results": TargetResult.choices,
            "coverage": metrics.coverage(targets, by=by),
            "page": page,
            "query": request.GET.urlencode(),
            "formula": metrics.COVERAGE_RATE.formula,
        },
    )


@require_GET
@estates_view
def campaign_export(request, pk):
    if not has_capability(request.user, Capability.EXPORT_CASES):
        return HttpResponseForbidden("当前角色不能导出")
    c = selectors.get_campaign(user=request.user, pk=pk)
    fh, filename = exports.write_targets_xlsx(c, selectors.target_rows(user=request.user, campaign=c))
    return FileResponse(fh, as_attachment=True, filename=filename, content_type=XLSX)


@require_http_methods(["GET", "POST"])
@estates_view
def target(request, pk):
    t = selectors.get_target(user=request.user, pk=pk)
    if request.method == "POST":
        try:
            services.record_result(
                actor=request.user,
                target=t,
                result=request.POST.get("result", ""),
                note=request.POST.get("note", ""),
                finding=request.POST.get("finding", "") if request.POST.get("to_case") else "",
            )
            messages.success(request, "已录入排查结果")
            nxt = (
                selectors.target_rows(user=request.user, campaign=t.campaign, result=TargetResult.PENDING)
                .exclude(pk=t.pk)
                .first()
            )
            return (
                redirect("estates:target", pk=nxt.pk)
                if nxt
                else redirect("estates:campaign", pk=t.campaign_id)
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        t = selectors.get_target(user=request.user, pk=pk)
    return render(
        request,
        "estates/target.html",
        {
            "t": t,
            "results": [(v, label) for v, label in TargetResult.choices if v != TargetResult.PENDING],
            "can_write": services.can_write(request.user) and services.in_patch(request.user, t.grid),
        },
    )
