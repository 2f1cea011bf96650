"""Seed the admin-editable 违法行为类型 (违法建设, 占道经营, 乱堆乱放, 违规户外广告, 渣土, 噪声 …)."""

from django.db import migrations

from civicgrid.enforcement import defaults


def seed(apps, schema_editor):
    defaults.ensure(apps.get_model("enforcement", "ViolationType"))


class Migration(migrations.Migration):
    dependencies = [("enforcement", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
