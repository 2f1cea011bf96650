"""Seed the admin-editable 纠纷类型 (婚姻家庭, 邻里, 物业, 劳资, 土地/房屋, 消费, 交通事故, 医疗, 其他)."""

from django.db import migrations

from civicgrid.disputes import defaults


def seed(apps, schema_editor):
    defaults.ensure(apps.get_model("disputes", "DisputeType"))


class Migration(migrations.Migration):
    dependencies = [("disputes", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
