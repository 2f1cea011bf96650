"""Tiers: every account and department belongs to a 街道 (or to the 区 level).

Backfill, in this order:

- the database has exactly one 街道: every account and department gets it (the common case: one 街道 per
  installation until now);
- otherwise a department gets the 街道 of its community; an account the 街道 of its community, else of its grids
  (when they all lie in one 街道), else of its department;
- what is left (accounts with no community, grid or department in a database of several 街道) stays unassigned:
  a 系统管理员 so left is the platform's administrator (sees every 区); any other role sees nothing until a
  系统管理员 sets its 街道 or 区 in admin. Departments so left are visible to nobody until assigned.

An account with a 街道 also gets that 街道's 区 (``district`` always names the account's 区).
"""

from django.db import migrations, models


def backfill(apps, schema_editor):
    Street = apps.get_model("places", "Street")
    User = apps.get_model("accounts", "User")
    Department = apps.get_model("accounts", "Department")
    streets = list(Street.objects.values_list("pk", "district_id")[:2])
    if len(streets) == 1:
        street_id, district_id = streets[0]
        User.objects.update(street_id=street_id, district_id=district_id)
        Department.objects.update(street_id=street_id, district_id=district_id)
        return
    district_of = dict(Street.objects.values_list("pk", "district_id"))
    for dept in Department.objects.filter(community__isnull=False).select_related("community"):
        sid = dept.community.street_id
        Department.objects.filter(pk=dept.pk).update(street_id=sid, district_id=district_of.get(sid))
    dept_street = dict(Department.objects.filter(street__isnull=False).values_list("pk", "street_id"))
    for user in User.objects.select_related("community").prefetch_related("grids__community"):
        sid = None
        if user.community_id:
            sid = user.community.street_id
        else:
            grid_streets = {g.community.street_id for g in user.grids.all()}
            if len(grid_streets) == 1:
                sid = grid_streets.pop()
            elif not grid_streets and user.department_id:
                sid = dept_street.get(user.department_id)
        if sid is not None:
            User.objects.filter(pk=user.pk).update(street_id=sid, district_id=district_of.get(sid))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0040_user_is_system"), ("places", "0005_street_district_required")]

    operations = [
        migrations.AddField(
            model_name="department",
            name="district",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="departments",
                to="places.district",
                verbose_name="所属区",
            ),
        ),
        migrations.AddField(
            model_name="department",
            name="street",
            field=models.ForeignKey(
                blank=True,
                help_text="区级部门不填街道、只填所属区",
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="departments",
                to="places.street",
                verbose_name="所属街道",
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="district",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="accounts",
                to="places.district",
                verbose_name="所属区",
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="street",
            field=models.ForeignKey(
                blank=True,
                help_text="区级账号（区指挥中心、区领导）不填街道、只填所属区",
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="accounts",
                to="places.street",
                verbose_name="所属街道",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
