"""The 基础台账 screens: 人员 (list, detail with the logged full view, new), 户 (list, 一户一档 card), 入户走访
(phone form, list, detail), 重点人员 overdue list, 统计, Excel export. Thin: reads via selectors, writes via
services; masking is the selectors' decision (:func:`selectors.can_see_full`)."""

from __future__ import annotations

import uuid
from datetime import date
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.accounts.roles import Capability, Role, has_capability
from civicgrid.cases import findings
from civicgrid.core import clock
from civicgrid.core.errors import DomainError, NotFound, ValidationFailed
from civicgrid.places import selectors as place_selectors
from civicgrid.registers import exports, metrics, selectors, services
from civicgrid.registers.models import (
    AssistanceKind,
    Residence,
    VisitMethod,
    VisitTarget,
)

PAGE_SIZE = 30


def registers_view(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not has_capability(user, Capability.BUSINESS_VIEW) or user.role == Role.DEPT_HANDLER:
            return HttpResponseForbidden("当前角色不能查看基础台账")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


def _can_write(user) -> bool:
    return user.role in services.WRITER_ROLES


def _person_filters(request) -> dict:
    residence = request.GET.get("residence", "")
    return {
        "q": request.GET.get("q", "")[:40],
        "tag": request.GET.get("tag", "")[:20],
        "residence": residence if residence in Residence.values else "",
        "active": request.GET.get("inactive") != "1",
    }


@require_GET
@registers_view
def persons(request):
    f = _person_filters(request)
    page = Paginator(selectors.person_rows(user=request.user, **f), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "registers/persons.html",
        {
            "page": page,
            "f": f,
            "tags": selectors.tags(),
            "residences": Residence.choices,
            "can_write": _can_write(request.user),
            "can_full": selectors.can_see_full(request.user),
            "query": request.GET.urlencode(),
        },
    )


def _person_context(request, person, full=None) -> dict:
    return {
        "p": person,
        "full": full,
        "can_full": selectors.can_see_full(request.user),
        "can_write": _can_write(request.user),
        "interval": selectors.required_interval(person),
        "visits": selectors.visible_visits(user=request.user)
        .filter(persons=person)
        .select_related("visitor")[:10],
        "accesses": selectors.access_log(user=request.user, person=person)[:20],
    }


@require_GET
@registers_view
def person(request, pk):
    p = selectors.get_person(user=request.user, pk=pk)
    return render(request, "registers/person.html", _person_context(request, p))


@require_POST
@registers_view
def reveal(request, pk):
    """查看完整信息: answered in this response only (never stored in the session), after it is logged."""
    p = selectors.get_person(user=request.user, pk=pk)
    try:
        full = services.reveal_person(actor=request.user, person=p, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("registers:person", pk=p.pk)
    response = render(request, "registers/person.html", _person_context(request, p, full))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@registers_view
def floating(request, pk):
    p = selectors.get_person(user=request.user, pk=pk)
    try:
        services.move_floating(
            actor=request.user,
            person=p,
            move=request.POST.get("move", ""),
            on=parse_date(request.POST.get("on", "") or "") or None,
            left_on=parse_date(request.POST.get("left_on", "") or "") or None,
        )
        messages.success(request, "已更新流动人口状态")
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", "日期格式不正确"))
    return redirect("registers:person", pk=p.pk)


@require_http_methods(["GET", "POST"])
@registers_view
def person_new(request):
    if not _can_write(request.user):
        return HttpResponseForbidden("当前角色不能登记人员")
    household = None
    if request.GET.get("household") or request.POST.get("household"):
        household = selectors.get_household(
            user=request.user, pk=request.GET.get("household") or request.POST.get("household")
        )
    errors = []
    if request.method == "POST":
        try:
            p = services.create_person(
                actor=request.user,
                data=services.PersonInput(
                    name=request.POST.get("name", ""),
                    id_number=request.POST.get("id_number", ""),
                    residence=request.POST.get("residence", ""),
                    grid_id=request.POST.get("grid") or None,
                    household=household,
                    relation=request.POST.get("relation", ""),
                    phone=request.POST.get("phone", ""),
                    tags=tuple(request.POST.getlist("tags")[:20]),
                ),
            )
            messages.success(request, f"已登记 {p.name}")
            return redirect("registers:person", pk=p.pk)
        except DomainError as exc:
            errors.append(exc.message)
    return render(
        request,
        "registers/person_new.html",
        {
            "household": household,
            "grids": place_selectors.visible_grids(user=request.user),
            "tags": selectors.tags(),
            "residences": Residence.choices,
            "errors": errors,
            "post": request.POST,
        },
    )


@require_GET
@registers_view
def households(request):
    q = request.GET.get("q", "")[:40]
    page = Paginator(selectors.household_rows(user=request.user, q=q), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "registers/households.html",
        {"page": page, "q": q, "can_write": _can_write(request.user), "buildings": _buildings(request)},
    )


def _buildings(request):
    if not _can_write(request.user):
        return []
    return place_selectors.visible_buildings(user=request.user).order_by("name")[:500]


@require_POST
@registers_view
def household_new(request):
    try:
        hh = services.create_household(
            actor=request.user, building_id=request.POST.get("building"), room=request.POST.get("room", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("registers:households")
    return redirect("registers:household", pk=hh.pk)


def _household_context(request, hh) -> dict:
    members = list(hh.members.all())
    return {
        "hh": hh,
        "members": [(m, selectors.required_interval(m)) for m in members],
        "assistance": list(hh.assistance.all()),
        "payments": selectors.household_payments(household=hh),
        "kinds": AssistanceKind.choices,
        "visits": selectors.visible_visits(user=request.user)
        .filter(household=hh)
        .select_related("visitor", "case")[:10],
        "can_write": _can_write(request.user),
        "today": clock.local_now().date(),
    }


@require_GET
@registers_view
def household(request, pk):
    hh = selectors.get_household(user=request.user, pk=pk)
    return render(request, "registers/household.html", _household_context(request, hh))


@require_GET
@registers_view
def household_card(request, pk):
    hh = selectors.get_household(user=request.user, pk=pk)
    return render(request, "registers/household_card.html", _household_context(request, hh))


@require_POST
@registers_view
def assistance(request, pk):
    hh = selectors.get_household(user=request.user, pk=pk)
    try:
        person = None
        if request.POST.get("person"):
            person = next((m for m in hh.members.all() if str(m.pk) == request.POST["person"]), None)
            if person is None:
                raise ValidationFailed("救助对象不是本户成员", field="person")
        services.save_assistance(
            actor=request.user,
            household=hh,
            kind=request.POST.get("kind", ""),
            recognized_on=_date(request.POST.get("recognized_on"), "recognized_on"),
            review_on=_date(request.POST.get("review_on"), "review_on"),
            exited_on=_date(request.POST.get("exited_on"), "exited_on"),
            monthly_amount=_amount(request.POST.get("monthly_amount")),
            person=person,
        )
        messages.success(request, "已登记救助帮扶")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("registers:household", pk=hh.pk)


def _date(value, field) -> date | None:
    if not value:
        return None
    try:
        parsed = parse_date(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationFailed("日期格式不正确", field=field)
    return parsed


def _amount(value):
    from decimal import Decimal, InvalidOperation

    try:
        return Decimal(value or "0")
    except InvalidOperation:
        raise ValidationFailed("月保障金应为数字", field="monthly_amount") from None


# --- 入户走访 ----------------------------------------------------------------------------------------------


def _visit_target(request):
    for kind in VisitTarget.values:
        pk = request.GET.get(kind) or (
            request.POST.get("target_id") if request.POST.get("target_kind") == kind else None
        )
        if pk:
            return kind, pk
    return "", ""


@require_http_methods(["GET", "POST"])
@registers_view
def visit_new(request):
    kind, pk = _visit_target(request)
    return _visit_form(request, kind, pk)


@require_http_methods(["GET", "POST"])
@registers_view
def household_visit(request, pk):
    """The visit form of one 户 at a path of its own: the phone keeps it for offline use (service worker)."""
    return _visit_form(request, VisitTarget.HOUSEHOLD, pk)


@require_http_methods(["GET", "POST"])
@registers_view
def person_visit(request, pk):
    return _visit_form(request, VisitTarget.PERSON, pk)


def _visit_form(request, kind, pk):
    if not _can_write(request.user):
        return HttpResponseForbidden("当前角色不能录入走访")
    target, people = None, []
    if kind == VisitTarget.HOUSEHOLD and pk:
        target = selectors.get_household(user=request.user, pk=pk)
        people = list(target.members.filter(is_active=True))
    elif kind == VisitTarget.PERSON and pk:
        target = selectors.get_person(user=request.user, pk=pk)
        people = [target]
    items = list(selectors.check_items())
    errors = []
    if request.method == "POST":
        try:
            answers = []
            for item in items:
                v = request.POST.get(f"item-{item.pk}", "")
                if v not in ("ok", "bad", ""):
                    raise ValidationFailed(f"「{item.text}」的结果无效", field=f"item-{item.pk}")
                if v:
                    answers.append(
                        services.CheckAnswer(item, v == "ok", request.POST.get(f"item-{item.pk}-note", ""))
                    )
            target_kind, target_id = request.POST.get("target_kind", ""), request.POST.get("target_id")
            if request.POST.get("target"):  # a building / unit picked from the list: "building:12"
                target_kind, _, target_id = request.POST["target"].partition(":")
            visit = services.record_visit(
                actor=request.user,
                target_kind=target_kind,
                target_id=target_id,
                method=request.POST.get("method", ""),
                answers=answers,
                person_ids=[int(x) for x in request.POST.getlist("persons")[:50] if x.isdigit()],
                met_note=request.POST.get("met_note", ""),
                notes=request.POST.get("notes", ""),
                finding=request.POST.get("finding", "") if request.POST.get("to_case") == "on" else "",
                report_as=request.POST.get("report_as") or "case",
                idempotency_key=request.POST.get("idempotency_key", "")[:60] or None,
                client_id=request.POST.get("client_id", "")[:64],
            )
            what = "安全隐患" if visit.case_id and visit.case.procedure == "hazard" else "工单"
            messages.success(
                request, "走访已记录" + (f"，已上报{what} {visit.case.number or ''}" if visit.case_id else "")
            )
            return redirect("registers:visit", pk=visit.pk)
        except DomainError as exc:
            errors.append(exc.message)
    return render(
        request,
        "registers/visit_new.html",
        {
            "kind": kind,
            "target": target,
            "people": people,
            "items": items,
            "methods": VisitMethod.choices,
            "targets": selectors.visit_targets(user=request.user) if not target else {},
            "errors": errors,
            "post": request.POST,
            "key": clock.now().strftime("%Y%m%d%H%M%S%f"),
            "client_id": request.POST.get("client_id") or uuid.uuid4().hex,
            "report_choices": findings.choices(),
        },
    )


@require_GET
@registers_view
def visit(request, pk):
    return render(request, "registers/visit.html", {"v": selectors.get_visit(user=request.user, pk=pk)})


@require_GET
@registers_view
def visits(request):
    qs = selectors.visible_visits(user=request.user).select_related("visitor", "grid", "case")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "registers/visits.html", {"page": page, "can_write": _can_write(request.user)})


@require_GET
@registers_view
def overdue(request):
    today = clock.local_now().date()
    rows = selectors.key_person_status(persons=selectors.visible_persons(user=request.user), as_of=today)
    show_all = request.GET.get("all") == "1"
    shown = rows if show_all else [r for r in rows if r["overdue"]]
    return render(
        request,
        "registers/overdue.html",
        {
            "rows": shown[:300],
            "total": len(rows),
            "overdue_count": sum(r["overdue"] for r in rows),
            "show_all": show_all,
            "can_write": _can_write(request.user),
        },
    )


@require_GET
@registers_view
def figures(request):
    today = clock.local_now().date()
    start = _safe_date(request.GET.get("start")) or today.replace(day=1)
    end = _safe_date(request.GET.get("end")) or today
    if end < start or (end - start).days > 366:
        start, end = today.replace(day=1), today
    return render(
        request,
        "registers/figures.html",
        {
            "fig": metrics.figures(user=request.user, start=start, end=end),
            "counts": metrics.register_counts(user=request.user),
            "pay": selectors.payment_totals(user=request.user, year=end.year),
        },
    )


def _safe_date(value):
    try:
        return parse_date(value or "")
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
@registers_view
def export(request):
    """GET: the masked register. POST with a reason (``PERSON_FULL_VIEW`` only): the full one, logged first."""
    if not has_capability(request.user, Capability.EXPORT_CASES):
        return HttpResponseForbidden("当前角色不能导出")
    source = request.POST if request.method == "POST" else request.GET
    f = {
        "q": source.get("q", "")[:40],
        "tag": source.get("tag", "")[:20],
        "residence": source.get("residence", "") if source.get("residence", "") in Residence.values else "",
    }
    rows = selectors.person_rows(user=request.user, **f)
    full = request.method == "POST"
    if full:
        persons_ = list(rows[: exports.MAX_ROWS])
        try:
            services.log_full_export(
                actor=request.user, persons=persons_, reason=request.POST.get("reason", "")
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("registers:persons")
        rows = persons_
    fh, filename = exports.write_persons_xlsx(rows, full=full)
    return FileResponse(
        fh,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
