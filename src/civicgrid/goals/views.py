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
from django.views.decorators.http import require_GET, require_http_methods

from civicgrid.core import clock
from civicgrid.core.errors import DomainError, NotFound
from civicgrid.goals import exports, metrics, selectors, services
from civicgrid.goals.models import Project, ProjectCategory
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


@require_GET
@goals_view
def board(request):
    b, years = _board(request)
    return render(
        request,
        "goals/board.html",
        {
            "b": b,
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
        try:
            row = services.save_progress(
                actor=request.user,
                project=p,
                month=request.POST.get("month"),
                cumulative=request.POST.get("cumulative"),
                note=request.POST.get("note", ""),
            )
            messages.success(request, f"已保存 1-{row.month}月累计完成投资")
            return redirect("goals:project", pk=p.pk)
        except DomainError as exc:
            errors[exc.field or "form"] = exc.message
            messages.error(request, exc.message)
    steps = list(p.progress.select_related("updated_by").order_by("month"))
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
        },
    )
