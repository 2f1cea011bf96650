"""A year of 综合执法案件 (行政处罚) for the demo 街道: ~560 cases, two thirds 简易程序 (占道经营, 乱堆乱放 … fined on the
spot), the rest 一般程序 (违法建设 拆除 — about 350 ㎡ over the year —, 渣土, 户外广告, 噪声 …) with a few 不予立案 /
移送 / 撤案.

The year's ended cases are written set-based (a few bulk inserts: cases with their numbers from the per-day
counter, their timelines, department links and detail records — what the case engine would have written move by
move, with the ledger dates on the detail record), so the loader stays well under a second; the last three weeks'
cases, still open at every stage, go through the 综合执法 services and the case engine (clock frozen at each step),
so their stage clocks and lights are the engine's own.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, time, timedelta
from decimal import Decimal

DAYS = 365
PER_YEAR = 560
RECENT_DAYS = 21  # cases younger than this are made through the services, still open
SIMPLE_SHARE = 0.64
ENDED_SHARE = 0.05  # 不予立案 / 移送 / 撤案

# violation type code → (weight in 一般程序, weight in 简易程序)
TYPE_WEIGHTS = {
    "illegal_building": (20, 0),
    "street_vending": (8, 45),
    "piling": (6, 25),
    "outdoor_ad": (14, 10),
    "muck": (18, 2),
    "noise": (8, 6),
    "garbage_sorting": (8, 10),
    "greenery": (5, 2),
    "other": (3, 0),
}
BASIS = {
    "illegal_building": "《中华人民共和国城乡规划法》第四十条、第六十四条",
    "street_vending": "《城市市容和环境卫生管理条例》第十四条、第三十六条",
    "piling": "《城市市容和环境卫生管理条例》第十七条、第三十六条",
    "outdoor_ad": "《城市市容和环境卫生管理条例》第十一条、第三十六条",
    "muck": "《城市建筑垃圾管理规定》第十四条、第二十六条",
    "noise": "《中华人民共和国噪声污染防治法》第八十七条",
    "garbage_sorting": "《生活垃圾管理条例》（地方性法规）相关条款",
    "greenery": "《城市绿化条例》第二十条、第二十七条",
    "other": "相关法律法规",
}
FACTS = {
    "illegal_building": [
        "楼顶擅自搭建彩钢棚",
        "院内违章搭建砖混结构房屋",
        "阳台外扩违章搭建",
        "沿街商铺违规加建雨棚",
    ],
    "street_vending": ["在人行道摆摊设点经营", "店外占道经营", "流动摊贩占道经营"],
    "piling": ["店外人行道堆放杂物", "沿街乱堆建材", "楼道外堆放废品"],
    "outdoor_ad": ["未经批准设置户外招牌", "店招破损未修复", "擅自悬挂横幅广告"],
    "muck": ["渣土车未密闭运输抛洒滴漏", "擅自倾倒建筑垃圾", "工地出入口未冲洗车辆"],
    "noise": ["夜间施工噪声扰民", "商铺使用高音喇叭招揽顾客"],
    "garbage_sorting": ["单位未分类投放生活垃圾", "餐饮单位餐厨垃圾混投"],
    "greenery": ["擅自砍伐行道树", "占用绿地堆放物品"],
    "other": ["其他违反城市管理规定的行为"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
SHOPS = [
    "小吃店",
    "水果店",
    "便利店",
    "五金店",
    "理发店",
    "建材店",
    "装饰公司",
    "建筑公司",
    "餐饮店",
    "物流公司",
]


def _at(day, hour: float, tz) -> datetime:
    h = int(hour)
    return datetime.combine(day, time(h, int((hour - h) * 60)), tzinfo=tz)


def _party(rng, unit: bool) -> tuple[str, str]:
    if unit:
        return f"示范{rng.choice(SHOPS)}（{rng.choice(SURNAMES)}某）", "unit"
    return f"{rng.choice(SURNAMES)}某", "person"


def load_enforcement(
    street,
    rng: random.Random,
    *,
    staff,
    log: Callable[[str], None] = lambda m: None,
    days: int = DAYS,
    scale: float = 1.0,
) -> dict | None:
    from civicgrid.accounts.models import Department, User
    from civicgrid.cases.models import Case, CaseDepartment, CaseEvent
    from civicgrid.cases.services import PastCase, allocate_numbers, record_past_cases
    from civicgrid.core import clock
    from civicgrid.enforcement import defaults, services
    from civicgrid.enforcement.models import EnforcementDetail, ViolationType
    from civicgrid.places.models import Grid

    if EnforcementDetail.objects.filter(street=street).exists():
        log("演示执法案件已存在，跳过。")
        return None
    defaults.ensure()
    types = {t.code: t for t in ViolationType.objects.all()}
    dept = Department.objects.filter(street=street, kind="enforcement").order_by("code").first()
    desk = User.objects.filter(username="dispatcher").first()
    handler = staff.handlers.get(dept.pk) if dept else None
    grids = list(Grid.objects.filter(community__street=street, kind="ordinary").select_related("community"))
    if dept is None or desk is None or handler is None or not grids:
        return None
    head = User.objects.filter(username="shift_leader").first() or desk
    tz = clock.SHANGHAI
    now = clock.now()
    today = clock.to_local(now).date()
    total = max(1, round(PER_YEAR * scale * days / DAYS))
    counts = {"cases": 0, "simple": 0, "general": 0, "ended": 0, "fines": Decimal(0), "area": Decimal(0),
              "open": 0}  # fmt: skip

    # --- the year's ended cases, set-based ---------------------------------------------------------------
    plan = []
    for _ in range(total):
        back = rng.randint(min(RECENT_DAYS + 6, days), max(days, 1))
        day = today - timedelta(days=back)
        plan.append((_at(day, rng.uniform(8.5, 17.5), tz), rng))
    plan.sort(key=lambda p: p[0])
    numbers = allocate_numbers([clock.to_local(t).date() for t, _ in plan])
    cases, events, details, links = [], [], [], []

    def ev(case, seq, move, frm, to, actor, at, note="", data=None):
        events.append(
            CaseEvent(case=case, seq=seq, move=move, from_state=frm, to_state=to, actor=actor,
                      actor_name=(actor.full_name or actor.username)[:150], actor_role=actor.role, at=at,
                      note=note, data=data or {})
        )  # fmt: skip

    for (found, _), number in zip(plan, numbers, strict=True):
        roll = rng.random()
        simple = roll < SIMPLE_SHARE
        ended = not simple and roll > 1 - ENDED_SHARE
        kinds = [c for c in TYPE_WEIGHTS if TYPE_WEIGHTS[c][1 if simple else 0] > 0]
        code = rng.choices(kinds, [TYPE_WEIGHTS[c][1 if simple else 0] for c in kinds])[0]
        vt = types.get(code) or types["other"]
        unit = rng.random() < (0.3 if simple else 0.55)
        party, party_kind = _party(rng, unit)
        grid = rng.choice(grids)
        fact = rng.choice(FACTS.get(code, FACTS["other"]))
        address = f"{grid.community.name}{rng.randint(1, 200)}号附近"
        registered = found + timedelta(minutes=rng.randint(10, 240))
        case = Case(number=number, title=f"{vt.name} · {address}"[:200], description=f"{party}{fact}",
                    source="dispatcher", procedure="enforcement", grid=grid, community=grid.community,
                    street=street, department=dept, address=address, reporter_name=party[:50],
                    created_by=desk, occurred_at=found, created_at=registered)  # fmt: skip
        d = EnforcementDetail(case=case, street=street, violation_type=vt, party_kind=party_kind,
                              party_name=party, discovered_at=found, legal_basis=BASIS.get(code, ""))  # fmt: skip
        seq = [0]

        def step(move, frm, to, actor, at, note="", data=None, case=case, seq=seq):
            seq[0] += 1
            ev(case, seq[0], move, frm, to, actor, at, note, data)

        step("create", "", "clue", desk, registered, data={"source": "dispatcher"})
        step(
            "receive",
            "clue",
            "pending",
            desk,
            registered,
            data={"department": dept.pk, "department_name": dept.name},
        )
        t = registered + timedelta(hours=rng.uniform(0.2, 6) if simple else rng.uniform(6, 24 * 8))
        # the 一般程序 steps after 立案 (告知, 决定, 执行, 结案; or 移送/撤案), squeezed to end before now
        gaps = [rng.uniform(5, 30), rng.uniform(5, 25), rng.uniform(2, 14), rng.uniform(1, 5)]
        room = (now - timedelta(hours=2) - t).total_seconds() / 86400
        if not simple and sum(gaps) > room:
            gaps = [g * max(room, 0.1) / sum(gaps) for g in gaps]
        if simple:
            fine = (
                Decimal(rng.choice([50, 50, 100, 100, 100, 150, 200]))
                if not unit
                else Decimal(rng.choice([200, 500, 1000, 2000]))
            )
            d.procedure_kind = "simple"
            d.accepted_at = d.decided_at = d.executed_at = d.concluded_at = t
            d.penalty, d.fine_amount = "罚款", fine
            d.decision_no = f"示执当〔{t.year}〕{number[-5:]}号"
            d.incident_count = 1
            step("summary_penalty", "pending", "closed", handler, t, "当场处罚，当事人当场缴纳罚款",
                 {"procedure_kind": "simple", "fine_amount": str(fine)})  # fmt: skip
            case.state, case.closed_at, case.handled_at = "closed", t, t
            counts["simple"] += 1
            counts["fines"] += fine
        elif ended and rng.random() < 0.4:
            d.concluded_at = t
            case.state, case.closed_at = "not_filed", t
            step(
                "not_file",
                "pending",
                "not_filed",
                handler,
                t,
                "违法事实不能成立",
                {"reason": "违法事实不能成立"},
            )
            counts["ended"] += 1
        else:
            d.procedure_kind, d.accepted_at = "general", t
            case.accepted_at = t
            step("file_case", "pending", "investigating", handler, t, "符合立案条件，予以立案")
            counts["general"] += 1
            if ended:
                t2 = t + timedelta(days=min(rng.uniform(3, 20), sum(gaps)))
                to = rng.choice(["transferred", "withdrawn"])
                if to == "transferred":
                    d.transferred_to = rng.choice(["区市场监督管理局", "区生态环境分局", "区公安分局"])
                step("transfer" if to == "transferred" else "withdraw", "investigating", to, handler, t2,
                     "不属本部门管辖，依法移送" if to == "transferred" else "当事人已自行纠正且未造成危害后果")  # fmt: skip
                d.concluded_at = t2
                case.state, case.closed_at = to, t2
                counts["ended"] += 1
            else:
                t += timedelta(days=gaps[0])
                d.notified_at = t
                step("notify_rights", "investigating", "notified", handler, t, "送达行政处罚事先告知书")
                if rng.random() < 0.04:
                    d.extended_days = 30
                    step("extend", "notified", "notified", head, t + timedelta(hours=1), "案情复杂，经负责人批准延长",
                         {"extended_days": 30})  # fmt: skip
                t += timedelta(days=gaps[1])
                fine = None
                if code == "illegal_building":
                    d.penalty = "责令限期拆除"
                    if rng.random() < 0.3:
                        fine = Decimal(rng.randrange(2000, 20000, 500))
                        d.penalty = "责令限期拆除并处罚款"
                    d.demolished_area = Decimal(rng.choice([4, 5, 6, 8, 10, 12, 15, 18])) + Decimal(
                        rng.choice(["0", "0.5"])
                    )
                    d.demolished_sites = 1 if rng.random() < 0.8 else 2
                else:
                    fine = Decimal(rng.choice([500, 1000, 2000, 3000, 5000, 10000, 20000]))
                    d.penalty = "罚款"
                d.fine_amount, d.decided_at = fine or Decimal(0), t
                d.rights_response = rng.choice(["none", "none", "none", "statement", "hearing"])
                d.decision_no = f"示执罚〔{t.year}〕{number[-5:]}号"
                step("decide", "notified", "decided", handler, t, "作出行政处罚决定",
                     {"decision_no": d.decision_no, "fine_amount": str(fine or "")})  # fmt: skip
                t += timedelta(days=gaps[2])
                d.executed_at = t
                step("execute", "decided", "executed", handler, t,
                     "已拆除完毕" if code == "illegal_building" else "当事人已缴纳罚款")  # fmt: skip
                t += timedelta(days=gaps[3])
                d.concluded_at = t
                step("close_case", "executed", "closed", handler, t, "案件办结")
                case.state, case.closed_at, case.handled_at = "closed", t, d.executed_at
                counts["fines"] += fine or 0
                counts["area"] += d.demolished_area or 0
        case.version = seq[0]
        case.updated_at = case.closed_at or t
        cases.append(case)
        details.append(d)
        links.append(CaseDepartment(case=case, department=dept, first_assigned_at=registered))
        counts["cases"] += 1
    # the engine's set-based write of a past year: timelines checked against the procedure's table
    timelines: dict[int, list] = {id(c): [] for c in cases}
    for e in events:
        timelines[id(e.case)].append(e)
    linked: dict[int, list] = {id(c): [] for c in cases}
    for link in links:
        linked[id(link.case)].append(link)
    record_past_cases(
        actor=desk,
        rows=[PastCase(case=c, events=timelines[id(c)], departments=linked[id(c)]) for c in cases],
    )
    for x in details:
        x.case_id = x.case.pk
    EnforcementDetail.objects.bulk_create(details, batch_size=500)

    # --- the last three weeks, through the services (open at every stage) ---------------------------------
    recent = max(3, round(10 * scale))
    for i in range(recent):
        found = _at(today - timedelta(days=rng.randint(1, RECENT_DAYS)), rng.uniform(8.5, 17), tz)
        code = rng.choice(["illegal_building", "muck", "outdoor_ad", "street_vending", "noise"])
        party, party_kind = _party(rng, rng.random() < 0.5)
        grid = rng.choice(grids)
        with clock.frozen(found + timedelta(minutes=30)):
            case = services.register_case(
                actor=desk,
                party=services.Party(name=party, kind=party_kind),
                violation_type=types[code],
                description=f"{party}{rng.choice(FACTS[code])}",
                department=dept,
                discovered_at=found,
                grid=grid,
                address=f"{grid.community.name}{rng.randint(1, 200)}号附近",
            )
        counts["cases"] += 1
        counts["open"] += 1
        stage = i % 4  # 0: 待立案, 1: 调查取证, 2: 已告知, 3: 已决定
        t = found + timedelta(hours=rng.uniform(4, 30))
        if stage == 0 or t >= now:
            continue
        with clock.frozen(t):
            case = services.move(
                actor=handler, case=case, name="file_case", detail={"violation_type": types[code].pk}
            )
        counts["general"] += 1
        t += timedelta(days=rng.uniform(1, 4))
        if stage == 1 or t >= now:
            continue
        with clock.frozen(t):
            case = services.move(
                actor=handler, case=case, name="notify_rights", note="送达行政处罚事先告知书"
            )
        t += timedelta(days=rng.uniform(1, 4))
        if stage == 2 or t >= now:
            continue
        with clock.frozen(t):
            services.move(
                actor=handler,
                case=case,
                name="decide",
                detail={"legal_basis": BASIS[code], "penalty": "罚款", "decision_no": f"示执罚〔{t.year}〕{case.pk}号",
                        "rights_response": "none", "fine_amount": "2000"},
            )  # fmt: skip
    log(
        f"综合执法案件 {counts['cases']} 件（一般程序 {counts['general']}，简易程序 {counts['simple']}，"
        f"不予立案/移送/撤案 {counts['ended']}，办理中 {counts['open']}），罚款 {counts['fines']} 元，"
        f"拆除违建 {counts['area']} ㎡。"
    )
    counts["fines"], counts["area"] = str(counts["fines"]), str(counts["area"])
    return counts
