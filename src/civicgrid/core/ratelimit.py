"""Rate limits shared by every app-server process: counters in the database (``core_ratecounter``).

A limit of ``count`` events per ``window`` seconds is kept as six time slices per window; an event is one atomic
``INSERT … ON CONFLICT DO UPDATE SET count = count + 1`` (SQLite ≥ 3.24 and PostgreSQL), and the number in the
window is the sum of the slices younger than the window. So 4 gunicorn workers (or 4 servers on one PostgreSQL)
see one count, and a worker restart loses nothing.

Identities (IP, device id, phone number) are stored as a hash, never the raw value. Use :func:`take` to reserve
a slot before doing the limited thing (strict even when two requests race) and :meth:`Slot.give_back` if it did
not happen after all; :func:`hit` / :func:`exceeded` for "count this, refuse later".
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection

from civicgrid.core import clock

SLICES = 6
CLEANUP_CHANCE = 0.01  # share of writes that also delete expired rows


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    window: int  # seconds

    @property
    def slice_seconds(self) -> int:
        return max(1, self.window // SLICES)


def _key(name: str, identity: str) -> str:
    return f"{name}:{hashlib.sha256(identity.encode()).hexdigest()[:40]}"


def _slice(limit: Limit, now_ts: float) -> int:
    return int(now_ts // limit.slice_seconds)


def _add(limit: Limit, identity: str, amount: int, bucket: int | None = None) -> int:
    """Add ``amount`` to the current slice; returns the number of events in the window afterwards.

    The slice's new count comes back from the upsert itself (``RETURNING``): the row lock orders racing
    increments, so each sees a distinct count (1, 2, 3 …) and a transient increment of a request that is about to
    give its slot back never makes another request look over the limit. Older slices are added by a read."""
    now = clock.now()
    key = _key(limit.name, identity)
    current = _slice(limit, now.timestamp()) if bucket is None else bucket
    expires = now + timedelta(seconds=limit.window + limit.slice_seconds)
    with connection.cursor() as cur:
        cur.execute(
            'INSERT INTO core_ratecounter ("key", bucket, count, expires_at) VALUES (%s, %s, %s, %s)'
            ' ON CONFLICT ("key", bucket) DO UPDATE SET count = core_ratecounter.count + excluded.count,'
            " expires_at = excluded.expires_at RETURNING count",
            [key, current, amount, connection.ops.adapt_datetimefield_value(expires)],
        )
        in_slice = int(cur.fetchone()[0])
        if random.random() < CLEANUP_CHANCE:
            cur.execute(
                "DELETE FROM core_ratecounter WHERE expires_at < %s",
                [connection.ops.adapt_datetimefield_value(now)],
            )
        oldest = _slice(limit, now.timestamp()) - SLICES + 1
        cur.execute(
            'SELECT COALESCE(SUM(count), 0) FROM core_ratecounter WHERE "key" = %s AND bucket >= %s AND bucket <> %s',
            [key, oldest, current],
        )
        return in_slice + int(cur.fetchone()[0])


def _sum(limit: Limit, key: str, now_ts: float) -> int:
    oldest = _slice(limit, now_ts) - SLICES + 1
    with connection.cursor() as cur:
        cur.execute(
            'SELECT COALESCE(SUM(count), 0) FROM core_ratecounter WHERE "key" = %s AND bucket >= %s',
            [key, oldest],
        )
        return int(cur.fetchone()[0])


def count(limit: Limit, identity: str | None) -> int:
    if not identity:
        return 0
    return _sum(limit, _key(limit.name, identity), clock.now().timestamp())


def exceeded(limit: Limit, identity: str | None) -> bool:
    return bool(identity) and count(limit, identity) >= limit.count


def hit(limit: Limit, identity: str | None) -> int:
    """Count one event; returns the number in the window including it (0 without an identity)."""
    if not identity:
        return 0
    return _add(limit, identity, 1)


@dataclass
class Slot:
    limit: Limit
    identity: str | None
    bucket: int | None

    def give_back(self) -> None:
        if self.identity and self.bucket is not None:
            _add(self.limit, self.identity, -1, bucket=self.bucket)
            self.bucket = None


def take(limit: Limit, identity: str | None) -> Slot | None:
    """Reserve one event: a :class:`Slot` if it is within the limit, else ``None`` (nothing counted). Two
    racing requests cannot both take the last slot: each sees the count including its own increment."""
    if not identity:
        return Slot(limit, None, None)
    bucket = _slice(limit, clock.now().timestamp())
    total = _add(limit, identity, 1, bucket=bucket)
    slot = Slot(limit, identity, bucket)
    if total > limit.count:
        slot.give_back()
        return None
    return slot


def first_use(name: str, token: str, ttl: int) -> bool:
    """True the first time ``token`` is presented within ``ttl`` seconds, on any server (one-time tokens)."""
    return _add(Limit(name, 1, ttl), token, 1) == 1
