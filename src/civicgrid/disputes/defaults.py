"""The seeded lists (admin-editable afterwards): 纠纷类型 and the 街道-independent 调解组织 names. Used by migration
0002, the demo and the tests (a transactional test flushes what a data migration wrote)."""

from __future__ import annotations

TYPES = [
    ("family", "婚姻家庭"),
    ("neighbour", "邻里"),
    ("property", "物业"),
    ("labour", "劳资"),
    ("land_house", "土地/房屋"),
    ("consumer", "消费"),
    ("traffic", "交通事故"),
    ("medical", "医疗"),
    ("other", "其他"),
]


def ensure(type_model=None) -> None:
    """Create the 纠纷类型 if missing (the model: a historical one from a migration)."""
    if type_model is None:
        from civicgrid.disputes.models import DisputeType

        type_model = DisputeType
    for i, (code, name) in enumerate(TYPES, start=1):
        type_model.objects.get_or_create(code=code, defaults={"name": name, "order": i})


def ensure_orgs(street, communities=()) -> list:
    """The usual 调解组织 of a 街道: its 街道调委会, one 社区调委会 per community, a 品牌调解室."""
    from civicgrid.disputes.models import MediationOrg, OrgKind

    out = []
    org, _ = MediationOrg.objects.get_or_create(
        street=street, name=f"{street.name}人民调解委员会", defaults={"kind": OrgKind.STREET, "order": 1}
    )
    out.append(org)
    for i, c in enumerate(communities, start=10):
        org, _ = MediationOrg.objects.get_or_create(
            street=street,
            name=f"{c.name}人民调解委员会",
            defaults={"kind": OrgKind.COMMUNITY, "community": c, "order": i},
        )
        out.append(org)
    org, _ = MediationOrg.objects.get_or_create(
        street=street, name="老娘舅工作室", defaults={"kind": OrgKind.STUDIO, "order": 2}
    )
    out.append(org)
    return out
