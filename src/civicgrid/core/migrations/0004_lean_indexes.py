"""One (object_type, object_id) index on the audit log instead of four single-column ones (two with LIKE twins).

On SQLite, altering a column rebuilds the table and drops its triggers, so the append-only UPDATE trigger of
0002 is created again at the end (PostgreSQL keeps its trigger: there the index is dropped in place).
"""

from django.conf import settings
from django.db import migrations, models

SQLITE_TRIGGER = """CREATE TRIGGER IF NOT EXISTS core_auditlog_no_update BEFORE UPDATE ON core_auditlog
   BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"""


def restore_sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_calendar"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditlog",
            name="object_id",
            field=models.CharField(blank=True, max_length=64, verbose_name="对象ID"),
        ),
        migrations.AlterField(
            model_name="auditlog",
            name="object_type",
            field=models.CharField(blank=True, max_length=64, verbose_name="对象类型"),
        ),
        migrations.AddIndex(
            model_name="auditlog",
            index=models.Index(fields=["object_type", "object_id"], name="core_audit_object"),
        ),
        migrations.RunPython(restore_sqlite_trigger, migrations.RunPython.noop),
    ]
