"""Seed the admin-editable lists: the 巡查点位 types (河道, 文物, 农贸市场 …) and the 巡查考核规则 row."""

from django.db import migrations

from civicgrid.gridwork import defaults


def seed(apps, schema_editor):
    defaults.ensure(apps.get_model("gridwork", "PointType"), apps.get_model("gridwork", "GridworkRule"))


class Migration(migrations.Migration):
    dependencies = [("gridwork", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
