"""The demo 街道's 出租房, 楼宇/企业 and 专项排查 (generated names and phones only):

- 出租房 in the 楼栋 of every grid with a 网格员 (~8 per grid), ~15 % 群租, a few 三合一, 19 清退 over the year;
  the landlord is a register person of the building where there is one; 1–3 inspections each over the year.
- 12 重点楼宇 (the towers with the most companies) topped up to ~400 入驻单位 in all, ~89 % registered in this
  街道, a few moved out; 楼长, 挂钩领导; ~60 企业走访 (some with 诉求).
- 3 专项排查: 燃气安全 (finished in spring, ~97 % covered), 电动车 (summer–autumn, ~90 %), 普查清查 (this month,
  under way ~45 %), targets = 户 of the register; a few findings filed as cases through the case engine.
Set-based inserts; the few cases go through ``cases.services.create_case`` (their audit rows and numbers).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

DAYS = 365
RENTALS_PER_GRID = 8
KEY_BUILDINGS = 12
KEY_UNITS = 400
REGISTERED_SHARE = 0.89
CLEARED = 19
LEADERS = ["王副书记", "李副主任", "陈副主任", "张武装部长", "刘副书记", "赵副主任"]
FINDINGS = ["楼道内电动车充电", "私拉乱接电线", "消防通道堆放杂物", "厨房与卧室未分隔", "灭火器过期"]
DEMANDS = [
    "希望协调解决员工停车难",
    "咨询人才公寓申请政策",
    "门前道路破损影响货车进出",
    "申请高新技术企业认定指导",
]
CLEAR_REASONS = ["群租整治", "违规改变房屋用途", "消防安全隐患未整改", "三合一场所整治"]


def load_estates(
    street,
    rng: random.Random,
    *,
    staff,
    log: Callable[[str], None] = lambda m: None,
    days: int = DAYS,
    scale: float = 1.0,
) -> dict | None:
    from django.db import transaction
    from django.db.models import Count

    from civicgrid.cases import services as case_services
    from civicgrid.core import clock
    from civicgrid.demo.names import company_name, credit_code, mobile, person_name
    from civicgrid.estates.models import (
        BuildingProfile,
        Campaign,
        CampaignTarget,
        EnterpriseProfile,
        EnterpriseVisit,
        Industry,
        Rental,
        RentalInspection,
    )
    from civicgrid.places.models import Building, Grid, Unit
    from civicgrid.registers import crypto
    from civicgrid.registers.models import Household, Person

    if Rental.objects.filter(street=street).exists() or Campaign.objects.filter(street=street).exists():
        log("演示出租房/楼宇/专项排查已存在，跳过。")
        return None
    grids = [
        g
        for g in Grid.objects.filter(community__street=street, kind="ordinary", is_active=True)
        .select_related("community")
        .order_by("code")
        if staff.workers.get(g.pk)
    ]
    grids = grids[: max(1, round(len(grids) * min(1.0, scale)))]
    if not grids:
        return None
    log("正在生成出租房、重点楼宇与专项排查……")
    today = clock.local_now().date()
    start = today - timedelta(days=days)
    tz = clock.SHANGHAI

    def day_in(a: date, b: date) -> date:
        return a + timedelta(days=rng.randrange(max(1, (b - a).days + 1)))

    def at(d: date) -> datetime:
        return datetime.combine(d, time(rng.randint(9, 17), rng.randint(0, 59)), tzinfo=tz)

    # --- 出租房 ----------------------------------------------------------------------------------------------
    blocks: dict[int, list] = {}
    for b in Building.objects.filter(grid__in=grids, kind="block").order_by("pk"):
        blocks.setdefault(b.grid_id, []).append(b)
    landlords: dict[tuple[int, str], Person] = {}
    for p in Person.objects.filter(
        street=street, household__isnull=False, relation="户主", is_active=True
    ).select_related("household"):
        landlords[(p.household.building_id, p.household.room)] = p
    rentals, used = [], set()
    for g in grids:
        for _ in range(round(RENTALS_PER_GRID * rng.uniform(0.7, 1.3))):
            if not blocks.get(g.pk):
                break
            b = rng.choice(blocks[g.pk])
            room = f"{rng.randint(1, b.floors or 6)}0{rng.randint(1, 3)}"
            if (b.pk, room) in used:
                continue
            used.add((b.pk, room))
            owner = landlords.get((b.pk, room))
            phone = mobile(rng)
            crowded = rng.random() < 0.15
            created = day_in(start - timedelta(days=200), today - timedelta(days=20))
            rentals.append(
                Rental(
                    street=street,
                    grid=g,
                    building=b,
                    room=room,
                    landlord_person=owner,
                    landlord_name=owner.name if owner else person_name(rng),
                    landlord_phone_cipher=crypto.encrypt(phone),
                    landlord_phone_masked=crypto.mask_phone(phone),
                    tenants=rng.randint(6, 14) if crowded else rng.randint(1, 4),
                    crowded=crowded,
                    three_in_one=rng.random() < 0.05,
                    created_by=staff.workers[g.pk],
                    created_at=at(created),
                    updated_at=at(created),
                )  # fmt: skip
            )
    # 清退: the 群租 / 三合一 first
    for r in sorted(rentals, key=lambda r: (not (r.crowded or r.three_in_one), rng.random()))[:CLEARED]:
        r.status, r.cleared_on = "cleared", day_in(start + timedelta(days=30), today)
        r.clear_reason = rng.choice(CLEAR_REASONS)
    with transaction.atomic():
        Rental.objects.bulk_create(rentals, batch_size=500)
        inspections = []
        for r in rentals:
            first = clock.to_local(r.created_at).date()
            for _ in range(rng.choice([1, 1, 2, 3])):
                d = day_in(max(first, start), r.cleared_on or today)
                bad = r.crowded or rng.random() < 0.15
                inspections.append(
                    RentalInspection(
                        rental=r,
                        inspected_on=d,
                        inspector=staff.workers[r.grid_id],
                        result=("serious" if r.crowded else "rectify") if bad else "ok",
                        findings=rng.choice(FINDINGS) if bad else "",
                        created_at=at(d),
                    )  # fmt: skip
                )
        RentalInspection.objects.bulk_create(inspections, batch_size=1000)

        # --- 楼宇 / 企业 ------------------------------------------------------------------------------------
        towers = list(
            Building.objects.filter(grid__community__street=street, kind="tower")
            .select_related("grid__community")
            .annotate(n=Count("units"))
            .order_by("-n", "pk")
        )
        key = towers[:KEY_BUILDINGS]
        profiles = [
            BuildingProfile(
                building=t,
                street=street,
                grid=t.grid,
                is_key=t in key,
                manager_name=person_name(rng),
                manager_phone_masked=crypto.mask_phone(phone := mobile(rng)),
                manager_phone_cipher=crypto.encrypt(phone),
                leader=rng.choice(LEADERS) if t in key else "",
                total_area=Decimal(rng.randrange(12000, 60000, 500)),
            )  # fmt: skip
            for t in towers
        ]
        BuildingProfile.objects.bulk_create(profiles)
        have = sum(t.n for t in key)
        extra = []
        for i in range(max(0, KEY_UNITS - have)):
            t = key[i % len(key)] if key else None
            if t is None:
                break
            floor = rng.randint(2, t.floors or 20)
            extra.append(
                Unit(
                    grid=t.grid,
                    building=t,
                    kind="enterprise",
                    name=company_name(rng),
                    credit_code=credit_code(rng, kind="enterprise"),
                    address=f"{t.address}{t.name}{floor}{rng.randint(1, 30):02d}室",
                    lng=t.lng,
                    lat=t.lat,
                )  # fmt: skip
            )
        Unit.objects.bulk_create(extra, batch_size=500)
        units = list(Unit.objects.filter(building__in=towers).select_related("building").order_by("pk"))
        in_key = [u for u in units if u.building in key]
        registered = {u.pk for u in rng.sample(in_key, round(len(in_key) * REGISTERED_SHARE))}
        industries = [c for c, _ in Industry.choices]
        ents = []
        for u in units:
            here = u.pk in registered if u.building in key else rng.random() < 0.8
            moved_out = rng.random() < 0.03
            ents.append(
                EnterpriseProfile(
                    unit=u,
                    street=street,
                    grid_id=u.grid_id,
                    building=u.building,
                    credit_code=u.credit_code or credit_code(rng, kind="enterprise"),
                    registered_here=here,
                    industry=rng.choices(industries, [25, 10, 20, 15, 10, 8, 7, 5])[0],
                    above_scale=rng.random() < 0.12,
                    vacant_area=Decimal(rng.choice([0, 0, 0, 0, 80, 150, 300])),
                    moved_in_on=day_in(today - timedelta(days=2000), today - timedelta(days=30)),
                    moved_out_on=day_in(start, today) if moved_out and not here else None,
                )  # fmt: skip
            )
        EnterpriseProfile.objects.bulk_create(ents, batch_size=500)
        key_ents = [e for e in ents if e.building in key]
        visits = []
        for e in rng.sample(key_ents, min(60, len(key_ents))):
            d = day_in(start, today)
            visits.append(
                EnterpriseVisit(
                    enterprise=e,
                    visited_on=d,
                    visitor=staff.workers.get(e.grid_id) or staff.workers[grids[0].pk],
                    notes="了解企业经营与用工情况，宣传惠企政策",
                    demand=rng.choice(DEMANDS) if rng.random() < 0.2 else "",
                    created_at=at(d),
                )  # fmt: skip
            )
        EnterpriseVisit.objects.bulk_create(visits)

        # --- 专项排查 -----------------------------------------------------------------------------------------
        households = list(
            Household.objects.filter(street=street, grid__in=grids).select_related("building").order_by("pk")
        )
        plans = [
            ("RQ", "燃气安全入户排查", "gas", date(today.year, 3, 1), date(today.year, 4, 30), 0.97, 0.6),
            (
                "DDC",
                "电动车入户充电专项排查",
                "ebike",
                date(today.year, 6, 1),
                date(today.year, 10, 31),
                0.9,
                0.5,
            ),
            ("PC", "人口普查清查摸底", "census", today.replace(day=1), today + timedelta(days=45), 0.45, 0.5),
        ]
        campaigns, targets = [], []
        for code, name, kind, s, e, share, sample in plans:
            if s > today:  # early in the year: move the earlier campaigns back a year
                s, e = s.replace(year=s.year - 1), e.replace(year=e.year - 1)
            c = Campaign.objects.create(
                street=street, code=f"{code}{s.year}", name=f"{s.year}年{name}", kind=kind, starts_on=s,
                ends_on=e, created_at=at(s),
            )  # fmt: skip
            campaigns.append(c)
            chosen = [h for h in households if rng.random() < sample]
            last = min(e, today)
            for h in chosen:
                t = CampaignTarget(
                    campaign=c, street=street, grid_id=h.grid_id, key=f"{h.pk:06d}",
                    name=f"{h.building.name}{h.room}室", address=h.building.address, building=h.building,
                )  # fmt: skip
                if rng.random() < share:
                    t.result = rng.choices(["checked", "problem", "unreachable"], [86, 8, 6])[0]
                    t.checked_at, t.checked_by = at(day_in(s, last)), staff.workers.get(h.grid_id)
                    t.note = {"problem": rng.choice(FINDINGS), "unreachable": "多次上门无人，电话未接通"}.get(
                        t.result, ""
                    )
                targets.append(t)
        CampaignTarget.objects.bulk_create(targets, batch_size=1000)

    # a few findings become cases through the case engine (as the 网格员 who found them)
    filed = 0
    problems = [t for t in targets if t.result == "problem" and t.checked_by is not None]
    for t in rng.sample(problems, min(6, len(problems))):
        t.case = case_services.create_case(
            actor=t.checked_by, source="grid_patrol", description=f"专项排查发现：{t.note}（{t.name}）",
            grid=t.grid, address=t.address or t.name,
        )  # fmt: skip
        t.save(update_fields=["case"])
        filed += 1
    for v in [v for v in visits if v.demand and staff.workers.get(v.enterprise.grid_id) == v.visitor][:4]:
        v.case = case_services.create_case(
            actor=v.visitor, source="grid_patrol", description=f"企业走访诉求：{v.demand}（{v.enterprise.unit.name}）",
            grid=v.enterprise.grid, address=v.enterprise.unit.address,
        )  # fmt: skip
        v.save(update_fields=["case"])
        filed += 1
    n_key_ents = sum(1 for e in key_ents if e.moved_out_on is None)
    reg_key = sum(1 for e in key_ents if e.moved_out_on is None and e.registered_here)
    log(
        f"出租房 {len(rentals)} 套（群租 {sum(r.crowded for r in rentals)}，清退 {sum(r.status == 'cleared' for r in rentals)}），重点楼宇 {len(key)} 座、"
        f"入驻单位 {n_key_ents} 家（本街道注册 {reg_key} 家），专项排查 {len(campaigns)} 个（对象 {len(targets)} 个）。"
    )
    return {
        "rentals": len(rentals),
        "crowded": sum(r.crowded for r in rentals),
        "cleared": sum(r.status == "cleared" for r in rentals),
        "inspections": len(inspections),
        "key_buildings": len(key),
        "key_units": n_key_ents,
        "registration_rate": round(100 * reg_key / n_key_ents, 1) if n_key_ents else None,
        "campaigns": len(campaigns),
        "targets": len(targets),
        "cases": filed,
    }
