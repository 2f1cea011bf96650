"""Write an audit row inside the caller's transaction.

Every service that writes calls :func:`record` inside its ``transaction.atomic()`` block, so the change and its
audit row commit together or not at all.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
from collections.abc import Sequence
from typing import Any

from django.db import models, transaction

from civicgrid.core import auditchain
from civicgrid.core.models import AuditLog

# set by RequestContextMiddleware so services need not pass the request around
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("civicgrid_current_ip", default=None)
# who "the system" is when a write has no signed-in actor (a server command sets e.g. ``cli:root``)
system_actor: contextvars.ContextVar[str] = contextvars.ContextVar("civicgrid_system_actor", default="system")

# the role an audit row records for a system actor (its channel is in actor_username: 系统（居民随手拍） …)
SYSTEM_ROLE = "system"


@contextlib.contextmanager
def acting_as(label: str):
    """Name writes without a signed-in actor after ``label`` (e.g. 系统（12345 导入）) while the block runs."""
    token = system_actor.set(label)
    try:
        yield
    finally:
        system_actor.reset(token)


# secrets (and big geometry) never reach the audit log
_SKIP_FIELDS = {"password", "geometry", "secret", "post_data", "get_data", "session_data"}


def snapshot(obj: models.Model | None, fields: list[str] | None = None) -> dict[str, Any] | None:
    """A JSON-safe dict of a model's concrete field values (FKs as ids). Secrets and big geometry are left out."""
    if obj is None:
        return None
    data: dict[str, Any] = {}
    for key, name, field_name in _snapshot_plan(type(obj)):
        if fields is not None and field_name not in fields and name not in fields:
            continue
        data[key] = getattr(obj, name)
    # what the encoder makes of it, so the value stored is exactly what JSON can hold
    return auditchain.json_value(data)


_snapshot_plans: dict[type, list[tuple[str, str, str]]] = {}


def _snapshot_plan(model: type[models.Model]) -> list[tuple[str, str, str]]:
    """(key in the snapshot, attribute, field name) of each concrete field a snapshot holds, worked out once per
    model (a case create takes a snapshot of some fifty fields)."""
    plan = _snapshot_plans.get(model)
    if plan is None:
        plan = _snapshot_plans[model] = [
            (f.name if not f.is_relation else f.attname, f.attname, f.name)
            for f in model._meta.concrete_fields
            if not (f.name in _SKIP_FIELDS or "hash" in f.name or f.name.endswith("secret"))
        ]
    return plan


def diff(before: dict | None, after: dict | None) -> tuple[dict | None, dict | None]:
    """Keep only changed keys (for updates)."""
    if before is None or after is None:
        return before, after
    keys = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def _normalized_ip(ip: str | None) -> str | None:
    """The address as the database gives it back (the hash chain hashes what is stored)."""
    if not ip:
        return None
    try:
        return ipaddress.ip_address(ip.strip()).compressed
    except ValueError:
        return None


def record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    object_repr: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
    together: Sequence[tuple[str, list]] = (),
    new_ids: tuple = (),
) -> AuditLog:
    """Append one audit row. Must run inside the writer's atomic block.

    ``together``: the writer's own ``INSERT … SELECT`` statements (:func:`civicgrid.core.bulk.insert_statement`),
    written with the row in one statement (:func:`civicgrid.core.auditchain.append`); on PostgreSQL that statement
    is atomic by itself and may run outside a transaction. ``new_ids``: see
    :func:`civicgrid.core.auditchain.append` (the ids taken are ``row.new_ids``)."""
    conn = transaction.get_connection()
    if not conn.in_atomic_block and not (together and conn.vendor == "postgresql"):
        raise RuntimeError(
            "audit.record() must be called inside transaction.atomic() together with the write"
        )
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
        object_repr = object_repr if object_repr is not None else str(obj)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    if authenticated and getattr(actor, "is_system", False):  # a channel without a person: named by it
        username, role = actor.system_label, SYSTEM_ROLE
    elif authenticated:
        username, role = actor.get_username(), getattr(actor, "role", "") or ""
    else:
        username, role = (str(actor) if actor else system_actor.get()), ""
    row = AuditLog(
        actor=actor if authenticated else None,
        actor_username=username[:150],
        actor_role=role,
        action=action,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        object_repr=(object_repr or "")[:200],
        before=before,
        after=after,
        note=note,
        ip=_normalized_ip(current_ip.get()),
    )
    row.new_ids = auditchain.append(row, together=together, new_ids=new_ids)
    return row
