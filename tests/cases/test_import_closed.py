"""The case engine's set-based entry for cases handled to the end elsewhere (``import_closed_cases``)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from civicgrid.cases import services
from civicgrid.cases.models import Case, CaseDepartment, CaseEvent, CaseState
from civicgrid.cases.services import HistoricalCase, import_closed_cases
from civicgrid.core import clock
from civicgrid.core.clock import SHANGHAI
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog

T0 = datetime(2024, 3, 1, 9, 15, tzinfo=SHANGHAI)


def hist(world, ref: str, **kw) -> HistoricalCase:
    values = {
        "source_ref": ref,
        "description": "路边垃圾堆积",
        "category_id": world.category.pk,
        "created_at": T0,
        "closed_at": T0 + timedelta(hours=5),
        "address": "示范路1号",
        "grid_id": world.grid.pk,
        "department_id": world.dept.pk,
        "reporter_name": "张三",
        "reporter_phone": "13800138000",
        "result": "已清理",
    }
    values.update(kw)
    return HistoricalCase(**values)


def run(world, rows, **kw):
    return import_closed_cases(
        actor=kw.pop("actor", world.dispatcher),
        rows=rows,
        source=kw.pop("source", "hotline_12345"),
        batch_note=kw.pop("batch_note", "历史工单导入"),
    )


def test_numbers_are_unique_and_continue_the_daily_sequence(world):
    with clock.frozen(T0):
        first = world.report(auto_accept=True)  # takes C20240301 00001 through the engine's own path
    assert first.number == "C2024030100001"
    next_day = T0 + timedelta(days=1)
    cases = run(
        world,
        [
            hist(world, "H1"),
            hist(world, "H2", created_at=next_day, closed_at=next_day + timedelta(hours=1)),
            hist(world, "H3"),
        ],
    )
    assert [c.number for c in cases] == ["C2024030100002", "C2024030200001", "C2024030100003"]
    with clock.frozen(T0 + timedelta(hours=2)):
        later = world.report(auto_accept=True)
    assert later.number == "C2024030100004"
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 5


def test_final_state_closed_or_rated_and_the_columns_the_moves_would_fill(world):
    closed, rated, no_dept = run(
        world,
        [
            hist(world, "H11", due_at=T0 + timedelta(hours=1)),
            hist(world, "H12", rating="satisfied"),
            hist(world, "H13", department_id=None, grid_id=None, address="未知地址"),
        ],
    )
    closed = Case.objects.get(pk=closed.pk)
    assert closed.state == CaseState.CLOSED and closed.rating == ""
    assert closed.is_overdue  # closed after its 办理时限
    assert closed.created_at == closed.accepted_at == closed.dispatched_at == T0
    assert closed.handled_at == closed.closed_at == T0 + timedelta(hours=5)
    assert closed.handling_feedback == "已清理" and closed.stage == "" and closed.light == ""
    assert closed.title == f"{world.category.name} · 示范路1号"
    assert closed.priority == world.category.priority and closed.version == 1
    assert closed.community_id == world.grid.community_id and closed.created_by == world.dispatcher
    assert CaseDepartment.objects.filter(case=closed, department=world.dept).exists()
    rated = Case.objects.get(pk=rated.pk)
    assert rated.state == CaseState.RATED and rated.rating == "satisfied" and not rated.is_overdue
    no_dept = Case.objects.get(pk=no_dept.pk)
    assert no_dept.state == CaseState.CLOSED and no_dept.dispatched_at is None and no_dept.grid is None
    assert not CaseDepartment.objects.filter(case=no_dept).exists()


def test_one_import_timeline_entry_per_case(world):
    cases = run(
        world, [hist(world, "H21", event_data={"job": 7, "row": 3}), hist(world, "H22", rating="basic")]
    )
    events = list(CaseEvent.objects.filter(case_id__in=[c.pk for c in cases]).order_by("case_id"))
    assert [(e.seq, e.move, e.from_state, e.to_state) for e in events] == [
        (1, "import", "", CaseState.CLOSED),
        (1, "import", "", CaseState.RATED),
    ]
    first = events[0]
    assert first.note == "历史工单导入" and first.actor == world.dispatcher
    assert first.data["job"] == 7 and first.data["row"] == 3 and first.data["source_ref"] == "H21"


def test_one_audit_row_per_batch(world):
    before = AuditLog.objects.filter(action="cases.case.import_closed").count()
    cases = run(world, [hist(world, f"H3{i}") for i in range(5)])
    rows = AuditLog.objects.filter(action="cases.case.import_closed")
    assert rows.count() == before + 1
    row = rows.latest("pk")
    assert row.after["count"] == 5 and row.after["numbers"] == [cases[0].number, cases[-1].number]
    assert row.note == "历史工单导入" and row.actor == world.dispatcher
    run(world, [hist(world, "H39")])
    assert rows.count() == before + 2


def test_a_system_job_may_import_without_an_actor(world):
    (case,) = run(world, [hist(world, "H41")], actor=None)
    assert case.created_by_id is None
    assert CaseEvent.objects.get(case_id=case.pk).actor_name == "系统"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source_ref": ""}, "source_ref"),
        ({"description": "  "}, "description"),
        ({"category_id": 999_999}, "category"),
        ({"closed_at": T0 - timedelta(hours=1)}, "closed_at"),
        ({"created_at": datetime(2024, 3, 1, 9, 0)}, "created_at"),  # naive
        ({"rating": "great"}, "rating"),
        ({"lng": 120.1}, "lat"),
        ({"grid_id": 999_999}, "grid"),
        ({"department_id": 999_999}, "department"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(world, change, field):
    with pytest.raises(ValidationFailed) as exc:
        run(world, [hist(world, "H51"), hist(world, "H52", **change)])
    assert exc.value.field == field
    assert exc.value.details == {"index": 1, "source_ref": change.get("source_ref", "H52")}
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_duplicate_refs_in_a_batch_unknown_source_and_anonymous_actor_are_refused(world):
    with pytest.raises(ValidationFailed) as exc:
        run(world, [hist(world, "H61"), hist(world, "H61")])
    assert exc.value.field == "source_ref"
    with pytest.raises(ValidationFailed) as exc:
        run(world, [hist(world, "H62")], source="carrier_pigeon")
    assert exc.value.field == "source"
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        run(world, [hist(world, "H63")], actor=AnonymousUser())
    assert not Case.objects.exists()


def test_a_failure_rolls_back_numbers_and_rows(world, monkeypatch):
    from django.db import IntegrityError, transaction

    real = services.SetBasedInserter.insert

    def failing(self, rows):
        if self.model is CaseEvent:
            raise IntegrityError("simulated")
        return real(self, rows)

    monkeypatch.setattr(services.SetBasedInserter, "insert", failing)
    with pytest.raises(IntegrityError), transaction.atomic():
        run(world, [hist(world, "H71")])
    monkeypatch.undo()
    assert not Case.objects.exists()
    (case,) = run(world, [hist(world, "H72")])
    assert case.number == "C2024030100001"  # the rolled-back number was given back
