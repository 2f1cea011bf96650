"""Tiers: a 群机器人 push belongs to a 街道 (empty: every 街道). Existing pushes get the single 街道 when the
database has one; otherwise they stay empty (every 街道) until an administrator sets one."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    Street = apps.get_model("places", "Street")
    WebhookEndpoint = apps.get_model("notify", "WebhookEndpoint")
    ids = list(Street.objects.values_list("pk", flat=True)[:2])
    if len(ids) == 1:
        WebhookEndpoint.objects.filter(street__isnull=True).update(street_id=ids[0])


class Migration(migrations.Migration):
    dependencies = [("notify", "0001_initial"), ("places", "0005_street_district_required")]

    operations = [
        migrations.AddField(
            model_name="webhookendpoint",
            name="street",
            field=models.ForeignKey(
                blank=True,
                help_text="只推送该街道的案件；留空则推送所有街道的案件（仅适合只有一个街道或区级的群）",
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="webhooks",
                to="places.street",
                verbose_name="所属街道",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
