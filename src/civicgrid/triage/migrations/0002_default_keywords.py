from django.db import migrations


def load(apps, schema_editor):
    from civicgrid.triage.defaults import ensure

    ensure(apps.get_model("cases", "Category"), apps.get_model("triage", "TriageKeyword"))


class Migration(migrations.Migration):
    dependencies = [("triage", "0001_initial"), ("cases", "0002_load_categories")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
