"""The 智能分拨 panel on the case detail page (loaded by htmx) and the 采用 click. Thin: services decide."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from civicgrid.cases import selectors as case_selectors
from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.triage import selectors, services
from civicgrid.triage.models import TriageSuggestion

CLASSIFY_MOVES = ("accept", "dispatch", "reassign")


def case_panel(request, case, moves):
    """The case detail page's hook: a placeholder that loads the suggestions for a desk that may classify now."""
    names = {m.name for m in moves}
    if not selectors.may_classify(request.user) or not names & set(CLASSIFY_MOVES):
        return None
    return "triage/_slot.html", {"case": case}, "js/triage.js"


def classifier_only(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.may_classify(request.user):
            return HttpResponseForbidden("当前角色不能使用智能分拨")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


def _render(request, case, row, *, error: str = "", status: int = 200):
    picked = next((i for i in row.items if i["category"] == row.picked_category_id), None)
    return render(
        request,
        "triage/_panel.html",
        {"case": case, "s": row, "items": row.items, "picked": picked, "error": error},
        status=status,
    )


@require_GET
@classifier_only
def panel(request, pk: int):
    case = case_selectors.get_case(user=request.user, pk=pk)
    row = services.suggest_for_case(actor=request.user, case=case)
    return _render(request, case, row)


@require_POST
@classifier_only
def pick(request, sid: int):
    row = TriageSuggestion.objects.filter(pk=sid).select_related("department").first()
    if row is None:
        raise Http404("建议不存在")
    case = case_selectors.get_case(user=request.user, pk=row.case_id)  # 404 outside the user's scope
    try:
        category_id = int(request.POST.get("category") or 0)
    except ValueError:
        category_id = 0
    try:
        row = services.pick(actor=request.user, suggestion=row, category_id=category_id)
    except (ValidationFailed, PermissionDenied) as exc:
        return _render(request, case, row, error=exc.message, status=422)
    return _render(request, case, row)
