"""A year of 矛盾纠纷 for the demo 街道, through the dispute services and the case engine (clock frozen at each
step): ~300 disputes from 排查, 当事人申请, 警调衔接 (with the 派出所 and a 警情号), 12345/网格 cases (linked to a
demo case) and 法院委派; mediated by the 街道调委会, the community's 调委会 or the 老娘舅工作室 in one to three
sessions; ~96% 调解成功 (the rest 不成功 or 终止), followed by 履行 and 回访 and 结案; the recent ones still 调解中.

The disputes of the last :data:`LIVE_DAYS` days go through the services and the engine with the clock frozen at
each step (about a dozen); the older ones, whose whole life lies in the past, are written set-based (cases with
numbers from the day counters, their timeline entries, detail records, parties and sessions: about 250 in well
under a second) with the same states, dates and outcomes the engine would have given them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

DAYS = 365
LIVE_DAYS = 14  # the last weeks through the engine; everything older finished long ago: written set-based
PER_DAY = 0.85  # disputes per day on average
SOURCES = [("screening", 35), ("application", 30), ("police", 20), ("case", 10), ("court", 5)]
TYPES = [("neighbour", 25), ("family", 15), ("property", 15), ("labour", 10), ("land_house", 8), ("consumer", 8),
         ("traffic", 8), ("medical", 3), ("other", 8)]  # fmt: skip
STORIES = {
    "neighbour": ["楼上漏水致楼下天花板受损", "装修噪音扰民引发争执", "楼道堆放杂物发生口角", "宠物狗伤人赔偿纠纷",
                  "空调外机噪音与滴水纠纷"],
    "family": ["赡养老人费用分担纠纷", "离婚后子女探望纠纷", "婆媳矛盾引发家庭纠纷", "房屋继承份额纠纷"],
    "property": ["物业费拖欠纠纷", "小区停车位收费纠纷", "电梯维修资金使用纠纷", "物业服务质量引发业主投诉"],
    "labour": ["拖欠工资纠纷", "工伤赔偿纠纷", "解除劳动合同经济补偿纠纷", "装修工人工钱结算纠纷"],
    "land_house": ["房屋租赁押金退还纠纷", "相邻通行权纠纷", "违章搭建影响采光纠纷"],
    "consumer": ["预付卡退费纠纷", "家电质量退换纠纷", "美容服务退款纠纷"],
    "traffic": ["非机动车碰撞赔偿纠纷", "小区内车辆剐蹭纠纷", "电动车与行人碰撞纠纷"],
    "medical": ["诊所诊疗费用纠纷", "药店售药纠纷"],
    "other": ["合伙经营账目纠纷", "民间借贷纠纷", "快递丢件赔偿纠纷"],
}  # fmt: skip
AMOUNTS = {"labour": (2000, 60000), "traffic": (500, 20000), "consumer": (200, 8000), "medical": (500, 30000),
           "property": (300, 6000), "land_house": (1000, 30000), "neighbour": (200, 5000), "other": (1000, 50000)}  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈"
GIVEN = "建国秀英志强丽华海燕伟明桂兰晓东玉兰建华淑珍国强春梅文杰雪梅德明红霞永刚小红金凤宏伟"
MEDIATORS = ["王建华", "李淑芬", "陈国平", "周美玲", "赵德顺", "孙丽萍"]
STATIONS = ["示范派出所", "湖滨派出所"]
OUTCOMES = [("settle", 96), ("settle_fail", 2.5), ("terminate", 1.5)]
FULFIL = [("full", 92), ("partial", 6), ("none", 2)]


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _name(rng: random.Random) -> str:
    given = GIVEN[2 * rng.randrange(len(GIVEN) // 2) :][:2]
    return rng.choice(SURNAMES) + (given if rng.random() < 0.7 else given[0])


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"


def _at(day: date, hour: float, tz) -> datetime:
    h = int(hour)
    return datetime.combine(day, time(h, int((hour - h) * 60)), tzinfo=tz)


def load_disputes(
    street,
    rng: random.Random,
    *,
    staff,
    log: Callable[[str], None] = lambda m: None,
    days: int = DAYS,
    scale: float = 1.0,
) -> dict | None:
    from django.db import transaction

    from civicgrid.accounts.models import User
    from civicgrid.cases import services as case_services
    from civicgrid.cases.models import Case
    from civicgrid.core import clock
    from civicgrid.disputes import defaults, services
    from civicgrid.disputes.models import DisputeDetail, DisputeType, OrgKind
    from civicgrid.places.models import Community, Grid

    if DisputeDetail.objects.filter(case__street=street).exists():
        log("演示矛盾纠纷已存在，跳过。")
        return None
    defaults.ensure()
    communities = list(Community.objects.filter(street=street).order_by("pk"))
    orgs = defaults.ensure_orgs(street, communities)
    street_org = next(o for o in orgs if o.kind == OrgKind.STREET)
    studio = next(o for o in orgs if o.kind == OrgKind.STUDIO)
    community_org = {o.community_id: o for o in orgs if o.kind == OrgKind.COMMUNITY}
    types = {t.code: t for t in DisputeType.objects.all()}
    desk = User.objects.get(username="dispatcher")
    grids = list(Grid.objects.filter(community__street=street, kind="ordinary").select_related("community"))
    if not grids:
        return None
    linkable = list(
        Case.objects.filter(street=street, procedure="standard", number__isnull=False)
        .exclude(number="")
        .order_by("created_at")
        .values_list("pk", "created_at")
    )
    now = clock.now()
    tz = clock.SHANGHAI
    today = clock.to_local(now).date()
    counts = {"disputes": 0, "police": 0, "success": 0, "failed": 0, "terminated": 0, "open": 0}

    def move(case, name, actor, at, **kw):
        if at >= now:
            return None
        with clock.frozen(at):
            return case_services.perform(actor=actor, case=case, move=name, version=case.version, **kw)

    log("正在生成一年的矛盾纠纷（早期的成批写入，最近的经由纠纷服务与工单引擎）……")
    old: list[_Spec] = []
    with transaction.atomic():  # one commit for the year (and all or nothing)
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            n = sum(rng.random() < PER_DAY * scale / 2 for _ in range(2))
            for _ in range(n):
                grid = rng.choice(grids)
                source, code = _pick(rng, SOURCES), _pick(rng, TYPES)
                roll = rng.random()
                org = (
                    studio
                    if roll < 0.15
                    else (street_org if roll < 0.45 else community_org[grid.community_id])
                )
                mediator = (
                    staff.community_staff.get(grid.community_id)
                    if org is community_org.get(grid.community_id)
                    else None
                )
                mediator = mediator or desk
                at = _at(day, rng.uniform(8.5, 17), tz)
                extra = {}
                if source == "police":
                    extra = {
                        "police_station": rng.choice(STATIONS),
                        "police_ref": f"JQ{day:%Y%m%d}{rng.randint(1, 999):03d}",
                    }
                elif source == "court":
                    extra = {"court_name": "示范区人民法院"}
                elif source == "case":
                    earlier = [pk for pk, created in linkable if created < at]
                    if not earlier:
                        source = "screening"
                    else:
                        extra = {"linked_case": Case.objects.get(pk=rng.choice(earlier[-200:]))}
                        mediator = desk  # the desk sees every case of the 街道 (a 社区 sees only its own)
                low_high = AMOUNTS.get(code)
                amount = rng.randrange(*low_high, 100) if low_high and rng.random() < 0.7 else None
                parties = [services.PartyIn("applicant", _name(rng), _phone(rng))]
                parties.append(
                    services.PartyIn("respondent", _name(rng), _phone(rng) if rng.random() < 0.8 else "")
                )
                if rng.random() < 0.1:
                    parties.append(services.PartyIn("third", _name(rng)))
                story = rng.choice(STORIES[code])
                description = f"{grid.community.name}居民{story}，" + (
                    "经派出所出警后移交调解" if source == "police" else "申请调解"
                )
                counts["disputes"] += 1
                counts["police"] += source == "police"
                if back > LIVE_DAYS:
                    old.append(
                        _Spec(grid, source, code, org, mediator, at, extra, amount, parties, description, rng)
                    )
                    continue
                with clock.frozen(at):
                    case = services.register_dispute(
                        actor=mediator,
                        source=source,
                        dispute_type=types[code],
                        org=org,
                        description=description,
                        grid=grid,
                        parties=parties,
                        amount=amount,
                        **extra,
                    )
                counts[_life(case, rng, at, mediator, move, services, parties, amount)] += 1
        for key in _bulk(old, types, street):
            counts[key] += 1
    log(
        f"矛盾纠纷 {counts['disputes']} 起（警调衔接 {counts['police']}，调解成功 {counts['success']}，"
        f"不成功 {counts['failed']}，终止 {counts['terminated']}，调解中 {counts['open']}）。"
    )
    return counts


class _Spec:
    """One older dispute and its whole life, decided up front (the set-based path)."""

    def __init__(self, grid, source, code, org, mediator, at, extra, amount, parties, description, rng):
        self.grid, self.source, self.code, self.org, self.mediator, self.at = (
            grid,
            source,
            code,
            org,
            mediator,
            at,
        )
        self.extra, self.amount, self.parties, self.description = extra, amount, parties, description
        self.outcome = _pick(rng, OUTCOMES)
        self.early_stop = self.outcome == "terminate" and rng.random() < 0.5
        self.team = "、".join(rng.sample(MEDIATORS, 2))
        self.admit_after = timedelta(hours=rng.uniform(0.5, 20))
        self.session_gaps = [timedelta(days=rng.uniform(0.5, 5)) for _ in range(rng.choice([1, 1, 2, 2, 3]))]
        self.decide_after = timedelta(hours=rng.uniform(1, 30))
        self.visit_after = timedelta(days=rng.uniform(10, 25))
        self.close_after = timedelta(hours=rng.uniform(1, 48))
        self.fulfil = _pick(rng, FULFIL)

    def fit(self, now: datetime) -> None:
        """Squeeze the life into the time since intake (a dispute of three weeks ago is 回访 sooner)."""
        parts = [self.admit_after, *self.session_gaps, self.decide_after, self.visit_after, self.close_after]
        total, budget = sum(parts, timedelta()), now - self.at - timedelta(hours=12)
        if total > budget:
            k = budget / total
            self.admit_after, self.decide_after = self.admit_after * k, self.decide_after * k
            self.visit_after, self.close_after = self.visit_after * k, self.close_after * k
            self.session_gaps = [g * k for g in self.session_gaps]


FOLLOWUP = {
    "full": "已按协议履行，双方满意",
    "partial": "已部分履行，督促继续履行",
    "none": "尚未履行，已告知可申请司法确认",
}
SESSION_NOTES = ["召集双方当事人面对面调解，释法明理", "分别做双方工作，缩小分歧", "现场查看并听取双方意见"]


def _terms(parties, amount) -> str:
    a, b = parties[0].name, parties[1].name
    terms = (
        f"{b}一次性支付{a}{amount}元，于协议签订后十日内付清"
        if amount
        else f"{b}向{a}赔礼道歉，双方今后互谅互让"
    )
    return terms + "；双方就此事再无其他争议。"


def _bulk(specs: list[_Spec], types: dict, street) -> list[str]:
    """Write the older disputes set-based: the states, timeline and detail the engine would have written."""
    from civicgrid.cases.models import Case, CaseEvent
    from civicgrid.cases.services import PastCase, allocate_numbers, record_past_cases
    from civicgrid.core import clock
    from civicgrid.disputes.models import DisputeDetail, MediationSession, Party
    from civicgrid.disputes.services import CASE_SOURCE

    if not specs:
        return []
    numbers = allocate_numbers([clock.to_local(s.at).date() for s in specs])
    cases, plans, keys = [], [], []
    now = clock.now()
    for s, number in zip(specs, numbers, strict=True):
        s.fit(now)
        t = s.at
        events = [("create", "", "registered", t, "", {"source": CASE_SOURCE[s.source]})]
        t += s.admit_after
        events.append(("admit", "registered", "mediating", t, "受理", {}))
        sessions, outcome, ended = [], "", None
        if s.early_stop:
            t += s.session_gaps[0]
            events.append(
                ("terminate", "mediating", "terminated", t, "申请人撤回调解申请", {"outcome": "terminated"})
            )
            outcome, ended = "terminated", t
        else:
            for i, gap in enumerate(s.session_gaps):
                t += gap
                sessions.append((clock.to_local(t).date(), SESSION_NOTES[i], t))
            t += s.decide_after
            ended = t
            if s.outcome == "settle":
                outcome = "success"
                events.append(("settle", "mediating", "agreed", t, "", {"outcome": outcome}))
                t += s.visit_after
                events.append(("revisit", "agreed", "visited", t, "", {"fulfilment": s.fulfil}))
                t += s.close_after
                events.append(("conclude", "visited", "closed", t, "结案归档", {}))
            elif s.outcome == "settle_fail":
                outcome = "failed"
                events.append(("settle_fail", "mediating", "failed", t, "双方分歧较大，告知通过诉讼途径解决",
                               {"outcome": outcome}))  # fmt: skip
                t += timedelta(hours=2)
                events.append(("conclude", "failed", "closed", t, "", {}))
            else:
                outcome = "terminated"
                events.append(("terminate", "mediating", "terminated", t, "一方当事人起诉至法院",
                               {"outcome": outcome}))  # fmt: skip
        linked = s.extra.get("linked_case")
        ref = s.extra.get("police_ref") or (linked.number if linked else "")
        cases.append(
            Case(
                number=number,
                title=f"{s.description[:30]} · {s.grid.name}",
                description=s.description,
                source=CASE_SOURCE[s.source],
                source_ref=ref,
                procedure="dispute",
                state=events[-1][2],
                version=len(events),
                grid=s.grid,
                community_id=s.grid.community_id,
                street=street,
                created_by=s.mediator,
                created_at=s.at,
                updated_at=events[-1][3],
                closed_at=events[-1][3],
            )
        )
        plans.append((s, events, sessions, outcome, ended))
        keys.append({"success": "success", "failed": "failed", "terminated": "terminated"}[outcome])
    past = []
    for case, (s, events, _sessions, _outcome, _ended) in zip(cases, plans, strict=True):
        name, role = s.mediator.display_name, s.mediator.role
        timeline = [CaseEvent(move=move, from_state=frm, to_state=to, actor=s.mediator, actor_name=name[:150],
                              actor_role=role, at=at, note=note, data=data)
                    for move, frm, to, at, note, data in events]  # fmt: skip
        past.append(PastCase(case=case, events=timeline))
    # the engine's set-based write of a past year: timelines checked against the procedure's table
    record_past_cases(actor=specs[0].mediator, rows=past)
    details = []
    for case, (s, events, _sessions, outcome, ended) in zip(cases, plans, strict=True):
        end_day = clock.to_local(ended).date()
        visit = next((e for e in events if e[0] == "revisit"), None)
        details.append(
            DisputeDetail(
                case=case,
                source=s.source,
                police_station=s.extra.get("police_station", ""),
                police_ref=s.extra.get("police_ref", ""),
                court_name=s.extra.get("court_name", ""),
                linked_case=s.extra.get("linked_case"),
                dispute_type=types[s.code],
                org=s.org,
                amount=s.amount,
                received_on=clock.to_local(s.at).date(),
                ended_on=end_day,
                outcome=outcome,
                agreement_terms=_terms(s.parties, s.amount) if outcome == "success" else "",
                agreement_no=f"调协字〔{end_day.year}〕{case.number}" if outcome == "success" else "",
                fulfilment=s.fulfil if visit else "",
                followup_on=clock.to_local(visit[3]).date() if visit else None,
                followup_result=FOLLOWUP[s.fulfil] if visit else "",
            )
        )
    DisputeDetail.objects.bulk_create(details, batch_size=500)
    details = {d.case_id: d for d in DisputeDetail.objects.filter(case__in=cases)}
    parties, sessions = [], []
    for case, (s, _events, planned, _o, _e) in zip(cases, plans, strict=True):
        d = details[case.pk]
        parties += [Party(dispute=d, role=p.role, name=p.name, phone=p.phone) for p in s.parties]
        sessions += [MediationSession(dispute=d, held_on=day, mediators=s.team, notes=note, recorded_by=s.mediator,
                                      recorded_at=at) for day, note, at in planned]  # fmt: skip
    Party.objects.bulk_create(parties, batch_size=1000)
    MediationSession.objects.bulk_create(sessions, batch_size=1000)
    return keys


def _life(case, rng, at, mediator, move, services, parties, amount) -> str:
    """受理, sessions and the outcome as far as the dispute's age allows; returns which count it adds to."""
    from civicgrid.core import clock

    t = at + timedelta(hours=rng.uniform(0.5, 20))
    case = move(case, "admit", mediator, t, amount=30, unit="natural_days", note="受理")
    if case is None:
        return "open"
    outcome = _pick(rng, OUTCOMES)
    if outcome == "terminate" and rng.random() < 0.5:
        t += timedelta(days=rng.uniform(1, 10))
        return "terminated" if move(case, "terminate", mediator, t, reason="申请人撤回调解申请") else "open"
    team = "、".join(rng.sample(MEDIATORS, 2))
    for i in range(rng.choice([1, 1, 2, 2, 3])):
        t += timedelta(days=rng.uniform(0.5, 7))
        if t >= clock.now():
            return "open"
        with clock.frozen(t):
            services.record_session(
                actor=mediator,
                case=case,
                held_on=clock.to_local(t).date(),
                mediators=team,
                notes=SESSION_NOTES[i],
            )
    case.refresh_from_db()
    t += timedelta(hours=rng.uniform(1, 30))
    if outcome == "settle_fail":
        case = move(case, "settle_fail", mediator, t, reason="双方分歧较大，告知通过诉讼途径解决")
        if case is None:
            return "open"
        move(case, "conclude", mediator, t + timedelta(hours=2))
        return "failed"
    if outcome == "terminate":
        return "terminated" if move(case, "terminate", mediator, t, reason="一方当事人起诉至法院") else "open"
    case = move(case, "settle", mediator, t, detail={"agreement_terms": _terms(parties, amount)})
    if case is None:
        return "open"
    t += timedelta(days=rng.uniform(10, 30))
    fulfil = _pick(rng, FULFIL)
    case = move(
        case, "revisit", mediator, t, detail={"fulfilment": fulfil, "followup_result": FOLLOWUP[fulfil]}
    )
    if case is not None:
        move(case, "conclude", mediator, t + timedelta(hours=rng.uniform(1, 48)), note="结案归档")
    return "success"
