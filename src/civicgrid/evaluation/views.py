"""The 行政问效 screens: the 红黑榜 list (every staff account: published boards; the 指挥中心 also drafts and boards
under review), one board (红榜/黑榜, the whole ranking, the workflow buttons, Excel/Word), the live 三率 ranking,
the role scores, the settings (weights) and the higher-level assessment results charted beside the platform's
own 三率. Thin: reads through the selectors, writes through the services."""

from __future__ import annotations

from functools import wraps
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.core import clock
from civicgrid.core.errors import DomainError, NotFound
from civicgrid.evaluation import exports, scoring, selectors, services, workflow
from civicgrid.evaluation.models import BoardKind, BoardState
from civicgrid.metrics.errors import BadQuery

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def staff_view(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not has_capability(request.user, Capability.BUSINESS_VIEW):
            return HttpResponseForbidden("当前角色不能查看考评")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


def rank_view(view):
    @staff_view
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.can_rank(request.user):
            return HttpResponseForbidden("当前角色不能查看考评排名")
        return view(request, *args, **kwargs)

    return wrapped


def _download(body: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


def _month_or_default(text):
    if text:
        try:
            return selectors.parse_month(text)
        except DomainError:
            pass
    return selectors.last_month()


def _street_or_none(request):
    try:
        return selectors.resolve_street(user=request.user, code=request.GET.get("street"))
    except DomainError:
        return None


@require_http_methods(["GET", "POST"])
@staff_view
def boards(request):
    user = request.user
    if request.method == "POST":
        try:
            board = services.draft_board(
                actor=user,
                kind=request.POST.get("kind", ""),
                month=request.POST.get("month", ""),
                street_code=request.POST.get("street") or None,
                note=request.POST.get("note", ""),
            )
            messages.success(request, f"已草拟{board}")
            return redirect("evaluation:board", pk=board.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("evaluation:boards")
    qs = selectors.visible_boards(user=user)
    kind = request.GET.get("kind") or ""
    if kind in BoardKind.values:
        qs = qs.filter(kind=kind)
    can_draft = user.role in workflow.DRAFTERS and selectors.can_rank(user)
    return render(
        request,
        "evaluation/boards.html",
        {
            "boards": list(qs.order_by("-month", "kind")[:300]),
            "kinds": BoardKind.choices,
            "kind": kind,
            "can_draft": can_draft,
            "can_rank": selectors.can_rank(user),
            "streets": list(selectors.tier_streets(user=user)) if can_draft else [],
            "default_month": f"{selectors.last_month():%Y-%m}",
        },
    )


@require_GET
@staff_view
def board(request, pk: int):
    b = selectors.get_board(user=request.user, pk=pk)
    cols = exports.columns(b.kind)
    by_key = {r["key"]: r for r in b.rows}

    def cells(keys):
        return [(by_key[k], [exports.cell(by_key[k].get(c)) for c, _ in cols]) for k in keys if k in by_key]

    rows = [(r, [exports.cell(r.get(c)) for c, _ in cols]) for r in b.rows]
    moves = workflow.allowed(b.state, request.user.role) if selectors.can_rank(request.user) else []
    return render(
        request,
        "evaluation/board.html",
        {
            "b": b,
            "title": exports.title(b),
            "heads": [label for _, label in cols],
            "red": cells(b.red),
            "black": cells(b.black),
            "rows": rows,
            "red_keys": set(b.red),
            "black_keys": set(b.black),
            "apart": [(r, scoring.APART_LABELS.get(r["apart"], r["apart"])) for r in b.apart],
            "rules": exports.rules_text(b),
            "moves": moves,
            "published": b.state == BoardState.PUBLISHED,
            "can_rank": selectors.can_rank(request.user),
        },
    )


@require_POST
@staff_view
def board_move(request, pk: int):
    b = selectors.get_board(user=request.user, pk=pk)
    try:
        b = services.transition(
            actor=request.user,
            board=b,
            move=request.POST.get("move", ""),
            version=request.POST.get("version") or None,
            note=request.POST.get("note", ""),
        )
        messages.success(request, f"{b}：{b.get_state_display()}")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("evaluation:board", pk=b.pk)


@require_GET
@staff_view
def board_xlsx(request, pk: int):
    return _download(*exports.board_xlsx(selectors.get_board(user=request.user, pk=pk)), XLSX)


@require_GET
@staff_view
def board_docx(request, pk: int):
    return _download(*exports.board_docx(selectors.get_board(user=request.user, pk=pk)), DOCX)


def _period(request):
    month = _month_or_default(request.GET.get("month"))
    return month, selectors.month_end(month)


@require_GET
@rank_view
def ranking(request):
    kind = request.GET.get("kind") or BoardKind.COMMUNITY
    if kind not in BoardKind.values:
        kind = BoardKind.COMMUNITY
    start, end = _period(request)
    error, r = None, None
    try:
        r = selectors.ranking(
            user=request.user, kind=kind, start=start, end=end, street_code=request.GET.get("street")
        )
    except (DomainError, BadQuery) as exc:
        error = exc.message
    cols = exports.columns(kind)
    return render(
        request,
        "evaluation/ranking.html",
        {
            "r": r,
            "error": error,
            "kind": kind,
            "kinds": BoardKind.choices,
            "month": f"{start:%Y-%m}",
            "street": _street_or_none(request),
            "streets": list(selectors.tier_streets(user=request.user)),
            "heads": [label for _, label in cols],
            "rows": [(row, [exports.cell(row.get(c)) for c, _ in cols]) for row in (r.rows if r else [])],
            "apart": [
                (row, scoring.APART_LABELS.get(row["apart"], row["apart"])) for row in (r.apart if r else [])
            ],
            "red": set(r.red) if r else set(),
            "black": set(r.black) if r else set(),
            "rate_labels": scoring.RATE_LABELS,
        },
    )


@require_GET
@rank_view
def roles(request):
    start, end = _period(request)
    data, error = None, None
    try:
        data = selectors.role_scores(
            user=request.user, start=start, end=end, street_code=request.GET.get("street")
        )
    except (DomainError, BadQuery) as exc:
        error = exc.message
    return render(
        request,
        "evaluation/roles.html",
        {
            "d": data,
            "error": error,
            "month": f"{start:%Y-%m}",
            "streets": list(selectors.tier_streets(user=request.user)),
            "street": _street_or_none(request),
        },
    )


@require_http_methods(["GET", "POST"])
@rank_view
def settings_page(request):
    user = request.user
    level = request.GET.get("level") or request.POST.get("level") or "street"
    errors: dict[str, str] = {}
    try:
        if level == "district":
            street, district = None, selectors.resolve_district(user=user)
        else:
            level = "street"
            street = selectors.resolve_street(
                user=user, code=request.GET.get("street") or request.POST.get("street")
            )
            district = None
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("evaluation:boards")
    row = selectors.settings_for(street=street, district=district)
    values = {k: getattr(row, k) for k in services.SETTINGS_FIELDS}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in services.SETTINGS_FIELDS}
        try:
            services.save_settings(actor=user, street=street, district=district, values=values)
            messages.success(request, "已保存考评设置")
            query = "?level=district" if level == "district" else f"?street={street.code}"
            return redirect(f"{request.path}{query}")
        except DomainError as exc:
            errors[exc.field or "all"] = exc.message
    return render(
        request,
        "evaluation/settings.html",
        {
            "owner": street.name if street else district.name,
            "street": street,
            "level": level,
            "values": values,
            "errors": errors,
            "stored": row.pk is not None,
            "can_save": selectors.can_configure(user),
            "streets": list(selectors.tier_streets(user=user)),
            "district_level": not getattr(user, "street_id", None) and selectors.user_district_id(user),
            "fields": [
                ("w_response", "响应率权重"),
                ("w_resolve", "解决率权重"),
                ("w_satisfaction", "满意率权重"),
                ("min_cases", "参与排名的最少件数"),
                ("board_size", "红/黑榜各列几名"),
            ],
        },
    )


@require_GET
@rank_view
def assessments(request):
    street = _street_or_none(request)
    try:
        year = int(request.GET.get("year") or clock.local_now().year)
    except ValueError:
        year = clock.local_now().year
    year = min(max(year, 2000), 2100)
    data = None
    if street is not None:
        data = selectors.assessment_chart(
            user=request.user, year=year, street_code=street.code, name=request.GET.get("name")
        )
    return render(
        request,
        "evaluation/assessments.html",
        {
            "d": data,
            "year": year,
            "years": range(clock.local_now().year, clock.local_now().year - 4, -1),
            "street": street,
            "streets": list(selectors.tier_streets(user=request.user)),
            "can_import": selectors.can_import(request.user),
        },
    )
