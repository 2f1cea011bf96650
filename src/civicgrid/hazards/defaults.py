"""The seeded lists (admin-editable afterwards): 隐患类别 and one general checklist. Used by migration 0002, the
demo and the tests (a transactional test flushes what a data migration wrote)."""

from __future__ import annotations

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
CHECKLIST_NAME = "沿街商铺及出租房消防安全检查"
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


def ensure(category_model=None, checklist_model=None, item_model=None) -> None:
    """Create the categories and the checklist if missing (the models: historical ones from a migration)."""
    if category_model is None:
        from civicgrid.hazards.models import Checklist, ChecklistItem, HazardCategory

        category_model, checklist_model, item_model = HazardCategory, Checklist, ChecklistItem
    cats = {}
    for i, (code, name) in enumerate(CATEGORIES, start=1):
        cats[code], _ = category_model.objects.get_or_create(code=code, defaults={"name": name, "order": i})
    checklist, created = checklist_model.objects.get_or_create(
        name=CHECKLIST_NAME, defaults={"description": "基层日常检查通用表"}
    )
    if created:
        item_model.objects.bulk_create(
            [
                item_model(checklist=checklist, order=i, text=text, category=cats[code], default_level=level)
                for i, (code, text, level) in enumerate(ITEMS, start=1)
            ]
        )
