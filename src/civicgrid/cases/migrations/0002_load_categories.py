# Seeds the category tree (GB/T 47678.5 部件/事项 + 街道 9xxxx matters) from civicgrid/cases/data/.

from django.db import migrations


def load(apps, schema_editor):
    from civicgrid.cases.categories import load_categories

    load_categories(apps.get_model("cases", "Category"), apps.get_model("accounts", "Department"))


def unload(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    if apps.get_model("cases", "Case").objects.exists():
        raise RuntimeError("cases exist; refusing to remove categories")
    Category.objects.filter(level="minor").delete()
    Category.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(load, unload)]
