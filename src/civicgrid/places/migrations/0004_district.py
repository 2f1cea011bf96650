"""区 above 街道: the District model, and Street.district filled from each street's division code.

Existing streets get the 区 of their 6-digit division code (named from a small table of known codes, else
"<code>区"; the name is editable in admin). 0005 then makes the column required.
"""

from django.db import migrations, models

import civicgrid.places.models


def fill_districts(apps, schema_editor):
    District = apps.get_model("places", "District")
    Street = apps.get_model("places", "Street")
    for code in Street.objects.values_list("division_code", flat=True).distinct():
        district, _ = District.objects.get_or_create(
            code=code, defaults={"name": civicgrid.places.models.district_name_for(code)}
        )
        Street.objects.filter(division_code=code, district__isnull=True).update(district=district)


class Migration(migrations.Migration):
    dependencies = [("places", "0003_map_feature")]

    operations = [
        migrations.CreateModel(
            name="District",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, verbose_name="区名称")),
                (
                    "code",
                    models.CharField(
                        help_text="6 位数字",
                        max_length=6,
                        unique=True,
                        validators=[civicgrid.places.models.division_code_validator],
                        verbose_name="行政区划代码",
                    ),
                ),
                ("geometry", models.JSONField(blank=True, null=True, verbose_name="边界")),
                ("center_lng", models.FloatField(blank=True, null=True, verbose_name="中心经度")),
                ("center_lat", models.FloatField(blank=True, null=True, verbose_name="中心纬度")),
            ],
            options={"verbose_name": "区", "verbose_name_plural": "区", "ordering": ["code"]},
        ),
        migrations.AddField(
            model_name="street",
            name="district",
            field=models.ForeignKey(
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="streets",
                to="places.district",
                verbose_name="所属区",
            ),
        ),
        migrations.RunPython(fill_districts, migrations.RunPython.noop),
    ]
