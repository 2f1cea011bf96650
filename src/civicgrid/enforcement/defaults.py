"""The seeded 违法行为类型 (admin-editable afterwards). Used by migration 0002, the demo and the tests (a
transactional test flushes what a data migration wrote)."""

from __future__ import annotations

VIOLATION_TYPES = [
    ("illegal_building", "违法建设"),
    ("street_vending", "占道经营"),
    ("piling", "乱堆乱放"),
    ("outdoor_ad", "违规户外广告"),
    ("muck", "渣土（建筑垃圾）违规处置"),
    ("noise", "噪声扰民"),
    ("garbage_sorting", "生活垃圾分类违规"),
    ("greenery", "毁坏绿化"),
    ("other", "其他"),
]


def ensure(model=None) -> None:
    if model is None:
        from civicgrid.enforcement.models import ViolationType

        model = ViolationType
    for i, (code, name) in enumerate(VIOLATION_TYPES, start=1):
        model.objects.get_or_create(code=code, defaults={"name": name, "order": i})
