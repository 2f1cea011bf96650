"""The demo 街道's 信访 year: about 180 信访 (mostly 初信初访, some 重复, rare 越级, no 进京), about 110 来访接待
批次, a few 积案 (one still open past its limit, some 化解). Made through the 信访 services and the case engine
(each move at its own moment under a frozen clock), so every limit, timeline and figure is real.

The demo's 受理员 ``dispatcher`` and 值班长 ``zhibanzhang`` are put on the 信访办; 领导 ``lingdao`` is the usual
包案领导."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

DAYS = 365
PER_YEAR = 180
RECEPTIONS = 110
SUMMARIES = [
    "小区加装电梯意见分歧，要求街道协调", "拆迁安置补偿标准有异议", "物业公司服务差、擅自涨价", "沿街餐饮油烟扰民",
    "工地夜间施工噪音扰民", "农民工工资被拖欠", "小区停车位分配不公", "房屋漏水邻里纠纷久拖未决",
    "老旧小区改造施工影响出行", "低保资格复核有异议", "违建遮挡采光", "垃圾中转站异味影响居民",
]  # fmt: skip
NAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高"
GIVEN = ["建国", "秀英", "桂兰", "志强", "丽华", "国平", "春梅", "海涛", "玉珍", "立新"]


def _at(day: date, hour: float) -> datetime:
    from civicgrid.core import clock

    h = int(hour)
    return datetime.combine(day, time(h, int((hour - h) * 60)), tzinfo=clock.SHANGHAI)


def load_petitions(
    street, rng: random.Random, *, staff, log: Callable[[str], None] = lambda m: None, days: int = DAYS,
    scale: float = 1.0,
) -> dict | None:  # fmt: skip
    from civicgrid.accounts.models import Department, User
    from civicgrid.core import clock
    from civicgrid.petitions import services
    from civicgrid.petitions.models import DeskMember, PetitionDetail, Reception

    if PetitionDetail.objects.filter(case__street=street).exists():
        log("演示信访已存在，跳过。")
        return None
    desk = User.objects.filter(username="dispatcher").first()
    chief = User.objects.filter(username="zhibanzhang").first()
    lead = User.objects.filter(username="lingdao").first()
    if desk is None or chief is None:
        return None
    for u in (desk, chief):
        DeskMember.objects.get_or_create(user=u)
        u.__dict__.pop("_cg_petition_desk", None)
    depts = list(Department.objects.filter(street=street, is_active=True)[:6])
    grids = list(staff.workers)
    from civicgrid.places.models import Grid

    grid_objs = {g.pk: g for g in Grid.objects.filter(pk__in=grids, community__street=street)}
    grids = list(grid_objs)
    now = clock.now()
    today = clock.to_local(now).date()
    counts = {"petitions": 0, "closed": 0, "open": 0, "backlog_resolved": 0, "receptions": 0, "leapfrog": 0}
    made: list = []
    n = max(3, round(PER_YEAR * scale * days / DAYS))
    log("正在生成一年的信访（经由信访服务与工单引擎）……")

    def step(case, name, actor, when, **kw):
        if when >= now:
            return None
        with clock.frozen(when):
            return services.move(actor=actor, case=case, name=name, **kw)

    for i in range(n):
        day = today - timedelta(days=round(days * (n - i) / n) - rng.randint(0, 1))
        if day >= today:
            day = today - timedelta(days=1)
        roll = rng.random()
        kind = "first" if roll < 0.8 or not made else ("repeat" if roll < 0.975 else "leapfrog")
        group = rng.random() < 0.08
        data = services.Registration(
            form=rng.choices(["visit", "letter", "online", "phone", "mailbox"], [45, 20, 25, 5, 5])[0],
            summary=rng.choice(SUMMARIES),
            petitioner_name=rng.choice(NAMES) + rng.choice(GIVEN),
            petitioner_phone=f"13{rng.randint(100000000, 999999999)}",
            kind=kind,
            leap_level=("city" if rng.random() < 0.8 else "province") if kind == "leapfrog" else "",
            is_group=group,
            headcount=rng.randint(5, 30) if group else rng.choice([1, 1, 1, 2]),
            lead=lead if (group or kind != "first") and lead else None,
            grid=grid_objs.get(rng.choice(grids)) if grids else None,
            earlier=[rng.choice(made)] if kind == "repeat" else [],
        )
        registered = _at(day, rng.uniform(8.5, 16.5))
        with clock.frozen(registered):
            case = services.register_petition(actor=desk, data=data, received_at=registered)
        made.append(case)
        counts["petitions"] += 1
        counts["leapfrog"] += kind == "leapfrog"
        accepted = registered + timedelta(days=rng.randint(1, 9), hours=rng.uniform(0, 3))
        backlog = i in (n // 10, n // 4, n // 2) and n >= 20  # a few drag on past their limit
        if step(case, "notify_accept", desk, accepted) is None:
            counts["open"] += 1
            continue
        t = accepted
        if depts and rng.random() < 0.35:
            t = t + timedelta(days=rng.randint(1, 3))
            dept = rng.choice(depts)
            if step(case, "assign_dept", desk, t, department=dept) is None:
                counts["open"] += 1
                continue
            handler = staff.handlers.get(dept.pk)
            t = t + timedelta(days=rng.randint(5, 25))
            if handler is None or step(case, "report_result", handler, t, note="已核实办理",
                                       detail={"opinion": "经调查核实，已协调相关方处理"}) is None:  # fmt: skip
                counts["open"] += 1
                continue
        t = t + timedelta(days=(rng.randint(70, 120) if backlog else rng.randint(3, 30)))
        if rng.random() < 0.02:
            t = accepted + timedelta(days=rng.randint(61, 70))  # the odd late one
        if backlog:
            # 化解 while it is a 积案: open, past its 60 日 limit (later when a holiday moved it), before the
            # reply that closes it
            case.refresh_from_db(fields=["due_at"])
            resolved = clock.to_local(case.due_at).date() + timedelta(days=rng.randint(1, 6))
            if case.due_at is not None and resolved < today and _at(resolved, 17) < t:
                with clock.frozen(_at(resolved, 17)):
                    services.resolve_backlog(actor=desk, case=case, resolved_on=resolved, method="settled",
                                             note="包案领导多次约谈，问题已解决")  # fmt: skip
                counts["backlog_resolved"] += 1
        if step(case, "reply", desk, t, detail={"reply": "已出具信访事项处理意见书并送达"}) is None:
            counts["open"] += 1
            continue
        if step(case, "close", desk, t + timedelta(hours=1)) is None:
            counts["open"] += 1
            continue
        counts["closed"] += 1
    # 来访接待: ~110 批次 a year, 1–3 人次 (a group visit more), linked to a 来访 信访 where one matches
    visits = [c for c in made if c.petition_detail.form == "visit"]
    rows = []
    for k in range(max(1, round(RECEPTIONS * scale * days / DAYS))):
        day = today - timedelta(days=rng.randint(1, days))
        linked = rng.choice(visits) if visits and rng.random() < 0.6 else None
        rows.append(
            Reception(
                street=street,
                received_on=day,
                people=rng.choice([1, 1, 2, 2, 3]) if not (linked and linked.petition_detail.is_group) else 8,
                leader=lead if rng.random() < 0.3 else None,
                petition=linked,
                topic=linked.petition_detail.summary if linked else rng.choice(SUMMARIES),
                created_by=desk,
                created_at=_at(day, 17),
            )
        )
        _ = k
    Reception.objects.bulk_create(rows)
    counts["receptions"] = len(rows)
    log(
        f"信访 {counts['petitions']} 件（已办结 {counts['closed']}，越级 {counts['leapfrog']}，进京 0，"
        f"积案化解 {counts['backlog_resolved']}），来访接待 {counts['receptions']} 批次。"
    )
    return counts
