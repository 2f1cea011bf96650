"""Stage clocks and traffic lights on a case (pure arithmetic over :mod:`civicgrid.core.workcalendar`).

A stage (派遣/处置/核查结案) clock starts at ``start`` with limit ``L`` in ``unit`` (+ approved extensions ``E``):

- ``budget   = measure(unit, start, compute_due(start, L + E, unit).due)``
- ``consumed = measure(unit, start, now) − paused``, where ``paused`` is the clock time spent 挂账
- ``due_at   = advance(unit, start, budget + paused).due``
- ``light    = light(consumed, budget)`` (green < 80 %, yellow 80–100 %, red > 100 %)

Functions here only set fields on the case object; services and the job save them.
"""

from __future__ import annotations

from datetime import datetime

from civicgrid.cases.models import Light
from civicgrid.core import workcalendar as wc


def _budget(case) -> float:
    total = case.limit_amount + case.extension_amount
    due = wc.compute_due(case.clock_started_at, total, case.limit_unit)
    return wc.measure(case.limit_unit, case.clock_started_at, due.due)


def _update_due(case) -> None:
    d = wc.advance(case.limit_unit, case.clock_started_at, case.budget_seconds + case.paused_measure_seconds)
    case.due_at = d.due
    case.due_provisional = bool(d.provisional)


def start_stage(
    case, stage: str, now: datetime, limit: tuple[int, str] | None = None, *, extension: int = 0
) -> None:
    """Start a fresh clock for ``stage`` at ``now`` with ``limit`` (amount, unit), by default the category's
    (+ ``extension`` units already approved for this stage, e.g. kept across a 改派)."""
    amount, unit = limit or case.category.limit_for(stage)
    case.stage = stage
    case.clock_started_at = now
    case.limit_amount = amount
    case.limit_unit = unit
    case.extension_amount = extension
    case.paused_measure_seconds = 0.0
    case.paused_since = None
    case.budget_seconds = _budget(case)
    _update_due(case)
    case.light = Light.GREEN
    case.last_notified_light = Light.GREEN


def stop_clock(case) -> None:
    """No stage runs (closed, rejected, voided …)."""
    case.stage = ""
    case.clock_started_at = None
    case.limit_amount = None
    case.limit_unit = ""
    case.extension_amount = 0
    case.budget_seconds = None
    case.paused_measure_seconds = 0.0
    case.paused_since = None
    case.due_at = None
    case.due_provisional = False
    case.light = ""


def add_extension(case, amount: int) -> None:
    """Approved 延期: ``amount`` more units of the stage's own unit."""
    case.extension_amount += amount
    case.budget_seconds = _budget(case)
    _update_due(case)


def pause(case, now: datetime) -> None:
    if case.stage and case.paused_since is None:
        case.paused_since = now


def unpause(case, now: datetime) -> None:
    if case.stage and case.paused_since is not None:
        case.paused_measure_seconds += wc.measure(case.limit_unit, case.paused_since, now)
        case.paused_since = None
        _update_due(case)


def consumed(case, now: datetime) -> float:
    if not case.stage or case.clock_started_at is None:
        return 0.0
    used = wc.measure(case.limit_unit, case.clock_started_at, now) - case.paused_measure_seconds
    if case.paused_since is not None:
        used -= wc.measure(case.limit_unit, case.paused_since, now)
    return max(used, 0.0)


def compute_light(case, now: datetime) -> str:
    if not case.stage or not case.budget_seconds:
        return Light.RED if case.stage else ""
    return wc.light(consumed(case, now), case.budget_seconds)


def refresh(case, now: datetime) -> str:
    """Recompute ``light`` (and the sticky ``is_overdue``); returns the new light."""
    case.light = compute_light(case, now)
    if case.light == Light.RED:
        case.is_overdue = True
    return case.light


def due_label(due: datetime | None, unit: str = "") -> str:
    """ "10月8日 17:30"; a 自然日 period's end (00:00 after its last day) the legal way: "10月8日 24:00"."""
    if not isinstance(due, datetime):
        return ""
    return wc.format_due(due, unit or "", year=False)


def snapshot(case, now: datetime) -> dict:
    """The clock as stored on each timeline entry."""
    if not case.stage:
        return {}
    return {
        "stage": case.stage,
        "unit": case.limit_unit,
        "limit": case.limit_amount,
        "extension": case.extension_amount,
        "elapsed_seconds": round(consumed(case, now), 1),
        "budget_seconds": round(case.budget_seconds or 0, 1),
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "provisional": case.due_provisional,
        "light": case.light,
        "paused": case.paused_since is not None,
    }
