"""The 巡访打卡 screens: the 网格员's phone page (开始/结束巡查, the queue, the own points), the point check-in form,
巡查记录 with the track replay, 点位, 统计 (per 网格员 / 网格 / 社区, month) and the monthly 考核表 (+ Excel).

Thin: reads through :mod:`civicgrid.gridwork.selectors` / :mod:`~civicgrid.gridwork.metrics`, writes through
:mod:`civicgrid.gridwork.services`. The track itself is uploaded by ``static/js/gridwork.js`` through the API.
"""

from __future__ import annotations

import uuid
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.cases.models import Category
from civicgrid.core import clock
from civicgrid.core.errors import DomainError, NotFound, ValidationFailed
from civicgrid.gridwork import exports, metrics, selectors, services
from civicgrid.gridwork.api import parse_month, track_payload
from civicgrid.gridwork.models import GridworkRule

PAGE_SIZE = 30
SCORES = [(100, "100 优"), (90, "90 良"), (75, "75 一般"), (60, "60 较差"), (40, "40 差")]


def gridwork_only(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.may_view(request.user):
            return HttpResponseForbidden("当前角色不能查看巡访打卡")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


def _period(request):
    try:
        return parse_month(request.GET.get("month", "")[:7])
    except ValidationFailed:
        return parse_month("")


@require_GET
@gridwork_only
def patrol(request):
    """The 网格员's phone page; everyone else lands on 巡查记录."""
    if not selectors.may_patrol(request.user):
        return redirect("gridwork:patrols")
    current = selectors.open_patrol(user=request.user)
    points = list(selectors.own_points(user=request.user))
    period = metrics.month_period(*clock.local_now().timetuple()[:2])
    mine = metrics.by_worker(user=request.user, period=period)
    return render(
        request,
        "gridwork/patrol.html",
        {
            "current": current,
            "points": points,
            "rule": GridworkRule.current(),
            "recent": selectors.visible_patrols(user=request.user)[:5],
            "me": mine[0] if mine else None,
            "period": period,
        },
    )


def _float(value):
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise ValidationFailed("定位坐标无效", field="lng")


@require_http_methods(["GET", "POST"])
@gridwork_only
def check(request, pk: int):
    """点位打卡 on the phone: score, findings; 打卡并上报 turns the findings into a case in the same tap."""
    if not selectors.may_patrol(request.user):
        return HttpResponseForbidden("仅网格员可以打卡")
    point = selectors.get_point(user=request.user, pk=pk)
    errors, status = {}, 200
    categories = Category.objects.filter(level="minor", is_enabled=True).order_by(
        "-grid_worker_can_file", "code"
    )
    if request.method == "POST":
        try:
            raw_score = request.POST.get("score", "")
            patrol_id = request.POST.get("patrol", "")
            category_id = request.POST.get("category", "")
            category = categories.filter(pk=category_id).first() if category_id.isdigit() else None
            c = services.check_in(
                actor=request.user,
                point=point,
                client_id=request.POST.get("client_id", ""),
                lng=_float(request.POST.get("lng")),
                lat=_float(request.POST.get("lat")),
                patrol=selectors.own_patrol(user=request.user, pk=patrol_id) if patrol_id.isdigit() else None,
                score=int(raw_score) if raw_score.isdigit() else None,
                findings=request.POST.get("findings", "")[:2001],
                report=request.POST.get("action") in ("report", "hazard"),
                category=category,
                report_as="hazard" if request.POST.get("action") == "hazard" else "case",
            )
        except DomainError as exc:
            errors[exc.field or "form"] = exc.message
            status = 403 if exc.status == 403 else 422
        else:
            text = f"已在「{point.name}」打卡" + ("" if c.valid else "（不在点位范围内，不计入有效打卡）")
            if c.case_id:
                kind = "安全隐患" if c.case.procedure == "hazard" else "工单"
                text += f"，已上报{kind} {c.case.display_number}"
            messages.success(request, text)
            return redirect("gridwork:patrol")
    return render(
        request,
        "gridwork/check.html",
        {
            "point": point,
            "errors": errors,
            "post": request.POST,
            "client_id": request.POST.get("client_id") or uuid.uuid4().hex,
            "scores": SCORES,
            "categories": categories[:300],
            "recent": point.checks.select_related("worker", "case")[:5],
        },
        status=status,
    )


@require_GET
@gridwork_only
def patrols(request):
    qs = selectors.visible_patrols(user=request.user).select_related("worker", "grid", "community")
    worker = request.GET.get("worker", "")
    if worker.isdigit():
        qs = qs.filter(worker_id=int(worker))
    period = _period(request) if request.GET.get("month") else None
    if period is not None:
        lo, hi = period.bounds
        qs = qs.filter(started_at__gte=lo, started_at__lt=hi)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "gridwork/patrols.html",
        {
            "page": page,
            "workers": selectors.visible_workers(user=request.user).order_by("username")[:500],
            "worker": worker,
            "month": period.key if period else "",
            "query": request.GET.urlencode(),
        },
    )


@require_GET
@gridwork_only
def replay(request, pk: int):
    p = selectors.get_patrol(user=request.user, pk=pk)
    return render(
        request, "gridwork/replay.html", {"p": p, "checks": p.checks.select_related("point__kind", "case")}
    )


@require_GET
@gridwork_only
def track(request, pk: int):
    p = selectors.get_patrol(user=request.user, pk=pk)
    return JsonResponse(track_payload(p), json_dumps_params={"ensure_ascii": False})


@require_GET
@gridwork_only
def points(request):
    period = _period(request)
    lo, hi = period.bounds
    workdays = len(period.workdays)
    qs = selectors.visible_points(user=request.user).filter(is_active=True).select_related("kind", "grid")
    kind = request.GET.get("kind", "")
    if kind:
        qs = qs.filter(kind__code=kind[:20])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    from django.db.models import Count

    counts = dict(
        selectors.visible_checks(user=request.user)
        .filter(point__in=[p.pk for p in page], valid=True, at__gte=lo, at__lt=hi)
        .values("point_id")
        .annotate(n=Count("pk"))
        .values_list("point_id", "n")
    )
    rows = [(p, counts.get(p.pk, 0), metrics.required_visits(p, period, workdays)) for p in page]
    return render(
        request,
        "gridwork/points.html",
        {"page": page, "rows": rows, "period": period, "types": selectors.point_types(), "kind": kind},
    )


@require_GET
@gridwork_only
def figures(request):
    period = _period(request)
    by = request.GET.get("by", "worker")
    by = by if by in ("worker", "grid", "community") else "worker"
    return render(
        request,
        "gridwork/figures.html",
        {
            "rows": metrics.figures(user=request.user, period=period, by=by),
            "period": period,
            "by": by,
            "workdays": len(period.workdays),
            "rule": GridworkRule.current(),
        },
    )


@require_GET
@gridwork_only
def scores(request):
    period = _period(request)
    rule = GridworkRule.current()
    rows = sorted(
        metrics.by_worker(user=request.user, period=period),
        key=lambda r: (r.score is None, -(r.score or 0), r.name),
    )
    return render(
        request,
        "gridwork/scores.html",
        {
            "rows": rows,
            "period": period,
            "rule": rule,
            "can_export": has_capability(request.user, Capability.EXPORT_CASES),
        },
    )


@require_GET
@gridwork_only
def scores_export(request):
    if not has_capability(request.user, Capability.EXPORT_CASES):
        return HttpResponseForbidden("当前角色不能导出")
    period = _period(request)
    fh, filename = exports.write_scores_xlsx(
        metrics.by_worker(user=request.user, period=period), period=period, rule=GridworkRule.current()
    )
    return FileResponse(
        fh,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
