"""Case.street: the 街道 a case is scoped by. Backfill: from its community, else its grid's community, else the
only 街道 when the database has one, else the 街道 of the account that created it. A case left without a 街道
(several 街道, no place, creator without a 街道) is seen only by a platform-level 系统管理员."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Community = apps.get_model("places", "Community")
    Grid = apps.get_model("places", "Grid")
    Street = apps.get_model("places", "Street")
    User = apps.get_model("accounts", "User")
    Case.objects.filter(street__isnull=True, community__isnull=False).update(
        street_id=Subquery(Community.objects.filter(pk=OuterRef("community_id")).values("street_id")[:1])
    )
    Case.objects.filter(street__isnull=True, grid__isnull=False).update(
        street_id=Subquery(Grid.objects.filter(pk=OuterRef("grid_id")).values("community__street_id")[:1])
    )
    streets = list(Street.objects.values_list("pk", flat=True)[:2])
    if len(streets) == 1:
        Case.objects.filter(street__isnull=True).update(street_id=streets[0])
        return
    Case.objects.filter(street__isnull=True, created_by__isnull=False).update(
        street_id=Subquery(User.objects.filter(pk=OuterRef("created_by_id")).values("street_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0032_case_procedure"),
        ("accounts", "0041_tiers"),
        ("places", "0005_street_district_required"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="street",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="cases",
                to="places.street",
                verbose_name="街道",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
