from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("places", "0004_district")]

    operations = [
        migrations.AlterField(
            model_name="street",
            name="district",
            field=models.ForeignKey(
                on_delete=models.deletion.PROTECT,
                related_name="streets",
                to="places.district",
                verbose_name="所属区",
            ),
        ),
    ]
