"""The audit log's hash chains: each row stores the hash of the row before it in its chain and the hash of its own
content.

``row_hash = sha256("{seq}:{prev_hash}:{content_digest}")`` with ``content_digest = sha256(canonical JSON of
{at, actor, action, object, before, after, note, ip})``, where ``prev_hash`` is the previous row's ``row_hash`` in
the same chain (the chain's genesis hash for its first row: 64 zeros for chain 1). An anchor row per chain
(:class:`~civicgrid.core.models.AuditChainHead`, pk = the chain's number) holds its last sequence number and hash,
so altering a row, deleting one or cutting off a chain's tail (``DELETE … WHERE id > N``, ``TRUNCATE``) all break
a chain and are found by ``civicgrid audit verify``.

Why several chains: an anchor stays locked until the writer's transaction commits, and a commit waits for its WAL
flush. With one anchor every audited write of the installation queued for it, one flush after the other — about
400 writes a second on a disk whose flush takes 2.5 ms, however many app servers. With :data:`CHAINS` anchors a
PostgreSQL writer takes the first anchor nobody holds (``FOR UPDATE SKIP LOCKED``, its connection's last chain
first, so a transaction never holds two), and concurrent commits share their flushes. Sequence numbers stay
gap-free, in commit order, within each chain; a single writer (and every SQLite writer: transactions start
``IMMEDIATE``, one at a time) stays on chain 1.

Appending is one statement, as cheap as the plain INSERT it replaces: ``INSERT … SELECT`` from the anchor row
computes ``chain``, ``seq``, ``prev_hash`` and ``row_hash`` in the database (the content digest comes from
Python), and an ``AFTER INSERT`` trigger moves the anchor. On SQLite the hash function is registered on each
connection (:func:`register_sqlite_functions`).

A hot path may hand :func:`append` the INSERTs it writes with the row (``together``): on PostgreSQL they become
data-modifying CTEs of that one statement, so the write and its audit row commit together without a transaction
of their own (no BEGIN/COMMIT round trips; the anchor is locked only while that statement runs).

This module is imported by migrations: keep :func:`digest` and :func:`genesis` stable, or existing chains stop
verifying.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

GENESIS = "0" * 64
HEAD_PK = 1  # chain 1: the only chain before there were several, and the one SQLite writes
CHAINS = 16  # anchors 1 … CHAINS (created by migration core 0016)
CONTENT_FIELDS = (
    "at",
    "actor_id",
    "actor_username",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "note",
    "ip",
)


def _canonical(value: Any) -> Any:
    """JSON values as any database gives them back: floats that are whole numbers become ints (PostgreSQL's
    jsonb turns ``1e20`` into ``100000000000000000000``), dict keys are sorted when dumped."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def json_value(value: Any) -> Any:
    """A before/after value exactly as a JSONField stores and returns it: what
    ``json.loads(json.dumps(value, cls=DjangoJSONEncoder))`` gives, walked directly where the value is already
    plain JSON (dicts with string keys, lists, tuples, strings, numbers, booleans, None) and round-tripped through
    the encoder only for the parts that are not (dates, decimals, UUIDs, lazy strings, enums, other keys)."""
    t = type(value)
    if value is None or t is str or t is int or t is bool or t is float:
        return value
    if t is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                return _round_trip(value)
            out[k] = json_value(v)
        return out
    if t is list or t is tuple:
        return [json_value(v) for v in value]
    if t is datetime:
        return _datetime_text(value)
    return _round_trip(value)


def _datetime_text(value: datetime) -> str:
    """What DjangoJSONEncoder writes for a datetime (milliseconds, ``Z`` for UTC), without encoding a document."""
    r = value.isoformat()
    if value.microsecond:
        r = r[:23] + r[26:]
    if r.endswith("+00:00"):
        r = r.removesuffix("+00:00") + "Z"
    return r


def canonical_value(value: Any) -> Any:
    """``_canonical(json_value(value))`` in one walk (the content hash of every audit row takes it): plain JSON
    walked directly, whole floats made ints; anything else round-tripped through the encoder first."""
    t = type(value)
    if value is None or t is str or t is int or t is bool:
        return value
    if t is float:
        return int(value) if value.is_integer() else value
    if t is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                return _canonical(_round_trip(value))
            out[k] = canonical_value(v)
        return out
    if t is list or t is tuple:
        return [canonical_value(v) for v in value]
    if t is datetime:
        return _datetime_text(value)
    return _canonical(_round_trip(value))


def _round_trip(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def _at(value: datetime | str) -> str:
    if isinstance(value, str):  # a migration may read raw strings
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content_text(content: dict[str, Any]) -> str:
    """The canonical text of one audit row's content, which :func:`content_digest` hashes."""
    payload = {
        "at": _at(content["at"]),
        "actor_id": None if content.get("actor_id") is None else int(content["actor_id"]),
        "ip": content.get("ip") or None,
        "before": canonical_value(content.get("before")),
        "after": canonical_value(content.get("after")),
    }
    for name in ("actor_username", "actor_role", "action", "object_type", "object_id", "object_repr", "note"):
        payload[name] = content.get(name) or ""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_digest(content: dict[str, Any]) -> str:
    """The hash of one audit row's content (``content`` holds the :data:`CONTENT_FIELDS`)."""
    return hashlib.sha256(content_text(content).encode()).hexdigest()


def genesis(chain: int) -> str:
    """The ``prev_hash`` of a chain's first row (chain 1: 64 zeros, as when there was one chain)."""
    if int(chain) == HEAD_PK:
        return GENESIS
    return hashlib.sha256(f"civicgrid-audit-chain:{int(chain)}".encode()).hexdigest()


def link(seq: int, prev_hash: str, content_hash: str) -> str:
    """The row hash: the link to the previous row. (The SQL in :func:`append` computes the same.)"""
    return hashlib.sha256(f"{int(seq)}:{prev_hash}:{content_hash}".encode()).hexdigest()


def digest(*, seq: int, prev_hash: str, content: dict[str, Any]) -> str:
    """The row hash of one audit row."""
    return link(seq, prev_hash, content_digest(content))


def row_content(row) -> dict[str, Any]:
    return {name: getattr(row, name) for name in CONTENT_FIELDS}


def _sqlite_sha256(text):
    return None if text is None else hashlib.sha256(str(text).encode()).hexdigest()


def register_sqlite_functions(sender=None, connection=None, **kwargs) -> None:
    """``connection_created`` receiver: SQLite has no SHA-256; give each connection ours."""
    if connection is not None and connection.vendor == "sqlite":
        connection.connection.create_function("cg_sha256", 1, _sqlite_sha256, deterministic=True)


def _insert_sql(
    connection,
    columns: str,
    marks: str,
    together: list[str] = (),
    *,
    pick: bool = False,
    ids_cte: str = "",
    content: str = "%s",
    returning: str = "",
) -> str:
    """The append statement. ``pick`` (PostgreSQL): take the first anchor nobody holds, the connection's last
    chain first (parameters: CHAINS, that chain); it inserts nothing when every anchor is held. Otherwise: wait
    for the anchor whose number is the last parameter. ``ids_cte``, ``content`` and ``returning``: see
    :func:`append`'s ``new_ids``."""
    if connection.vendor == "postgresql":
        row_hash = f"encode(sha256(convert_to((h.seq + 1)::text || ':' || h.hash || ':' || {content}, 'UTF8')), 'hex')"
        lock = " FOR UPDATE"
    else:
        row_hash = "cg_sha256((h.seq + 1) || ':' || h.hash || ':' || %s)"
        lock = ""
    # each statement written together runs only if an anchor was taken: without one nothing is written, and the
    # whole statement runs again (waiting for an anchor, or after rebuilding a missing one)
    if pick:
        taken = "SELECT 1 FROM h"
        ctes = [
            "h AS (SELECT id, seq, hash FROM core_auditchainhead WHERE id BETWEEN 1 AND %s::integer"
            " ORDER BY id = %s::integer DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
        ]
        source = " FROM h"
    else:
        taken = "SELECT 1 FROM core_auditchainhead WHERE id = %s"
        ctes = []
        source = f" FROM core_auditchainhead h WHERE h.id = %s{lock}"
    ctes += [f"w{i} AS ({stmt} WHERE EXISTS ({taken}))" for i, stmt in enumerate(together)]
    if ids_cte:
        ctes.insert(0, ids_cte)
    return (
        (f"WITH {', '.join(ctes)} " if ctes else "")
        + f"INSERT INTO core_auditlog ({columns}, chain, seq, prev_hash, row_hash)"
        f" SELECT {marks}, h.id, h.seq + 1, h.hash, {row_hash}{source}"
        f" RETURNING id, chain, seq, prev_hash, row_hash{returning}"
    )


# (alias, vendor, statements written together, pick) -> (AuditLog fields, the INSERT), computed once
_PLANS: dict[tuple, tuple[list, str]] = {}


def _plan(
    connection, together_sql: tuple, *, one_statement: bool, pick: bool, new_ids: tuple = ()
) -> tuple[list, str]:
    key = (connection.alias, connection.vendor, together_sql, pick, new_ids)
    plan = _PLANS.get(key)
    if plan is None:
        from civicgrid.core.bulk import PENDING_ID, new_ids_cte, pending_id_sql, typed_placeholders
        from civicgrid.core.models import AuditLog

        fields = [
            f
            for f in AuditLog._meta.concrete_fields
            if f.attname not in ("id", "chain", "seq", "prev_hash", "row_hash")
        ]
        # the one-statement form is prepared (server-side binding): its parameters carry their column types
        marks = typed_placeholders(fields, connection) if one_statement else ["%s"] * len(fields)
        extra: dict = {}
        if new_ids:
            # the first new id stands in the row's texts as PENDING_ID: written in by the statement itself
            first = pending_id_sql(0)
            marker = f"'{PENDING_ID}'"
            for i, f in enumerate(fields):
                if f.attname in ("object_id", "object_repr"):
                    marks[i] = f"replace(%s, {marker}, {first}::text)"
                elif f.attname == "after":
                    marks[i] = f"replace(%s, {marker}, {first}::text)::jsonb"
            extra = {
                "ids_cte": new_ids_cte(connection, new_ids),
                "content": f"encode(sha256(convert_to(replace(%s, {marker}, {first}::text), 'UTF8')), 'hex')",
                "returning": "".join(f", {pending_id_sql(i)}" for i in range(len(new_ids))),
            }
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        sql = _insert_sql(connection, columns, ", ".join(marks), list(together_sql), pick=pick, **extra)
        plan = _PLANS[key] = (fields, sql)
    return plan


class PendingIdClash(Exception):
    """The row's texts hold :data:`civicgrid.core.bulk.PENDING_ID` elsewhere than where the new id goes: the
    caller takes its ids first (:func:`civicgrid.core.bulk.take_ids`) and appends without ``new_ids``."""


def append(row, *, together: Sequence[tuple[str, list]] = (), new_ids: tuple = ()) -> list[int]:
    """Insert an unsaved AuditLog ``row`` as the next link of a chain (one statement; see the module doc).
    Must run inside the writer's transaction — except on PostgreSQL with ``together``.

    ``together``: ``(sql, params)`` of ``INSERT … SELECT %s, …`` statements (no WHERE;
    :func:`civicgrid.core.bulk.insert_statement`) to write with the row. PostgreSQL: parts of the same statement,
    atomic by itself; elsewhere they run just before the row, in the caller's transaction.

    ``new_ids`` (PostgreSQL, with ``together``): models whose next ids the statement itself takes (no round trip
    for them first); the statements written together refer to them as ``pending_id_sql(i)``, and the row's
    ``object_id``, ``object_repr`` and ``after`` hold the first as :data:`~civicgrid.core.bulk.PENDING_ID`, which
    the statement replaces — in the stored row and in the text its hash is taken of. Returns the ids taken; a
    row whose texts hold that number anywhere else raises :class:`PendingIdClash` before anything is written."""
    from django.db import OperationalError, connection, transaction

    from civicgrid.core.bulk import PENDING_ID, saved_values

    postgres = connection.vendor == "postgresql"
    one_statement = bool(together) and postgres
    new_ids = tuple(new_ids) if one_statement else ()
    together_sql = tuple(t[0] for t in together) if one_statement else ()
    if one_statement:
        from civicgrid.core.bulk import prepared_cursor

        # the same text every time: prepared once per connection (parsed and planned once)
        cursor = prepared_cursor
    else:
        cursor = connection.cursor
    # the chain this connection wrote last: held until its transaction ends, so a transaction stays on one chain
    preferred = getattr(connection, "_civicgrid_audit_chain", HEAD_PK)
    fields, sql = _plan(connection, together_sql, one_statement=one_statement, pick=postgres, new_ids=new_ids)
    values = saved_values(row, fields, connection)
    marker = after_text = ""
    if new_ids:
        marker = str(PENDING_ID)
        content = content_text(row_content(row))
        after_text = json.dumps(row.after, cls=DjangoJSONEncoder, ensure_ascii=False)
        in_repr = row.object_repr.count(marker)
        if (
            row.object_id != marker
            or after_text.count(marker) != 1
            or in_repr > 1
            or content.count(marker) != 2 + in_repr
        ):
            raise PendingIdClash(marker)
        values[[f.attname for f in fields].index("after")] = after_text
    else:
        content = content_digest(row_content(row))

    def params_for(pick: bool, chain: int) -> list:
        if not one_statement:
            return [*([CHAINS, chain] if pick else []), *values, content, *([] if pick else [chain])]
        stmts = [p for _, stmt_params in together for p in (*stmt_params, *(() if pick else (chain,)))]
        return [*([CHAINS, chain] if pick else []), *stmts, *values, content, *([] if pick else [chain])]

    with cursor() as cur:
        if together and not one_statement:
            for stmt_sql, stmt_params in together:
                cur.execute(stmt_sql, stmt_params)
        try:
            cur.execute(sql, params_for(postgres, preferred))
        except OperationalError as exc:  # a SQLite connection opened before the app registry was ready
            if "cg_sha256" not in str(exc):
                raise
            register_sqlite_functions(connection=connection)
            cur.execute(sql, params_for(postgres, preferred))
        inserted = cur.fetchone()
        if inserted is None and postgres and ensure_heads():  # anchors were missing (an emptied database)
            cur.execute(sql, params_for(True, preferred))
            inserted = cur.fetchone()
        if inserted is None and postgres:  # every anchor is held: wait for ours
            _, sql = _plan(connection, together_sql, one_statement=one_statement, pick=False, new_ids=new_ids)
            cur.execute(sql, params_for(False, preferred))
            inserted = cur.fetchone()
        if inserted is None:  # no anchor row (an emptied database): make it, then insert
            with transaction.atomic():  # the one-statement form may run outside the caller's transaction
                _rebuild_head(preferred)
                if postgres:
                    _, sql = _plan(
                        connection, together_sql, one_statement=one_statement, pick=False, new_ids=new_ids
                    )
                cur.execute(sql, params_for(False, preferred))
                inserted = cur.fetchone()
    row.pk, row.chain, row.seq, row.prev_hash, row.row_hash = inserted[:5]
    taken = list(inserted[5:])
    if taken:  # the row as stored: the first new id in place of the marker
        real = str(taken[0])
        row.object_id = real
        row.object_repr = row.object_repr.replace(marker, real)
        row.after = json.loads(after_text.replace(marker, real))
    connection._civicgrid_audit_chain = row.chain
    row._state.adding = False
    row._state.db = connection.alias
    return taken


def ensure_heads() -> bool:
    """Make the anchors that are missing, each from its chain's last row; True if one was made."""
    from civicgrid.core.models import AuditChainHead

    have = set(AuditChainHead.objects.values_list("pk", flat=True))
    missing = [chain for chain in range(1, CHAINS + 1) if chain not in have]
    for chain in missing:
        _head_from_log(chain)
    return bool(missing)


def _head_from_log(chain: int) -> None:
    from civicgrid.core.models import AuditChainHead, AuditLog

    last = (
        AuditLog.objects.filter(chain=chain, seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", "row_hash")
        .first()
    )
    seq, hash_ = last if last else (0, genesis(chain))
    AuditChainHead.objects.get_or_create(pk=chain, defaults={"seq": seq, "hash": hash_})


def _rebuild_head(chain: int = HEAD_PK) -> tuple[int, str]:
    """A chain's anchor row is missing (an emptied database, or someone deleted it): start it from the chain's
    last row. ``verify`` still checks every row; only a truncation made together with deleting the anchor goes
    unnoticed."""
    from civicgrid.core.models import AuditChainHead

    _head_from_log(chain)
    return AuditChainHead.objects.select_for_update().filter(pk=chain).values_list("seq", "hash").get()


# --- verification ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    seq: int | None
    row_id: int | None
    message: str
    chain: int = HEAD_PK

    def __str__(self) -> str:
        where = [] if self.chain == HEAD_PK else [f"链 {self.chain}"]
        if self.seq is not None:
            where.append(f"序号 {self.seq}")
        if self.row_id is not None:
            where.append(f"id={self.row_id}")
        return f"{'，'.join(where) or '锚点'}：{self.message}"


@dataclass(frozen=True)
class Report:
    checked: int
    last_seq: int  # chain 1's last sequence number (the chain checked last, when a problem was found)
    problem: Problem | None
    chains: dict = field(default_factory=dict)  # chain -> last sequence number, for every chain with rows

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(*, chunk_size: int = 2000) -> Report:
    """Walk every chain in sequence order; stop at the first broken row."""
    from civicgrid.core.models import AuditChainHead, AuditLog

    unchained = AuditLog.objects.filter(seq__isnull=True).order_by("id").values_list("id", flat=True).first()
    if unchained is not None:
        return Report(0, 0, Problem(None, unchained, "该行没有链序号（绕过系统直接插入）"))
    heads = {pk: (seq, hash_) for pk, seq, hash_ in AuditChainHead.objects.values_list("pk", "seq", "hash")}
    in_use = set(AuditLog.objects.order_by().values_list("chain", flat=True).distinct())
    checked, lasts = 0, {}
    for chain in sorted(in_use | set(heads)):
        n, last_seq, problem = _verify_chain(chain, heads.get(chain), chunk_size)
        checked += n
        if problem is not None:
            return Report(checked, last_seq, problem, lasts)
        if last_seq:
            lasts[chain] = last_seq
    return Report(checked, lasts.get(HEAD_PK, 0), None, lasts)


def _verify_chain(
    chain: int, head: tuple[int, str] | None, chunk_size: int
) -> tuple[int, int, Problem | None]:
    """(rows checked, last good sequence number, the first problem) of one chain."""
    from civicgrid.core.models import AuditLog

    def problem(seq, row_id, message):
        return Problem(seq, row_id, message, chain)

    expected_seq, prev = 1, genesis(chain)
    checked = 0
    fields = ("id", "seq", "prev_hash", "row_hash", *CONTENT_FIELDS)
    last_seen = 0
    while True:
        rows = list(
            AuditLog.objects.filter(chain=chain, seq__gt=last_seen)
            .order_by("seq")
            .values(*fields)[:chunk_size]
        )
        if not rows:
            break
        for r in rows:
            if r["seq"] != expected_seq:
                return (
                    checked,
                    expected_seq - 1,
                    problem(
                        expected_seq,
                        None,
                        f"缺少序号 {expected_seq}"
                        + (f"–{r['seq'] - 1}" if r["seq"] - 1 > expected_seq else "")
                        + f" 的记录（已被删除；下一条现存记录为序号 {r['seq']}，id={r['id']}）",
                    ),
                )
            if r["prev_hash"] != prev:
                return (
                    checked,
                    expected_seq - 1,
                    problem(r["seq"], r["id"], "前一条记录的哈希不符（链被改动）"),
                )
            content = {name: r[name] for name in CONTENT_FIELDS}
            if digest(seq=r["seq"], prev_hash=r["prev_hash"], content=content) != r["row_hash"]:
                return checked, expected_seq - 1, problem(r["seq"], r["id"], "记录内容被修改（哈希不符）")
            prev = r["row_hash"]
            expected_seq += 1
            checked += 1
        last_seen = rows[-1]["seq"]
    last_seq = expected_seq - 1
    if head is None:
        if last_seq:
            return checked, last_seq, problem(None, None, "锚点记录缺失（无法确认日志末尾是否被截断）")
        return checked, last_seq, None
    if head[0] > last_seq:
        return (
            checked,
            last_seq,
            problem(
                last_seq + 1,
                None,
                f"日志末尾被截断：锚点记录最后序号为 {head[0]}，日志只到序号 {last_seq}",
            ),
        )
    if head[0] < last_seq or head[1] != prev:
        return (
            checked,
            last_seq,
            problem(
                head[0] + 1 if head[0] < last_seq else last_seq, None, "锚点记录与日志末尾不符（链尾被改动）"
            ),
        )
    return checked, last_seq, None
