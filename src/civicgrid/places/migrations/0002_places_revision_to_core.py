"""The places revision becomes the ``"places"`` counter of ``core.CacheRevision`` (one mechanism for every
per-process cache). The current value is carried over, so no app server keeps an index it should rebuild."""

from django.db import migrations


def carry_over(apps, schema_editor):
    PlacesRevision = apps.get_model("places", "PlacesRevision")
    CacheRevision = apps.get_model("core", "CacheRevision")
    row = PlacesRevision.objects.filter(pk=1).first()
    if row is not None and row.revision:
        CacheRevision.objects.update_or_create(pk="places", defaults={"revision": row.revision})


def carry_back(apps, schema_editor):
    PlacesRevision = apps.get_model("places", "PlacesRevision")
    CacheRevision = apps.get_model("core", "CacheRevision")
    row = CacheRevision.objects.filter(pk="places").first()
    if row is not None:
        PlacesRevision.objects.update_or_create(pk=1, defaults={"revision": row.revision})


class Migration(migrations.Migration):
    dependencies = [
        ("places", "0001_initial"),
        ("core", "0005_cache_revision"),
    ]

    operations = [
        migrations.RunPython(carry_over, carry_back),
        migrations.DeleteModel(name="PlacesRevision"),
    ]
