"""A year of 舆情 for the demo 街道: a few dozen posts (微博, 微信, 短视频, 论坛, 新闻, 政务平台留言) collected by the
desk, 研判 (mostly 一般, a few 较大, rarely 重大), handed to the responsible department, answered in public and
closed; some judged 无需处置. The year's ended ones are written set-based (cases numbered from the per-day counter,
their timelines, department links and detail records — what the engine writes move by move), the last weeks' go
through the 舆情 services and the case engine (clock frozen at each step) and are still open at several stages."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, time, timedelta

DAYS = 365
PER_YEAR = 36
RECENT_DAYS = 14  # younger than this: through the services
TOPICS = [
    ("wechat", "示范街道发布", "业主群反映小区电梯频繁故障", "ZJB"),
    ("weibo", "@城市热线观察", "网友称示范路夜间施工噪声扰民", "CGZD"),
    ("video", "抖音@示范街坊", "短视频曝光河道漂浮垃圾", "HBS"),
    ("forum", "19楼示范版", "网帖反映学校门口早高峰拥堵", "PCS"),
    ("news", "都市快报", "媒体报道老旧小区外墙脱落隐患", "ZJB"),
    ("gov", "人民网领导留言板", "留言反映菜市场占道经营", "CGZD"),
    ("weibo", "@本地生活", "网友吐槽共享单车乱停放", "CGZD"),
    ("video", "快手@路见", "视频称餐馆油烟直排扰民", "SCJG"),
    ("wechat", "示范社区居民群", "群内传言自来水水质异常", "SWB"),
    ("forum", "小红书@示范探店", "帖子反映商铺液化气瓶违规存放", "AJB"),
]
URLS = {
    "weibo": "https://weibo.com/{n}",
    "wechat": "https://mp.weixin.qq.com/s/{n}",
    "video": "https://www.douyin.com/video/{n}",
    "forum": "https://bbs.example.cn/thread-{n}",
    "news": "https://news.example.cn/{n}.html",
    "gov": "https://liuyan.people.com.cn/threads/content?tid={n}",
}


def load_opinion(
    street, rng: random.Random, *, staff, log: Callable[[str], None] = lambda m: None, days: int = DAYS,
    scale: float = 1.0,
) -> dict | None:  # fmt: skip
    from civicgrid.accounts.models import Department, User
    from civicgrid.core import clock
    from civicgrid.opinion import services
    from civicgrid.opinion.models import OpinionDetail
    from civicgrid.opinion.workflow import LEVEL_BOUNDS

    if OpinionDetail.objects.filter(street=street).exists():
        log("演示舆情已存在，跳过。")
        return None
    desk = User.objects.filter(username="dispatcher", street=street).first()
    depts = {d.code: d for d in Department.objects.filter(street=street)}
    if desk is None or not depts:
        return None
    now = clock.now()
    today = clock.to_local(now).date()
    counts = {"collected": 0, "closed": 0, "dismissed": 0, "open": 0}
    total = max(4, round(PER_YEAR * scale * days / DAYS))
    _bulk_history(street, rng, desk=desk, depts=depts, staff=staff, total=total, days=days, counts=counts)
    for _ in range(max(3, round(5 * scale))):
        platform, media, title, code = rng.choice(TOPICS)
        dept = depts.get(code) or next(iter(depts.values()))
        handler = staff.handlers.get(dept.pk)
        day = today - timedelta(days=rng.randint(1, min(RECENT_DAYS, days)))
        t = datetime.combine(day, time(rng.randint(8, 20), rng.randint(0, 59)), tzinfo=clock.SHANGHAI)
        with clock.frozen(t):
            case = services.register_opinion(
                actor=desk,
                platform=platform,
                media_name=media,
                title=title,
                url=URLS[platform].format(n=rng.randint(10**8, 10**9)),
                published_at=t - timedelta(hours=rng.uniform(0.5, 12)),
            )
        counts["collected"] += 1

        def step(name, actor, hours, **kw):
            nonlocal case, t
            t = t + timedelta(hours=hours)
            if t >= now:
                return False
            with clock.frozen(t):
                case = services.move(actor=actor, case=case, name=name, **kw)
            return True

        if rng.random() < 0.12:
            if step("dismiss", desk, rng.uniform(1, 6), reason="经核实不属实或与本街道无关"):
                counts["dismissed"] += 1
            else:
                counts["open"] += 1
            continue
        roll = rng.random()
        level = "major" if roll < 0.05 else ("serious" if roll < 0.25 else "general")
        reached = (
            step("assess", desk, rng.uniform(0.5, 3), detail={"level": level, "assessment": "涉及群众切身利益，需核实处置"})
            and handler is not None
            and step("assign_handling", desk, 0.5, department=dept, amount=LEVEL_BOUNDS[level][1],
                     unit="natural_days")
            and step("report_handled", handler, rng.uniform(2, 20), note="已核实处置",
                     detail={"actions": "现场核实，督促责任单位整改"})
            and step("respond", desk, rng.uniform(1, 10),
                     detail={"response_text": f"关于“{title}”：经核实已处置完毕，感谢网友监督。",
                             "response_channel": "街道官方微博/公众号"})
        )  # fmt: skip
        counts["open"] += 1  # (the recent ones are not yet 办结: ``reached`` is how far they went)
        counts.setdefault("responded_recently", 0)
        counts["responded_recently"] += bool(reached)
    log(
        f"舆情 {counts['collected']} 条（办结 {counts['closed']}，无需处置 {counts['dismissed']}，"
        f"办理中 {counts['open']}）。"
    )
    return counts


def _bulk_history(street, rng, *, desk, depts, staff, total, days, counts) -> None:
    """The year's ended 舆情, set-based: every one 研判, 交办, 处置, 回应 and 办结 — or 无需处置."""
    from civicgrid.cases.models import Case, CaseDepartment, CaseEvent
    from civicgrid.cases.services import PastCase, allocate_numbers, record_past_cases
    from civicgrid.core import clock
    from civicgrid.opinion.models import OpinionDetail

    now = clock.now()
    today = clock.to_local(now).date()
    plan = sorted(
        datetime.combine(
            today - timedelta(days=rng.randint(min(RECENT_DAYS + 3, days), days)),
            time(rng.randint(8, 20), rng.randint(0, 59)),
            tzinfo=clock.SHANGHAI,
        )
        for _ in range(total)
    )
    numbers = allocate_numbers([clock.to_local(t).date() for t in plan])
    cases, events, details, links = [], [], [], []
    for t, number in zip(plan, numbers, strict=True):
        platform, media, title, code = rng.choice(TOPICS)
        dept = depts.get(code) or next(iter(depts.values()))
        handler = staff.handlers.get(dept.pk) or desk
        url = URLS[platform].format(n=rng.randint(10**8, 10**9))
        case = Case(number=number, title=title[:200], description=title, source="media", source_ref=url[:100],
                    procedure="opinion", street=street, created_by=desk, created_at=t, occurred_at=t)  # fmt: skip
        d = OpinionDetail(case=case, street=street, platform=platform, media_name=media, url=url,
                          published_at=t - timedelta(hours=rng.uniform(0.5, 12)), collected_at=t)  # fmt: skip
        trail = [("create", "", "collected", desk, t, "", {"source": "media"})]
        if rng.random() < 0.12:
            t += timedelta(hours=rng.uniform(1, 6))
            trail.append(("dismiss", "collected", "dismissed", desk, t, "经核实不属实或与本街道无关", {}))
            case.state, d.concluded_at = "dismissed", t
            counts["dismissed"] += 1
        else:
            roll = rng.random()
            d.level = "major" if roll < 0.05 else ("serious" if roll < 0.25 else "general")
            d.assessment = "涉及群众切身利益，需核实处置"
            d.actions = "现场核实，督促责任单位整改"
            d.response_text = f"关于“{title}”：经核实已处置完毕，感谢网友监督。"
            d.response_channel = "街道官方微博/公众号"
            t += timedelta(hours=rng.uniform(0.5, 3))
            d.assessed_at = t
            trail.append(("assess", "collected", "assessed", desk, t, "", {"level": d.level}))
            t += timedelta(hours=0.5)
            trail.append(("assign_handling", "assessed", "handling", desk, t, "",
                          {"department": dept.pk, "department_name": dept.name}))  # fmt: skip
            t += timedelta(hours=rng.uniform(2, 20))
            d.handled_at = t
            trail.append(("report_handled", "handling", "handled", handler, t, "已核实处置", {}))
            t += timedelta(hours=rng.uniform(1, 10))
            d.responded_at = t
            trail.append(("respond", "handled", "responded", desk, t, "", {}))
            t += timedelta(hours=rng.uniform(2, 24))
            d.concluded_at = t
            trail.append(("conclude", "responded", "closed", desk, t, "", {}))
            case.state, case.department, case.handled_at = "closed", dept, d.handled_at
            links.append(CaseDepartment(case=case, department=dept, first_assigned_at=d.assessed_at))
            counts["closed"] += 1
        case.closed_at = d.concluded_at
        case.version, case.updated_at = len(trail), t
        for seq, (move, frm, to, actor, at, note, data) in enumerate(trail, start=1):
            events.append(CaseEvent(case=case, seq=seq, move=move, from_state=frm, to_state=to, actor=actor,
                                    actor_name=(actor.full_name or actor.username)[:150], actor_role=actor.role,
                                    at=at, note=note, data=data))  # fmt: skip
        cases.append(case)
        details.append(d)
        counts["collected"] += 1
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
    OpinionDetail.objects.bulk_create(details)
