"""Turn committed case events into webhook deliveries (one row per matching endpoint).

Input: the case engine's ``case_event_committed`` signal (sent on commit after every move, and by the light job
when a case first turns yellow/red in a stage): ``dispatch``, ``reassign`` and a 重办 ``rate`` become **dispatch**;
``supervise`` becomes **supervise**; ``light`` with ``light=yellow|red`` becomes **light_yellow** / **light_red**.

Each delivery carries a ``dedupe_key`` unique per endpoint, so a replay never sends twice. Errors here are logged
and swallowed: the case move is already committed and must not fail because of a robot.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse

from civicgrid.cases import procedures
from civicgrid.cases.models import Case, CaseEvent, Light
from civicgrid.core import clock
from civicgrid.notify.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookKind,
)

log = logging.getLogger(__name__)

DISPATCH_MOVES = {"dispatch", "reassign"}
LIGHT_MOVES = {"light_yellow": WebhookEvent.LIGHT_YELLOW, "light_red": WebhookEvent.LIGHT_RED}
LIGHT_EVENT = {Light.YELLOW: WebhookEvent.LIGHT_YELLOW, Light.RED: WebhookEvent.LIGHT_RED}
LIGHT_RANK = {"": 0, Light.GREEN: 0, Light.YELLOW: 1, Light.RED: 2}

HEADLINE = {
    WebhookEvent.DISPATCH: "新派遣",
    WebhookEvent.LIGHT_YELLOW: "黄灯预警",
    WebhookEvent.LIGHT_RED: "红灯超时",
    WebhookEvent.SUPERVISE: "督办",
    WebhookEvent.WARNING: "预警预判",
}
WECOM_COLOR = {
    WebhookEvent.DISPATCH: "info",
    WebhookEvent.LIGHT_YELLOW: "warning",
    WebhookEvent.LIGHT_RED: "warning",
    WebhookEvent.SUPERVISE: "warning",
    WebhookEvent.WARNING: "warning",
}


# --- message rendering ------------------------------------------------------------------------------


def _base_url() -> str:
    return (settings.CIVICGRID.get("BASE_URL") or os.environ.get("CIVICGRID_BASE_URL", "")).rstrip("/")


def case_link(case: Case) -> str:
    """Absolute link to the case page when a base URL is configured (``CIVICGRID_BASE_URL``), else ''."""
    base = _base_url()
    if not base:
        return ""
    for name in ("cases:detail", "cases:case_detail"):
        try:
            return base + reverse(name, args=[case.pk])
        except NoReverseMatch:
            continue
    return ""


def _local(dt: datetime | None) -> str:
    return clock.to_local(dt).strftime("%Y-%m-%d %H:%M") if dt else "—"


def _clip(text: str, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def message_lines(event: str, case: Case, note: str = "") -> tuple[str, list[str]]:
    """(title, markdown lines) shared by both robots. No reporter name or phone ever leaves the platform."""
    number = case.display_number
    title = f"【{HEADLINE[event]}】案件 {number}"
    lines = [
        f"> 标题：{_clip(case.title or case.description, 60)}",
        f"> 分类：{case.category.name if case.category_id else '未分类'}",
        f"> 位置：{_clip(case.address, 60) or (case.grid.name if case.grid_id else '—')}",
        f"> 处置部门：{case.department.name if case.department_id else '—'}",
        f"> 紧急程度：{case.get_priority_display()}",
    ]
    if case.due_at:
        stage = case.get_stage_display() if case.stage else "时限"
        lines.append(f"> {stage}到期：{_local(case.due_at)}")
    if event == WebhookEvent.SUPERVISE and note:
        lines.append(f"> 督办意见：{_clip(note, 200)}")
    if event == WebhookEvent.DISPATCH:
        lines.append(f"> 问题描述：{_clip(case.description, 120)}")
    link = case_link(case)
    if link:
        lines.append(f"[查看案件]({link})")
    return title, lines


def render_payload(kind: str, event: str, case: Case, note: str = "") -> dict:
    title, lines = message_lines(event, case, note)
    if kind == WebhookKind.WECOM:
        head = f'**<font color="{WECOM_COLOR[event]}">{title}</font>**'
        return {"msgtype": "markdown", "markdown": {"content": "\n".join([head, *lines])[:4000]}}
    text = "\n\n".join([f"#### {title}", *lines])
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text[:4000]}}


# --- enqueue ----------------------------------------------------------------------------------------


def _endpoints_for(event: str, case: Case) -> list[WebhookEndpoint]:
    return [
        ep
        for ep in WebhookEndpoint.objects.filter(is_active=True)
        if ep.wants(event)
        and (ep.department_id is None or ep.department_id == case.department_id)
        and (ep.street_id is None or ep.street_id == case.street_id)
    ]


def _create(
    ep: WebhookEndpoint, event: str, case: Case, *, note: str, dedupe_key: str, now: datetime
) -> bool:
    if dedupe_key and WebhookDelivery.objects.filter(endpoint=ep, dedupe_key=dedupe_key).exists():
        return False
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(
                endpoint=ep,
                event=event,
                case_id_ref=case.pk,
                case_number=case.number or "",
                dedupe_key=dedupe_key,
                payload=render_payload(ep.kind, event, case, note),
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                created_at=now,
            )
    except IntegrityError:  # a concurrent writer enqueued the same key
        return False
    return True


def enqueue(
    event: str, case: Case, *, note: str = "", dedupe_key: str = "", now: datetime | None = None
) -> int:
    """Write one pending delivery per active endpoint that wants ``event`` for ``case``. Returns how many."""
    now = now or clock.now()
    return sum(
        _create(ep, event, case, note=note, dedupe_key=dedupe_key, now=now)
        for ep in _endpoints_for(event, case)
    )


def event_for_move(move: str, data: dict | None, light: str | None = None) -> str | None:
    if move in DISPATCH_MOVES:
        return WebhookEvent.DISPATCH
    if move == "rate" and (data or {}).get("redo"):
        return WebhookEvent.DISPATCH
    if move == "supervise":
        return WebhookEvent.SUPERVISE
    if move in LIGHT_MOVES:
        return LIGHT_MOVES[move]
    if move == "light" and light in LIGHT_EVENT:
        return LIGHT_EVENT[light]
    return None


def _light_key(case: Case, event: str) -> str:
    started = case.clock_started_at.isoformat() if case.clock_started_at else "-"
    return f"light:{case.pk}:{event}:{started}"


def on_case_event(*, case_id: int, event_id: int | None, move: str, light: str | None = None) -> int:
    """Handle one committed case event. Never raises."""
    try:
        # cheap exits first: most moves (create, accept, sign …) never go to a robot
        if event_for_move(move, {"redo": True}, light) is None:
            return 0
        if not WebhookEndpoint.objects.filter(is_active=True).exists():
            return 0
        data, note = {}, ""
        if event_id is not None:
            ev = CaseEvent.objects.filter(pk=event_id).values("data", "note").first()
            if ev:
                data, note = ev["data"] or {}, ev["note"] or ""
        event = event_for_move(move, data, light)
        if event is None:
            return 0
        case = Case.objects.select_related("category", "department", "grid").filter(pk=case_id).first()
        if case is None or case.procedure in procedures.restricted_codes():
            return 0  # a case only some may see (信访) never goes to a group robot
        if event in (WebhookEvent.LIGHT_YELLOW, WebhookEvent.LIGHT_RED):
            key = _light_key(case, event)
        else:
            key = f"event:{event_id}" if event_id is not None else ""
        return enqueue(event, case, note=note, dedupe_key=key)
    except Exception:
        log.exception("webhook enqueue failed for case %s move %s", case_id, move)
        return 0


# --- alerts that are not one case move (a department's 督办, an early warning) ---------------------------


def render_alert(kind: str, event: str, title: str, lines: list[str]) -> dict:
    title = f"【{HEADLINE.get(event, event)}】{_clip(title, 80)}"
    lines = [f"> {_clip(line, 200)}" for line in lines]
    if kind == WebhookKind.WECOM:
        head = f'**<font color="{WECOM_COLOR.get(event, "warning")}">{title}</font>**'
        return {"msgtype": "markdown", "markdown": {"content": "\n".join([head, *lines])[:4000]}}
    text = "\n\n".join([f"#### {title}", *lines])
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text[:4000]}}


def on_desk_alert(
    *,
    event: str,
    street_id: int | None,
    department_id: int | None,
    case_id: int | None,
    title: str,
    lines: list[str],
    dedupe_key: str = "",
    now: datetime | None = None,
) -> int:
    """One pending delivery per active endpoint that wants ``event`` for this 街道 (and department, when the
    endpoint is limited to one). Never raises."""
    try:
        now = now or clock.now()
        written = 0
        for ep in WebhookEndpoint.objects.filter(is_active=True):
            if not ep.wants(event) or (ep.street_id is not None and ep.street_id != street_id):
                continue
            if ep.department_id is not None and ep.department_id != department_id:
                continue
            if dedupe_key and WebhookDelivery.objects.filter(endpoint=ep, dedupe_key=dedupe_key).exists():
                continue
            try:
                with transaction.atomic():
                    WebhookDelivery.objects.create(
                        endpoint=ep,
                        event=event,
                        case_id_ref=case_id,
                        dedupe_key=dedupe_key,
                        payload=render_alert(ep.kind, event, title, lines),
                        status=DeliveryStatus.PENDING,
                        next_attempt_at=now,
                        created_at=now,
                    )
            except IntegrityError:
                continue
            written += 1
        return written
    except Exception:
        log.exception("webhook enqueue failed for alert %s", dedupe_key or title)
        return 0
