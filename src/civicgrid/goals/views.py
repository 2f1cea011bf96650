"""The 目标考核 screens: the 1-N月 summary table (+ Excel, Word), an indicator (its months, the forecast's method and
inputs, the status reasons; month entry and the manual forecast), the project board (cards by category with
progress bars, + Excel) and a project (its months; entry). Thin: reads through the selectors, writes through
the services."""

from __future__ import annotations

from functools import wraps
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from civicgrid.core import clock
from civicgrid.core.errors import DomainError, NotFound
from civicgrid.goals import exports, metrics, selectors, services, workflow
from civicgrid.goals.models import MilestoneKind, Project, ProjectCategory, Stage
from civicgrid.places import selectors as place_selectors

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def goals_view(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.can_view(request.user):
            return HttpResponseForbidden("当前角色不能查看目标考核")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


def _month(value, default: int) -> int:
    try:
        m = int(value)
    except (TypeError, ValueError):
        return default
    return m if 1 <= m <= 12 else default


def _summary(request):
    """(the summary or None, the scorecards to choose from)."""
    cards = list(selectors.visible_scorecards(user=request.user).order_by("-year", "street__code"))
    wanted = request.GET.get("scorecard")
    card = None
    if wanted:
        card = selectors.get_scorecard(user=request.user, pk=wanted)
    elif cards:
        card = cards[0]
    if card is None:
        return None, cards
    month = _month(request.GET.get("month"), selectors.latest_month(card))
    return selectors.summary(scorecard=card, month=month), cards


@require_GET
@goals_view
def summary(request):
    s, cards = _summary(request)
    return render(
        request,
        "goals/summary.html",
        {
            "s": s,
            "cards": cards,
            "months": range(1, 13),
            "head": exports.header_rows(s.month) if s else None,
            "rows": [(line, exports.line_cells(line)) for line in s.lines] if s else [],
            "can_edit": selectors.can_edit(request.user),
        },
    )


def _download(body: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@require_GET
@goals_view
def summary_xlsx(request):
    s, _ = _summary(request)
    if s is None:
        raise Http404("没有考核年度")
    return _download(*exports.summary_xlsx(s), XLSX)


@require_GET
@goals_view
def summary_docx(request):
    s, _ = _summary(request)
    if s is None:
        raise Http404("没有考核年度")
    return _download(*exports.summary_docx(s), DOCX)


@require_http_methods(["GET", "POST"])
@goals_view
def indicator(request, pk: int):
    ind = selectors.get_indicator(user=request.user, pk=pk)
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "actual":
                row = services.save_actual(
                    actor=request.user,
                    indicator=ind,
                    month=request.POST.get("month"),
                    ytd_total=request.POST.get("ytd_total"),
                    ytd_growth=request.POST.get("ytd_growth"),
                    prior_ytd=request.POST.get("prior_ytd"),
                    rank=request.POST.get("rank"),
                    note=request.POST.get("note", ""),
                )
                messages.success(request, f"已保存 1-{row.month}月完成情况")
            elif action == "override":
                services.set_override(
                    actor=request.user,
                    indicator=ind,
                    total=request.POST.get("override_total"),
                    growth=request.POST.get("override_growth"),
                    reason=request.POST.get("override_reason", ""),
                )
                messages.success(request, "已保存人工预计")
            elif action == "clear":
                services.clear_override(actor=request.user, indicator=ind)
                messages.success(request, "已取消人工预计，恢复按规则预测")
            elif action == "recompute":
                row = services.recompute_indicator(
                    actor=request.user, indicator=ind, month=request.POST.get("month")
                )
                if row is None:
                    messages.warning(request, "该期间还没有可计算的数据")
                else:
                    messages.success(request, f"已按平台数据重新计算 1-{row.month}月")
            else:
                raise DomainError("未知操作")
            return redirect("goals:indicator", pk=ind.pk)
        except DomainError as exc:
            errors[exc.field or "form"] = exc.message
            messages.error(request, exc.message)
        ind = selectors.get_indicator(user=request.user, pk=pk)
    card = ind.scorecard
    month = selectors.latest_month(card)
    figs = selectors.figures_of(ind)
    fig = metrics.latest(figs, month)
    rule = selectors.rule_of(ind, card.yellow_margin)
    fc = metrics.forecast(rule, fig)
    return render(
        request,
        "goals/indicator.html",
        {
            "ind": ind,
            "card": card,
            "month": month,
            "fig": fig,
            "fc": fc,
            "status": metrics.status(rule, fig, fc),
            "climbed": metrics.climbed(figs, month),
            "actuals": ind.actuals.select_related("updated_by").order_by("month"),
            "entry_month": _month(request.POST.get("month"), min(max(figs, default=0) + 1, 12)),
            "months": range(1, 13),
            "errors": errors,
            "post": request.POST if request.method == "POST" else {},
            "can_edit": selectors.can_edit(request.user),
            "metric": selectors.metric_of(ind),
        },
    )


def _board(request):
    years = selectors.project_years(user=request.user)
    today = clock.local_now().date()
    try:
        year = int(request.GET.get("year") or (years[0] if years else today.year))
    except ValueError:
        year = years[0] if years else today.year
    default_month = today.month - 1 if year == today.year and today.month > 1 else 12
    month = _month(request.GET.get("month"), default_month)
    street_id = request.GET.get("street") or None
    try:
        street_id = int(street_id) if street_id else None
    except ValueError:
        street_id = None
    if street_id and not place_selectors.same_tier(request.user, street_id):
        street_id = None
    return selectors.board(user=request.user, year=year, month=month, street_id=street_id), years


def _map_points(b) -> tuple[list[dict], int]:
    """The board's projects with a point (for the map), and how many have none."""
    points, missing = [], 0
    for c in b.categories:
        for line in c.lines:
            p = line.project
            if p.lng is None or p.lat is None:
                missing += 1
                continue
            points.append(
                {
                    "id": p.pk,
                    "name": p.name,
                    "lng": p.lng,
                    "lat": p.lat,
                    "lagging": line.lagging,
                    "rate": None if line.rate is None else float(line.rate),
                    "category": c.label,
                    "url": reverse("goals:project", args=[p.pk]),
                }
            )
    return points, missing


def _center(user) -> tuple[float | None, float | None]:
    street = getattr(user, "street", None)
    return (street.center_lng, street.center_lat) if street is not None else (None, None)


@require_GET
@goals_view
def board(request):
    b, years = _board(request)
    points, unlocated = _map_points(b)
    return render(
        request,
        "goals/board.html",
        {
            "b": b,
            "points": points,
            "unlocated": unlocated,
            "center": _center(request.user),
            "years": years or [b.year],
            "months": range(1, 13),
            "query": request.GET.urlencode(),
            "staged": Project.STAGED,
        },
    )


@require_GET
@goals_view
def board_xlsx(request):
    b, _ = _board(request)
    return _download(*exports.board_xlsx(b), XLSX)


@require_http_methods(["GET", "POST"])
@goals_view
def project(request, pk: int):
    p = selectors.get_project(user=request.user, pk=pk)
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action", "progress")
        try:
            if action == "progress":
                row = services.save_progress(
                    actor=request.user,
                    project=p,
                    month=request.POST.get("month"),
                    cumulative=request.POST.get("cumulative"),
                    note=request.POST.get("note", ""),
                )
                messages.success(request, f"已保存 1-{row.month}月累计完成投资")
            elif action == "milestones":
                services.save_milestones(
                    actor=request.user,
                    project=p,
                    rows={
                        kind: {
                            "planned": request.POST.get(f"{kind}_planned"),
                            "actual": request.POST.get(f"{kind}_actual"),
                            "note": request.POST.get(f"{kind}_note", ""),
                        }
                        for kind in MilestoneKind.values
                    },
                )
                messages.success(request, "已保存项目节点")
            elif action == "location":
                services.set_location(
                    actor=request.user, project=p, lng=request.POST.get("lng"), lat=request.POST.get("lat")
                )
                messages.success(request, "已保存项目位置" if p.lng is None else "已更新项目位置")
            elif action == "issue":
                issue = services.raise_issue(actor=request.user, project=p, text=request.POST.get("text", ""))
                messages.success(request, f"已生成工单 {issue.case.number or issue.case.pk}")
            elif action == "add_item":
                services.add_stage_item(
                    actor=request.user,
                    project=p,
                    name=request.POST.get("name", ""),
                    community=request.POST.get("community", ""),
                    stage=request.POST.get("stage", "applied"),
                    households=request.POST.get("households"),
                    floor_area=request.POST.get("floor_area"),
                )
                messages.success(request, "已登记")
            elif action == "advance_item":
                item = selectors.get_stage_item(project=p, pk=request.POST.get("item"))
                item = services.advance_stage_item(actor=request.user, item=item)
                messages.success(request, f"{item.name}：已进入「{item.get_stage_display()}」")
            else:
                raise DomainError("未知操作")
            return redirect("goals:project", pk=p.pk)
        except DomainError as exc:
            errors[exc.field or "form"] = exc.message
            messages.error(request, exc.message)
        p = selectors.get_project(user=request.user, pk=pk)
    steps = list(p.progress.select_related("updated_by").order_by("month"))
    status = 400 if errors else 200
    rows = [
        (s, metrics.rate(s.cumulative, p.annual_plan), metrics.lagging(s.cumulative, p.annual_plan, s.month))
        for s in steps
    ]
    return render(
        request,
        "goals/project.html",
        {
            "p": p,
            "rows": rows,
            "category": ProjectCategory(p.category).label,
            "entry_month": _month(request.POST.get("month"), min((steps[-1].month if steps else 0) + 1, 12)),
            "months": range(1, 13),
            "errors": errors,
            "post": request.POST if request.method == "POST" else {},
            "can_edit": selectors.can_edit(request.user),
            "milestones": selectors.milestones_of(p),
            "issues": selectors.issues_of(p),
            "staged": p.category in Project.STAGED,
            "items": sorted(p.stage_items.all(), key=lambda i: (workflow.STAGES.index(i.stage), i.name))
            if p.category in Project.STAGED
            else [],
            "stages": Stage.choices,
            "stage_text": metrics.stage_sentence(p.category, p.stages),
            "lagging_now": bool(rows and rows[-1][2]),
            "center": (p.street.center_lng, p.street.center_lat),
        },
        status=status,
    )


def _year(request, years: list[int]) -> int:
    today = clock.local_now().date()
    try:
        return int(request.GET.get("year") or (years[0] if years else today.year))
    except ValueError:
        return years[0] if years else today.year


@require_GET
@goals_view
def gantt(request):
    years = selectors.project_years(user=request.user)
    year = _year(request, years)
    return render(
        request,
        "goals/gantt.html",
        {"g": selectors.gantt(user=request.user, year=year), "year": year, "years": years or [year]},
    )


@require_http_methods(["GET", "POST"])
@goals_view
def micro(request):
    years = selectors.micro_years(user=request.user)
    year = _year(request, years)
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "create":
                item = services.create_micro(
                    actor=request.user,
                    year=request.POST.get("year") or year,
                    name=request.POST.get("name", ""),
                    community=request.POST.get("community", ""),
                    proposer=request.POST.get("proposer", ""),
                    budget=request.POST.get("budget"),
                )
                messages.success(request, f"已登记：{item.name}")
            elif action in ("advance", "drop"):
                item = selectors.get_micro(user=request.user, pk=request.POST.get("item"))
                item = services.move_micro(
                    actor=request.user,
                    item=item,
                    move=action,
                    note=request.POST.get("note", ""),
                    rating=request.POST.get("rating", ""),
                )
                flow = selectors.micro_flow(street_id=item.street_id)
                messages.success(request, f"{item.name}：已进入「{flow.label(item.step)}」")
            else:
                raise DomainError("未知操作")
            return redirect(f"{request.path}?year={year}")
        except DomainError as exc:
            errors[exc.field or "form"] = exc.message
            messages.error(request, exc.message)
    mb = selectors.micro_board(user=request.user, year=year)
    return render(
        request,
        "goals/micro.html",
        {
            "mb": mb,
            "year": year,
            "years": years or [year],
            "errors": errors,
            "post": request.POST if request.method == "POST" else {},
            "can_edit": selectors.can_edit(request.user),
            "rows": [(i, mb.flow.label(i.step), workflow.moves_from(i.step)) for i in mb.items],
            "finished": [(s, workflow.DEFAULT_LABELS[s]) for s in (workflow.CLOSED, workflow.DROPPED)],
        },
    )
