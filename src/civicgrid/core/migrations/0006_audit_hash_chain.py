"""Hash-chain the audit log (see civicgrid.core.auditchain): new columns, the anchor row, existing rows chained in
id order. Also: the anchor's sequence number may never go down, and on PostgreSQL the anchor cannot be deleted."""

from django.db import migrations, models

SQLITE_TRIGGERS = [
    # re-created: adding a unique column rebuilds the table on SQLite, which drops its triggers
    """CREATE TRIGGER IF NOT EXISTS core_auditlog_no_update BEFORE UPDATE ON core_auditlog
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;""",
    """CREATE TRIGGER IF NOT EXISTS core_auditchainhead_forward BEFORE UPDATE ON core_auditchainhead
       WHEN NEW.seq < OLD.seq BEGIN SELECT RAISE(ABORT, 'audit chain head only moves forward'); END;""",
    # each chained insert moves the anchor (see civicgrid.core.auditchain.append)
    """CREATE TRIGGER IF NOT EXISTS core_auditlog_move_head AFTER INSERT ON core_auditlog
       WHEN NEW.seq IS NOT NULL
       BEGIN UPDATE core_auditchainhead SET seq = NEW.seq, hash = NEW.row_hash WHERE id = 1; END;""",
]
PG_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION core_auditchainhead_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'audit chain head cannot be deleted'; END IF;
         IF NEW.seq < OLD.seq THEN RAISE EXCEPTION 'audit chain head only moves forward'; END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER core_auditchainhead_guard BEFORE UPDATE OR DELETE ON core_auditchainhead
       FOR EACH ROW EXECUTE FUNCTION core_auditchainhead_guard();""",
    # each chained insert moves the anchor (see civicgrid.core.auditchain.append)
    """CREATE OR REPLACE FUNCTION core_auditlog_move_head() RETURNS trigger AS $$
       BEGIN
         UPDATE core_auditchainhead SET seq = NEW.seq, hash = NEW.row_hash WHERE id = 1;
         RETURN NULL;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER core_auditlog_move_head AFTER INSERT ON core_auditlog
       FOR EACH ROW WHEN (NEW.seq IS NOT NULL) EXECUTE FUNCTION core_auditlog_move_head();""",
]
DOWN = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS core_auditchainhead_forward;",
        "DROP TRIGGER IF EXISTS core_auditlog_move_head;",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS core_auditchainhead_guard ON core_auditchainhead;",
        "DROP FUNCTION IF EXISTS core_auditchainhead_guard();",
        "DROP TRIGGER IF EXISTS core_auditlog_move_head ON core_auditlog;",
        "DROP FUNCTION IF EXISTS core_auditlog_move_head();",
    ],
}


def chain_existing_rows(apps, schema_editor):
    from civicgrid.core import auditchain

    AuditLog = apps.get_model("core", "AuditLog")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    vendor = schema_editor.connection.vendor
    # the append-only trigger refuses the one-time back-fill: lift it for this migration only
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditlog_no_update;")
    elif vendor == "postgresql":
        schema_editor.execute("ALTER TABLE core_auditlog DISABLE TRIGGER core_auditlog_no_update;")
    seq, prev = 0, auditchain.GENESIS
    for row in AuditLog.objects.order_by("id").iterator(chunk_size=2000):
        seq += 1
        row_hash = auditchain.digest(seq=seq, prev_hash=prev, content=auditchain.row_content(row))
        AuditLog.objects.filter(pk=row.pk).update(seq=seq, prev_hash=prev, row_hash=row_hash)
        prev = row_hash
    AuditChainHead.objects.create(pk=auditchain.HEAD_PK, seq=seq, hash=prev)
    if vendor == "sqlite":
        for sql in SQLITE_TRIGGERS:
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        schema_editor.execute("ALTER TABLE core_auditlog ENABLE TRIGGER core_auditlog_no_update;")
        for sql in PG_TRIGGERS:
            schema_editor.execute(sql)


def unchain(apps, schema_editor):
    for sql in DOWN.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0005_cache_revision'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditChainHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.PositiveBigIntegerField(default=0, verbose_name='最后序号')),
                ('hash', models.CharField(max_length=64, verbose_name='最后哈希')),
            ],
            options={
                'verbose_name': '审计链锚点',
                'verbose_name_plural': '审计链锚点',
                'default_permissions': (),
            },
        ),
        migrations.AddField(
            model_name='auditlog',
            name='prev_hash',
            field=models.CharField(blank=True, max_length=64, verbose_name='前一条哈希'),
        ),
        migrations.AddField(
            model_name='auditlog',
            name='row_hash',
            field=models.CharField(blank=True, max_length=64, verbose_name='本条哈希'),
        ),
        migrations.AddField(
            model_name='auditlog',
            name='seq',
            field=models.PositiveBigIntegerField(blank=True, null=True, unique=True, verbose_name='链序号'),
        ),
        migrations.RunPython(chain_existing_rows, unchain),
    ]
