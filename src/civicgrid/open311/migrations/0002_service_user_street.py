"""Tiers: an Open311 key's service account belongs to the key's 街道 (its jurisdiction)."""

from django.db import migrations


def backfill(apps, schema_editor):
    Open311Key = apps.get_model("open311", "Open311Key")
    User = apps.get_model("accounts", "User")
    for key in Open311Key.objects.select_related("jurisdiction"):
        User.objects.filter(pk=key.service_user_id).update(
            street_id=key.jurisdiction_id, district_id=key.jurisdiction.district_id
        )


class Migration(migrations.Migration):
    dependencies = [("open311", "0001_initial"), ("accounts", "0041_tiers")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
