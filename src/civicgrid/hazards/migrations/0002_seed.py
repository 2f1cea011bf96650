"""Seed the admin-editable lists: 隐患类别 (六张清单, 三合一, 燃气/液化气 …), one general checklist, the 四色 rule."""

from django.db import migrations

CATEGORIES = [
    ("six_lists", "六张清单"),
    ("three_in_one", "三合一"),
    ("gas", "燃气/液化气"),
    ("ebike", "电动车"),
    ("self_built", "自建房"),
    ("hazchem", "危化"),
    ("fire_facility", "消防设施"),
    ("other", "其他"),
]

ITEMS = [
    ("fire_facility", "灭火器配备充足且在有效期内", "general"),
    ("fire_facility", "烟感报警器完好", "general"),
    ("fire_facility", "疏散通道、安全出口畅通", "serious"),
    ("three_in_one", "无住人“三合一”场所", "major"),
    ("gas", "燃气/液化气瓶存放、使用规范，装有报警切断装置", "serious"),
    ("ebike", "电动车未在楼道、室内停放充电", "serious"),
    ("self_built", "自建房无擅自加层、改变结构", "serious"),
    ("hazchem", "无违规储存危险化学品", "major"),
    ("other", "电气线路无私拉乱接", "general"),
]


def seed(apps, schema_editor):
    HazardCategory = apps.get_model("hazards", "HazardCategory")
    Checklist = apps.get_model("hazards", "Checklist")
    ChecklistItem = apps.get_model("hazards", "ChecklistItem")
    ColorRule = apps.get_model("hazards", "ColorRule")
    cats = {}
    for i, (code, name) in enumerate(CATEGORIES, start=1):
        cats[code], _ = HazardCategory.objects.get_or_create(code=code, defaults={"name": name, "order": i})
    checklist, created = Checklist.objects.get_or_create(
        name="沿街商铺及出租房消防安全检查", defaults={"description": "基层日常检查通用表"}
    )
    if created:
        for i, (code, text, level) in enumerate(ITEMS, start=1):
            ChecklistItem.objects.create(
                checklist=checklist, order=i, text=text, category=cats[code], default_level=level
            )
    if not ColorRule.objects.exists():
        ColorRule.objects.create()


class Migration(migrations.Migration):
    dependencies = [("hazards", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
