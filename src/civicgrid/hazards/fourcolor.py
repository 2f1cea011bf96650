"""四色地图: every 社区, 楼宇/小区 and 单位 the user sees, scored by :class:`~civicgrid.hazards.models.ColorRule`.

score = Σ open hazards × points of their level + overdue 整改 × overdue points + defective 消防设施 × defect points.
A unit counts its own hazards; a building its own, its units' and its blocks' (a 小区 counts its 楼栋) plus its
register's defects; a community everything inside its grids. Colour: ≥ 红 threshold red, ≥ 橙 orange, ≥ 黄 yellow,
else blue.
"""

from __future__ import annotations

from collections import defaultdict

from civicgrid.core import clock
from civicgrid.hazards import selectors
from civicgrid.hazards.models import ColorRule

COLORS = {
    "red": ("红", "#d62728"),
    "orange": ("橙", "#ff7f0e"),
    "yellow": ("黄", "#f2c500"),
    "blue": ("蓝", "#1f77b4"),
}


def legend(rule: ColorRule) -> dict:
    return {
        "points": {
            "一般隐患": rule.general_points,
            "较大隐患": rule.serious_points,
            "重大隐患": rule.major_points,
            "逾期未整改": rule.overdue_points,
            "消防设施损坏/缺失（每项）": rule.defect_points,
        },
        "colors": [
            {"color": "red", "label": "红", "hex": COLORS["red"][1], "rule": f"分值 ≥ {rule.red_from}"},
            {
                "color": "orange",
                "label": "橙",
                "hex": COLORS["orange"][1],
                "rule": f"{rule.orange_from} ≤ 分值 < {rule.red_from}",
            },
            {
                "color": "yellow",
                "label": "黄",
                "hex": COLORS["yellow"][1],
                "rule": f"{rule.yellow_from} ≤ 分值 < {rule.orange_from}",
            },
            {"color": "blue", "label": "蓝", "hex": COLORS["blue"][1], "rule": f"分值 < {rule.yellow_from}"},
        ],
    }


class _Tally:
    __slots__ = ("open", "overdue", "defects", "points")

    def __init__(self):
        self.open = self.overdue = self.defects = self.points = 0

    def add(self, other: _Tally) -> None:
        self.open += other.open
        self.overdue += other.overdue
        self.defects += other.defects
        self.points += other.points


def scores(*, user, rule: ColorRule | None = None) -> dict:
    """``{"legend": …, "places": [{kind, id, name, lng, lat, geometry?, score, color, open, overdue, defects}]}``."""
    rule = rule or ColorRule.current()
    now = clock.now()
    places = selectors.map_places(user=user)
    by_unit, by_building, by_community = defaultdict(_Tally), defaultdict(_Tally), defaultdict(_Tally)
    for h in selectors.open_hazards_for_map(user=user):
        t = _Tally()
        t.open = 1
        t.points = rule.level_points(h["level"])
        due = h["case__due_at"]
        if due is not None and due < now and h["case__stage"] in ("rectify", "rework"):
            t.overdue = 1
            t.points += rule.overdue_points
        if h["target_unit_id"]:
            by_unit[h["target_unit_id"]].add(t)
        elif h["target_building_id"]:
            by_building[h["target_building_id"]].add(t)
        if h["case__community_id"]:
            by_community[h["case__community_id"]].add(t)
    buildings = {b.pk: b for b in places["buildings"]}
    units = places["units"]
    own = {pk: by_building[pk] for pk in buildings}
    for b in buildings.values():
        reg = getattr(b, "fire_register", None)  # (no register: None)
        if reg is not None:
            d = reg.defects()
            own[b.pk].defects += d
            own[b.pk].points += d * rule.defect_points
            community = places["grid_community"].get(b.grid_id)
            if community:
                by_community[community].defects += d
                by_community[community].points += d * rule.defect_points
    base = {pk: _Tally() for pk in buildings}  # a building with its own units
    for pk, t in own.items():
        base[pk].add(t)
    for u in units:
        if u.building_id in base:
            base[u.building_id].add(by_unit[u.pk])
    total = {pk: _Tally() for pk in buildings}
    for pk, t in base.items():
        total[pk].add(t)
    for b in buildings.values():  # a 小区 counts its 楼栋 (with their units)
        if b.parent_id in total:
            total[b.parent_id].add(base[b.pk])
    out = []

    def row(kind, obj, t, **extra):
        out.append(
            {
                "kind": kind,
                "id": obj.pk,
                "name": obj.name,
                "score": t.points,
                "color": rule.color(t.points),
                "open": t.open,
                "overdue": t.overdue,
                "defects": t.defects,
                **extra,
            }
        )

    for c in places["communities"]:
        row("community", c, by_community[c.pk], geometry=c.geometry)
    for b in buildings.values():
        row("building", b, total[b.pk], lng=b.lng, lat=b.lat, building_kind=b.get_kind_display())
    for u in units:
        row("unit", u, by_unit[u.pk], lng=u.lng, lat=u.lat)
    return {"legend": legend(rule), "places": out}
