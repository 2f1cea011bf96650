"""A year of 安全检查 and 安全隐患 for the demo 街道, through the hazard services and the case engine (clock frozen at
each step): ~2 inspections a working day over the units and buildings of the street, a failed item becoming a
hazard now and then; each hazard 交办 to 安监办/应急办/城管 within its level's bounds, 整改 (mostly on time), 复查 by
the grid's 网格员 (sometimes 不合格), 销号 by the desk; 重大 ones 挂牌督办; the recent ones still open. Plus a
消防设施 register for a share of the buildings.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, time, timedelta

DAYS = 365
PER_DAY = (1, 3)  # inspections per working day
HAZARD_CHANCE = 0.35  # an inspection finds something
DEPT_BY_CATEGORY = {
    "hazchem": "AJB",
    "gas": "AJB",
    "six_lists": "AJB",
    "three_in_one": "YJB",
    "ebike": "YJB",
    "fire_facility": "YJB",
    "self_built": "CGZD",
    "other": "CGZD",
}
DESCRIPTIONS = {
    "fire_facility": [
        "灭火器压力不足",
        "灭火器过期未更换",
        "疏散通道堆放杂物",
        "安全出口指示灯损坏",
        "烟感报警器缺失",
    ],
    "three_in_one": ["仓库内设置员工宿舍", "店铺阁楼住人", "生产区与住宿区未分隔"],
    "gas": ["液化气瓶与灶具距离不足", "未安装燃气泄漏报警装置", "液化气瓶存放在地下室", "燃气软管老化"],
    "ebike": ["电动车在楼道内充电", "飞线充电", "电动车停放堵塞疏散通道"],
    "self_built": ["擅自加层", "墙体开裂未处置", "改变房屋承重结构"],
    "hazchem": ["油漆稀释剂超量存放", "危化品未分类存放"],
    "six_lists": ["安全责任清单未公示", "隐患自查台账缺失"],
    "other": ["电线私拉乱接", "配电箱未加锁", "插座超负荷使用"],
}


def _at(day, hour: float, tz) -> datetime:
    h = int(hour)
    return datetime.combine(day, time(h, int((hour - h) * 60)), tzinfo=tz)


def load_hazards(
    street,
    rng: random.Random,
    *,
    staff,
    log: Callable[[str], None] = lambda m: None,
    days: int = DAYS,
    scale: float = 1.0,
) -> dict | None:
    from civicgrid.accounts.models import Department, User
    from civicgrid.cases import services as case_services
    from civicgrid.cases.errors import CaseErrorCode  # noqa: F401  (import order: cases before hazards)
    from civicgrid.core import clock, workcalendar
    from civicgrid.hazards import services
    from civicgrid.hazards.models import Checklist, Equipment, FireSafetyRegister, HazardCategory, Inspection
    from civicgrid.hazards.workflow import LEVEL_BOUNDS
    from civicgrid.places.models import Building, Unit

    if Inspection.objects.filter(street=street).exists():
        log("演示安全检查已存在，跳过。")
        return None
    from civicgrid.hazards import defaults

    defaults.ensure()
    checklist = Checklist.objects.filter(is_active=True).prefetch_related("items__category").first()
    if checklist is None:
        return None
    items = list(checklist.items.all())
    cats = {c.code: c for c in HazardCategory.objects.all()}
    depts = {
        d.code: d for d in Department.objects.filter(street=street, code__in=set(DEPT_BY_CATEGORY.values()))
    }
    desk = User.objects.get(username="dispatcher")
    units = list(Unit.objects.filter(grid__community__street=street).select_related("grid"))
    buildings = list(
        Building.objects.filter(grid__community__street=street, kind__in=["estate", "tower"]).select_related(
            "grid"
        )
    )

    def worker_for(grid):
        return staff.workers.get(grid.pk) or staff.workers.get(grid.parent_id)

    units = [u for u in units if worker_for(u.grid)]
    buildings = [b for b in buildings if worker_for(b.grid)]
    if not units or not depts:
        return None
    now = clock.now()
    tz = clock.SHANGHAI
    today = clock.to_local(now).date()
    counts = {"inspections": 0, "hazards": 0, "closed": 0, "supervised": 0, "registers": 0}

    def move(case, name, actor, at, **kw):
        if at >= now:
            return False
        with clock.frozen(at):
            case_services.perform(actor=actor, case=case, move=name, version=case.version, **kw)
        return True

    log("正在生成一年的安全检查与隐患（经由隐患服务与工单引擎）……")
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        if not workcalendar.is_workday(day):
            continue
        for _ in range(max(1, round(rng.randint(*PER_DAY) * scale))):
            on_unit = rng.random() < 0.75 or not buildings
            obj = rng.choice(units) if on_unit else rng.choice(buildings)
            worker = worker_for(obj.grid)
            at = _at(day, rng.uniform(9, 16.5), tz)
            findings = []
            bad = rng.random() < HAZARD_CHANCE
            failed = set(rng.sample(range(len(items)), rng.choice([1, 1, 1, 2]))) if bad else set()
            for n, item in enumerate(items):
                if n not in failed:
                    findings.append(services.Finding(passed=True, item=item))
                    continue
                code = item.category.code if item.category else "other"
                roll = rng.random()
                level = "major" if roll < 0.06 else ("serious" if roll < 0.3 else "general")
                findings.append(
                    services.Finding(
                        passed=False,
                        item=item,
                        hazard=True,
                        level=level,
                        category=cats.get(code),
                        description=f"{obj.name}：{rng.choice(DESCRIPTIONS.get(code, DESCRIPTIONS['other']))}",
                    )
                )
            with clock.frozen(at):
                target = services.resolve_target(
                    actor=worker,
                    kind="unit" if on_unit else "building",
                    unit_id=obj.pk if on_unit else None,
                    building_id=None if on_unit else obj.pk,
                )
                inspection = services.record_inspection(
                    actor=worker, target=target, checklist=checklist, findings=findings, inspected_at=at
                )
            counts["inspections"] += 1
            for case in inspection.new_hazards:
                counts["hazards"] += 1
                counts["closed"] += _life(
                    case, rng, at, worker, desk, depts, staff, LEVEL_BOUNDS, move, counts
                )
    # 消防设施 registers for about half the 小区/楼宇
    for b in buildings:
        if rng.random() < 0.5:
            values = {
                f: rng.choices([Equipment.OK, Equipment.FAULTY, Equipment.MISSING], [85, 10, 5])[0]
                for f in FireSafetyRegister.FIELDS
            }
            if rng.random() < 0.5:
                values["sprinklers"] = Equipment.NA
            with clock.frozen(now - timedelta(days=rng.randint(1, 120))):
                services.save_fire_register(actor=worker_for(b.grid), building=b, **values)
            counts["registers"] += 1
    log(
        f"安全检查 {counts['inspections']} 家次，隐患 {counts['hazards']} 处（已销号 {counts['closed']}，"
        f"挂牌督办 {counts['supervised']}），消防设施登记 {counts['registers']} 栋。"
    )
    return counts


def _life(case, rng, found_at, worker, desk, depts, staff, bounds, move, counts) -> int:
    """Drive one hazard as far as its age allows; returns 1 when it ends 销号."""
    from civicgrid.hazards.models import HazardDetail

    d = HazardDetail.objects.select_related("category").get(case=case)
    code = d.category.code if d.category else "other"
    dept = depts.get(DEPT_BY_CATEGORY.get(code, "CGZD")) or next(iter(depts.values()))
    handler = staff.handlers.get(dept.pk)
    if handler is None:
        return 0
    low, high = bounds[d.level]
    limit = rng.randint(max(low, min(3, high)), high)
    t = found_at + timedelta(hours=rng.uniform(2, 30))
    if d.level == "major" and rng.random() < 0.7 and move(case, "list_supervise", desk, t, note="挂牌督办"):
        counts["supervised"] += 1
    if rng.random() < 0.02:
        move(case, "void", desk, t, reason="重复录入")
        return 0
    if not move(
        case, "assign_fix", desk, t, department=dept, amount=limit, unit="natural_days", note="请限期整改"
    ):
        return 0
    late = rng.random() < 0.12
    t += timedelta(days=limit * (rng.uniform(1.1, 1.8) if late else rng.uniform(0.2, 0.9)))
    if not move(
        case, "report_fixed", handler, t, note="已按要求整改", detail={"measures": "责令整改并现场督促落实"}
    ):
        return 0
    t += timedelta(hours=rng.uniform(4, 60))
    if rng.random() < 0.1:
        if not move(case, "review_fail", worker, t, reason="整改不到位"):
            return 0
        t += timedelta(days=rng.uniform(1, 6))
        if not move(case, "report_fixed", handler, t, note="已再次整改", detail={"measures": "二次整改"}):
            return 0
        t += timedelta(hours=rng.uniform(4, 48))
    if not move(case, "review_pass", worker, t):
        return 0
    t += timedelta(hours=rng.uniform(1, 48))
    return 1 if move(case, "sign_off", desk, t, note="复查合格，予以销号") else 0
