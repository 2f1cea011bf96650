"""The 安全隐患 screens: 隐患台账 (+ Excel), the phone checklist (检查录入), 检查记录, 统计, 四色地图, 消防设施登记.

Thin: reads through :mod:`civicgrid.hazards.selectors`, writes through :mod:`civicgrid.hazards.services`; the
hazard itself is handled on the case page (/cases/<id>/: the procedure's generated buttons and forms).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.http import require_GET, require_http_methods

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.core import clock
from civicgrid.core.errors import DomainError, NotFound, ValidationFailed
from civicgrid.hazards import exports, fourcolor, imports, metrics, selectors, services
from civicgrid.hazards.models import Equipment, FireSafetyRegister, HazardLevel, TargetKind
from civicgrid.hazards.workflow import PROCEDURE

PAGE_SIZE = 30


def business_only(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not has_capability(request.user, Capability.BUSINESS_VIEW):
            return HttpResponseForbidden("当前角色不能查看安全隐患")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


def _filters(request) -> dict:
    state = request.GET.get("state", "")
    level = request.GET.get("level", "")
    return {
        "state": state if state in PROCEDURE.state_map else "",
        "level": level if level in HazardLevel.values else "",
        "category": request.GET.get("category", "")[:20],
    }


@require_GET
@business_only
def ledger(request):
    f = _filters(request)
    rows = selectors.hazard_rows(user=request.user, **f)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "hazards/ledger.html",
        {
            "page": page,
            "f": f,
            "states": PROCEDURE.states,
            "levels": HazardLevel.choices,
            "categories": selectors.categories(),
            "can_inspect": has_capability(request.user, Capability.CASE_CREATE),
            "can_import": imports.can_import(request.user),
            "query": request.GET.urlencode(),
        },
    )


@require_GET
@business_only
def export(request):
    if not has_capability(request.user, Capability.EXPORT_CASES):
        return HttpResponseForbidden("当前角色不能导出")
    rows = selectors.hazard_rows(user=request.user, **_filters(request)).select_related("case__community")
    fh, filename = exports.write_ledger_xlsx(rows)
    return FileResponse(
        fh,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _findings(request, checklist) -> list[services.Finding]:
    cats = {str(c.pk): c for c in selectors.categories()}
    out = []
    for item in checklist.items.all():
        key = f"item-{item.pk}"
        result = request.POST.get(f"{key}-result", "")
        if result not in ("pass", "fail"):
            raise ValidationFailed(f"请选择「{item.text}」是否合格", field=f"{key}-result")
        fail = result == "fail"
        out.append(
            services.Finding(
                passed=not fail,
                item=item,
                note=request.POST.get(f"{key}-note", "")[:300],
                hazard=fail and request.POST.get(f"{key}-hazard") == "on",
                level=request.POST.get(f"{key}-level", item.default_level),
                category=cats.get(request.POST.get(f"{key}-category", "")) or item.category,
                description=request.POST.get(f"{key}-description", "")[:2000],
                photos=request.FILES.getlist(f"{key}-photos")[:4],
            )
        )
    return out


def _float(value):
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        raise ValidationFailed("经纬度必须是数字", field="lng")


def _when(value):
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValidationFailed("检查时间格式不正确", field="inspected_at")
    return clock.aware(parsed)


def _people(request) -> list:
    ids = [v for v in request.POST.getlist("inspectors")[:20] if v.isdigit()]
    found = list(selectors.colleagues(user=request.user).filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationFailed("同行检查人员不存在或不在您的辖区", field="inspectors")
    return found


@require_http_methods(["GET", "POST"])
@business_only
def inspect(request):
    """The phone checklist: pick the 检查对象 and the checklist, mark each item; a failed item may become a
    hazard (level, description, photos) in the same submit."""
    if not has_capability(request.user, Capability.CASE_CREATE):
        return HttpResponseForbidden("当前角色不能录入检查")
    lists = list(selectors.checklists())
    chosen = request.POST.get("checklist") or request.GET.get("checklist")
    checklist = next((c for c in lists if str(c.pk) == chosen), lists[0] if lists else None)
    errors, status = [], 200
    if request.method == "POST" and checklist is not None:
        try:
            target = services.resolve_target(
                actor=request.user,
                kind=request.POST.get("target_kind", ""),
                unit_id=request.POST.get("unit"),
                building_id=request.POST.get("building"),
                community_id=request.POST.get("community"),
                lng=_float(request.POST.get("lng")),
                lat=_float(request.POST.get("lat")),
                address=request.POST.get("address", "")[:200],
                name=request.POST.get("target_name", "")[:150],
            )
            inspection = services.record_inspection(
                actor=request.user,
                target=target,
                checklist=checklist,
                findings=_findings(request, checklist),
                note=request.POST.get("note", "")[:2000],
                inspected_at=_when(request.POST.get("inspected_at")),
                inspectors=_people(request),
                photos=request.FILES.getlist("photos"),
            )
        except (ValidationFailed, DomainError) as exc:
            errors.append(exc.message)
            status = getattr(exc, "status", 422)
        else:
            messages.success(
                request, f"已保存检查记录（{inspection.target_name}），发现隐患 {inspection.hazard_count} 处"
            )
            return redirect("hazards:inspection", pk=inspection.pk)
    return render(
        request,
        "hazards/inspect.html",
        {
            "checklists": lists,
            "checklist": checklist,
            "items": list(checklist.items.all()) if checklist else [],
            "targets": selectors.target_choices(user=request.user),
            "colleagues": list(selectors.colleagues(user=request.user)[:300]),
            "now": clock.local_now().strftime("%Y-%m-%dT%H:%M"),
            "target_kinds": TargetKind.choices,
            "levels": HazardLevel.choices,
            "categories": selectors.categories(),
            "errors": errors,
            "post": request.POST,
        },
        status=status,
    )


@require_GET
@business_only
def inspections(request):
    qs = selectors.visible_inspections(user=request.user).select_related("created_by", "checklist")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "hazards/inspections.html", {"page": page})


@require_GET
@business_only
def inspection_detail(request, pk: int):
    inspection = selectors.get_inspection(user=request.user, pk=pk)
    hazards = selectors.hazard_rows(user=request.user).filter(inspection=inspection)
    return render(request, "hazards/inspection.html", {"i": inspection, "hazards": hazards})


@require_GET
@business_only
def inspection_photo(request, photo_id: int, thumb: bool = False):
    """A photo of an inspection the user may see (its thumbnail at ``…/thumb/``)."""
    from civicgrid.cases.attachments import file_response

    photo = selectors.inspection_photo(user=request.user, pk=photo_id)
    try:
        return file_response(photo.attachment, thumb=thumb, redirect_remote=False)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _period(request) -> tuple[date, date]:
    today = clock.local_now().date()
    start = parse_date(request.GET.get("start") or "") or today.replace(day=1)
    end = parse_date(request.GET.get("end") or "") or today
    if end < start:
        start, end = end, start
    if (end - start).days > 3660:
        start = end - timedelta(days=3660)
    return start, end


@require_GET
@business_only
def figures(request):
    start, end = _period(request)
    f = metrics.figures(user=request.user, start=start, end=end)
    return render(request, "hazards/figures.html", {"f": f, "levels": HazardLevel.choices})


@require_GET
@business_only
def color_map(request):
    from civicgrid.hazards.models import ColorRule

    return render(request, "hazards/map.html", {"legend": fourcolor.legend(ColorRule.current())})


@require_GET
@business_only
def map_data(request):
    return JsonResponse(fourcolor.scores(user=request.user), json_dumps_params={"ensure_ascii": False})


@require_http_methods(["GET", "POST"])
@business_only
def fire_register(request, building_id: int):
    building = selectors.target_object(user=request.user, kind=TargetKind.BUILDING, pk=building_id)
    if building is None:
        raise Http404("楼宇不存在或无权查看")
    register = selectors.fire_registers(user=request.user).filter(building=building).first()
    errors, status = [], 200
    if request.method == "POST":
        try:
            services.save_fire_register(
                actor=request.user,
                building=building,
                note=request.POST.get("note", ""),
                **{f: request.POST.get(f, "") for f in FireSafetyRegister.FIELDS},
            )
        except DomainError as exc:
            errors.append(exc.message)
            status = exc.status
        else:
            messages.success(request, f"已保存「{building.name}」的消防设施登记")
            return redirect("hazards:fire_register", building_id=building.pk)
    fields = [
        (f, FireSafetyRegister._meta.get_field(f).verbose_name, getattr(register, f, "") if register else "")
        for f in FireSafetyRegister.FIELDS
    ]
    return render(
        request,
        "hazards/fire_register.html",
        {
            "building": building,
            "register": register,
            "fields": fields,
            "choices": Equipment.choices,
            "errors": errors,
            "can_edit": has_capability(request.user, Capability.CASE_CREATE),
        },
        status=status,
    )
