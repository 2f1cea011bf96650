"""Several audit hash chains (see civicgrid.core.auditchain): each row says its chain, sequence numbers are unique per
chain, anchors 2 … CHAINS exist from the start, and the insert trigger moves the row's own chain's anchor.
Existing rows stay on chain 1, which keeps its genesis hash, so they verify as before."""

from django.db import migrations, models

# the table rebuilds below drop SQLite's triggers on core_auditlog: made again, the anchor trigger per chain
SQLITE_TRIGGERS = [
    "DROP TRIGGER IF EXISTS core_auditlog_move_head;",
    """CREATE TRIGGER IF NOT EXISTS core_auditlog_no_update BEFORE UPDATE ON core_auditlog
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;""",
    """CREATE TRIGGER core_auditlog_move_head AFTER INSERT ON core_auditlog
       WHEN NEW.seq IS NOT NULL
       BEGIN UPDATE core_auditchainhead SET seq = NEW.seq, hash = NEW.row_hash WHERE id = NEW.chain; END;""",
]
PG_MOVE_HEAD = """CREATE OR REPLACE FUNCTION core_auditlog_move_head() RETURNS trigger AS $$
       BEGIN
         UPDATE core_auditchainhead SET seq = NEW.seq, hash = NEW.row_hash WHERE id = %s;
         RETURN NULL;
       END; $$ LANGUAGE plpgsql;"""


def forwards(apps, schema_editor):
    from civicgrid.core import auditchain

    AuditChainHead = apps.get_model("core", "AuditChainHead")
    have = set(AuditChainHead.objects.values_list("pk", flat=True))
    AuditChainHead.objects.bulk_create(
        [
            AuditChainHead(pk=chain, seq=0, hash=auditchain.genesis(chain))
            for chain in range(2, auditchain.CHAINS + 1)
            if chain not in have
        ]
    )
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE_TRIGGERS:
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        schema_editor.execute(PG_MOVE_HEAD % "NEW.chain")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditlog_move_head;")
        schema_editor.execute(
            """CREATE TRIGGER core_auditlog_move_head AFTER INSERT ON core_auditlog
               WHEN NEW.seq IS NOT NULL
               BEGIN UPDATE core_auditchainhead SET seq = NEW.seq, hash = NEW.row_hash WHERE id = 1; END;"""
        )
    elif vendor == "postgresql":
        schema_editor.execute(PG_MOVE_HEAD % "1")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0015_joblock"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditlog",
            name="chain",
            field=models.PositiveSmallIntegerField(db_default=1, default=1, verbose_name="链"),
        ),
        migrations.AlterField(
            model_name="auditlog",
            name="seq",
            field=models.PositiveBigIntegerField(blank=True, null=True, verbose_name="链序号"),
        ),
        migrations.AddConstraint(
            model_name="auditlog",
            constraint=models.UniqueConstraint(fields=("chain", "seq"), name="core_auditlog_chain_seq"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
