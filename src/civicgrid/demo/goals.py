"""The demo 街道's 目标考核: this year's catalogue of 40 indicators (three computed from the platform's case metrics) (经济、财税、招商、安全、民生; targets, 责任科室,
分管领导), their monthly year-to-date figures up to last month (last year's same-period figures for the seasonal
forecast, 全区排名 for 攀高, one month missing for one indicator), and ten 重点项目 across the categories with their
monthly 累计完成投资 (one above its plan, some lagging), their six 节点 planned vs actual (some late), the 70 elevators
and six estates of the 电梯加装 / 老旧小区改造 projects by stage, and the year's 21 民生微实事 (17 decided). Bulk inserts; idempotent (skipped when the 街道 already has
this year's catalogue); one audit row."""

from __future__ import annotations

import random
from calendar import monthrange
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction

# seasonal share of a year's total by month (a typical 街道 economy: slow Q1, year-end push)
PROFILE = [0.055, 0.045, 0.08, 0.08, 0.085, 0.095, 0.08, 0.08, 0.085, 0.09, 0.095, 0.13]
COUNTED = {"户", "个", "家", "人", "起"}  # whole numbers
LEADERS = ["王主任", "李副主任", "张副主任", "陈委员"]

# seq, name, unit, basis, target total, target growth, department, leader index, higher is better, ranked, profile
INDICATORS = [
    (1, "地区生产总值", "亿元", "total", 86.5, 6.0, "经济发展办", 0, True, True, True),
    (2, "规模以上工业增加值", "亿元", "growth", None, 7.0, "经济发展办", 1, True, True, False),
    (3, "固定资产投资", "亿元", "growth", None, 8.0, "经济发展办", 1, True, True, False),
    (4, "工业投资", "亿元", "total", 12.0, 10.0, "经济发展办", 1, True, True, True),
    (5, "社会消费品零售总额", "亿元", "total", 42.0, 5.5, "经济发展办", 0, True, True, True),
    (6, "限额以上批零住餐销售额", "亿元", "growth", None, 8.0, "经济发展办", 0, True, True, False),
    (7, "税收收入", "亿元", "total", 18.6, 5.0, "财政办", 0, True, True, True),
    (8, "一般公共预算收入", "亿元", "total", 9.8, 4.0, "财政办", 0, True, True, True),
    (9, "实际利用外资", "万美元", "total", 3200, None, "招商办", 2, True, True, False),
    (10, "新增市场主体", "户", "total", 2600, None, "经济发展办", 2, True, False, False),
    (11, "新引进亿元以上项目", "个", "total", 8, None, "招商办", 2, True, False, False),
    (12, "新认定高新技术企业", "家", "total", 15, None, "科技办", 2, True, False, False),
    (13, "规上服务业营业收入", "亿元", "growth", None, 9.0, "经济发展办", 1, True, True, False),
    (14, "数字经济核心产业增加值", "亿元", "growth", None, 10.0, "经济发展办", 1, True, True, False),
    (15, "单位GDP能耗", "%", "growth", None, -3.0, "经济发展办", 1, False, False, False),
    (16, "较大以上安全生产事故", "起", "total", 0, None, "应急管理办", 3, False, False, False),
    (17, "12345 热线满意率", "%", "ratio", None, 95.0, "综合信息指挥室", 3, True, False, False),
    (18, "城镇新增就业", "人", "total", 1500, None, "社会事务办", 3, True, False, False),
    (19, "生活垃圾回收利用率", "%", "ratio", None, 60.0, "城市管理办", 3, True, False, False),
    (20, "信访积案化解", "", "done", None, None, "党政办", 3, True, False, False),
    (21, "规上工业总产值", "亿元", "total", 58.0, 6.0, "经济发展办", 1, True, True, True),
    (22, "建筑业总产值", "亿元", "total", 24.0, 5.0, "经济发展办", 1, True, True, False),
    (23, "商品房销售面积", "万㎡", "growth", None, 3.0, "经济发展办", 1, True, False, False),
    (24, "服务业增加值", "亿元", "growth", None, 7.0, "经济发展办", 0, True, True, False),
    (25, "外贸出口总额", "亿元", "total", 16.5, 4.0, "经济发展办", 2, True, True, True),
    (26, "新增规上工业企业", "家", "total", 6, None, "经济发展办", 1, True, False, False),
    (27, "新增限上商贸企业", "家", "total", 12, None, "经济发展办", 0, True, False, False),
    (28, "研发经费投入强度", "%", "ratio", None, 3.2, "科技办", 2, True, False, False),
    (29, "专利授权量", "件", "total", 420, None, "科技办", 2, True, False, False),
    (30, "楼宇税收亿元楼", "幢", "total", 3, None, "招商办", 2, True, False, False),
    (31, "招商引资到位资金", "亿元", "total", 15.0, None, "招商办", 2, True, True, False),
    (32, "闲置土地处置", "亩", "total", 80, None, "规划建设办", 1, True, False, False),
    (33, "违法建筑拆除", "万㎡", "total", 4.5, None, "综合执法队", 3, True, False, False),
    (34, "生产安全事故死亡人数", "人", "total", 0, None, "应急管理办", 3, False, False, False),
    (35, "火灾起数", "起", "total", 12, None, "应急管理办", 3, False, False, False),
    (36, "12345 工单按期办结率", "%", "ratio", None, 98.0, "综合信息指挥室", 3, True, False, False),
    (37, "网格员主动发现率", "%", "ratio", None, 60.0, "综合信息指挥室", 3, True, False, False),
    (38, "矛盾纠纷调解成功率", "%", "ratio", None, 96.0, "综治办", 3, True, False, False),
    (39, "老旧小区改造开工", "个", "total", 6, None, "规划建设办", 1, True, False, False),
    (40, "民生实事项目完成", "件", "total", 17, None, "党政办", 0, True, False, False),
]
# indicators whose figures the platform computes from its own case metrics (civicgrid.metrics)
COMPUTED = {17: "satisfaction_rate", 36: "on_time_rate", 37: "proactive_rate"}

# the six 节点 planned (month, day) of each project, and how late the actual dates run (days; None: not reached)
MILESTONE_PLANS = {
    "滨河路综合整治工程（二期）": ([(-9, 10), (-8, 1), (-5, 15), (-1, 20), (11, 30), (12, 20)], 6),
    "街道文体中心": ([(-6, 1), (-5, 10), (-2, 20), (6, 30), (12, 15), (14, 30)], 12),
    "九年一贯制学校新建工程": ([(2, 20), (3, 15), (7, 10), (11, 30), (20, 30), (21, 31)], 25),
    "社区卫生服务中心迁建": ([(3, 1), (4, 15), (8, 30), (12, 30), (18, 30), (19, 30)], 75),
    "智能制造产业园一期": ([(1, 15), (2, 10), (5, 20), (9, 30), (16, 30), (18, 30)], -5),
    "生物医药研发中心": ([(4, 1), (5, 1), (9, 15), (14, 30), (22, 30), (24, 30)], 20),
    "数字经济孵化园（储备）": ([(9, 30), (11, 15), (15, 30), (20, 30), (28, 30), (30, 30)], 40),
    "15分钟便民生活圈提升": ([(2, 1), (3, 1), (4, 30), (6, 30), (9, 30), (10, 31)], 0),
    "翠苑一区老旧小区综合改造": ([(2, 15), (3, 20), (5, 31), (8, 31), (11, 30), (12, 31)], 10),
    "既有住宅加装电梯（第三批 70 台）": ([(1, 10), (2, 20), (4, 30), (7, 31), (10, 31), (12, 20)], 15),
}
ESTATES = [  # 老旧小区改造: name, community, households, floor area, stage
    ("翠苑一区", "翠苑社区", 412, 28600, "building"),
    ("翠苑二区", "翠苑社区", 356, 24100, "building"),
    ("文新小区", "文新社区", 228, 15800, "pending"),
    ("古荡新村", "古荡社区", 164, 9800, "in_use"),
    ("学院路 58 号", "学院社区", 60, 4300, "in_use"),
    ("嘉绿苑东区", "嘉绿社区", 40, 3900, "applied"),
]
LIFT_COMMUNITIES = ["翠苑社区", "文新社区", "古荡社区", "学院社区", "嘉绿社区", "西溪社区"]
# 民生微实事: (name, community, budget 万元, step)
MICRO = [
    ("翠苑社区老年食堂适老化改造", "翠苑社区", 18, "closed"),
    ("文新社区口袋公园", "文新社区", 25, "closed"),
    ("古荡新村非机动车充电棚", "古荡社区", 12, "review"),
    ("学院路背街小巷路灯补缺", "学院社区", 8.5, "review"),
    ("嘉绿苑儿童游乐设施更新", "嘉绿社区", 15, "accept"),
    ("西溪社区健身步道", "西溪社区", 22, "accept"),
    ("翠苑二区雨污管网疏通", "翠苑社区", 9.8, "implement"),
    ("文新社区“一老一小”活动室", "文新社区", 16, "implement"),
    ("古荡社区垃圾分类亭改造", "古荡社区", 7.5, "implement"),
    ("学院社区共享晾衣架", "学院社区", 3.2, "implement"),
    ("嘉绿社区无障碍坡道", "嘉绿社区", 6.8, "implement"),
    ("西溪社区楼道扶手加装", "西溪社区", 5.6, "implement"),
    ("翠苑一区停车位划线", "翠苑社区", 4.2, "implement"),
    ("文新社区智能快递柜", "文新社区", 2.0, "decide"),
    ("古荡新村围墙修缮", "古荡社区", 11, "decide"),
    ("学院社区四点半课堂", "学院社区", 6.0, "decide"),
    ("嘉绿社区电动车集中充电", "嘉绿社区", 13.5, "decide"),
    ("西溪社区休闲座椅", "西溪社区", 2.4, "deliberate"),
    ("翠苑社区宠物便便箱", "翠苑社区", 1.2, "deliberate"),
    ("文新社区屋顶花园", "文新社区", 30, "collect"),
    ("古荡社区广场舞音响", "古荡社区", 0.8, "dropped"),
]
MICRO_PATH = ["collect", "deliberate", "decide", "implement", "accept", "review", "closed"]

# category, name, owner, annual plan (万元), total investment (万元), pace factor, progress notes
PROJECTS = [
    (
        "continued",
        "滨河路综合整治工程（二期）",
        "区城投集团",
        26000,
        68000,
        1.04,
        ["路基施工", "管线迁改完成", "沥青摊铺"],
    ),
    ("continued", "街道文体中心", "街道办事处", 9800, 21000, 1.03, ["主体施工", "主体结顶", "幕墙安装"]),
    (
        "new_nonindustry",
        "九年一贯制学校新建工程",
        "区教育局",
        32000,
        58000,
        1.05,
        ["施工许可", "开工", "正负零"],
    ),
    (
        "new_nonindustry",
        "社区卫生服务中心迁建",
        "区卫健局",
        7600,
        15000,
        0.62,
        ["方案调整", "施工招标", "开工"],
    ),
    (
        "new_industry",
        "智能制造产业园一期",
        "浙江某智造有限公司",
        80000,
        260000,
        1.3,
        ["土方开挖", "正负零", "主体结顶"],
    ),
    (
        "new_industry",
        "生物医药研发中心",
        "某生物科技有限公司",
        45000,
        120000,
        0.9,
        ["施工许可", "开工", "桩基施工"],
    ),
    (
        "reserve",
        "数字经济孵化园（储备）",
        "街道经济发展办",
        6000,
        90000,
        0.55,
        ["土地摘牌", "方案设计", "施工图审查"],
    ),
    ("livelihood", "15分钟便民生活圈提升", "街道办事处", 3200, 3200, 1.2, ["征集", "实施", "验收"]),
    (
        "old_estate",
        "翠苑一区老旧小区综合改造",
        "区住建局",
        8600,
        12000,
        1.06,
        ["雨污分流", "立面整治", "绿化提升"],
    ),
    (
        "elevator",
        "既有住宅加装电梯（第三批 70 台）",
        "街道城建科",
        3400,
        3400,
        1.02,
        ["16台申报", "11台施工", "38台投用"],
    ),
]


def _d(x: float, places: int = 2) -> Decimal:
    return Decimal(str(round(x, places)))


def _on(year: int, month: int, day: int) -> date:
    """(year, month offset, day): month < 1 is last year's, > 12 next year's; the day is clamped to the month."""
    y, m = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(y, m, min(day, monthrange(y, m)[1]))


def _milestones(projects: dict, year: int, ref: date) -> int:
    from civicgrid.goals.models import MilestoneKind, ProjectMilestone

    rows = []
    for name, (plans, late) in MILESTONE_PLANS.items():
        for k, (kind, (mo, day)) in enumerate(zip(MilestoneKind.values, plans, strict=True)):
            planned = _on(year, mo, day)
            actual = planned + timedelta(days=round(late * (0.5 + 0.3 * k)))
            rows.append(
                ProjectMilestone(
                    project=projects[name],
                    kind=kind,
                    planned=planned,
                    actual=actual if actual <= ref else None,
                )
            )
    # one project never had its 交付 planned (a missing 节点)
    rows = [r for r in rows if not (r.project.category == "reserve" and r.kind == "delivered")]
    ProjectMilestone.objects.bulk_create(rows)
    return len(rows)


def _stage_items(projects: dict, rng: random.Random, ref: date) -> int:
    from civicgrid.goals import services
    from civicgrid.goals.models import StageItem

    rows = []
    for p in projects.values():
        if p.category == "elevator":  # 第三批 70 台: 38 投用, 5 待交付, 11 施工, 16 申报
            stages = ["in_use"] * 38 + ["pending"] * 5 + ["building"] * 11 + ["applied"] * 16
            for n, stage in enumerate(stages):
                community = LIFT_COMMUNITIES[n % len(LIFT_COMMUNITIES)]
                hh = rng.choice([10, 12, 12, 14, 18])
                rows.append(
                    StageItem(
                        project=p,
                        name=f"{community[:-2]}{n // 2 + 1}幢{n % 2 + 1}单元",
                        community=community,
                        stage=stage,
                        households=hh,
                        floor_area=_d(hh * rng.uniform(78, 96)),
                        stage_since=ref - timedelta(days=rng.randint(5, 200)),
                    )
                )
        elif p.category == "old_estate":
            for name, community, hh, area, stage in ESTATES:
                rows.append(
                    StageItem(
                        project=p,
                        name=name,
                        community=community,
                        stage=stage,
                        households=hh,
                        floor_area=Decimal(area),
                        stage_since=ref - timedelta(days=rng.randint(10, 240)),
                    )
                )
    StageItem.objects.bulk_create(rows)
    for p in projects.values():
        if p.category in p.STAGED:
            services.sync_stages(p)
    return len(rows)


def _micro(street, year: int, ref: date) -> int:
    from civicgrid.core import clock
    from civicgrid.goals.models import MicroProject, MicroStepLog

    items = [
        MicroProject(
            street=street,
            year=year,
            name=name,
            community=community,
            proposer=f"{community}居民议事会" if n % 3 else "网格员走访收集",
            budget=_d(budget),
            step=step,
            rating="满意" if step == "closed" else "",
            created_at=datetime.combine(_on(year, 2, 20 + n % 8), time(10), tzinfo=clock.SHANGHAI),
        )
        for n, (name, community, budget, step) in enumerate(MICRO)
    ]
    MicroProject.objects.bulk_create(items)
    logs = []
    for item in MicroProject.objects.filter(street=street, year=year):
        path = (
            ["collect", "dropped"]
            if item.step == "dropped"
            else MICRO_PATH[: MICRO_PATH.index(item.step) + 1]
        )
        for k, (a, b) in enumerate(zip(path, path[1:], strict=False)):
            at = datetime.combine(_on(year, 3 + k, 10), time(15), tzinfo=clock.SHANGHAI)
            logs.append(
                MicroStepLog(
                    item=item,
                    from_step=a,
                    to_step=b,
                    note="超出微实事资金范围，转入社区常规工作" if b == "dropped" else "",
                    at=min(at, datetime.combine(ref, time(15), tzinfo=clock.SHANGHAI)),
                )
            )
    MicroStepLog.objects.bulk_create(logs)
    return len(items)


def _spots(street, n: int) -> list[tuple[float | None, float | None]]:
    """``n`` points inside the 街道's communities (one community after another), from a generator of its own so
    the demo's other figures stay as they were; (None, None) when the 街道 has no boundaries."""
    from shapely.geometry import Point, shape

    from civicgrid.places.models import Community

    shapes = [
        shape(c.geometry)
        for c in Community.objects.filter(street=street).exclude(geometry=None).order_by("code")
    ]
    if not shapes and street.geometry:
        shapes = [shape(street.geometry)]
    if not shapes:
        return [(None, None)] * n
    rng = random.Random(f"goals-map-{street.code}")
    out = []
    for i in range(n):
        g = shapes[(i * 3) % len(shapes)]
        minx, miny, maxx, maxy = g.bounds
        for _ in range(200):
            pt = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if g.contains(pt):
                break
        else:
            pt = g.representative_point()
        out.append((round(pt.x, 6), round(pt.y, 6)))
    return out


def load_goals(
    street, rng: random.Random, *, year: int, month: int, log: Callable[[str], None] = lambda m: None
):
    """Returns {"indicators", "actuals", "projects", "progress"} or ``None`` when the 街道 already has ``year``."""
    from civicgrid.core import audit, clock
    from civicgrid.goals import services
    from civicgrid.goals.models import Actual, Indicator, Project, ProjectProgress, Scorecard

    if Scorecard.objects.filter(street=street, year=year).exists():
        return None
    month = max(1, min(12, month))
    cum = [sum(PROFILE[: m + 1]) for m in range(12)]
    with transaction.atomic():
        card = Scorecard.objects.create(street=street, year=year)
        indicators, actuals = [], []
        for seq, name, unit, basis, t_total, t_growth, dept, lead, higher, ranked, profile in INDICATORS:
            g = (t_growth or 6.0) / 100
            ly_total = (t_total / (1 + g)) if t_total else None
            ind = Indicator(
                scorecard=card,
                seq=seq,
                name=name,
                unit=unit,
                basis=basis,
                target_total=_d(t_total, 4) if t_total is not None else None,
                target_growth=_d(t_growth) if t_growth is not None else None,
                department=dept,
                leader=LEADERS[lead],
                higher_is_better=higher,
                weight=Decimal(5 if seq <= 8 else 3),
                source="computed" if seq in COMPUTED else ("imported" if ranked else "entered"),
                metric=COMPUTED.get(seq, ""),
                last_year_total=_d(ly_total, 4) if (profile and ly_total) else None,
            )
            indicators.append(ind)
        Indicator.objects.bulk_create(indicators)
        indicators = list(Indicator.objects.filter(scorecard=card).order_by("seq"))
        for ind, spec in zip(indicators, INDICATORS, strict=True):
            _seq, _n, _u, basis, t_total, t_growth, _dp, _l, higher, ranked, profile = spec
            perf = rng.uniform(0.9, 1.1)  # how this indicator runs this year
            rank = rng.randint(3, 9)
            for m in range(1, month + 1):
                if ind.seq in COMPUTED:
                    break  # computed below from the case metrics
                if ind.seq == 10 and m == month and month > 1:
                    continue  # the 区's latest sheet left it out
                row = Actual(indicator=ind, month=m, source=ind.source)
                if basis == "done":
                    row.ytd_total = Decimal(1 if (perf > 1 and m >= month - 2) else 0)
                elif basis == "ratio":
                    row.ytd_total = _d(t_growth * rng.uniform(0.96, 1.03) * (1 if perf > 0.95 else 0.97))
                elif t_total == 0:
                    row.ytd_total = Decimal(1 if (perf < 0.93 and m >= 5) else 0)
                elif basis == "growth":
                    row.ytd_growth = _d(t_growth * (perf if higher else 2 - perf) + rng.uniform(-0.4, 0.4))
                else:
                    g = (t_growth or 6.0) / 100
                    prior = t_total / (1 + g) * (cum[m - 1] if profile else m / 12)
                    total = prior * (1 + g) * perf * rng.uniform(0.99, 1.01)
                    row.ytd_total = _d(total, 4) if ind.unit not in COUNTED else Decimal(round(total))
                    if t_growth is not None:
                        row.ytd_growth = _d((total / prior - 1) * 100)
                    if profile:
                        row.prior_ytd = _d(prior, 4)
                if ranked:
                    rank = max(
                        1, min(12, rank + rng.choice([-1, 0, 0, 1]) if m < month else rank - (perf > 1))
                    )
                    row.rank = rank
                actuals.append(row)
        Actual.objects.bulk_create(actuals)

        projects = [
            Project(
                street=street,
                year=year,
                category=cat,
                name=name,
                owner=owner,
                annual_plan=Decimal(plan),
                total_investment=Decimal(total),
                address=f"{street.name}辖区",
                lng=lng,
                lat=lat,
            )
            for (cat, name, owner, plan, total, _pace, _notes), (lng, lat) in zip(
                PROJECTS, _spots(street, len(PROJECTS)), strict=True
            )
        ]
        Project.objects.bulk_create(projects)
        projects = {p.name: p for p in Project.objects.filter(street=street, year=year)}
        steps = []
        for _cat, name, _owner, plan, _total, pace, notes in PROJECTS:
            p = projects[name]
            for m in range(1, month + 1):
                share = m / 12 * pace * rng.uniform(0.98, 1.0)  # against 时序进度
                note = notes[min(len(notes) - 1, (m - 1) * len(notes) // max(month, 1))]
                steps.append(ProjectProgress(project=p, month=m, cumulative=_d(plan * share), note=note))
        # cumulative figures never fall
        steps.sort(key=lambda s: (s.project_id, s.month))
        for a, b in zip(steps, steps[1:], strict=False):
            if a.project_id == b.project_id and b.cumulative < a.cumulative:
                b.cumulative = a.cumulative
        ProjectProgress.objects.bulk_create(steps)
        ref = min(date(year, month, monthrange(year, month)[1]), clock.local_now().date())
        milestones = _milestones(projects, year, ref)
        items = _stage_items(projects, rng, ref)
        micro = _micro(street, year, ref)
        computed = []
        for ind in indicators:
            if ind.seq not in COMPUTED:
                continue
            for m in range(1, month + 1):
                figs = services.computed_figures(indicator=ind, month=m)
                if figs is not None:
                    total, growth, prior, note = figs
                    computed.append(
                        Actual(
                            indicator=ind,
                            month=m,
                            ytd_total=total,
                            ytd_growth=growth,
                            prior_ytd=prior,
                            source="computed",
                            note=note,
                        )
                    )
        Actual.objects.bulk_create(computed)
        actuals.extend(computed)
        info = {
            "indicators": len(indicators),
            "actuals": len(actuals),
            "projects": len(projects),
            "progress": len(steps),
            "milestones": milestones,
            "stage_items": items,
            "micro": micro,
            "computed": len(computed),
        }
        audit.record(
            actor=None,
            action="goals.demo.load",
            obj=card,
            after=info,
            note=f"加载目标考核演示数据：{street.name}{year}年",
        )
    log(
        f"已生成{street.name}{year}年考核指标 {len(indicators)} 项、月度完成 {len(actuals)} 条、重点项目 {len(projects)} 个。"
    )
    return info
