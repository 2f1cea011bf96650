# 12345 rows whose 问题分类 reads 其他问题 / 其他 belong to the catch-all 其他事项 (J99001): give it those synonyms
# in databases seeded before they were added to cases/data/street_categories.csv. Synonyms an admin added stay.

from django.db import migrations

SYNONYMS = ["其他", "其他问题", "其它", "其它问题"]


def add(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    cat = Category.objects.filter(code="J99001").first()
    if cat is None:
        return
    have = [s for s in (cat.synonyms or "").split("|") if s]
    # another category may already own a synonym (an admin's choice): leave it there
    taken = set()
    for other in Category.objects.exclude(pk=cat.pk).exclude(synonyms="").values_list("synonyms", flat=True):
        taken.update(s for s in other.split("|") if s)
    new = [s for s in SYNONYMS if s not in have and s not in taken]
    value = "|".join(have + new)
    if new and len(value) <= 300:
        cat.synonyms = value
        cat.save(update_fields=["synonyms"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0030_natural_days_unit")]

    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
