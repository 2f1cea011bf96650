"""The demo 街道's 目标考核: this year's catalogue of 20 indicators (经济、财税、招商、安全、民生; targets, 责任科室,
分管领导), their monthly year-to-date figures up to last month (last year's same-period figures for the seasonal
forecast, 全区排名 for 攀高, one month missing for one indicator), and ten 重点项目 across the categories with their
monthly 累计完成投资 (one above its plan, some lagging). Bulk inserts; idempotent (skipped when the 街道 already has
this year's catalogue); one audit row."""

from __future__ import annotations

import random
from collections.abc import Callable
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
]

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


def load_goals(
    street, rng: random.Random, *, year: int, month: int, log: Callable[[str], None] = lambda m: None
):
    """Returns {"indicators", "actuals", "projects", "progress"} or ``None`` when the 街道 already has ``year``."""
    from civicgrid.core import audit
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
                source="imported" if ranked else "entered",
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
            )
            for cat, name, owner, plan, total, _pace, _notes in PROJECTS
        ]
        for p in projects:
            if p.category == "elevator":  # 第三批 70 台
                p.stage_in_use, p.stage_pending, p.stage_building, p.stage_applied = 38, 5, 11, 16
                p.households = 1120
            elif p.category == "old_estate":
                p.stage_building, p.households, p.floor_area = 1, 1260, Decimal("86500")
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
        info = {
            "indicators": len(indicators),
            "actuals": len(actuals),
            "projects": len(projects),
            "progress": len(steps),
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
