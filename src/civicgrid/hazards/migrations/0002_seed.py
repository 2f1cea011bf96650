"""Seed the admin-editable lists: 隐患类别 (六张清单, 三合一, 燃气/液化气 …), one general checklist, the 四色 rule."""

from django.db import migrations

from civicgrid.hazards import defaults


def seed(apps, schema_editor):
    defaults.ensure(
        apps.get_model("hazards", "HazardCategory"),
        apps.get_model("hazards", "Checklist"),
        apps.get_model("hazards", "ChecklistItem"),
    )
    ColorRule = apps.get_model("hazards", "ColorRule")
    if not ColorRule.objects.exists():
        ColorRule.objects.create()


class Migration(migrations.Migration):
    dependencies = [("hazards", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
