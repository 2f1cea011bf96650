"""The demo 街道's activity ledgers (generated names and phones only):

- ~150 活动 over the year across the seven kinds (宣讲/宣传 most, 议事 monthly, 演练 around 防灾减灾日 and 消防宣传月,
  志愿服务 on weekends …), most by a 社区, about a fifth by the 街道 itself, with 场次/人次/户数/资料 in plausible ranges.
- 8 应急预案: the 总体预案, 5 专项 and 2 社区预案; one (the 燃气 专项) last reviewed over a year ago: overdue.
- 60 志愿者 spread over the 社区, with 时间银行 entries: hours earned at the year's 志愿服务 activities and a few
  兑换 (never more than the balance).
Set-based inserts (the rows are demo data, not anyone's edits: no audit rows).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

DAYS = 365
ACTIVITIES = 150
VOLUNTEERS = 60

TOPICS = {
    "publicity": (40, ["反诈宣传进社区", "垃圾分类宣传", "禁毒知识宣讲", "党的二十届三中全会精神宣讲", "民法典宣传",
                       "消防安全宣传", "防范养老诈骗宣传", "文明城市创建宣传", "医保政策宣讲", "燃气安全宣传"],
                  (30, 300), (10, 200), (100, 800)),
    "training": (18, ["网格员业务培训", "应急救护培训", "消防安全培训", "调解员培训", "楼道长培训", "数据采集培训"],
                 (15, 80), (0, 0), (20, 100)),
    "drill": (14, ["消防疏散演练", "防汛防台演练", "地震应急避险演练", "燃气泄漏处置演练", "电梯困人救援演练"],
              (30, 400), (10, 150), (0, 200)),
    "volunteer": (30, ["敬老助餐志愿服务", "环境清洁志愿行动", "义诊义剪", "爱心助学", "文明交通劝导",
                       "垃圾分类督导", "关爱独居老人上门服务"], (10, 60), (5, 60), (0, 50)),
    "partnership": (12, ["党建联建签约", "共驻共建座谈", "结对共建走访", "红色物业共建推进会"], (10, 50), (0, 0),
                    (0, 0)),
    "deliberation": (20, ["居民议事会", "加装电梯协商会", "停车难议事会", "老旧小区改造议事会", "民生实事票决"],
                     (12, 40), (10, 40), (0, 30)),
    "culture": (16, ["邻里节", "广场舞展演", "重阳节敬老活动", "迎新春写春联", "亲子运动会", "社区读书会"],
                (50, 400), (20, 150), (0, 100)),
}  # fmt: skip
PLACES = [
    "社区党群服务中心",
    "社区广场",
    "社区活动室",
    "小区中心花园",
    "街道会议室",
    "社区文化家园",
    "幸福邻里坊",
]
STREET_PLACES = ["街道会议室", "街道综合文化站", "街道应急指挥中心", "辖区小学操场"]
PLANS = [
    ("overall", "街道突发事件总体应急预案", "街道应急管理办公室"),
    ("special", "防汛防台专项应急预案", "街道应急管理办公室"),
    ("special", "森林火灾及高层建筑火灾专项应急预案", "街道平安办"),
    ("special", "燃气安全事故专项应急预案", "街道城管科"),
    ("special", "突发公共卫生事件专项应急预案", "街道社会事务科"),
    ("special", "大面积停电事件专项应急预案", "街道经济发展科"),
    ("community", "社区防汛防台应急预案", "社区居委会"),
    ("community", "社区消防安全应急预案", "社区居委会"),
]
SKILLS = ["理发", "义诊", "法律咨询", "家电维修", "文艺演出", "助老陪护", "心理疏导", "垃圾分类指导", "书法",
          "摄影", "交通劝导", "课业辅导"]  # fmt: skip


def load_activities(
    street,
    rng: random.Random,
    *,
    staff,
    log: Callable[[str], None] = lambda m: None,
    days: int = DAYS,
    scale: float = 1.0,
) -> dict | None:
    from civicgrid.activities.models import (
        Activity,
        EmergencyPlan,
        EntryKind,
        TimeBankEntry,
        Volunteer,
    )
    from civicgrid.core import clock
    from civicgrid.demo.names import mobile, person_name
    from civicgrid.places.models import Community

    if (
        Activity.objects.filter(street=street).exists()
        or EmergencyPlan.objects.filter(street=street).exists()
    ):
        log("演示活动台账已存在，跳过。")
        return None
    communities = list(Community.objects.filter(street=street).order_by("code"))
    if not communities:
        return None
    log("正在生成活动台账、应急预案与志愿者……")
    today = clock.local_now().date()
    start = today - timedelta(days=days - 1)
    n_total = max(7, round(ACTIVITIES * scale))
    weights = {k: v[0] for k, v in TOPICS.items()}
    scale_k = n_total / sum(weights.values())

    def organiser(c) -> str:
        return f"{c.name}居委会" if c else f"{street.name}党群服务中心"

    acts = []
    for kind, (weight, names, people, households, materials) in TOPICS.items():
        for _ in range(max(1, round(weight * scale_k))):
            c = None if rng.random() < 0.2 else rng.choice(communities)
            d = start + timedelta(days=rng.randrange(days))
            if kind == "volunteer" and d.weekday() < 5:
                d = min(today, d + timedelta(days=5 - d.weekday()))
            sessions = 1 if rng.random() < 0.8 else rng.randint(2, 4)
            attendance = rng.randint(*people) * sessions
            acts.append(
                Activity(
                    street=street,
                    community=c,
                    kind=kind,
                    name=rng.choice(names),
                    date=d,
                    end_date=d + timedelta(days=sessions - 1)
                    if sessions > 1 and kind == "training"
                    else None,
                    place=rng.choice(PLACES if c else STREET_PLACES),
                    organiser=organiser(c),
                    sessions=sessions,
                    attendance=attendance,
                    households=min(attendance, rng.randint(*households)) if households[1] else 0,
                    materials=rng.randint(*materials) if materials[1] else 0,
                    summary="",
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
    for a in acts:
        a.summary = f"{a.organiser}组织开展{a.name}，共{a.sessions}场，参与{a.attendance}人次。"
    Activity.objects.bulk_create(acts)

    plans = []
    for i, (level, name, dept) in enumerate(PLANS):
        c = communities[i % len(communities)] if level == "community" else None
        issued = date(today.year - 3 + i % 2, 3 + i, 10)
        reviewed = today - timedelta(days=rng.randint(30, 300))
        if "燃气" in name:
            reviewed = today - timedelta(days=420)  # the overdue one
        plans.append(
            EmergencyPlan(
                street=street,
                community=c,
                level=level,
                name=f"{c.name}{name[2:]}" if c else name,
                department=f"{c.name}居委会" if c else dept,
                issued_on=min(issued, reviewed),
                reviewed_on=reviewed,
                review_months=12,
            )
        )
    EmergencyPlan.objects.bulk_create(plans)

    n_vol = max(1, round(VOLUNTEERS * scale))
    volunteers, seen = [], set()
    while len(volunteers) < n_vol:
        name, phone = person_name(rng), mobile(rng)
        if (name, phone) in seen:
            continue
        seen.add((name, phone))
        volunteers.append(
            Volunteer(
                street=street,
                community=rng.choice(communities),
                name=name,
                phone=phone,
                skills="、".join(rng.sample(SKILLS, rng.randint(1, 2))),
                registered_on=start - timedelta(days=rng.randrange(700)),
                is_active=rng.random() > 0.05,
            )
        )
    Volunteer.objects.bulk_create(volunteers)
    service = sorted((a for a in acts if a.kind == "volunteer"), key=lambda a: a.date)
    entries = []
    for v in volunteers:
        balance = Decimal(0)
        for a in rng.sample(service, min(len(service), rng.randint(2, 8))):
            h = Decimal(rng.choice([1, 1.5, 2, 2, 3, 4])).quantize(Decimal("0.1"))
            entries.append(TimeBankEntry(volunteer=v, date=a.date, kind=EntryKind.EARN, hours=h, activity=a,
                                         note=""))  # fmt: skip
            balance += h
        if rng.random() < 0.3 and balance >= 2:
            spend = Decimal(rng.randint(1, int(balance)))
            entries.append(TimeBankEntry(volunteer=v, date=today - timedelta(days=rng.randrange(60)),
                                         kind=EntryKind.SPEND, hours=spend, note="兑换助老服务"))  # fmt: skip
    TimeBankEntry.objects.bulk_create(entries)
    return {
        "activities": len(acts),
        "attendance": sum(a.attendance for a in acts),
        "plans": len(plans),
        "plans_overdue": sum(p.overdue_on(today) for p in plans),
        "volunteers": len(volunteers),
        "timebank_entries": len(entries),
    }
