"""The one place code asks for "now". Tests freeze it with ``clock.frozen(dt)``."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")
_state = threading.local()
_global_override: datetime | None = None


def now() -> datetime:
    """Timezone-aware UTC now (or the frozen time)."""
    frozen = getattr(_state, "frozen", None) or _global_override
    if frozen is not None:
        return frozen
    return timezone.now()


def local_now() -> datetime:
    return now().astimezone(SHANGHAI)


def to_local(dt: datetime) -> datetime:
    if timezone.is_naive(dt):
        raise ValueError("naive datetime: CivicGrid only handles timezone-aware datetimes")
    return dt.astimezone(SHANGHAI)


def aware(dt: datetime) -> datetime:
    """Interpret a naive datetime as Asia/Shanghai wall time; leave aware ones alone."""
    if timezone.is_naive(dt):
        return dt.replace(tzinfo=SHANGHAI)
    return dt


@contextlib.contextmanager
def frozen(at: datetime, *, all_threads: bool = False):
    """Freeze ``now()`` at ``at`` (aware). ``all_threads`` also freezes it for server threads in tests."""
    global _global_override
    at = aware(at)
    previous = getattr(_state, "frozen", None)
    previous_global = _global_override
    _state.frozen = at
    if all_threads:
        _global_override = at
    try:
        yield at
    finally:
        _state.frozen = previous
        _global_override = previous_global


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward (tests)."""
    global _global_override
    current = getattr(_state, "frozen", None)
    if current is None:
        raise RuntimeError("clock is not frozen")
    _state.frozen = current + delta
    if _global_override is not None:
        _global_override = _state.frozen
    return _state.frozen
