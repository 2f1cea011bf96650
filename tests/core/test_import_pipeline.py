"""A long PostgreSQL import writes each batch in a writer thread while the next batch is read and cleaned
(core.importer.run_rows, ``pipelined`` handlers): same rows, same counts, same checkpoints as one thread, and the
first error stops the run with everything before it committed and nothing after it written."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from civicgrid.core import audit
from civicgrid.core.importer import CleanRow, Outcome, RowError, run_rows
from civicgrid.core.models import AuditLog

pytestmark = pytest.mark.django_db(transaction=True)


class Reader:
    def __init__(self, n: int):
        self.n = n

    def rows(self):
        for number in range(2, self.n + 2):  # row 1 is the header
            yield number, {"ref": f"R{number:05d}", "value": "bad" if number % 10 == 0 else str(number)}


class Binding:
    def parse(self, values):
        return dict(values), {}, values, {}


class Handler:
    fields = ()
    ref_field = "ref"
    pipelined = True

    def __init__(self):
        self.writer_threads: set[str] = set()

    def clean(self, number, values):
        if values["value"] == "bad":
            raise RowError("数值无法识别")
        return values

    def describe(self, values):
        return {}

    def write_batch(self, rows: list[CleanRow]) -> list[Outcome]:
        self.writer_threads.add(threading.current_thread().name)
        for row in rows:
            audit.record(actor=None, action="test.pipeline", object_type="row", object_id=row.ref)
        return [Outcome("created") for _ in rows]


def _written() -> list[str]:
    return list(
        AuditLog.objects.filter(action="test.pipeline")
        .order_by("object_id")
        .values_list("object_id", flat=True)
    )


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the writer thread is used on PostgreSQL only (SQLite writes one transaction at a time)")


def test_a_long_import_writes_in_a_writer_thread_with_the_same_result(postgres_only):
    handler, checkpoints = Handler(), []

    def on_batch(stats, rejected, last):
        checkpoints.append((last, stats.processed, stats.created, stats.failed, len(rejected)))

    stats = run_rows(Reader(2500), Binding(), handler, batch_size=400, on_batch=on_batch)

    assert handler.writer_threads == {"import-writer"}
    assert (stats.processed, stats.created, stats.failed) == (2500, 2250, 250)
    assert _written() == [f"R{n:05d}" for n in range(2, 2502) if n % 10]
    # each checkpoint counts exactly the rows up to it: a killed run resumes from any of them
    for last, processed, created, failed, _ in checkpoints:
        assert processed == last - 1
        assert created + failed == processed
    assert checkpoints[-1][0] == 2501


def test_the_first_error_in_the_writer_stops_the_run_and_keeps_what_was_committed(postgres_only):
    handler, seen = Handler(), []

    def on_batch(stats, rejected, last):
        seen.append(last)
        if len(seen) == 3:
            raise RuntimeError("进度无法保存")

    with pytest.raises(RuntimeError, match="进度无法保存"):
        run_rows(Reader(5000), Binding(), handler, batch_size=300, on_batch=on_batch)

    # batches 1 and 2 committed with their checkpoints; batch 3 rolled back with its failed checkpoint; none after
    assert len(seen) == 3
    written = _written()
    assert written and written[-1] <= f"R{seen[1]:05d}"
    assert len(written) == sum(1 for n in range(2, seen[1] + 1) if n % 10)


def test_inside_a_transaction_the_rows_are_written_on_the_callers_connection(postgres_only):
    handler = Handler()
    with transaction.atomic():
        stats = run_rows(Reader(50), Binding(), handler, batch_size=20)
    assert handler.writer_threads == {threading.current_thread().name}
    assert stats.created == 45 and len(_written()) == 45
