"""System actors: the service accounts of the intake channels (随手拍, Open311 keys) are marked as such."""

from django.db import migrations, models
from django.contrib.auth.hashers import make_password


def mark_service_accounts(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    unusable = make_password(None)
    User.objects.filter(username="_resident_intake").update(
        is_system=True, system_channel="resident", password=unusable, is_staff=False, is_superuser=False
    )
    User.objects.filter(username__startswith="open311-").update(
        is_system=True, system_channel="open311", password=unusable, is_staff=False, is_superuser=False
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_chinese_labels")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="is_system",
            field=models.BooleanField(db_index=True, default=False, verbose_name="系统账号"),
        ),
        migrations.AddField(
            model_name="user",
            name="system_channel",
            field=models.CharField(
                blank=True,
                choices=[("resident", "居民随手拍"), ("open311", "Open311"), ("import", "12345 导入")],
                max_length=16,
                verbose_name="系统渠道",
            ),
        ),
        migrations.RunPython(mark_service_accounts, migrations.RunPython.noop),
    ]
