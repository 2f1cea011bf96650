"""Make the audit log append-only in the database itself, not just in the ORM."""

from django.db import migrations

SQLITE_UP = [
    """CREATE TRIGGER IF NOT EXISTS core_auditlog_no_update BEFORE UPDATE ON core_auditlog
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;""",
    # No DELETE trigger on SQLite: Django's test flush empties tables with DELETE (PostgreSQL uses TRUNCATE).
    # Deletes are refused by the ORM (AuditLog.delete / AppendOnlyQuerySet.delete).
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS core_auditlog_no_update;",
    "DROP TRIGGER IF EXISTS core_auditlog_no_delete;",
]
PG_UP = [
    """CREATE OR REPLACE FUNCTION core_auditlog_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit log is append-only'; END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER core_auditlog_no_update BEFORE UPDATE OR DELETE ON core_auditlog
       FOR EACH ROW EXECUTE FUNCTION core_auditlog_append_only();""",
    # TRUNCATE is left possible for the database owner (test teardown); the app never issues it.
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS core_auditlog_no_update ON core_auditlog;",
    "DROP FUNCTION IF EXISTS core_auditlog_append_only();",
]


def _run(statements_by_vendor):
    def apply(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": PG_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN}),
        )
    ]
