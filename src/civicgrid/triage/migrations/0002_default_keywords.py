from django.db import migrations


def load(apps, schema_editor):
    from civicgrid.triage.defaults import DEFAULT_KEYWORDS

    Category = apps.get_model("cases", "Category")
    TriageKeyword = apps.get_model("triage", "TriageKeyword")
    have = set(TriageKeyword.objects.values_list("category_id", flat=True))
    for c in Category.objects.filter(name__in=list(DEFAULT_KEYWORDS)).exclude(level="major"):
        if c.pk not in have:
            TriageKeyword.objects.create(category=c, words="\n".join(DEFAULT_KEYWORDS[c.name]), weight=2.0)
            have.add(c.pk)


class Migration(migrations.Migration):
    dependencies = [("triage", "0001_initial"), ("cases", "0002_load_categories")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
