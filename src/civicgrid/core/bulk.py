"""Set-based inserts for the few write paths that must add many rows at once (historical imports).

The owning module decides what is written (the case engine for its tables, intake for its ledger); this module
only knows how to push rows fast.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from django.db import DatabaseError


class SetBasedInserter:
    """Insert many rows of one model in one statement stream: PostgreSQL ``COPY … FROM STDIN``, SQLite
    ``executemany``. Ids are taken up front (the PostgreSQL sequence, or MAX(id) under SQLite's write lock) so the
    caller can link dependent rows without reading anything back. Rows are dicts by attname; missing columns get
    the field default. No ``save()``, no signals: callers must only use it for rows that need neither.
    Call inside ``transaction.atomic()``.
    """

    def __init__(self, model, *, take_ids: bool = True):
        from django.db import connection

        self.model = model
        # False: the database numbers the rows (identity/autoincrement default) and insert() returns [] — for rows
        # nothing links to, it saves taking the ids up front
        self.take_ids = take_ids
        self.connection = connection
        self.table = model._meta.db_table
        self.fields = [f for f in model._meta.concrete_fields]
        self.columns = [f.column for f in self.fields]
        self.attnames = [f.attname for f in self.fields]
        self.pk_attname = model._meta.pk.attname
        self._sequence: str | None = None  # PostgreSQL: the pk's sequence, looked up once
        self._defaults = {}
        for f in self.fields:
            if f.primary_key:
                continue
            if f.has_default() and not callable(f.default):
                self._defaults[f.attname] = f.get_db_prep_save(f.default, connection)
            elif f.null:
                self._defaults[f.attname] = None
            elif f.has_default():
                self._defaults[f.attname] = None  # callable default: the caller must supply it
            else:
                self._defaults[f.attname] = (
                    "" if f.get_internal_type() in ("CharField", "TextField") else None
                )
        self._json = {f.attname for f in self.fields if f.get_internal_type() == "JSONField"}
        self._encoders = {
            f.attname: getattr(f, "encoder", None) for f in self.fields if f.attname in self._json
        }
        # SQLite stores datetimes as UTC text; PostgreSQL (COPY) takes aware datetimes as they are
        self._datetimes = (
            set()
            if connection.vendor == "postgresql"
            else {f.attname for f in self.fields if f.get_internal_type() == "DateTimeField"}
        )
        # the per-row plan, computed once: (attname, default) per column, the pk's position, and the columns
        # whose non-None values need converting (JSON text, SQLite datetimes)
        self._plan = [(name, self._defaults.get(name)) for name in self.attnames]
        self._pk_index = self.attnames.index(self.pk_attname)
        adapt = connection.ops.adapt_datetimefield_value
        self._convert: list[tuple[int, object]] = []
        for i, name in enumerate(self.attnames):
            if name in self._json:
                # one encoder per column, reused: what json.dumps(v, cls=…, ensure_ascii=False) builds per call
                encoder = (self._encoders[name] or json.JSONEncoder)(ensure_ascii=False)
                if connection.vendor == "postgresql":
                    from psycopg.types.json import Jsonb

                    # encoded by COPY (text or binary) with the same encoder
                    self._convert.append((i, lambda v, dumps=encoder.encode: Jsonb(v, dumps=dumps)))
                else:
                    self._convert.append((i, encoder.encode))
            elif name in self._datetimes:
                self._convert.append((i, adapt))
        # PostgreSQL: the column types for binary COPY, read from the catalog on first use; False = text COPY
        self._copy_types: list[int] | bool | None = None

    def _binary_types(self, cur) -> list[int] | None:
        """The type OIDs of ``self.columns`` for a binary COPY, or ``None`` to use text COPY (a column type psycopg
        has no binary dumper for). Binary COPY spends about a third of the client CPU of text COPY per row (no
        value formatting) and the server parses no timestamp text."""
        if self._copy_types is None:
            import psycopg
            from psycopg import pq

            cur.execute(
                "SELECT attname, atttypid FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [self.connection.ops.quote_name(self.table)],
            )
            by_column = dict(cur.fetchall())
            try:
                oids = [int(by_column[c]) for c in self.columns]
                adapters = cur.cursor.adapters
                for oid in oids:
                    adapters.get_dumper_by_oid(oid, pq.Format.BINARY)
            # an unknown column or a type without a binary dumper: text COPY, which takes anything
            except (KeyError, psycopg.ProgrammingError):
                self._copy_types = False
            else:
                self._copy_types = oids
        return self._copy_types or None

    def _take_ids(self, n: int) -> list[int]:
        qn = self.connection.ops.quote_name
        with self.connection.cursor() as cur:
            if self.connection.vendor == "postgresql":
                if self._sequence is None:
                    # once, not per id: pg_get_serial_sequence() is STABLE, so PostgreSQL calls it (a catalog
                    # lookup) for every row of generate_series — 13× the cost of nextval itself
                    cur.execute(
                        "SELECT pg_get_serial_sequence(%s, %s)", [self.table, self.model._meta.pk.column]
                    )
                    self._sequence = cur.fetchone()[0]
                cur.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [self._sequence, n])
                return [r[0] for r in cur.fetchall()]
            cur.execute(f"SELECT COALESCE(MAX({qn(self.model._meta.pk.column)}), 0) FROM {qn(self.table)}")
            top = cur.fetchone()[0]
            try:
                cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
                seq = cur.fetchone()
                top = max(top, seq[0] if seq else 0)
            except DatabaseError:  # pragma: no cover - table without AUTOINCREMENT
                pass
            return list(range(top + 1, top + 1 + n))

    def insert(self, rows: list[dict]) -> list[int]:
        """Insert ``rows`` (dicts by attname, without the pk); returns the new ids in order (``[]`` when the
        inserter was made with ``take_ids=False``)."""
        if not rows:
            return []
        plan, pk_index, convert = self._plan, self._pk_index, self._convert
        tuples = []
        if self.take_ids:
            ids = self._take_ids(len(rows))
            for row_id, row in zip(ids, rows, strict=True):
                get = row.get
                values = [get(name, default) for name, default in plan]
                values[pk_index] = row_id
                for i, fn in convert:
                    v = values[i]
                    if v is not None:
                        values[i] = fn(v)
                tuples.append(values)
            columns = self.columns
        else:
            ids = []
            for row in rows:
                get = row.get
                values = [get(name, default) for name, default in plan]
                for i, fn in convert:
                    v = values[i]
                    if v is not None:
                        values[i] = fn(v)
                del values[pk_index]
                tuples.append(values)
            columns = self.columns[:pk_index] + self.columns[pk_index + 1 :]
        qn = self.connection.ops.quote_name
        cols = ", ".join(qn(c) for c in columns)
        with self.connection.cursor() as cur:
            if self.connection.vendor == "postgresql":
                types = self._binary_types(cur)
                if types:
                    if not self.take_ids:
                        types = types[:pk_index] + types[pk_index + 1 :]
                    statement = f"COPY {qn(self.table)} ({cols}) FROM STDIN (FORMAT BINARY)"
                else:
                    statement = f"COPY {qn(self.table)} ({cols}) FROM STDIN"
                with cur.cursor.copy(statement) as copy:
                    if types:
                        copy.set_types(types)
                    for values in tuples:
                        copy.write_row(values)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cur.executemany(f"INSERT INTO {qn(self.table)} ({cols}) VALUES ({marks})", tuples)
        return ids


# --- one row, written as part of a bigger statement -------------------------------------------------------------

_sequences: dict[tuple[str, str], str] = {}
_insert_plans: dict[tuple[type, str], tuple[str, list]] = {}


def typed_placeholders(fields, connection) -> list[str]:
    """``%s`` per field; on PostgreSQL with the column's type cast on for a non-text column (``%s::bigint``), so
    that an ``INSERT … SELECT`` of parameters means the same with server-side binding (where an untyped parameter
    in a select list is text, and a NULL or an address would not go into a bigint or inet column) as with
    literals. Text columns take the parameter as it is: an over-long value is still refused, not cut."""
    if connection.vendor != "postgresql":
        return ["%s"] * len(fields)
    out = []
    for f in fields:
        db_type = f.db_type(connection)
        if not db_type or db_type.startswith(("varchar", "text", "char")) or "(" in db_type:
            out.append("%s")
        else:
            out.append(f"%s::{db_type}")
    return out


_prepared_cursor_class = None


def prepared_cursor():
    """PostgreSQL: a Django cursor (logged like any other) over a psycopg cursor with server-side binding that
    prepares every statement, so a hot statement that runs many times on a connection is parsed and planned
    once (about 40% of the database's CPU for a case create). Use it only for statements written for it
    (:func:`typed_placeholders`). ``CIVICGRID["PREPARE_STATEMENTS"] = False`` (``CIVICGRID_PG_PREPARE=0``) turns
    the preparing off, for a connection pooler in transaction mode that cannot keep prepared statements."""
    global _prepared_cursor_class
    from django.db import connection

    if _prepared_cursor_class is None:
        import psycopg

        class PreparedCursor(psycopg.Cursor):
            def execute(self, query, params=None, **kwargs):
                kwargs.setdefault("prepare", True if _prepare_enabled() else None)
                return super().execute(query, params, **kwargs)

            def _convert_query(self, query, params=None):
                pgq = _convert_cached(self, query, params) or super()._convert_query(query, params)
                # what Django's query log reads (``_query.query``), which a prepared execution does not set
                self._query = pgq
                return pgq

        _prepared_cursor_class = PreparedCursor
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None and _prepare_enabled():
        # Django turns psycopg's automatic preparation off (None); a number this large keeps it off for every other
        # statement and lets the ones asked for (prepare=True, only here) be prepared
        raw.prepare_threshold = 2**31 - 1
    with connection.wrap_database_errors:
        return connection._prepare_cursor(_prepared_cursor_class(raw))


# query text -> psycopg's parse of its %s placeholders. psycopg caches that parse only for statements of at most 50
# parameters; the one-statement create has about 80, and parsing its text again costs about 0.3 ms a request.
_split_queries: dict[tuple[str, str], tuple] = {}


def _convert_cached(cursor, query, params):
    """psycopg's ``PostgresQuery`` for ``query`` with the placeholder parse cached (our few statements only), or
    None to let psycopg do it (bytes or SQL objects, no parameters, a psycopg without these internals)."""
    if not isinstance(query, str) or params is None:
        return None
    try:
        from psycopg._queries import _query2pg_nocache

        encoding = cursor._tx.encoding
        key = (query, encoding)
        split = _split_queries.get(key)
        if split is None:
            if len(_split_queries) > 64:
                _split_queries.clear()
            split = _split_queries[key] = _query2pg_nocache(query.encode(encoding), encoding)
        pgq = cursor._query_cls(cursor._tx)
        pgq.query, pgq._want_formats, pgq._order, pgq._parts = split
    except (ImportError, AttributeError, TypeError, ValueError):  # pragma: no cover - another psycopg
        return None
    pgq.dump(params)
    return pgq


def _prepare_enabled() -> bool:
    from django.conf import settings

    return bool((getattr(settings, "CIVICGRID", None) or {}).get("PREPARE_STATEMENTS", True))


def take_ids(*models) -> list[int]:
    """PostgreSQL: one new id from each model's pk sequence, in one query (the caller links rows by them). As a
    request's first query it doubles as the connection health check (:func:`as_health_check`)."""
    return as_health_check(lambda: _take_ids(models))


def as_health_check(run):
    """``run()`` — a request's first query — doubling as Django's connection health check (``CONN_HEALTH_CHECKS``,
    whose ``SELECT 1`` would otherwise cost a round trip of its own): answered, the connection is usable; failed
    on a connection that turns out unusable, the connection is replaced and ``run()`` runs once more — what the
    check would have done. The usual failure is a connection the server dropped while it sat idle (a restart, an
    idle timeout): the statement never reached it. Only a connection that breaks after the server committed the
    statement and before its answer arrives would have ``run()`` write twice; a case filed with an
    Idempotency-Key then meets its own key on the second run and is answered as a replay."""
    from django.db import InterfaceError, OperationalError, connection

    if (
        connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
        and not connection.in_atomic_block
    ):
        connection.health_check_done = True
        try:
            return run()
        except (InterfaceError, OperationalError):
            if connection.is_usable():
                raise
            connection.close()
    return run()


def _take_ids(models) -> list[int]:
    from django.db import connection

    with prepared_cursor() as cur:
        sql = _nextval_sql.get((connection.alias, models))
        if sql is None:
            # the names written in (as SQL literals): a statement without parameters has nothing to convert
            literals = ", ".join(_nextval(name) for name in _sequence_names(cur, connection, models))
            sql = _nextval_sql[(connection.alias, models)] = f"SELECT {literals}"
        cur.execute(sql)
        return list(cur.fetchone())


_nextval_sql: dict[tuple, str] = {}


def _sequence_names(cur, connection, models) -> list[str]:
    """Each model's pk sequence (looked up once per process)."""
    names = []
    for model in models:
        key = (connection.alias, model._meta.db_table)
        if key not in _sequences:
            cur.execute(
                "SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column]
            )
            _sequences[key] = cur.fetchone()[0]
        names.append(_sequences[key])
    return names


def _nextval(sequence: str) -> str:
    return "nextval('{}'::regclass)".format(sequence.replace("'", "''"))


# A new row's id before the statement that inserts it has taken it (auditchain.append's ``new_ids``): a number no
# row has and no text holds by chance (made anew by every process), replaced by the statement itself.
PENDING_ID = -(10**27 + secrets.randbelow(9 * 10**27))


def pending_id_sql(i: int) -> str:
    """The SQL for the ``i``-th id taken by :func:`new_ids_cte` within the same statement."""
    return f"(SELECT i{i} FROM new_ids)"


def new_ids_cte(connection, models: tuple) -> str:
    """``new_ids AS MATERIALIZED (SELECT nextval(…) AS i0, …)``: one new id of each model, taken once by the
    statement that writes the rows (see :func:`pending_id_sql`)."""
    with connection.cursor() as cur:
        names = _sequence_names(cur, connection, models)
    taken = ", ".join(f"{_nextval(name)} AS i{i}" for i, name in enumerate(names))
    return f"new_ids AS MATERIALIZED (SELECT {taken})"


def insert_statement(obj, *, computed: dict[str, str] | None = None) -> tuple[str, list]:
    """``INSERT INTO <table> (<every column>) SELECT %s, …`` and its parameters for the unsaved
    instance ``obj`` whose pk is set: the values ``save()`` would write (each field's ``pre_save`` value prepared
    for the database), to run as part of a bigger statement (see :func:`civicgrid.core.auditchain.append`).
    No ``save()``: the caller sends ``pre_save``/``post_save`` if the model has receivers and marks the instance
    saved (:func:`mark_saved`). ``computed``: attname → an SQL expression written instead of that field's value
    (a new id taken by the same statement, :func:`pending_id_sql`)."""
    from django.db import connection

    model = type(obj)
    key = (model, connection.alias, tuple(sorted(computed.items())) if computed else ())
    plan = _insert_plans.get(key)
    if plan is None:
        qn = connection.ops.quote_name
        fields = list(model._meta.concrete_fields)
        marks = typed_placeholders(fields, connection)
        for i, f in enumerate(fields):
            if computed and f.attname in computed:
                marks[i] = computed[f.attname]
        plan = _insert_plans[key] = (
            f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
            f"SELECT {', '.join(marks)}",
            [
                (f, f.attname, _plain_types(f, connection))
                for f in fields
                if not (computed and f.attname in computed)
            ],
        )
    sql, fields = plan
    if obj.pk is None and not (computed and model._meta.pk.attname in computed):
        raise ValueError("insert_statement() needs the pk set (take_ids)")
    values = []
    for f, attname, plain in fields:
        if plain:
            value = getattr(obj, attname)
            if value is None or _as_it_is(value, plain):
                values.append(value)
                continue
        values.append(f.get_db_prep_save(f.pre_save(obj, True), connection))
    return sql, values


def saved_values(obj, fields, connection) -> list:
    """``[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]``, with the plain values
    (:func:`_plain_types`) passed as they are."""
    values = []
    for f in fields:
        key = (f, connection.vendor)
        plain = _plain_by_field.get(key)
        if plain is None:
            plain = _plain_by_field[key] = _plain_types(f, connection)
        value = getattr(obj, f.attname)
        if plain and (value is None or _as_it_is(value, plain)):
            values.append(value)
        else:
            values.append(f.get_db_prep_save(value, connection))
    return values


def _as_it_is(value, plain: tuple[type, ...]) -> bool:
    """``value`` (not None) goes to the database unprepared: one of the field's plain types (an aware datetime
    for a DateTimeField)."""
    return type(value) in plain and (plain is not _AWARE or value.tzinfo is not None)


_plain_by_field: dict[tuple, tuple[type, ...]] = {}
# a DateTimeField without auto_now(_add) sends an aware datetime as it is (naive ones go through Django's warning)
_AWARE: tuple[type, ...] = (datetime,)


def _plain_types(field, connection) -> tuple[type, ...]:
    """The value types ``field`` sends to ``connection`` as they are (its ``pre_save`` is the attribute and its
    ``get_db_prep_save`` returns such a value unchanged), to skip Django's per-field preparation on the hot
    insert; empty where Django must prepare (JSON, decimals, auto_now dates, custom fields, other databases)."""
    from django.db import models

    if connection.vendor != "postgresql":
        return ()
    if type(field) is models.DateTimeField and not field.auto_now and not field.auto_now_add:
        return _AWARE
    if type(field).pre_save is not models.Field.pre_save:
        return ()
    exact = {
        models.CharField: (str,),
        models.TextField: (str,),
        models.SlugField: (str,),
        models.EmailField: (str,),
        models.BooleanField: (bool,),
        models.IntegerField: (int,),
        models.BigIntegerField: (int,),
        models.SmallIntegerField: (int,),
        models.PositiveIntegerField: (int,),
        models.PositiveSmallIntegerField: (int,),
        models.PositiveBigIntegerField: (int,),
        models.BigAutoField: (int,),
        models.AutoField: (int,),
        models.FloatField: (float,),
    }
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        return (int,) if type(target) in (models.AutoField, models.BigAutoField) else ()
    return exact.get(type(field), ())


def mark_saved(*objs) -> None:
    """The instances were written by :func:`insert_statement`: they are now loaded rows, as after ``save()``."""
    from django.db import connection

    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
