"""The demo 街道's 基础台账: GENERATED people only (names from the demo's name lists, ID numbers made up with a
valid check digit under the 330106 prefix and a birth date, phones 13x-generated), a few thousand persons in
households of the 楼栋 of every ordinary grid with a 网格员; realistic tags (低保, 特困, 独居高龄 …, ~12 %),
救助帮扶 items for 低保/特困/边缘 households, 流动人口 登记 → 在册 → 注销 over the year, and a year of 入户走访 of
the 重点人员 (mostly in time, some overdue) plus ordinary household visits. The recent registrations get their
audit rows (so 采集条数 shows). Bulk inserts (the core set-based inserter); the ciphers are computed per person.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, time, timedelta

DAYS = 365
HOUSEHOLDS_PER_GRID = 40  # ≈ 110 people per grid: a few thousand in the demo 街道
AUDITED_DAYS = 45
MAX_AUDITED = 250  # (each audit row is one hash-chained insert: the cost is bounded)  # registrations of the last 45 days get an audit row each (the 采集条数 of recent months)
TAG_WEIGHTS = [("duju", 4), ("dibao", 3), ("canji", 2), ("tuiyi", 2), ("bianyuan", 1), ("tekun", 1),
               ("kunjing", 1), ("jiaozheng", 0.4), ("xinfang", 0.4)]  # fmt: skip
RELATIONS = ["户主", "配偶", "子女", "父母", "孙子女", "其他"]
NOTES = ["老人身体状况良好，子女每周探望", "已宣传反诈知识，安装国家反诈中心APP", "燃气灶具软管老化，已提醒更换",
         "反映楼道灯不亮", "独居老人，已登记助餐服务", "家中无异常"]  # fmt: skip
FINDINGS = ["楼道内电动车充电，存在火灾隐患", "楼道堆放杂物堵塞消防通道", "屋顶漏水需物业维修"]


def load_registers(
    street,
    rng: random.Random,
    *,
    staff,
    log: Callable[[str], None] = lambda m: None,
    days: int = DAYS,
    scale: float = 1.0,
) -> dict | None:
    from django.db import transaction

    from civicgrid.core import audit, clock
    from civicgrid.core.bulk import SetBasedInserter
    from civicgrid.demo.names import mobile, person_name
    from civicgrid.places.models import Building, Grid
    from civicgrid.registers import crypto, defaults
    from civicgrid.registers.models import (
        AssistanceItem,
        Household,
        Person,
        PersonTag,
        Visit,
        VisitCheckItem,
        VisitResult,
    )

    if Person.objects.filter(street=street).exists():
        log("演示人员台账已存在，跳过。")
        return None
    defaults.ensure()
    tags = {t.code: t for t in PersonTag.objects.all()}
    items = list(VisitCheckItem.objects.filter(is_active=True))
    grids = [
        g
        for g in Grid.objects.filter(community__street=street, kind="ordinary", is_active=True).order_by(
            "code"
        )
        if staff.workers.get(g.pk)
    ]
    grids = grids[: max(1, round(len(grids) * min(1.0, scale)))]
    blocks: dict[int, list] = {}
    for b in Building.objects.filter(grid__in=grids, kind="block").order_by("pk"):
        blocks.setdefault(b.grid_id, []).append(b)
    if not blocks:
        return None
    log("正在生成人员台账（生成数据）与入户走访……")
    now = clock.now()
    today = clock.to_local(now).date()
    tz = clock.SHANGHAI
    start_day = today - timedelta(days=days)

    def at(day, hour=None) -> datetime:
        return datetime.combine(day, time(hour or rng.randint(9, 17), rng.randint(0, 59)), tzinfo=tz)

    households, persons, person_tags, assistance = [], [], [], []
    hh_id = 1  # a local key; the rows get their ids from the inserter
    seq = 0
    used: set[str] = set()
    for g in grids:
        worker = staff.workers[g.pk]
        target = round(HOUSEHOLDS_PER_GRID * rng.uniform(0.8, 1.2))
        n = 0
        for b in blocks.get(g.pk, []):
            for floor in range(1, (b.floors or 6) + 1):
                for door in (1, 2):
                    if n >= target:
                        break
                    created = at(start_day + timedelta(days=rng.randrange(days)))
                    if rng.random() < 0.7:
                        created = at(
                            start_day - timedelta(days=rng.randrange(30))
                        )  # registered before the year
                    hh = {"id": hh_id, "street_id": street.pk, "grid_id": g.pk, "building_id": b.pk,
                          "room": f"{floor}0{door}", "created_by_id": worker.pk, "created_at": created}  # fmt: skip
                    households.append(hh)
                    size = rng.choices([1, 2, 3, 4, 5], [20, 30, 25, 18, 7])[0]
                    old_single = size == 1 and rng.random() < 0.6
                    for i in range(size):
                        seq += 1
                        age = (
                            rng.randint(70, 92)
                            if old_single
                            else (rng.randint(25, 85) if i < 2 else rng.randint(3, 60))
                        )
                        birth = today.replace(year=today.year - age) - timedelta(days=rng.randrange(360))
                        idn = crypto.with_check_digit(f"330106{birth:%Y%m%d}{seq % 1000:03d}")
                        while idn in used:
                            birth -= timedelta(days=1)
                            idn = crypto.with_check_digit(f"330106{birth:%Y%m%d}{seq % 1000:03d}")
                        used.add(idn)
                        phone = mobile(rng) if age >= 16 else ""
                        residence = rng.choices(["huji", "resident", "floating"], [55, 30, 15])[0]
                        p = {"street_id": street.pk, "grid_id": g.pk, "household_id": hh_id,
                             "relation": RELATIONS[0] if i == 0 else rng.choice(RELATIONS[1:]),
                             "name": person_name(rng), "id_cipher": crypto.encrypt(idn),
                             "id_hash": crypto.search_hash(idn), "id_masked": crypto.mask_id(idn),
                             "phone_cipher": crypto.encrypt(phone), "phone_masked": crypto.mask_phone(phone),
                             "residence": residence, "floating_status": "", "is_active": True,
                             "created_by_id": worker.pk, "created_at": created, "updated_at": created,
                             "_worker": worker, "_tags": []}  # fmt: skip
                        if residence == "floating":
                            reg = clock.to_local(created).date()
                            p |= {"floating_status": "registered", "registered_on": reg}
                            if (today - reg).days > 7 or rng.random() < 0.5:
                                p |= {
                                    "floating_status": "listed",
                                    "listed_on": reg + timedelta(days=rng.randint(1, 7)),
                                }
                            if (
                                p.get("listed_on")
                                and rng.random() < 0.35
                                and (today - p["listed_on"]).days > 30
                            ):
                                left = p["listed_on"] + timedelta(
                                    days=rng.randint(20, (today - p["listed_on"]).days)
                                )
                                cancelled = min(
                                    today, left + timedelta(days=rng.choice([1, 2, 3, 5, 6, 10, 15]))
                                )
                                p |= {"floating_status": "cancelled", "left_on": left, "cancelled_on": cancelled,
                                      "is_active": False}  # fmt: skip
                        if old_single and age >= 75:
                            p["_tags"].append("duju")
                        elif rng.random() < 0.1:
                            p["_tags"].append(
                                rng.choices([t for t, _ in TAG_WEIGHTS], [w for _, w in TAG_WEIGHTS])[0]
                            )
                        persons.append(p)
                    hh_tags = {t for p in persons[-size:] for t in p["_tags"]}
                    for kind in ("dibao", "tekun", "bianyuan"):
                        if kind in hh_tags:
                            rec = clock.to_local(created).date() - timedelta(days=rng.randint(0, 700))
                            assistance.append(
                                {
                                    "household_id": hh_id,
                                    "kind": kind,
                                    "recognized_on": rec,
                                    "review_on": rec + timedelta(days=365),
                                    "monthly_amount": {"dibao": 1180, "tekun": 1534, "bianyuan": 590}[kind],
                                    "note": "",
                                }  # fmt: skip
                            )
                    hh_id += 1
                    n += 1
    with transaction.atomic():
        real = dict(
            zip(
                [h["id"] for h in households],
                SetBasedInserter(Household).insert(
                    [{k: v for k, v in h.items() if k != "id"} for h in households]
                ),
                strict=True,
            )
        )
        for row in (*households, *persons, *assistance):
            key = "id" if "building_id" in row else "household_id"
            row[key] = real[row[key]]
        ids = SetBasedInserter(Person).insert(
            [{k: v for k, v in p.items() if not k.startswith("_")} for p in persons]
        )
        for pid, p in zip(ids, persons, strict=True):
            p["id"] = pid
            person_tags.extend({"person_id": pid, "persontag_id": tags[c].pk} for c in p["_tags"])
        SetBasedInserter(Person.tags.through, take_ids=False).insert(person_tags)
        SetBasedInserter(AssistanceItem, take_ids=False).insert(assistance)

        # --- visits: every 重点人员's household about every interval (a few late, some overdue now) --------------
        visits, links, results = [], [], []
        by_hh: dict[int, list] = {}
        for p in persons:
            by_hh.setdefault(p["household_id"], []).append(p)
        hh_by_id = {h["id"]: h for h in households}

        def visit(hh, day, people, method="home"):
            v = {"street_id": street.pk, "grid_id": hh["grid_id"], "target_kind": "household",
                 "household_id": hh["id"], "target_name": "", "method": method, "notes": rng.choice(NOTES),
                 "visited_at": at(day), "visitor_id": staff.workers[hh["grid_id"]].pk, "created_at": at(day, 18),
                 "_people": people, "_hh": hh}  # fmt: skip
            visits.append(v)

        names = {b.pk: b.name for bs in blocks.values() for b in bs}
        for hh_key, members in by_hh.items():
            hh = hh_by_id[hh_key]
            key = [
                p
                for p in members
                if p["_tags"] and tags[p["_tags"][0]].visit_interval_days and p["is_active"]
            ]
            first = max(start_day, clock.to_local(hh["created_at"]).date())
            if key:
                interval = min(tags[p["_tags"][0]].visit_interval_days for p in key)
                day = first + timedelta(days=rng.randint(1, interval))
                lazy = rng.random() < 0.12  # this household's 网格员 falls behind at the end
                while day <= today - (timedelta(days=interval + 10) if lazy else timedelta(days=0)):
                    visit(
                        hh,
                        day,
                        [p for p in members if p["is_active"]],
                        rng.choice(["home", "home", "home", "phone"]),
                    )
                    day += timedelta(
                        days=rng.randint(max(1, interval - 12), interval + (4 if rng.random() < 0.1 else 0))
                    )
            elif rng.random() < 0.5:
                for _ in range(rng.randint(1, 2)):
                    day = first + timedelta(days=rng.randrange(max(1, (today - first).days)))
                    visit(hh, day, [p for p in members if p["is_active"]])
        for v in visits:
            v["target_name"] = f"{names[v['_hh']['building_id']]}{v['_hh']['room']}室"
        vids = SetBasedInserter(Visit).insert(
            [{k: x for k, x in v.items() if not k.startswith("_")} for v in visits]
        )
        for vid, v in zip(vids, visits, strict=True):
            links.extend({"visit_id": vid, "person_id": p["id"]} for p in v["_people"])
            for it in items:
                ok = rng.random() > 0.03
                results.append({"visit_id": vid, "item_id": it.pk, "item_text": it.text, "ok": ok,
                                "note": "" if ok else "已现场提醒"})  # fmt: skip
        SetBasedInserter(Visit.persons.through, take_ids=False).insert(links)
        SetBasedInserter(VisitResult, take_ids=False).insert(results)

        # --- the audit rows of the recent registrations (what 采集条数 counts) ---------------------------------
        recent = now - timedelta(days=AUDITED_DAYS)
        audited = 0
        for p in sorted(persons, key=lambda p: p["created_at"], reverse=True)[:MAX_AUDITED]:
            if p["created_at"] >= recent:
                audit.record(
                    actor=p["_worker"], action="registers.person.create", object_type="registers.person",
                    object_id=p["id"], object_repr=f"{p['name']}（{p['id_masked']}）",
                    after={"name": p["name"], "id_masked": p["id_masked"], "residence": p["residence"]},
                )  # fmt: skip
                audited += 1
    log(f"人员台账：{len(households)} 户，{len(persons)} 人，走访 {len(visits)} 次。")
    return {
        "households": len(households),
        "persons": len(persons),
        "tagged": sum(1 for p in persons if p["_tags"]),
        "visits": len(visits),
        "assistance": len(assistance),
        "audited": audited,
    }
