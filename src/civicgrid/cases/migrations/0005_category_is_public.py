# Category.is_public: which categories (and so which cases) public interfaces (Open311) may show.
# Existing rows get the seed rule of civicgrid.cases.categories (信访, 矛盾纠纷, personal registers … stay private).

from django.db import migrations, models


def seed(apps, schema_editor):
    from civicgrid.cases.categories import is_public_seed

    Category = apps.get_model("cases", "Category")
    rows = list(Category.objects.select_related("parent"))
    for c in rows:
        major_code = c.parent.std_code if c.parent_id else c.std_code
        c.is_public = is_public_seed(c.code, c.kind, major_code)
    Category.objects.bulk_update(rows, ["is_public"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_lean_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="is_public",
            field=models.BooleanField(
                default=False,
                help_text="勾选后，该分类出现在 Open311 服务目录中，其工单（已脱敏）可经 Open311 公开查询；"
                "大类未勾选时其下小类均不公开。信访、矛盾纠纷、民生救助等涉及个人的分类不要勾选",
                verbose_name="对外公开",
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
