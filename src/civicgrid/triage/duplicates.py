"""The near-duplicate index of this server process, kept in step with the database (several app servers).

Each process holds one :class:`civicgrid.triage.dedupe.Index` of the cases of the window (default 30 days), built
lazily from the database on the first check and rebuilt when a quarter of the window has passed since. Before
every check it reads the cases created since its last refresh (minus a margin for transactions that committed
late) — so a case another server created is found — and after the check every candidate is read back from the
database: a case that no longer exists, moved to another 街道, or was voided/rejected/merged is never offered
(and a deleted one is dropped from the index).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from django.conf import settings

from civicgrid.cases.models import Case, CaseState
from civicgrid.core import clock
from civicgrid.places.models import Grid
from civicgrid.triage import dedupe

# cases in these states are never offered as the master of a merge
GONE_STATES = (CaseState.VOIDED, CaseState.REJECTED, CaseState.MERGED)
# a case whose transaction committed up to this long after its created_at is still picked up by the refresh
REFRESH_MARGIN = timedelta(minutes=2)
# how often the refresh looks again at the margin's lower ids (the new ids above the index's highest: every check)
RESCAN_SECONDS = 5.0
FIELDS = (
    "pk",
    "created_at",
    "description",
    "address",
    "lng",
    "lat",
    "grid_id",
    "street_id",
    "category_id",
    "category__parent_id",
)


def params() -> dedupe.Params:
    cfg = getattr(settings, "CIVICGRID", {}) or {}
    return dedupe.Params(
        window_days=float(cfg.get("TRIAGE_DEDUPE_WINDOW_DAYS", 30)),
        max_distance_m=float(cfg.get("TRIAGE_DEDUPE_DISTANCE_M", 300)),
        threshold=float(cfg.get("TRIAGE_DEDUPE_THRESHOLD", dedupe.DEFAULT.threshold)),
    )


def enabled() -> bool:
    cfg = getattr(settings, "CIVICGRID", {}) or {}
    return bool(cfg.get("TRIAGE_DEDUPE", True))


def record_of(row: dict) -> dedupe.Record:
    category = row["category_id"]
    parent = row["category__parent_id"]
    return dedupe.Record(
        id=row["pk"],
        created=row["created_at"].timestamp(),
        text=row["description"] or "",
        lng=row["lng"],
        lat=row["lat"],
        grid=row["grid_id"],
        family=parent or category,
        street=row["street_id"],
        address=row["address"] or "",
        category=category,
    )


def case_record(case: Case) -> dedupe.Record:
    category = case.category if case.category_id else None
    return dedupe.Record(
        id=case.pk,
        created=case.created_at.timestamp(),
        text=case.description or "",
        lng=case.lng,
        lat=case.lat,
        grid=case.grid_id,
        family=(category.parent_id or category.pk) if category else None,
        street=case.street_id,
        address=case.address or "",
        category=case.category_id,
    )


def _grids() -> dedupe.Grids:
    boxes = {
        g["pk"]: (g["min_lng"], g["min_lat"], g["max_lng"], g["max_lat"])
        for g in Grid.objects.filter(is_active=True).values("pk", "min_lng", "min_lat", "max_lng", "max_lat")
        if g["max_lng"] > g["min_lng"]
    }
    return dedupe.Grids.from_boxes(boxes)


class Store:
    """The process's index and its bookkeeping; every method holds the lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.index: dedupe.Index | None = None
        self.built_at: datetime | None = None
        self.refreshed_at: datetime | None = None
        self.rescanned_at: datetime | None = None
        self.top_id = 0  # the highest case id read from the database into the index
        self.params = params()

    def reset(self) -> None:
        with self.lock:
            self.index = None
            self.built_at = self.refreshed_at = self.rescanned_at = None
            self.top_id = 0

    def _build(self, now: datetime) -> None:
        self.params = params()
        since = now - timedelta(days=self.params.window_days)
        index = dedupe.Index(grids=_grids(), params=self.params)
        rows = Case.objects.filter(created_at__gte=since).values(*FIELDS).order_by("pk")
        self.top_id = Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        index.build(record_of(r) for r in rows.iterator(chunk_size=5000) if r["pk"] <= self.top_id)
        self.index, self.built_at, self.refreshed_at, self.rescanned_at = index, now, now, now

    def _refresh(self, now: datetime) -> None:
        """The cases other servers created since the last check: those with an id above the highest this index
        holds (one indexed read, usually of a handful of rows); at most once per :data:`RESCAN_SECONDS` also the
        ids at or below it created within :data:`REFRESH_MARGIN` (a transaction that committed late). Reading
        every case of the margin on every check cost O(intake rate × margin) per case."""
        assert self.index is not None and self.refreshed_at is not None
        known = self.index.rows_by_id
        top = self.top_id
        for r in Case.objects.filter(pk__gt=top).values(*FIELDS).order_by("pk"):
            self.index.add(record_of(r))
            self.top_id = max(self.top_id, r["pk"])
        if self.rescanned_at is None or (now - self.rescanned_at).total_seconds() >= RESCAN_SECONDS:
            recent = Case.objects.filter(pk__lte=top, created_at__gte=self.refreshed_at - REFRESH_MARGIN)
            late = [pk for pk in recent.values_list("pk", flat=True) if pk not in known]
            if late:
                for r in Case.objects.filter(pk__in=late).values(*FIELDS).order_by("pk"):
                    self.index.add(record_of(r))
            self.rescanned_at = now
            self.refreshed_at = now

    def fresh_index(self) -> dedupe.Index:
        now = clock.now()
        window = timedelta(days=params().window_days)
        if self.index is None or self.built_at is None or now - self.built_at > window / 4:
            self._build(now)
        else:
            self._refresh(now)
        assert self.index is not None
        return self.index

    def check(self, case: Case) -> list[tuple[Case, dedupe.Candidate]]:
        """The earlier cases of the same 街道 that look like the same problem as ``case``, verified against the
        database, best first; ``case`` itself is in the index afterwards."""
        rec = case_record(case)
        with self.lock:
            index = self.fresh_index()
            found = index.check(rec, exclude=lambda rid: rid == case.pk)
            if case.pk not in index.rows_by_id:
                index.add(rec)
        if not found:
            return []
        rows = {
            c.pk: c
            for c in Case.objects.filter(pk__in=[f.id for f in found]).select_related("category", "grid")
        }
        with self.lock:
            for f in found:
                if f.id not in rows:
                    index.discard(f.id)
        out = []
        for f in found:
            other = rows.get(f.id)
            if other is None or other.state in GONE_STATES:
                continue
            if case.street_id and other.street_id != case.street_id:
                continue
            if other.created_at > case.created_at or (
                other.created_at == case.created_at and other.pk > case.pk
            ):
                continue  # only earlier cases are masters
            out.append((other, f))
        return out


STORE = Store()
