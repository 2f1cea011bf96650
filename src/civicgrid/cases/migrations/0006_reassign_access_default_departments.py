"""改派 ends the previous department's access (CaseDepartment.revoked_at; a 已改派 notification kind), and the
categories get their default departments linked where the departments exist (so 派遣 pre-selects one)."""

from django.db import migrations, models
from django.db.models import F


def forwards(apps, schema_editor):
    from civicgrid.cases.categories import resolve_departments
    from civicgrid.core import clock

    CaseDepartment = apps.get_model("cases", "CaseDepartment")
    # a department whose case now lies with another department loses its access, as a 改派 does from now on
    CaseDepartment.objects.filter(case__department__isnull=False).exclude(
        department_id=F("case__department_id")
    ).update(revoked_at=clock.now())
    resolve_departments(apps.get_model("cases", "Category"), apps.get_model("accounts", "Department"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("cases", "0005_category_is_public"),
    ]

    operations = [
        migrations.AddField(
            model_name="casedepartment",
            name="revoked_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="失去查看权限时间"),
        ),
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("dispatched", "新派遣"),
                    ("yellow", "即将超时"),
                    ("red", "已超时"),
                    ("supervise", "督办"),
                    ("extension_request", "延期申请"),
                    ("extension_decided", "延期审批结果"),
                    ("returned", "退回"),
                    ("rework", "返工"),
                    ("reassigned", "已改派"),
                ],
                max_length=24,
                verbose_name="类型",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
