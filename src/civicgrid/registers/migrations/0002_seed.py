"""Seed the admin-editable lists: 人员标签 (with the 重点人员 visit intervals) and the "1+4+X" 走访检查项."""

from django.db import migrations

from civicgrid.registers import defaults


def seed(apps, schema_editor):
    defaults.ensure(apps.get_model("registers", "PersonTag"), apps.get_model("registers", "VisitCheckItem"))


class Migration(migrations.Migration):
    dependencies = [("registers", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
