from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0010_export_job"),
    ]

    operations = [
        migrations.CreateModel(
            name="Heartbeat",
            fields=[
                ("name", models.CharField(max_length=40, primary_key=True, serialize=False, verbose_name="名称")),
                ("beat_at", models.DateTimeField(verbose_name="最近心跳")),
                ("owner", models.CharField(blank=True, max_length=100, verbose_name="进程")),
            ],
            options={"verbose_name": "后台任务心跳", "verbose_name_plural": "后台任务心跳"},
        ),
    ]
