"""The audit log's hash chain: each row stores the hash of the row before it and the hash of its own content.

``row_hash = sha256(canonical JSON of {seq, prev_hash, at, actor, action, object, before, after, note, ip})``
where ``prev_hash`` is the previous row's ``row_hash`` (64 zeros for the first row). A separate anchor row
(:class:`~civicgrid.core.models.AuditChainHead`) holds the last sequence number and hash, so altering a row,
deleting one or cutting off the tail (``DELETE … WHERE id > N``, ``TRUNCATE``) all break the chain and are
found by ``civicgrid audit verify``.

Appending takes the anchor row ``FOR UPDATE`` (PostgreSQL: concurrent writers on several app servers queue for
it; SQLite: transactions already start ``IMMEDIATE``, one writer at a time) and holds it until the writer's
transaction commits, so sequence numbers are gap-free in commit order.

This module is imported by migrations: keep :func:`digest` stable, or existing chains stop verifying.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

GENESIS = "0" * 64
HEAD_PK = 1
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
    """A before/after value exactly as a JSONField stores and returns it."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def _at(value: datetime | str) -> str:
    if isinstance(value, str):  # a migration may read raw strings
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def digest(*, seq: int, prev_hash: str, content: dict[str, Any]) -> str:
    """The row hash of one audit row (``content`` holds the :data:`CONTENT_FIELDS`)."""
    payload = {
        "seq": int(seq),
        "prev": prev_hash,
        "at": _at(content["at"]),
        "actor_id": None if content.get("actor_id") is None else int(content["actor_id"]),
        "ip": content.get("ip") or None,
        "before": _canonical(json_value(content.get("before"))),
        "after": _canonical(json_value(content.get("after"))),
    }
    for name in ("actor_username", "actor_role", "action", "object_type", "object_id", "object_repr", "note"):
        payload[name] = content.get(name) or ""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def row_content(row) -> dict[str, Any]:
    return {name: getattr(row, name) for name in CONTENT_FIELDS}


def append(row) -> None:
    """Give an unsaved AuditLog ``row`` the next sequence number and its hashes, insert it and move the anchor.
    Must run inside the writer's transaction.

    Hot path (every write of the platform): raw SQL, two statements on PostgreSQL (lock-and-read the anchor;
    insert the row and move the anchor in one statement), three cheap in-process ones on SQLite."""
    from django.db import connection

    from civicgrid.core.models import AuditLog

    with connection.cursor() as cur:
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        cur.execute(f"SELECT seq, hash FROM core_auditchainhead WHERE id = %s{lock}", [HEAD_PK])
        head = cur.fetchone() or _rebuild_head()
        seq, prev = head[0] + 1, head[1]
        row.seq, row.prev_hash = seq, prev
        row.row_hash = digest(seq=seq, prev_hash=prev, content=row_content(row))
        fields = [f for f in AuditLog._meta.concrete_fields if not f.primary_key]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        values = [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields]
        marks = ", ".join(["%s"] * len(fields))
        insert = f"INSERT INTO core_auditlog ({columns}) VALUES ({marks}) RETURNING id"
        if connection.vendor == "postgresql":
            cur.execute(
                f"WITH moved AS (UPDATE core_auditchainhead SET seq = %s, hash = %s WHERE id = %s) {insert}",
                [seq, row.row_hash, HEAD_PK, *values],
            )
            row.pk = cur.fetchone()[0]
        else:
            cur.execute(insert, values)
            row.pk = cur.fetchone()[0]
            cur.execute(
                "UPDATE core_auditchainhead SET seq = %s, hash = %s WHERE id = %s",
                [seq, row.row_hash, HEAD_PK],
            )
    row._state.adding = False
    row._state.db = connection.alias


def _rebuild_head() -> tuple[int, str]:
    """The anchor row is missing (an emptied database, or someone deleted it): start it from the last chained
    row. ``verify`` still checks every row; only a truncation made together with deleting the anchor goes
    unnoticed."""
    from civicgrid.core.models import AuditChainHead, AuditLog

    last = AuditLog.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "row_hash").first()
    seq, hash_ = last if last else (0, GENESIS)
    AuditChainHead.objects.get_or_create(pk=HEAD_PK, defaults={"seq": seq, "hash": hash_})
    return AuditChainHead.objects.select_for_update().filter(pk=HEAD_PK).values_list("seq", "hash").get()


# --- verification ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    seq: int | None
    row_id: int | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.seq is not None:
            where.append(f"序号 {self.seq}")
        if self.row_id is not None:
            where.append(f"id={self.row_id}")
        return f"{'，'.join(where) or '锚点'}：{self.message}"


@dataclass(frozen=True)
class Report:
    checked: int
    last_seq: int
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(*, chunk_size: int = 2000) -> Report:
    """Walk the chain in sequence order; stop at the first broken row."""
    from civicgrid.core.models import AuditChainHead, AuditLog

    unchained = AuditLog.objects.filter(seq__isnull=True).order_by("id").values_list("id", flat=True).first()
    if unchained is not None:
        return Report(0, 0, Problem(None, unchained, "该行没有链序号（绕过系统直接插入）"))
    expected_seq, prev = 1, GENESIS
    checked = 0
    fields = ("id", "seq", "prev_hash", "row_hash", *CONTENT_FIELDS)
    last_seen = 0
    while True:
        rows = list(AuditLog.objects.filter(seq__gt=last_seen).order_by("seq").values(*fields)[:chunk_size])
        if not rows:
            break
        for r in rows:
            if r["seq"] != expected_seq:
                return Report(
                    checked,
                    expected_seq - 1,
                    Problem(
                        expected_seq,
                        None,
                        f"缺少序号 {expected_seq}"
                        + (f"–{r['seq'] - 1}" if r["seq"] - 1 > expected_seq else "")
                        + f" 的记录（已被删除；下一条现存记录为序号 {r['seq']}，id={r['id']}）",
                    ),
                )
            if r["prev_hash"] != prev:
                return Report(
                    checked, expected_seq - 1, Problem(r["seq"], r["id"], "前一条记录的哈希不符（链被改动）")
                )
            content = {name: r[name] for name in CONTENT_FIELDS}
            if digest(seq=r["seq"], prev_hash=r["prev_hash"], content=content) != r["row_hash"]:
                return Report(
                    checked, expected_seq - 1, Problem(r["seq"], r["id"], "记录内容被修改（哈希不符）")
                )
            prev = r["row_hash"]
            expected_seq += 1
            checked += 1
        last_seen = rows[-1]["seq"]
    last_seq = expected_seq - 1
    head = AuditChainHead.objects.filter(pk=HEAD_PK).values_list("seq", "hash").first()
    if head is None:
        if last_seq:
            return Report(
                checked, last_seq, Problem(None, None, "锚点记录缺失（无法确认日志末尾是否被截断）")
            )
        return Report(checked, last_seq, None)
    if head[0] > last_seq:
        return Report(
            checked,
            last_seq,
            Problem(
                last_seq + 1,
                None,
                f"日志末尾被截断：锚点记录最后序号为 {head[0]}，日志只到序号 {last_seq}",
            ),
        )
    if head[0] < last_seq or head[1] != prev:
        return Report(
            checked,
            last_seq,
            Problem(
                head[0] + 1 if head[0] < last_seq else last_seq, None, "锚点记录与日志末尾不符（链尾被改动）"
            ),
        )
    return Report(checked, last_seq, None)
