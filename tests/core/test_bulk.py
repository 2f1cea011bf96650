"""core.bulk.SetBasedInserter: the set-based insert behind the historical import (COPY / executemany)."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection, transaction

from civicgrid.cases.models import Case, CaseEvent, CaseState, Rating
from civicgrid.core import clock
from civicgrid.core.bulk import SetBasedInserter

pytestmark = pytest.mark.django_db

AT = clock.aware(datetime(2024, 3, 1, 9, 15, 30))


def _case(ref: str, **kw) -> dict:
    return {
        "number": f"C20240301{ref[-5:]}",
        "title": "暴露垃圾 · 示范路1号",
        "description": "小区门口\t垃圾\n堆放\\无人清理",  # what text COPY must escape
        "source": "hotline_12345",
        "source_ref": ref,
        "state": CaseState.RATED,  # a str enum
        "rating": Rating.SATISFIED,
        "lng": 120.15,
        "lat": None,
        "is_overdue": True,
        "created_at": AT,
        "closed_at": clock.aware(datetime(2024, 3, 3, 11, 0)),
        "updated_at": AT,
        **kw,
    }


def _event(case_id: int, **kw) -> dict:
    return {
        "case_id": case_id,
        "seq": 1,
        "move": "import",
        "to_state": "rated",
        "actor_name": "派遣员",
        "at": AT,
        "note": "导入",
        "data": {"job": 7, "row": 2, "source_ref": "中文编号", "closed_at": AT},
        "clock": {},
        **kw,
    }


def _stored(model, pk) -> dict:
    row = model.objects.filter(pk=pk).values().get()
    row.pop("id")
    return row


def _insert(model, rows, **kw):
    with transaction.atomic():
        return SetBasedInserter(model, **kw).insert(rows)


def test_ids_are_taken_up_front_and_values_round_trip():
    ids = _insert(Case, [_case("00001"), _case("00002", lng=None, number=None)])
    assert len(ids) == 2 and ids == sorted(ids)
    first = Case.objects.get(pk=ids[0])
    assert (first.source_ref, first.state, first.rating) == ("00001", "rated", "satisfied")
    assert first.description == "小区门口\t垃圾\n堆放\\无人清理"
    assert (first.lng, first.lat, first.is_overdue, first.version) == (120.15, None, True, 1)
    assert first.created_at == AT and first.closed_at == clock.aware(datetime(2024, 3, 3, 11, 0))
    assert Case.objects.get(pk=ids[1]).number is None


def test_without_take_ids_the_database_numbers_the_rows():
    (case_id,) = _insert(Case, [_case("00003")])
    assert _insert(CaseEvent, [_event(case_id), _event(case_id, seq=2)], take_ids=False) == []
    events = list(CaseEvent.objects.filter(case_id=case_id).order_by("seq"))
    assert [e.seq for e in events] == [1, 2] and events[0].pk < events[1].pk
    assert events[0].data == {
        "job": 7,
        "row": 2,
        "source_ref": "中文编号",
        "closed_at": "2024-03-01T09:15:30+08:00",
    }
    assert events[0].clock == {} and events[0].at == AT
    # the ORM still inserts after it (the sequence/autoincrement moved past the rows)
    later = CaseEvent.objects.create(case_id=case_id, seq=3, move="note", to_state="rated", at=AT)
    assert later.pk > events[1].pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="binary COPY is PostgreSQL's")
def test_binary_and_text_copy_store_the_same_rows():
    binary_ids = _insert(Case, [_case("00004")])
    text = SetBasedInserter(Case)
    text._copy_types = False  # as for a table with a column type psycopg cannot send in binary
    with transaction.atomic():
        text_ids = text.insert([_case("00005", number="C2024030100005")])
    a, b = _stored(Case, binary_ids[0]), _stored(Case, text_ids[0])
    assert {k: v for k, v in a.items() if k not in ("number", "source_ref")} == {
        k: v for k, v in b.items() if k not in ("number", "source_ref")
    }
    events = SetBasedInserter(CaseEvent, take_ids=False)
    text_events = SetBasedInserter(CaseEvent, take_ids=False)
    text_events._copy_types = False
    with transaction.atomic():
        events.insert([_event(binary_ids[0])])
        text_events.insert([_event(text_ids[0])])
    x = CaseEvent.objects.filter(case_id=binary_ids[0]).values("data", "clock", "at", "note").get()
    y = CaseEvent.objects.filter(case_id=text_ids[0]).values("data", "clock", "at", "note").get()
    assert x == y


@pytest.mark.skipif(connection.vendor != "postgresql", reason="binary COPY is PostgreSQL's")
def test_binary_copy_is_used_for_the_import_tables():
    from civicgrid.cases.models import CaseDepartment
    from civicgrid.intake.models import ImportedRecord, PlacementTask

    with connection.cursor() as cur:
        for model in (Case, CaseEvent, CaseDepartment, ImportedRecord, PlacementTask):
            assert SetBasedInserter(model)._binary_types(cur), model
