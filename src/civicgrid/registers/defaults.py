"""The seeded lists: 人员标签 (with the 重点人员 visit intervals) and the "1+4+X" 走访检查项."""

from __future__ import annotations

TAGS = [  # code, name, visit interval (days) or None
    ("dibao", "低保", 90),
    ("tekun", "特困", 30),
    ("bianyuan", "边缘", 90),
    ("canji", "残疾", 90),
    ("duju", "独居高龄", 30),
    ("kunjing", "困境儿童", 30),
    ("tuiyi", "退役军人", None),
    ("jiaozheng", "社区矫正", 30),
    ("xinfang", "重点信访", 30),
]

CHECK_ITEMS = [  # group, text
    ("1", "居家安全（燃气、用电、电动车充电）"),
    ("4", "反诈宣传（已安装国家反诈中心APP）"),
    ("4", "养老服务需求（助餐、助医、助浴）"),
    ("4", "矛盾纠纷排查"),
    ("4", "困难诉求（就业、就医、就学）"),
    ("X", "垃圾分类宣传"),
]


def ensure(PersonTag=None, VisitCheckItem=None) -> None:  # noqa: N803  (historical models in the migration)
    if PersonTag is None:
        from civicgrid.registers.models import PersonTag, VisitCheckItem

    for order, (code, name, days) in enumerate(TAGS):
        PersonTag.objects.get_or_create(
            code=code, defaults={"name": name, "visit_interval_days": days, "order": order}
        )
    if not VisitCheckItem.objects.exists():
        VisitCheckItem.objects.bulk_create(
            VisitCheckItem(group=g, text=t, order=i) for i, (g, t) in enumerate(CHECK_ITEMS)
        )
