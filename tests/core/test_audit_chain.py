"""The audit log is hash-chained: ``civicgrid audit verify`` finds an altered, deleted or cut-off row."""

from __future__ import annotations

import io
import json
import threading
from contextlib import contextmanager
from datetime import UTC, timedelta, timezone

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from civicgrid.core import audit, auditchain
from civicgrid.core.models import AuditChainHead, AuditLog

pytestmark = pytest.mark.django_db


def write(n: int, prefix: str = "test.chain") -> list[AuditLog]:
    rows = []
    for i in range(n):
        with transaction.atomic():
            rows.append(
                audit.record(
                    actor=None,
                    action=f"{prefix}.{i}",
                    object_type="x",
                    object_id=i,
                    before={"n": i, "f": 1.0, "big": 1e20, "when": "2026-03-02"} if i % 2 else None,
                    after={"名称": "第一网格", "vals": [1, 2.5]},
                    note="说明",
                )
            )
    return rows


def verify() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@contextmanager
def tampering():
    """What someone with direct database access does: lift the append-only trigger, change rows."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("DROP TRIGGER IF EXISTS core_auditlog_no_update")
        else:
            cur.execute("ALTER TABLE core_auditlog DISABLE TRIGGER core_auditlog_no_update")
        yield cur
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE core_auditlog ENABLE TRIGGER core_auditlog_no_update")


def test_an_untouched_log_verifies():
    rows = write(5)
    assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + 5))
    assert rows[1].prev_hash == rows[0].row_hash
    code, out, _ = verify()
    assert code == 0
    assert "审计日志完整" in out and f"最后序号 {rows[-1].seq}" in out


def test_an_altered_row_is_reported():
    rows = write(4)
    with tampering() as cur:
        cur.execute("UPDATE core_auditlog SET note = 'nothing happened' WHERE id = %s", [rows[2].pk])
    code, _, err = verify()
    assert code == 1
    assert f"序号 {rows[2].seq}" in err and f"id={rows[2].pk}" in err and "内容被修改" in err


def test_an_altered_json_value_is_reported():
    rows = write(4)
    with tampering() as cur:
        cur.execute(
            "UPDATE core_auditlog SET after = %s WHERE id = %s",
            ['{"名称": "第二网格", "vals": [1, 2.5]}', rows[0].pk],
        )
    code, _, err = verify()
    assert code == 1 and f"序号 {rows[0].seq}" in err


def test_a_deleted_row_is_reported():
    rows = write(5)
    with tampering() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE core_auditlog DISABLE TRIGGER ALL")
        cur.execute("DELETE FROM core_auditlog WHERE id = %s", [rows[1].pk])
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE core_auditlog ENABLE TRIGGER ALL")
    code, _, err = verify()
    assert code == 1
    assert f"缺少序号 {rows[1].seq}" in err and "已被删除" in err


def test_a_truncated_tail_is_reported():
    rows = write(5)
    with tampering() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE core_auditlog DISABLE TRIGGER ALL")
        cur.execute("DELETE FROM core_auditlog WHERE id >= %s", [rows[3].pk])
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE core_auditlog ENABLE TRIGGER ALL")
    code, _, err = verify()
    assert code == 1
    assert "末尾被截断" in err and f"最后序号为 {rows[-1].seq}" in err and f"只到序号 {rows[2].seq}" in err


def test_the_anchor_cannot_be_moved_back():
    write(3)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE core_auditchainhead SET seq = 0")
    assert AuditChainHead.objects.get(pk=1).seq >= 3


def test_a_row_inserted_behind_the_systems_back_is_reported():
    write(2)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO core_auditlog (at, actor_username, actor_role, action, object_type, object_id,"
            " object_repr, note, prev_hash, row_hash) VALUES (%s, 'x', '', 'forged', '', '', '', '', '', '')",
            ["2026-01-01T00:00:00+00:00"],
        )
    code, _, err = verify()
    assert code == 1 and "没有链序号" in err


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_every_chain_unbroken():
    """Four app-server threads write at once: within each chain the sequence numbers stay gap-free, and the log
    verifies."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memorydb"):
        pytest.skip("the in-memory SQLite test database is one connection; PostgreSQL runs this test")
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(10):
                with transaction.atomic():
                    audit.record(actor=None, action=f"test.thread{k}.{i}", object_type="x", object_id=i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert AuditLog.objects.filter(action__startswith="test.thread").count() == 40
    for chain in set(AuditLog.objects.values_list("chain", flat=True)):
        seqs = list(AuditLog.objects.filter(chain=chain).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1)), f"chain {chain} has gaps"
    code, out, err = verify()
    assert code == 0, err


def _write_while_chain_one_is_held() -> AuditLog:
    """A long transaction holds chain 1's anchor (it wrote an audit row and has not committed); meanwhile another
    app server writes. Returns that other writer's row."""
    auditchain.ensure_heads()  # as after migrate (this test's database is emptied between tests)
    holding, release, written = threading.Event(), threading.Event(), []

    def long_transaction() -> None:
        try:
            with transaction.atomic():
                audit.record(actor=None, action="test.long", object_type="x", object_id=1)
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    def other_writer() -> None:
        try:
            with transaction.atomic():
                written.append(audit.record(actor=None, action="test.other", object_type="x", object_id=2))
        finally:
            connections.close_all()

    t = threading.Thread(target=long_transaction)
    t.start()
    assert holding.wait(30)
    other = threading.Thread(target=other_writer)
    other.start()
    other.join(20)
    finished_while_held = not other.is_alive()
    release.set()
    t.join(30)
    other.join(30)
    assert finished_while_held, "the second writer waited for the first one's transaction"
    return written[0]


@pytest.mark.django_db(transaction=True)
def test_a_long_transaction_does_not_hold_up_other_writers():
    """PostgreSQL: while one transaction holds chain 1, another writer takes the next free chain at once (before,
    every audited write of the installation queued for the one anchor, through each commit's disk flush)."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite writes one transaction at a time; the chains spread PostgreSQL's concurrent writers"
        )
    other = _write_while_chain_one_is_held()
    assert other.chain != 1 and other.seq == 1
    assert AuditChainHead.objects.get(pk=other.chain).seq == 1
    code, out, err = verify()
    assert code == 0, err
    assert "2 条链" in out and f"链 {other.chain} 最后序号 1" in out


@pytest.mark.django_db(transaction=True)
def test_tampering_in_a_second_chain_is_reported_with_its_chain():
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite writes one transaction at a time; the chains spread PostgreSQL's concurrent writers"
        )
    other = _write_while_chain_one_is_held()
    with tampering() as cur:
        cur.execute("UPDATE core_auditlog SET note = 'changed' WHERE id = %s", [other.pk])
    code, _, err = verify()
    assert code == 1 and f"链 {other.chain}，序号 1，id={other.pk}" in err and "内容被修改" in err


@pytest.mark.django_db(transaction=True)
def test_a_truncated_second_chain_is_reported():
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite writes one transaction at a time; the chains spread PostgreSQL's concurrent writers"
        )
    other = _write_while_chain_one_is_held()
    with tampering() as cur:
        cur.execute("ALTER TABLE core_auditlog DISABLE TRIGGER ALL")
        cur.execute("DELETE FROM core_auditlog WHERE id = %s", [other.pk])
        cur.execute("ALTER TABLE core_auditlog ENABLE TRIGGER ALL")
    code, _, err = verify()
    assert code == 1 and f"链 {other.chain}" in err and "末尾被截断" in err


def test_rows_created_through_the_orm_join_the_chain_too():
    write(1)
    with transaction.atomic():
        row = AuditLog.objects.create(actor_username="x", action="test.orm", object_type="x")
    assert row.seq and row.prev_hash and row.row_hash
    assert verify()[0] == 0


# --- json_value walks plain JSON directly: it must give exactly what the encoder round trip gives -----------

_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(),  # naive
    st.datetimes(
        timezones=st.sampled_from([timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30))])
    ),
    st.dates(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.uuids(),
)
_TREE = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers(), st.booleans()), inner, max_size=4),
    ),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(_TREE)
def test_json_value_equals_the_encoder_round_trip(value):
    from civicgrid.core.auditchain import _round_trip, json_value

    fast, slow = json_value(value), _round_trip(value)
    assert fast == slow
    assert json.dumps(fast, sort_keys=True) == json.dumps(slow, sort_keys=True)


@settings(max_examples=300, deadline=None)
@given(_TREE)
def test_the_one_walk_canonical_value_equals_the_two_walks(value):
    """The content hash walks a before/after value once (``canonical_value``); it must give exactly what the
    encoder round trip followed by the whole-float rule gives (compared as JSON text: ``1 == 1.0`` in Python)."""
    from civicgrid.core.auditchain import _canonical, canonical_value, json_value

    one, two = canonical_value(value), _canonical(json_value(value))
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
    assert type(one) is type(two)
