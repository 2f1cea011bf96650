"""``civicgrid demo``: the year of cases (run here over a few weeks at a fraction of the volume)."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import timedelta

import pytest

from civicgrid.cases import services
from civicgrid.cases.history import HistoryEngine, RecentHistoryEngine
from civicgrid.demo import cases as demo_cases
from civicgrid.demo.builder import build_demo

pytestmark = [
    pytest.mark.django_db(transaction=False),
    pytest.mark.skipif(not demo_cases.engine_ready(), reason="case engine not present"),
]

SMALL = {"days": 21, "live_days": 5, "scale": 0.3}
OPEN_STATES = ("reported", "accepted", "dispatched", "handling", "handled", "verified", "closed", "suspended")


@pytest.fixture
def year(db):
    return build_demo(cases_options=SMALL)


def test_a_year_of_cases_in_every_state(year):
    from civicgrid.cases.models import Case, CaseEvent

    info = year.cases
    assert info["bulk"] > 30 and info["live"] > 10
    # the demo 区 holds two 街道 (tiers): 示范街道's cases here, the smaller 西溪街道's in test_demo_tiers.py
    # (the street also holds the demo's 安全隐患, cases of the ``hazard`` procedure: test_demo_hazards.py)
    from civicgrid.estates.models import CampaignTarget, EnterpriseVisit, RentalInspection

    # the 出租房/企业走访/专项排查 demo files its findings as cases too (test_demo_estates): not this loader's
    filed_by_estates = {
        pk
        for model in (RentalInspection, EnterpriseVisit, CampaignTarget)
        for pk in model.objects.exclude(case=None).values_list("case_id", flat=True)
    }
    cases = Case.objects.filter(street=year.street, procedure="standard").exclude(pk__in=filed_by_estates)
    assert cases.count() == info["cases"]
    states = Counter(cases.values_list("state", flat=True))
    for state in OPEN_STATES:
        assert states[state] >= 1, state
    assert states["rated"] > sum(states.values()) / 2
    ratings = Counter(cases.exclude(rating="").values_list("rating", flat=True))
    assert ratings.most_common(1)[0][0] == "satisfied"
    sources = Counter(cases.values_list("source", flat=True))
    assert sources.most_common(1)[0][0] == "grid_patrol" and sources["hotline_12345"] > 0
    assert cases.filter(is_overdue=True).exists()
    # every case started with 上报 and its timeline ends in its state
    assert CaseEvent.objects.filter(seq=1).exclude(move="create").count() == 0


def test_timelines_are_consistent(year):
    from civicgrid.cases.models import Attachment, Case, CaseDepartment

    numbers = [n for n in Case.objects.exclude(number=None).values_list("number", flat=True)]
    assert len(numbers) == len(set(numbers))
    assert all(re.fullmatch(r"C\d{8}\d{5}", n) for n in numbers)
    linked = set(CaseDepartment.objects.values_list("case_id", "department_id"))
    after_photos = Counter(Attachment.objects.filter(kind="after").values_list("event_id", flat=True))
    for case in Case.objects.prefetch_related("events"):
        events = sorted(case.events.all(), key=lambda e: e.seq)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert events[0].move == "create" and events[-1].to_state == case.state
        for a, b in zip(events, events[1:], strict=False):
            assert b.from_state == a.to_state and b.at >= a.at, (case.pk, a.move, b.move)
        for e in events:
            if e.move in ("dispatch", "reassign"):
                assert (case.pk, e.data["department"]) in linked
            if e.move == "finish":
                assert after_photos[e.pk] == 1
        assert case.version == len(events)  # 1 on 上报, +1 per move
        if case.state in ("closed", "rated", "rejected", "voided", "merged"):
            assert case.closed_at is not None and case.stage == "" and case.due_at is None
        if case.state in ("accepted", "dispatched", "handling", "handled", "verified"):
            assert case.stage and case.due_at is not None and case.number
        if case.state == "merged":
            assert case.duplicate_of_id is not None


def test_history_is_audited_once_and_recent_moves_one_by_one(year):
    from civicgrid.cases.models import CaseEvent
    from civicgrid.core.models import AuditLog

    # one per 街道 of the demo 区 (tiers): 示范街道's and 西溪街道's
    rows = AuditLog.objects.filter(action="demo.cases", object_id=str(year.street.pk))
    assert rows.count() == 1 and rows.get().after["cases"] == year.cases["bulk"]
    assert AuditLog.objects.filter(action="demo.cases", object_id=str(year.second_street.pk)).count() == 1
    live_moves = AuditLog.objects.filter(action__startswith="cases.case.").count()
    assert 0 < live_moves < CaseEvent.objects.count()


def test_running_again_adds_no_cases(year):
    from civicgrid.cases.models import Case, CaseEvent

    before = (Case.objects.count(), CaseEvent.objects.count())
    again = build_demo(cases_options=SMALL)
    assert again.cases is None
    assert (Case.objects.count(), CaseEvent.objects.count()) == before


def test_bulk_engine_writes_what_the_services_write(db):
    """Play the same scripted lives through both engines: the rows must agree field by field."""
    from civicgrid.cases.models import Case
    from civicgrid.core import clock

    result = build_demo(with_cases=False)
    street = result.street
    actors = demo_cases._actors(result.staff)
    now = clock.now()
    year = demo_cases.Year(street, random.Random(5), actors, now=now, days=30, scale=1)
    photos = demo_cases._photos(random.Random(1))
    pairs = []
    for k in range(40):
        at = year.time.office(now - timedelta(days=25, hours=-k * 7))
        spec = year._spec(random.Random(k).choice(["grid_patrol", "hotline_12345", "resident"]), at)
        twin = demo_cases.Spec(**{**spec.__dict__, "rng": random.Random(1000 + k)})
        spec.rng = random.Random(1000 + k)
        pairs.append((spec, twin))
    bulk = HistoryEngine()
    year.play([s for s, _ in pairs], bulk)
    services.bulk_import_history(actor=None, engine=bulk, photos=photos)
    year.open_by_place.clear()
    year.play([t for _, t in pairs], demo_cases.LiveEngine(photos))

    by_created = {}
    for case in Case.objects.order_by("pk"):
        by_created.setdefault((case.created_at, case.description), []).append(case)
    skip = {"id", "number", "is_overdue", "last_notified_light", "light", "updated_at"}
    compared = Counter()
    for spec, _ in pairs:
        b, live = by_created[(spec.created_at, spec.description)]
        for f in Case._meta.concrete_fields:
            if f.attname not in skip:
                assert getattr(b, f.attname) == getattr(live, f.attname), (f.attname, b.pk, live.pk)
        eb = list(b.events.order_by("seq"))
        el = list(live.events.order_by("seq"))
        assert len(eb) == len(el)
        for x, y in zip(eb, el, strict=True):
            compared[x.move] += 1
            assert (x.move, x.from_state, x.to_state, x.actor_id, x.at, x.note) == (
                y.move,
                y.from_state,
                y.to_state,
                y.actor_id,
                y.at,
                y.note,
            )
            ignore = {"number", "extension_request", "target_case", "target_number"}
            assert {k: v for k, v in x.data.items() if k not in ignore} == {
                k: v for k, v in y.data.items() if k not in ignore
            }
            assert x.clock == y.clock, (x.move, x.clock, y.clock)
    assert {"create", "accept", "dispatch", "sign", "finish", "verify_pass", "close", "rate"} <= set(compared)


def test_recent_engine_leaves_the_audit_rows_and_notifications_the_services_leave(
    db, django_capture_on_commit_callbacks
):
    """The recent weeks are written set-based; what users see of them (their inbox, the audit log) must be what
    the services and the two-hourly light job would have left."""
    from civicgrid.cases.models import Case, Notification
    from civicgrid.core import clock
    from civicgrid.core.models import AuditLog

    result = build_demo(with_cases=False)
    actors = demo_cases._actors(result.staff)
    now = clock.now()
    tick_from = now - timedelta(days=12)
    year = demo_cases.Year(result.street, random.Random(7), actors, now=now, days=12, scale=1)
    photos = demo_cases._photos(random.Random(1))
    pairs = []
    for k in range(30):
        at = year.time.office(now - timedelta(days=11, hours=-k * 7))
        spec = year._spec(random.Random(k).choice(["grid_patrol", "hotline_12345", "resident"]), at)
        twin = demo_cases.Spec(**{**spec.__dict__, "rng": random.Random(2000 + k)})
        spec.rng = random.Random(2000 + k)
        pairs.append((spec, twin))

    recent = RecentHistoryEngine(tick_from=tick_from, now=now)
    year.play([s for s, _ in pairs], recent)
    written = services.bulk_import_history(actor=None, engine=recent, photos=photos)
    bulk_ids = set(Case.objects.values_list("pk", flat=True))
    year.open_by_place.clear()

    class Committing(demo_cases.LiveEngine):
        """Runs each call's on-commit notifications at once, at that call's time (as outside a test)."""

        def create(self, spec, at, **kw):
            with clock.frozen(at), django_capture_on_commit_callbacks(execute=True):
                return super().create(spec, at, **kw)

        def move(self, case, move, actor, at, **kw):
            with clock.frozen(at), django_capture_on_commit_callbacks(execute=True):
                super().move(case, move, actor, at, **kw)

        def tick(self, at):
            with clock.frozen(at), django_capture_on_commit_callbacks(execute=True):
                super().tick(at)

    year.play([t for _, t in pairs], Committing(photos), tick_from=tick_from)
    live_ids = set(Case.objects.values_list("pk", flat=True)) - bulk_ids
    assert written["cases"] == len(bulk_ids) == len(live_ids) == 30

    twin_of = {}
    for pk in bulk_ids:
        c = Case.objects.get(pk=pk)
        twin_of[pk] = Case.objects.get(pk__in=live_ids, created_at=c.created_at, description=c.description).pk
    noisy = {"id", "number", "title", "duplicate_of_id"}  # ids and numbers differ between the twins

    def audit_of(pk):
        return [
            (
                a.action,
                a.actor_id,
                a.at,
                a.note,
                {k: v for k, v in (a.after or {}).items() if k not in noisy},
                {k: v for k, v in (a.before or {}).items() if k not in noisy},
            )
            for a in AuditLog.objects.filter(object_type="cases.case", object_id=str(pk)).order_by("at", "pk")
        ]

    def inbox_of(pk):
        number = Case.objects.get(pk=pk).number or ""
        return sorted(
            (n.user_id, n.kind, n.text.replace(number, "№") if number else n.text, n.created_at, n.read_at)
            for n in Notification.objects.filter(case_id=pk)
        )

    kinds = Counter()
    for pk, twin in twin_of.items():
        assert audit_of(pk) == audit_of(twin)
        mine, theirs = inbox_of(pk), inbox_of(twin)
        assert mine == theirs, pk
        kinds.update(k for _, k, _, _, _ in mine)
    assert kinds["dispatched"] > 0 and kinds["reassigned"] > 0 and kinds["yellow"] + kinds["red"] > 0, kinds


def test_a_supervised_recent_case_is_audited_as_the_service_audits_it(db):
    """督办 in the recent weeks: the history engine's audit row carries the case's before/after like the
    service's (it once overwrote the snapshot with the old priority and the demo stopped with an error)."""
    from civicgrid.core import clock
    from civicgrid.core.models import AuditLog

    result = build_demo(with_cases=False)
    actors = demo_cases._actors(result.staff)
    now = clock.now()
    year = demo_cases.Year(result.street, random.Random(3), actors, now=now, days=5, scale=1)
    at = year.time.office(now - timedelta(days=3))
    spec = year._spec("hotline_12345", at)
    twin = demo_cases.Spec(**spec.__dict__)
    dept = year._right_department(spec)
    photos = demo_cases._photos(random.Random(1))

    def script(eng, s):
        case = eng.create(s, at, auto_accept=False)
        eng.move(case, "accept", actors.dispatcher, at + timedelta(minutes=5))
        eng.move(case, "dispatch", actors.dispatcher, at + timedelta(minutes=10), department=dept)
        eng.move(
            case, "supervise", actors.leader, at + timedelta(minutes=20), note="请加快处置进度，按时办结。"
        )

    recent = RecentHistoryEngine(tick_from=now - timedelta(days=5), now=now)
    script(recent, spec)
    services.bulk_import_history(actor=None, engine=recent, photos=photos)
    script(demo_cases.LiveEngine(photos), twin)

    rows = list(AuditLog.objects.filter(action="cases.case.supervise").order_by("pk"))
    assert len(rows) == 2
    noisy = {"id", "number", "title"}
    mine, theirs = (
        (r.actor_id, r.at, r.note, {k: v for k, v in r.before.items() if k not in noisy}, r.after)
        for r in rows
    )
    assert mine[:4] == theirs[:4]
    assert {k: v for k, v in mine[4].items() if k not in noisy} == {
        k: v for k, v in theirs[4].items() if k not in noisy
    }
    assert mine[4]["supervise_count"] == 1
