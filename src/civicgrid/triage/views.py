"""The 智能分拨 panel on the case detail page (loaded by htmx) and the 采用 click. Thin: services decide."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from civicgrid.cases import selectors as case_selectors
from civicgrid.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from civicgrid.triage import selectors, services
from civicgrid.triage.models import DuplicateCandidate, TriageSuggestion

CLASSIFY_MOVES = ("accept", "dispatch", "reassign")


def case_panel(request, case, moves):
    """The case detail page's hook: a placeholder that loads the suggestions for a desk that may classify now."""
    names = {m.name for m in moves}
    if not selectors.may_classify(request.user) or not names & set(CLASSIFY_MOVES):
        return None
    return "triage/_slot.html", {"case": case}, "js/triage.js"


def duplicates_panel(request, case, moves):
    """合并: the near-duplicates of this case (with score and reasons, 合并 / 不是重复), the case it was merged
    into, or the cases merged into it. Nothing when there is nothing to say."""
    if not selectors.may_classify(request.user):
        return None
    rows = selectors.duplicates_for(user=request.user, case=case)
    merged_in = list(
        case_selectors.visible_cases(user=request.user).filter(duplicate_of=case).order_by("created_at", "pk")
    )
    if not rows and not merged_in and not case.duplicate_of_id:
        return None
    return "triage/_duplicates.html", _dup_ctx(request, case, rows, merged_in)


def _dup_ctx(request, case, rows, merged_in, error: str = "") -> dict:
    master = None
    if case.duplicate_of_id:
        master = case_selectors.visible_cases(user=request.user).filter(pk=case.duplicate_of_id).first()
    items = [{"row": r, "mergeable": selectors.mergeable(user=request.user, row=r)} for r in rows]
    pending = sum(1 for r in rows if r.status == "pending")
    return {
        "case": case,
        "items": items,
        "merged_in": merged_in,
        "master": master,
        "error": error,
        "pending": pending,
    }


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


def _render_duplicates(request, case, *, error: str = "", status: int = 200):
    rows = selectors.duplicates_for(user=request.user, case=case)
    merged_in = list(case_selectors.visible_cases(user=request.user).filter(duplicate_of=case))
    ctx = _dup_ctx(request, case, rows, merged_in, error)
    return render(request, "triage/_duplicates.html", {"panel": ctx}, status=status)


def _dup_row(request, did: int) -> tuple[DuplicateCandidate, object]:
    row = DuplicateCandidate.objects.filter(pk=did).select_related("candidate", "case").first()
    if row is None:
        raise Http404("疑似重复记录不存在")
    case = case_selectors.get_case(user=request.user, pk=row.case_id)  # 404 outside the user's scope
    return row, case


@require_POST
@classifier_only
def merge(request, did: int):
    row, case = _dup_row(request, did)
    try:
        services.merge_duplicate(actor=request.user, row=row)
    except (ValidationFailed, PermissionDenied, Conflict) as exc:
        return _render_duplicates(request, case, error=exc.message, status=422)
    response = HttpResponse(status=204)
    response["HX-Refresh"] = "true"  # the case page shows its new state and timeline
    return response


@require_POST
@classifier_only
def dismiss(request, did: int):
    row, case = _dup_row(request, did)
    try:
        services.dismiss_duplicate(actor=request.user, row=row, note=request.POST.get("note", ""))
    except (ValidationFailed, PermissionDenied, Conflict) as exc:
        return _render_duplicates(request, case, error=exc.message, status=422)
    case.refresh_from_db()
    return _render_duplicates(request, case)
