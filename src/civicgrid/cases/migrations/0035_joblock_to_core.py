"""The job lease table moves to core (``core.JobLock``, created by core 0015): copy every lease, then drop
``cases_joblock``. The leases are short-lived, but their ``last_run_at`` is kept."""

from django.db import migrations


def copy_leases(apps, schema_editor):
    old = apps.get_model("cases", "JobLock")
    new = apps.get_model("core", "JobLock")
    new.objects.bulk_create(
        [
            new(name=row.name, owner=row.owner, locked_until=row.locked_until, last_run_at=row.last_run_at)
            for row in old.objects.all()
        ],
        ignore_conflicts=True,
    )


def copy_back(apps, schema_editor):
    old = apps.get_model("cases", "JobLock")
    new = apps.get_model("core", "JobLock")
    old.objects.bulk_create(
        [
            old(name=row.name, owner=row.owner, locked_until=row.locked_until, last_run_at=row.last_run_at)
            for row in new.objects.all()
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0034_case_street"),
        ("core", "0015_joblock"),
    ]

    operations = [
        migrations.RunPython(copy_leases, copy_back),
        migrations.DeleteModel(name="JobLock"),
    ]
