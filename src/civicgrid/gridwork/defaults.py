"""The seeded lists (admin-editable afterwards): the 巡查点位 types and the one rule row. Used by migration 0002, the
demo and the tests (a transactional test flushes what a data migration wrote)."""

from __future__ import annotations

POINT_TYPES = [
    ("river", "河道"),
    ("relic", "文物"),
    ("market", "农贸市场"),
    ("alley", "背街小巷"),
    ("refuse", "垃圾房"),
    ("civility", "创文点位"),
]


def ensure(type_model=None, rule_model=None) -> None:
    if type_model is None:
        from civicgrid.gridwork.models import GridworkRule, PointType

        type_model, rule_model = PointType, GridworkRule
    for i, (code, name) in enumerate(POINT_TYPES, start=1):
        type_model.objects.get_or_create(code=code, defaults={"name": name, "order": i})
    if not rule_model.objects.exists():
        rule_model.objects.create()
