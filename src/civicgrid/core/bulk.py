"""Set-based inserts for the few write paths that must add many rows at once (historical imports).

The owning module decides what is written (the case engine for its tables, intake for its ledger); this module
only knows how to push rows fast.
"""

from __future__ import annotations

import json

from django.db import DatabaseError


class SetBasedInserter:
    """Insert many rows of one model in one statement stream: PostgreSQL ``COPY … FROM STDIN``, SQLite
    ``executemany``. Ids are taken up front (the PostgreSQL sequence, or MAX(id) under SQLite's write lock) so the
    caller can link dependent rows without reading anything back. Rows are dicts by attname; missing columns get
    the field default. No ``save()``, no signals: callers must only use it for rows that need neither.
    Call inside ``transaction.atomic()``.
    """

    def __init__(self, model):
        from django.db import connection

        self.model = model
        self.connection = connection
        self.table = model._meta.db_table
        self.fields = [f for f in model._meta.concrete_fields]
        self.columns = [f.column for f in self.fields]
        self.attnames = [f.attname for f in self.fields]
        self.pk_attname = model._meta.pk.attname
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
                self._convert.append((i, encoder.encode))
            elif name in self._datetimes:
                self._convert.append((i, adapt))

    def _take_ids(self, n: int) -> list[int]:
        qn = self.connection.ops.quote_name
        with self.connection.cursor() as cur:
            if self.connection.vendor == "postgresql":
                cur.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [self.table, self.model._meta.pk.column, n],
                )
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
        """Insert ``rows`` (dicts by attname, without the pk); returns the new ids in order."""
        if not rows:
            return []
        ids = self._take_ids(len(rows))
        plan, pk_index, convert = self._plan, self._pk_index, self._convert
        tuples = []
        for row_id, row in zip(ids, rows, strict=True):
            get = row.get
            values = [get(name, default) for name, default in plan]
            values[pk_index] = row_id
            for i, fn in convert:
                v = values[i]
                if v is not None:
                    values[i] = fn(v)
            tuples.append(values)
        qn = self.connection.ops.quote_name
        cols = ", ".join(qn(c) for c in self.columns)
        with self.connection.cursor() as cur:
            if self.connection.vendor == "postgresql":
                with cur.cursor.copy(f"COPY {qn(self.table)} ({cols}) FROM STDIN") as copy:
                    for values in tuples:
                        copy.write_row(values)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cur.executemany(f"INSERT INTO {qn(self.table)} ({cols}) VALUES ({marks})", tuples)
        return ids
