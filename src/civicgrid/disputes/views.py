"""The 矛盾纠纷 screens: 纠纷台账 (filters, Excel), 登记纠纷, the printable detail page (当事人, 调解记录, the
procedure's generated buttons and forms, 协议书), 统计.

Thin: reads through :mod:`civicgrid.disputes.selectors`, writes through :mod:`civicgrid.disputes.services` and the
case engine (``cases.services.perform`` with the forms ``cases.forms.move_form`` generates from the table).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases import services as case_services
from civicgrid.cases import workflow as case_workflow
from civicgrid.cases.forms import FIELD_ALIASES, move_form
from civicgrid.core import clock
from civicgrid.core.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    StaleVersion,
    ValidationFailed,
)
from civicgrid.disputes import agreement, exports, metrics, selectors, services
from civicgrid.disputes.forms import PartyForm, RegisterForm, SessionForm
from civicgrid.disputes.importing import SPEC as IMPORT_SPEC
from civicgrid.disputes.importing import can_import
from civicgrid.disputes.models import DisputeSource, Outcome
from civicgrid.disputes.workflow import MEDIATOR_ROLES, PROCEDURE

PAGE_SIZE = 30
STALE_MESSAGE = "该纠纷已被他人处理，请刷新后重试"


def business_only(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not has_capability(request.user, Capability.BUSINESS_VIEW):
            return HttpResponseForbidden("当前角色不能查看矛盾纠纷")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


def _filters(request) -> dict:
    g = request.GET
    state, source = g.get("state", ""), g.get("source", "")
    return {
        "state": state if state in PROCEDURE.state_map else "",
        "source": source if source in DisputeSource.values else "",
        "dispute_type": g.get("type", "")[:20],
        "org": g.get("org", "")[:10],
        "q": g.get("q", "").strip()[:50],
    }


@require_GET
@business_only
def ledger(request):
    f = _filters(request)
    rows = selectors.dispute_rows(user=request.user, **f)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    full = selectors.sees_parties(request.user)
    for d in page.object_list:
        d.party_views = [selectors.party_view(request.user, p) for p in d.parties.all()]
        d.description_view = selectors.text_view(request.user, d.case.description, d.parties.all())
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "disputes/ledger.html",
        {
            "page": page,
            "f": f,
            "states": PROCEDURE.states,
            "sources": DisputeSource.choices,
            "types": selectors.types(),
            "orgs": selectors.orgs_for(user=request.user),
            "can_register": request.user.role in MEDIATOR_ROLES,
            "can_import": can_import(request.user),
            "import_spec": IMPORT_SPEC.name,
            "full": full,
            "query": query.urlencode(),
        },
    )


@require_GET
@business_only
def export(request):
    if not has_capability(request.user, Capability.EXPORT_CASES):
        return HttpResponseForbidden("当前角色不能导出")
    rows = selectors.dispute_rows(user=request.user, **_filters(request))
    fh, filename = exports.write_ledger_xlsx(rows, full=selectors.sees_parties(request.user))
    return FileResponse(
        fh,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@require_http_methods(["GET", "POST"])
@business_only
def register(request):
    user = request.user
    if user.role not in MEDIATOR_ROLES:
        return HttpResponseForbidden("当前角色不能登记矛盾纠纷")
    if request.method == "GET":
        form = RegisterForm(user=user, initial={"idempotency_key": uuid.uuid4().hex})
        return render(request, "disputes/register.html", {"form": form})
    form = RegisterForm(request.POST, user=user)
    status = 422
    if form.is_valid():
        d = form.cleaned_data
        linked = None
        if d["source"] == DisputeSource.CASE and d.get("linked_number"):
            linked = selectors.linkable_case(user=user, number=d["linked_number"])
            if linked is None:
                form.add_error("linked_number", "找不到该编号的工单（或您无权查看）")
        if not form.errors:
            try:
                case = services.register_dispute(
                    actor=user,
                    source=d["source"],
                    dispute_type=form.types.get(d["dispute_type"]),
                    org=form.orgs.get(d["org"]),
                    grid=form.grids.get(d["grid"]),
                    description=d["description"],
                    address=d.get("address") or "",
                    amount=d.get("amount") or None,
                    police_station=d.get("police_station") or "",
                    police_ref=d.get("police_ref") or "",
                    court_name=d.get("court_name") or "",
                    linked_case=linked,
                    parties=form.parties(),
                    idempotency_key=d.get("idempotency_key") or None,
                )
            except DomainError as exc:
                name = {"linked_case": "linked_number"}.get(exc.field, exc.field) or ""
                if name.startswith("parties."):
                    bits = name.split(".")
                    name = f"party{bits[1]}_{bits[2]}" if len(bits) == 3 else ""
                form.add_error(name if name in form.fields else None, exc.message)
                status = exc.status
            else:
                messages.success(request, f"已登记矛盾纠纷：{case.number}（待受理）")
                return redirect("disputes:detail", pk=case.pk)
    return render(request, "disputes/register.html", {"form": form}, status=status)


def _actions(request, d, bound=None) -> list[dict]:
    case = d.case
    out = []
    for m in case_workflow.allowed_moves(case, request.user):
        if bound is not None and bound.prefix == m.name:
            form = bound
        else:
            form = move_form(case, m)(
                user=request.user, case=case, prefix=m.name, initial={"version": case.version}
            )
            if m.name == "admit":
                form.initial.setdefault("amount", 30)
        out.append({"move": m, "label": m.label, "form": form, "open": form is bound,
                    "multipart": form.is_multipart()})  # fmt: skip
    return out


def _detail_page(request, d, *, bound=None, session_form=None, party_form=None, error="", status=200):
    user = request.user
    case = d.case
    mediator = False
    try:
        services.check_mediator(actor=user, case=case)
        mediator = True
    except PermissionDenied:
        pass
    scans = [a for a in case_selectors.case_attachments(user=user, case=case)]
    people = list(d.parties.all())
    sessions = list(d.sessions.all())
    for s in sessions:
        s.notes_view = selectors.text_view(user, s.notes, people)
    timeline = list(case_selectors.timeline(user=user, case=case))
    for e in timeline:
        e.note_view = selectors.text_view(user, e.note, people)
    labels = case_workflow.timeline_labels(timeline, PROCEDURE)
    for e, label in zip(timeline, labels, strict=True):
        e.move_label = "登记" if e.move == "create" else label
        e.to_label = PROCEDURE.state_label(e.to_state)
    return render(
        request,
        "disputes/detail.html",
        {
            "d": d,
            "case": case,
            "parties": [selectors.party_view(user, p) for p in people],
            "sessions": sessions,
            "description": selectors.text_view(user, case.description, people),
            "terms": selectors.text_view(user, d.agreement_terms, people),
            "followup_result": selectors.text_view(user, d.followup_result, people),
            "actions": _actions(request, d, bound),
            "mediator": mediator,
            "can_session": mediator and case.state == "mediating",
            "can_party": mediator and case.state in ("registered", "mediating"),
            "can_agreement": selectors.sees_parties(user) and d.outcome == Outcome.SUCCESS,
            "session_form": session_form or SessionForm(),
            "party_form": party_form or PartyForm(),
            "scans": scans,
            "timeline": timeline,
            "error": error,
            "printed_at": clock.local_now(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@business_only
def detail(request, pk: int):
    d = selectors.get_dispute(user=request.user, pk=pk)
    if request.method == "GET":
        return _detail_page(request, d)
    move = (request.POST.get("move") or "").replace("-", "_")
    if move not in PROCEDURE.move_map:
        return HttpResponseBadRequest("未知操作")
    case = d.case
    form = move_form(case, PROCEDURE.move_map[move])(
        request.POST, request.FILES, user=request.user, case=case, prefix=move
    )
    if not form.is_valid():
        return _detail_page(request, d, bound=form, status=422)
    try:
        case = case_services.perform(
            actor=request.user,
            case=case,
            move=move,
            version=form.cleaned_data["version"],
            **form.service_kwargs(),
        )
    except StaleVersion:
        return _detail_page(request, selectors.get_dispute(user=request.user, pk=pk), error=STALE_MESSAGE,
                            status=409)  # fmt: skip
    except Conflict as exc:
        return _detail_page(request, selectors.get_dispute(user=request.user, pk=pk), error=exc.message,
                            status=409)  # fmt: skip
    except PermissionDenied as exc:
        return _detail_page(request, d, error=exc.message, status=403)
    except ValidationFailed as exc:
        field = FIELD_ALIASES.get(exc.field, exc.field)
        form.add_error(field if field in form.fields else None, exc.message)
        return _detail_page(request, d, bound=form, status=422)
    messages.success(
        request, f"已{PROCEDURE.move_map[move].label}：{case.number}（{PROCEDURE.state_label(case.state)}）"
    )
    return redirect("disputes:detail", pk=case.pk)


@require_POST
@business_only
def add_session(request, pk: int):
    d = selectors.get_dispute(user=request.user, pk=pk)
    form = SessionForm(request.POST)
    if form.is_valid():
        try:
            services.record_session(actor=request.user, case=d.case, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return _detail_page(request, d, session_form=form, status=exc.status)
        messages.success(request, "已登记调解记录")
        return redirect("disputes:detail", pk=d.case_id)
    return _detail_page(request, d, session_form=form, status=422)


@require_POST
@business_only
def add_party(request, pk: int):
    d = selectors.get_dispute(user=request.user, pk=pk)
    form = PartyForm(request.POST)
    if form.is_valid():
        try:
            services.add_party(actor=request.user, case=d.case, party=services.PartyIn(**form.cleaned_data))
        except DomainError as exc:
            form.add_error(None, exc.message)
            return _detail_page(request, d, party_form=form, status=exc.status)
        messages.success(request, "已添加当事人")
        return redirect("disputes:detail", pk=d.case_id)
    return _detail_page(request, d, party_form=form, status=422)


@require_GET
@business_only
def agreement_docx(request, pk: int):
    """The 人民调解协议书 (.docx): parties in full, so only the 调解 desk; only after 调解成功."""
    d = selectors.get_dispute(user=request.user, pk=pk)
    if not selectors.sees_parties(request.user):
        return HttpResponseForbidden("只有调解员（指挥中心/值班长）可以生成协议书")
    if d.outcome != Outcome.SUCCESS:
        return HttpResponse("调解成功后才能生成协议书", status=409, content_type="text/plain; charset=utf-8")
    data, filename = agreement.agreement_docx(d)
    services.note_agreement_generated(actor=request.user, detail=d)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    from django.utils.http import content_disposition_header

    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _date(value: str) -> date | None:
    try:
        return parse_date(value or "")
    except ValueError:  # well-formed but impossible (2026-13-45)
        return None


def _period(request) -> tuple[date, date]:
    today = clock.local_now().date()
    start = _date(request.GET.get("start", "")) or today.replace(month=1, day=1)
    end = _date(request.GET.get("end", "")) or today
    if end < start:
        start, end = end, start
    if (end - start).days > 3660:
        start = end - timedelta(days=3660)
    return start, end


@require_GET
@business_only
def figures(request):
    start, end = _period(request)
    return render(
        request, "disputes/figures.html", {"f": metrics.figures(user=request.user, start=start, end=end)}
    )
