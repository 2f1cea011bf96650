"""The case screens (待办, 列表, 详情 + actions, 新建, Excel export).

Views are thin: they read through :mod:`civicgrid.cases.selectors`, write through :mod:`civicgrid.cases.services`
and turn domain errors into form errors, messages and HTTP statuses.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods

from civicgrid.cases import attachments as attachment_files
from civicgrid.cases import channels, exports, panels, procedures, selectors, services, workflow
from civicgrid.cases.forms import (
    FIELD_ALIASES,
    CaseCreateForm,
    CaseFilterForm,
    creatable_procedures,
    move_form,
)
from civicgrid.cases.models import (
    AttachmentKind,
    Category,
    DeadlineUnit,
    Light,
    NotificationKind,
    Priority,
    Rating,
    Source,
    Stage,
)
from civicgrid.core import clock, workcalendar
from civicgrid.core.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    StaleVersion,
    ValidationFailed,
)
from civicgrid.core.roles import Capability, has_capability

STALE_MESSAGE = "该工单已被他人处理，请刷新后重试"
PAGE_SIZE = 20


def business_only(view):
    """Logged in and a business role (the 审计管理员 only reads the audit log: 三权分立)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not has_capability(request.user, Capability.BUSINESS_VIEW):
            return HttpResponseForbidden("当前角色不能查看工单")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


def _label(enum, value, default=""):
    try:
        return enum(value).label
    except ValueError:
        return default or value


def _state_color(value: str) -> str:
    """The colour of a state value in the first procedure that has it (the standard one first)."""
    for proc in procedures.all_procedures():
        if value in proc.state_map:
            return proc.state_color(value)
    return "secondary"


def _color(enum, value):
    try:
        return enum(value).color
    except ValueError:
        return "secondary"


def _decorate(cases, now=None):
    """Add display attributes used by the row/due templates (no queries)."""
    now = now or clock.now()
    for c in cases:
        proc = procedures.for_case(c)
        c.state_label = proc.state_label(c.state)
        c.state_color = proc.state_color(c.state)
        c.priority_label = _label(Priority, c.priority)
        c.priority_color = _color(Priority, c.priority)
        c.source_label = _label(Source, c.source)
        c.light_label = _label(Light, c.light) if c.light else ""
        c.overdue_now = bool(c.due_at and c.due_at < now and c.is_open)
    return cases


# --- 待办 -----------------------------------------------------------------------------------------


INBOX_PAGE_SIZE = 20
INBOX_TABS = {"active": "待办", "followup": "回访"}


@require_GET
@business_only
def inbox(request):
    """待办, in two tabs: 待办 (work in progress, urgent first, grouped) and 回访 (closed cases awaiting the
    follow-up rating); paginated, the page and tab kept in the URL (htmx swaps just the list)."""
    user = request.user
    tab = request.GET.get("tab") or "active"
    if tab not in INBOX_TABS:
        tab = "active"
    now = clock.now()
    # the counters cover the whole active list, not just the page shown
    rows = list(selectors.inbox(user=user, tab="active").values_list("state", "light", "due_at"))
    by_state = Counter(state for state, _light, _due in rows)
    counts = {
        "total": len(rows),
        "followup": selectors.inbox(user=user, tab="followup").count(),
        "red": sum(1 for _s, light, _d in rows if light == Light.RED),
        "yellow": sum(1 for _s, light, _d in rows if light == Light.YELLOW),
        "overdue": sum(1 for s, _l, due in rows if due and due < now and s in procedures.states_in("open")),
        "states": [
            (procedures.all_states().get(s, s), _state_color(s), n) for s, n in by_state.most_common()
        ],
    }
    page = Paginator(selectors.inbox(user=user, tab=tab), INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    items = _decorate(list(page.object_list), now)
    pending_ext = set(
        selectors.pending_extensions(user=user)
        .filter(case_id__in=[c.pk for c in items])
        .values_list("case_id", flat=True)
    )
    previous = None
    for c in items:
        c.extension_pending = c.pk in pending_ext
        group = selectors.URGENCY_LABELS.get(getattr(c, "urgency", None))
        c.group_heading = group if group and group != previous else ""
        previous = group
    ctx = {
        "items": items,
        "page": page,
        "tab": tab,
        "tab_label": INBOX_TABS[tab],
        "counts": counts,
        "can_create": has_capability(user, Capability.CASE_CREATE),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "cases/_inbox_list.html", ctx)
    return render(request, "cases/inbox.html", ctx)


# --- 列表 + 导出 ----------------------------------------------------------------------------------


def _filtered(request):
    form = CaseFilterForm(request.GET or None, user=request.user)
    filters = form.filters() if form.is_bound else {}
    try:
        qs = selectors.filter_cases(user=request.user, **filters)
    except ValidationFailed as exc:
        if exc.field in form.fields:
            form.add_error(exc.field, exc.message)
        else:
            form.add_error(None, exc.message)
        qs = selectors.filter_cases(user=request.user)
        qs = qs.none()
    return form, qs


@require_GET
@business_only
def case_list(request):
    form, qs = _filtered(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    _decorate(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_create": has_capability(request.user, Capability.CASE_CREATE),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "cases/_table.html", ctx)
    return render(request, "cases/list.html", ctx)


@require_GET
@business_only
def export(request):
    form, qs = _filtered(request)
    if form.errors:
        return HttpResponseBadRequest(
            "筛选条件不合法：" + "；".join(e for errs in form.errors.values() for e in errs)
        )
    total = min(qs.count(), exports.MAX_ROWS)
    if total > exports.sync_max_rows():
        # a large export is made in the background (a progress bar, then a download only this user may use)
        from civicgrid.core import exports as core_exports

        job = core_exports.start_export(
            actor=request.user, kind="cases", params=exports.params_of(request.GET), total=total
        )
        messages.info(request, f"共 {total} 行，数据较多，正在后台生成 Excel，完成后在本页下载")
        return redirect("exports:job", pk=job.pk)
    fh, filename = exports.write_cases_xlsx(qs, user=request.user)
    return FileResponse(
        fh,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# --- 详情 + 操作 ----------------------------------------------------------------------------------


def _clock_view(snapshot: dict, proc=None) -> dict | None:
    if not snapshot or not snapshot.get("stage"):
        return None
    unit = snapshot.get("unit") or ""
    hours = 3600.0
    return {
        "stage": proc.stage_label(snapshot["stage"]) if proc else _label(Stage, snapshot["stage"]),
        "limit": snapshot.get("limit"),
        "extension": snapshot.get("extension") or 0,
        "unit": _label(DeadlineUnit, unit) if unit else "",
        "unit_value": unit,
        "elapsed_h": round((snapshot.get("elapsed_seconds") or 0) / hours, 1),
        "budget_h": round((snapshot.get("budget_seconds") or 0) / hours, 1),
        "natural": unit in (DeadlineUnit.NATURAL_HOURS, DeadlineUnit.NATURAL_DAYS),
        "due_at": parse_datetime(snapshot["due_at"]) if snapshot.get("due_at") else None,
        "provisional": bool(snapshot.get("provisional")),
        "light": snapshot.get("light") or "",
        "paused": bool(snapshot.get("paused")),
    }


def _event_facts(e, category_names: dict[str, str]) -> list[tuple[str, str]]:
    """The interesting bits of an event's data, as (label, value) pairs."""
    d = e.data or {}
    facts = []
    if d.get("previous_department_name"):
        facts.append(("原处置部门", d["previous_department_name"]))
    if d.get("department_name"):
        facts.append(("处置部门", d["department_name"]))
    if d.get("extension_kept"):
        facts.append(
            (
                "保留已批准延期",
                f"{d['extension_kept']} {_label(DeadlineUnit, (e.clock or {}).get('unit', ''))}",
            )
        )
    if d.get("priority_from") and d.get("priority"):
        facts.append(
            ("紧急程度", f"{_label(Priority, d['priority_from'])} → {_label(Priority, d['priority'])}")
        )
    if d.get("category"):
        facts.append(("分类", category_names.get(d["category"], d["category"])))
    if d.get("number") and e.move == "accept":
        facts.append(("编号", d["number"]))
    if d.get("rating"):
        facts.append(("评价", _label(Rating, d["rating"])))
    if d.get("redo"):
        facts.append(("重办", "是"))
    if d.get("amount") and d.get("unit"):
        verdict = {True: "（已批准）", False: "（未批准）"}.get(d.get("approved"), "")
        facts.append(("延期", f"{d['amount']} {_label(DeadlineUnit, d['unit'])}{verdict}"))
    if d.get("target_number"):
        facts.append(("合并到", d["target_number"]))
    if d.get("rework_count"):
        facts.append(("返工次数", str(d["rework_count"])))
    if d.get("source") and e.move == "create":
        facts.append(("来源", _label(Source, d["source"])))
    if d.get("resumed_to"):
        facts.append(("恢复到", procedures.all_states().get(d["resumed_to"], d["resumed_to"])))
    return facts


def _timeline(user, case):
    events = list(selectors.timeline(user=user, case=case))
    codes = {e.data["category"] for e in events if isinstance(e.data, dict) and e.data.get("category")}
    category_names = dict(
        Category.objects.restrict(user, "view").filter(code__in=codes).values_list("code", "name")
    )
    proc = procedures.for_case(case)
    for e, label in zip(events, workflow.timeline_labels(events, proc), strict=True):
        e.move_label = label
        e.from_label = proc.state_label(e.from_state) if e.from_state else ""
        e.to_label = proc.state_label(e.to_state)
        e.to_color = proc.state_color(e.to_state)
        e.who, e.role_label = channels.actor_labels(e, source=case.source)
        e.clock_view = _clock_view(e.clock, proc)
        e.facts = _event_facts(e, category_names)
        e.photos = list(e.attachments.all())
    return events


def _detail_rows(proc, case) -> list[tuple[str, str, object]]:
    """The filled-in fields of the procedure's detail record as (name, label, value) for the detail page."""
    record = proc.detail_of(case)
    if record is None:
        return []
    rows = []
    # a detail model may name fields not to show (``DETAIL_HIDDEN``) and deadlines that end a 自然日 period
    # (``DETAIL_DAY_ENDS``: 00:00 of the next day is shown as the last day's 24:00)
    hidden = set(getattr(record, "DETAIL_HIDDEN", ()))
    day_ends = set(getattr(record, "DETAIL_DAY_ENDS", ()))
    for f in record._meta.concrete_fields:
        if f.primary_key or f.name == "case" or f.name in hidden:
            continue
        value = getattr(record, f.name)
        if value in (None, "", False):
            continue
        if f.choices:
            value = getattr(record, f"get_{f.name}_display")()
        elif value is True:
            value = "是"
        elif isinstance(value, datetime) and f.name in day_ends:
            value = workcalendar.format_due(value, DeadlineUnit.NATURAL_DAYS)
        elif isinstance(value, datetime):
            value = clock.to_local(value).strftime("%Y-%m-%d %H:%M")
        rows.append((f.name, str(f.verbose_name), value))
    return rows


def _detail_context(request, case, *, bound=None, conflict: str = "", error: str = ""):
    """Everything the detail page shows; ``bound`` is a submitted (invalid) action form to show again."""
    user = request.user
    _decorate([case])
    moves = workflow.allowed_moves(case, user)
    actions = []
    for m in moves:
        if bound is not None and bound.prefix == m.name:
            form = bound
        else:
            form = move_form(case, m)(user=user, case=case, prefix=m.name, initial={"version": case.version})
        actions.append(
            {
                "move": m,
                "label": workflow.move_label(m, case),
                "form": form,
                "open": form is bound,
                "multipart": form.is_multipart(),
            }
        )
    attachments = list(selectors.case_attachments(user=user, case=case))
    pending = selectors.pending_extensions(user=user).filter(case_id=case.pk).first()
    return {
        "case": case,
        "actions": actions,
        "timeline": _timeline(user, case),
        "before_photos": [a for a in attachments if a.kind == AttachmentKind.BEFORE],
        "after_photos": [a for a in attachments if a.kind == AttachmentKind.AFTER],
        "other_photos": [a for a in attachments if a.kind == AttachmentKind.OTHER],
        "reporter_phone": selectors.reporter_phone(user=user, case=case),
        "pending_extension": pending,
        "limit_unit_label": _label(DeadlineUnit, case.limit_unit) if case.limit_unit else "",
        "stage_label": case.get_stage_display(),
        "procedure": procedures.for_case(case),
        "detail_rows": _detail_rows(procedures.for_case(case), case),
        "rating_label": _label(Rating, case.rating) if case.rating else "",
        "conflict": conflict,
        "error": error,
        "panels": panels.for_case(request, case, moves),
    }


@require_http_methods(["GET", "POST"])
@business_only
def detail(request, pk: int):
    user = request.user
    case = selectors.get_case(user=user, pk=pk)
    if request.method == "GET":
        return render(request, "cases/detail.html", _detail_context(request, case))

    move = (request.POST.get("move") or "").replace("-", "_")
    proc = procedures.for_case(case)
    if move not in proc.move_map:
        return HttpResponseBadRequest("未知操作")
    form = move_form(case, proc.move_map[move])(
        request.POST, request.FILES, user=user, case=case, prefix=move
    )
    if not form.is_valid():
        return render(request, "cases/detail.html", _detail_context(request, case, bound=form), status=422)
    label = workflow.move_label(move, case)  # as the user saw it (a 派遣 of a returned case is a 改派)
    try:
        case = services.perform(
            actor=user, case=case, move=move, version=form.cleaned_data["version"], **form.service_kwargs()
        )
    except StaleVersion:
        fresh = selectors.get_case(user=user, pk=pk)
        return render(
            request, "cases/detail.html", _detail_context(request, fresh, conflict=STALE_MESSAGE), status=409
        )
    except Conflict as exc:  # not legal (any more) from the current state
        fresh = selectors.get_case(user=user, pk=pk)
        msg = f"{exc.message}。{STALE_MESSAGE}"
        return render(request, "cases/detail.html", _detail_context(request, fresh, conflict=msg), status=409)
    except PermissionDenied as exc:
        return render(
            request, "cases/detail.html", _detail_context(request, case, error=exc.message), status=403
        )
    except ValidationFailed as exc:
        field = FIELD_ALIASES.get(exc.field, exc.field)
        form.add_error(field if field in form.fields else None, exc.message)
        return render(request, "cases/detail.html", _detail_context(request, case, bound=form), status=422)
    messages.success(request, f"已{label}：{case.display_number}（当前状态：{proc.state_label(case.state)}）")
    return redirect("cases:detail", pk=case.pk)


@require_GET
@business_only
def attachment(request, pk: int, thumb: bool = False):
    """A case photo (scoped like its case): ``/cases/photos/<id>/`` or ``…/thumb/``."""
    att = selectors.get_attachment(user=request.user, pk=pk)
    return attachment_files.file_response(att, thumb=thumb, redirect_remote=False)


# --- 新建 -----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@business_only
def create(request):
    user = request.user
    if not creatable_procedures(user):
        return HttpResponseForbidden("当前角色不能上报工单")
    if request.method == "GET":
        return render(request, "cases/create.html", {"form": CaseCreateForm(user=user)})

    form = CaseCreateForm(request.POST, request.FILES, user=user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            case = services.create_case(
                actor=user,
                source=form.source_value(),
                description=data["description"],
                category=data.get("category"),
                lng=data.get("lng"),
                lat=data.get("lat"),
                address=data.get("address") or "",
                reporter_name=data.get("reporter_name") or "",
                reporter_phone=data.get("reporter_phone") or "",
                source_ref=data.get("source_ref") or "",
                idempotency_key=data["idempotency_key"],
                attachments=data.get("photos") or (),
                auto_accept=bool(data.get("auto_accept")),
                procedure=data.get("procedure") or procedures.DEFAULT_CODE,
            )
        except DomainError as exc:
            field = {"attachments": "photos"}.get(exc.field, exc.field)
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            messages.success(
                request, f"已上报：{case.display_number}（当前状态：{case.get_state_display()}）"
            )
            return redirect(reverse("cases:detail", args=[case.pk]))
    return render(request, "cases/create.html", {"form": form}, status=422)


# --- notifications (站内通知) ----------------------------------------------------------------------


@business_only
@require_GET
def notification_list(request):
    qs = selectors.notifications(user=request.user).order_by("-created_at", "-pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for n in page.object_list:
        n.kind_color = _color(NotificationKind, n.kind)
    return render(request, "cases/notifications.html", {"page": page})


@business_only
@require_http_methods(["POST"])
def notification_read(request, pk: int | None = None):
    """Mark one (then open its case) or all of the user's notifications as read."""
    from civicgrid.cases.notifications import mark_read

    if pk is None:
        mark_read(user=request.user)
        messages.success(request, "已全部标为已读")
        return redirect("cases:notifications")
    note = selectors.notifications(user=request.user).filter(pk=pk).first()
    if note is None:
        raise Http404("通知不存在")
    mark_read(user=request.user, ids=[note.pk])
    if note.case_id and selectors.visible_cases(user=request.user).filter(pk=note.case_id).exists():
        return redirect("cases:detail", pk=note.case_id)
    return redirect("cases:notifications")
