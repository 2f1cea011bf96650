"""A per-process cache of a value built from the database, rebuilt when a revision counter moves.

Used for the in-memory indexes (point → grid, address → building): each app server keeps its own copy, asks the
database for the revision at most once per ``check_interval`` seconds, and rebuilds when the revision moved or
this process said :meth:`RevisionCache.invalidate` (it changed the data itself).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class _Snapshot(Generic[T]):
    value: T
    revision: int
    checked_at: float


class RevisionCache(Generic[T]):
    def __init__(
        self, *, load: Callable[[], T], read_revision: Callable[[], int], check_interval: float = 1.0
    ):
        self.load = load
        self.read_revision = read_revision
        self.check_interval = check_interval
        self._lock = threading.Lock()
        self._snap: _Snapshot[T] | None = None
        self._dirty = False

    @staticmethod
    def now() -> float:
        return time.monotonic()

    def invalidate(self) -> None:
        """Forget the value: the next :meth:`get` in this process rebuilds it (cheap; no lock needed)."""
        self._dirty = True

    def reset(self) -> None:
        """Drop the value entirely (tests)."""
        self._snap = None

    def _fresh(self, snap: _Snapshot[T] | None) -> bool:
        return snap is not None and not self._dirty and self.now() - snap.checked_at < self.check_interval

    def get(self) -> T:
        snap = self._snap
        if self._fresh(snap):
            return snap.value
        with self._lock:
            snap = self._snap
            if self._fresh(snap):
                return snap.value
            # read the revision *before* the data: if the data changes in between, the next check rebuilds again
            revision = self.read_revision()
            if snap is None or self._dirty or revision != snap.revision:
                self._dirty = False
                value = self.load()
            else:
                value = snap.value
            self._snap = _Snapshot(value=value, revision=revision, checked_at=self.now())
            return value
