"""A year of demo cases for 示范街道.

Every case follows a scripted life (上报 → 立案 → 派遣 → 签收 → 处置 → 核查 → 结案 → 回访, with the usual detours:
不予受理, 合并, 退回/改派, 延期, 挂账, 督办, 返工, 不满意重办, 作废). All cases of one phase run together in
simulated time through one event queue, so moves of different cases interleave as they would in a real year.

Two engines play the same scripts:

- :class:`LiveEngine` calls :func:`civicgrid.cases.services.create_case` / :func:`~civicgrid.cases.services.perform`
  with the clock frozen at each move (audit rows, notifications, numbers, lights: all as in production) and
  runs the real light job (:func:`civicgrid.cases.jobs.refresh_lights`) every two simulated hours;
- the case engine's set-based history entry (:mod:`civicgrid.cases.history`,
  :func:`civicgrid.cases.services.bulk_import_history`): a :class:`~civicgrid.cases.history.HistoryEngine` replays
  older history in memory with the same guard and clock arithmetic as the services and inserts it set-based,
  without per-move audit rows or notifications (one ``demo.cases`` audit row summarises what it inserted).

Cases created in the last ``live_days`` (default 60) go through
:class:`~civicgrid.cases.history.RecentHistoryEngine` (which also leaves what the services and the light job leave
on the way: an audit row per move, the in-app notifications, the yellow/red notices); older ones through the
plain history engine. A few showcase cases (two standing in every open state) then go through the services
themselves, and the real light job runs once at the end. This module writes no case rows itself.
"""

from __future__ import annotations

import heapq
import io
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime, timedelta

from civicgrid.cases.history import JOB_EVERY, HistoryEngine, RecentHistoryEngine
from civicgrid.core.choices import DAY_UNITS, DeadlineUnit
from civicgrid.demo import names

DAYS = 365
LIVE_DAYS = 60
DAILY_CASES = 24  # average over the year (weekdays more, weekends and holidays fewer)

# category code → weight (cases per year roughly proportional)
CATEGORY_MIX = [
    ("S06010", 14),  # 暴露垃圾
    ("S09006", 10),  # 占道经营
    ("S09005", 6),  # 店外经营
    ("S06036", 8),  # 乱堆杂物（乱堆物堆料）
    ("S06042", 5),  # 垃圾站（箱）满溢
    ("S06041", 3),  # 垃圾未分类
    ("S07001", 6),  # 非法小广告
    ("S09010", 6),  # 非机动车乱停放
    ("S09009", 4),  # 机动车乱停放
    ("S06001", 4),  # 私搭乱建（违章搭建）
    ("S06027", 3),  # 油烟污染
    ("S06028", 4),  # 噪声扰民
    ("S08001", 2),  # 施工扰民
    ("S06013", 2),  # 道路破损
    ("S06007", 2),  # 沿街晾挂
    ("S01002", 2),  # 污水井盖异常
    ("S01003", 2),  # 雨水井盖异常
    ("S01037", 2),  # 路灯异常
    ("S04002", 1),  # 行道树异常
    ("S09012", 2),  # 占用消防通道
    ("S09015", 1),  # 无证餐饮
    ("J91001", 3),  # 邻里纠纷
    ("J91003", 2),  # 物业纠纷
    ("J91004", 1),  # 劳资纠纷
    ("J92005", 3),  # 电动自行车违规停放充电
    ("J92001", 2),  # 消防安全隐患
    ("J92002", 1),  # 燃气安全隐患
    ("J94002", 1),  # 养老服务
    ("J96004", 1),  # 防汛防台
    ("J93002", 1),  # 来访（信访）
]

SOURCE_MIX = [
    ("grid_patrol", 49),  # fewer on weekends: ≈ 45 % over the year
    ("hotline_12345", 30),
    ("resident", 15),
    ("dispatcher", 4),
    ("leader", 2),
    ("media", 2),
    ("petition", 2),
]

RATING_MIX = [("satisfied", 82), ("basic", 13), ("dissatisfied", 5)]

# where a case lands when the first department was the wrong one (退回 / 改派): wrong → right
CONFUSED_WITH = {
    "CGZD": "ZJB",
    "ZJB": "CGZD",
    "HBS": "CGZD",
    "SCJG": "CGZD",
    "AJB": "YJB",
    "YJB": "AJB",
    "SFS": "PCS",
    "PCS": "SFS",
    "SWB": "XFB",
    "XFB": "SFS",
}

DESCRIPTIONS = {
    "S06010": ["{where}路边有暴露垃圾，堆放多日无人清理，有异味。", "{where}绿化带内有生活垃圾散落。"],
    "S09006": ["{where}有流动摊贩占道经营，影响行人通行。", "{where}早市摊位占用人行道经营。"],
    "S09005": ["{where}商户将货架摆到店外经营。", "{where}餐饮店在门口摆放桌椅经营。"],
    "S06036": ["{where}楼道及路边乱堆杂物，存在安全隐患。", "{where}有建筑材料乱堆乱放。"],
    "S06042": ["{where}垃圾箱满溢，周边地面脏乱。", "{where}垃圾收集点满溢未及时清运。"],
    "S06041": ["{where}垃圾投放点混投严重，未分类。"],
    "S07001": ["{where}墙面和电线杆上张贴大量小广告。", "{where}单元门口被喷涂小广告。"],
    "S09010": ["{where}非机动车乱停放，堵塞人行道。", "{where}共享单车堆放过多影响通行。"],
    "S09009": ["{where}机动车占用人行道停放。", "{where}车辆乱停堵塞小区出入口。"],
    "S06001": ["{where}有人私自搭建彩钢棚。", "{where}一楼住户违规扩建院子搭建房屋。"],
    "S06027": ["{where}餐饮店油烟直排，影响楼上居民。"],
    "S06028": ["{where}夜间噪声扰民，居民反映影响休息。", "{where}商铺外放音响声音过大。"],
    "S08001": ["{where}工地夜间施工噪声扰民。"],
    "S06013": ["{where}人行道地砖破损松动，易绊倒行人。", "{where}路面出现坑洼。"],
    "S06007": ["{where}沿街晾晒衣物影响市容。"],
    "S01002": ["{where}污水井盖破损，存在安全隐患。", "{where}污水井盖缺失，已临时放置警示物。"],
    "S01003": ["{where}雨水井盖松动，车辆经过有响声。", "{where}雨水箅子堵塞，下雨积水。"],
    "S01037": ["{where}路灯不亮已有数日。", "{where}路灯白天常亮。"],
    "S04002": ["{where}行道树倾斜，枝干可能断落。", "{where}行道树枯死需要补种。"],
    "S09012": ["{where}车辆占用消防通道。", "{where}消防通道被杂物堵塞。"],
    "S09015": ["{where}有无证餐饮摊点经营。"],
    "J91001": ["{where}两户邻居因漏水问题发生矛盾，请求调解。", "{where}邻居因公共区域堆物发生争执。"],
    "J91003": ["{where}业主与物业因停车收费产生纠纷。", "{where}居民反映物业服务不到位，发生纠纷。"],
    "J91004": ["{where}务工人员反映被拖欠工资。"],
    "J92005": ["{where}楼道内有电动自行车充电，飞线充电。", "{where}电瓶车停放在楼道内充电。"],
    "J92001": ["{where}安全出口被堵塞，灭火器过期。", "{where}商铺内消防设施缺失。"],
    "J92002": ["{where}闻到燃气味，疑似泄漏。", "{where}餐饮店液化气瓶存放不规范。"],
    "J94002": ["{where}独居老人需要助餐服务。", "{where}老人咨询居家养老服务申请。"],
    "J96004": ["{where}暴雨后路面积水较深。", "{where}台风过后有广告牌松动。"],
    "J93002": ["{where}居民来访反映历史遗留问题。"],
}
FEEDBACK = [
    "已到现场处置，问题已整改完毕，现场已恢复正常。",
    "已约谈当事人并督促整改，现场已清理。",
    "已安排人员处理完毕，并加强日常巡查。",
    "已协调相关单位完成处置，附处置后照片。",
]
REJECT_REASONS = [
    "不属于街道受理范围，已告知反映人向相关部门反映。",
    "反映内容不明确，无法核实，已电话告知。",
]
RETURN_REASONS = ["非本部门职责，建议派至相关部门。", "经现场核实，该事项不属于本部门处置范围。"]
REWORK_REASONS = ["现场仍有遗留，未整改到位。", "照片与现场不符，请重新处置。"]
SUSPEND_REASONS = [
    "需多部门协调，待专题会议研究。",
    "涉及历史遗留问题，需等待上级政策。",
    "需列入年度改造计划，待资金落实。",
]
SUPERVISE_NOTES = ["请加快处置进度，按时办结。", "群众多次反映，请尽快处置并反馈。"]
EXTENSION_REASONS = ["需协调第三方单位进场施工。", "当事人暂时无法联系，需延期处理。"]


def engine_ready() -> bool:
    """Whether the case engine (models + services) is importable."""
    try:
        from civicgrid.cases import models, services
    except ImportError:
        return False
    return all(hasattr(models, n) for n in ("Category", "Case", "CaseEvent")) and all(
        hasattr(services, n) for n in ("create_case", "perform")
    )


# --- time helpers ----------------------------------------------------------------------------------


def _periods():
    from django.conf import settings

    spec = settings.CIVICGRID.get("WORKING_HOURS") or [("08:30", "12:00"), ("13:30", "17:30")]
    out = []
    for a, b in spec:
        ha, ma = (int(x) for x in a.split(":"))
        hb, mb = (int(x) for x in b.split(":"))
        out.append((ha * 60 + ma, hb * 60 + mb))
    return out


class Clockwork:
    """Office hours (处置部门, 网格员: working hours on working days) and desk hours (指挥中心: 08:00–21:00 daily)."""

    DESK = (8 * 60, 21 * 60)

    def __init__(self):
        from civicgrid.core import workcalendar as wc

        self.wc = wc
        self.periods = _periods()
        self._workday: dict = {}

    @staticmethod
    def _jitter(t: datetime, lo: float, hi: float) -> float:
        """A few minutes of "getting started", a pure function of ``t`` (so every engine sees the same)."""
        return random.Random(int(t.timestamp()) // 60).uniform(lo, hi)

    def is_workday(self, d) -> bool:
        if d not in self._workday:
            self._workday[d] = self.wc.is_workday(d)
        return self._workday[d]

    @staticmethod
    def _minute(t: datetime) -> float:
        return t.hour * 60 + t.minute + t.second / 60

    def office(self, t: datetime) -> datetime:
        """``t`` if inside working hours, else a few minutes after the next working period starts."""
        from civicgrid.core.clock import SHANGHAI

        t = t.astimezone(SHANGHAI)
        for _ in range(40):
            if self.is_workday(t.date()):
                m = self._minute(t)
                for a, b in self.periods:
                    if a <= m < b:
                        return t
                    if m < a:
                        start = t.replace(hour=a // 60, minute=a % 60, second=0, microsecond=0)
                        return start + timedelta(minutes=self._jitter(t, 3, 40))
            t = (t + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return t

    def desk(self, t: datetime) -> datetime:
        from civicgrid.core.clock import SHANGHAI

        t = t.astimezone(SHANGHAI)
        m = self._minute(t)
        a, b = self.DESK
        if a <= m < b:
            return t
        if m >= b:
            t = t + timedelta(days=1)
        return t.replace(hour=a // 60, minute=0, second=0, microsecond=0) + timedelta(
            minutes=self._jitter(t, 0, 45)
        )

    def work_hours_later(self, t: datetime, hours: float) -> datetime:
        return self.wc.advance(DeadlineUnit.WORKING_HOURS, self.office(t), hours * 3600).due


# --- what a case is about ----------------------------------------------------------------------------


@dataclass
class Spec:
    index: int
    created_at: datetime
    source: str
    category: object
    grid: object
    lng: float
    lat: float
    address: str
    description: str
    creator: object
    rng: random.Random
    reporter_name: str = ""
    reporter_phone: str = ""
    source_ref: str = ""
    occurred_at: datetime | None = None
    photo: int | None = None
    stop_at: str | None = None  # showcase cases stop once they reach this state
    fast: bool = False  # showcase cases move within minutes, not office hours


@dataclass
class Actors:
    dispatcher: object
    shift_leader: object
    leader: object
    handlers: dict  # department id → user
    workers: dict  # ordinary grid id → user
    community_staff: dict  # community id → user


# --- engines -----------------------------------------------------------------------------------------


class LiveEngine:
    """Through the services, with the clock frozen at each move."""

    name = "live"

    def __init__(self, photos: list[bytes]):
        from civicgrid.cases import jobs, services
        from civicgrid.core import clock

        self.services, self.jobs, self.clock = services, jobs, clock
        self.photos = photos

    def state(self, case) -> str:
        return case.state

    def create(self, spec: Spec, at: datetime, *, auto_accept: bool):
        attachments = (
            [(f"现场照片{spec.photo + 1}.jpg", self.photos[spec.photo])] if spec.photo is not None else []
        )
        with self.clock.frozen(at):
            return self.services.create_case(
                actor=spec.creator,
                source=spec.source,
                description=spec.description,
                category=spec.category,
                lng=spec.lng,
                lat=spec.lat,
                address=spec.address,
                grid=spec.grid,
                reporter_name=spec.reporter_name,
                reporter_phone=spec.reporter_phone,
                source_ref=spec.source_ref,
                occurred_at=spec.occurred_at,
                attachments=attachments,
                auto_accept=auto_accept,
            )

    def move(self, case, move: str, actor, at: datetime, *, photo: int | None = None, **kw) -> None:
        if photo is not None:
            kw["attachments"] = [(f"处置照片{photo + 1}.jpg", self.photos[photo])]
        with self.clock.frozen(at):
            self.services.perform(actor=actor, case=case, move=move, version=case.version, **kw)

    def tick(self, at: datetime) -> None:
        with self.clock.frozen(at):
            self.jobs.refresh_lights(at)

    def budget(self, case):
        return case.limit_unit, case.clock_started_at, case.budget_seconds, case.paused_measure_seconds


# --- the year ----------------------------------------------------------------------------------------


def _photos(rng: random.Random, n: int = 8) -> list[bytes]:
    """Small fictional "photos" (JPEG): a street-ish scene of coloured blocks, labelled DEMO."""
    from PIL import Image, ImageDraw

    out = []
    for k in range(n):
        img = Image.new(
            "RGB", (480, 360), (rng.randint(150, 210), rng.randint(170, 220), rng.randint(190, 235))
        )
        draw = ImageDraw.Draw(img)
        draw.rectangle([0, 250, 480, 360], fill=(rng.randint(90, 130),) * 3)  # road
        for _ in range(6):
            x = rng.randint(0, 420)
            w, h = rng.randint(40, 110), rng.randint(80, 220)
            colour = (rng.randint(60, 230), rng.randint(60, 230), rng.randint(60, 230))
            draw.rectangle([x, 250 - h, x + w, 250], fill=colour)
        draw.text((10, 10), f"DEMO {k + 1}", fill=(0, 0, 0))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=70)
        out.append(buf.getvalue())
    return out


class Year:
    """Generates the specs and plays every case's life on an engine, in global time order."""

    def __init__(
        self,
        street,
        rng: random.Random,
        actors: Actors,
        *,
        now: datetime,
        days: int,
        scale: float,
        dept_prefix: str = "",
    ):
        from civicgrid.cases.models import Category
        from civicgrid.places.models import Building, Grid, Unit

        self.rng = rng
        self.actors = actors
        self.now = now
        self.days = days
        self.scale = scale
        self.time = Clockwork()
        cats = {
            c.code: c
            for c in Category.objects.filter(
                code__in=[c for c, _ in CATEGORY_MIX], is_enabled=True, level="minor"
            )
        }
        self.categories = [(cats[c], w) for c, w in CATEGORY_MIX if c in cats]
        if not self.categories:
            raise RuntimeError("no demo categories found (is migration cases.0002 applied?)")
        self.grids = list(
            Grid.objects.filter(community__street=street, is_active=True)
            .select_related("community")
            .order_by("code")
        )
        self.places: dict[int, list[tuple[str, float, float]]] = defaultdict(list)
        weight = Counter()
        for u in Unit.objects.filter(grid__in=self.grids).order_by("pk"):
            self.places[u.grid_id].append((u.address, u.lng, u.lat))
            weight[u.grid_id] += 1.0 if u.kind == "shop" else 0.25
        for b in Building.objects.filter(grid__in=self.grids).exclude(kind="block").order_by("pk"):
            self.places[b.grid_id].append((b.address, b.lng, b.lat))
            weight[b.grid_id] += 1.5
        self.grid_weights = [3.0 + weight[g.pk] * (0.5 if g.kind == "dedicated" else 1.0) for g in self.grids]
        from civicgrid.accounts.models import Department

        # the street's own departments, by their code without the street's prefix (CGZD …)
        self.street = street
        self.dept_prefix = dept_prefix
        self.departments = {
            d.code.removeprefix(dept_prefix): d
            for d in Department.objects.filter(is_active=True, street=street)
            if d.code.startswith(dept_prefix)
        }
        self.community_dept = {d.community_id: d for d in self.departments.values() if d.community_id}
        self.open_by_place: dict = defaultdict(list)
        self.index = 0

    # -- specs --

    def _day_counts(self, start_day: int, end_day: int) -> list[tuple[datetime, int]]:
        """(local midnight, number of cases) for each day ``start_day``..``end_day`` days ago (exclusive end)."""
        from civicgrid.core.clock import SHANGHAI

        today = self.now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
        out = []
        for ago in range(start_day, end_day, -1):
            day = today - timedelta(days=ago)
            base = DAILY_CASES * self.scale
            season = 1 + 0.18 * math.sin((day.timetuple().tm_yday - 100) / 365 * 2 * math.pi)  # summer peak
            growth = 0.9 + 0.2 * (self.days - ago) / max(self.days, 1)
            factor = 1.15 if self.time.is_workday(day.date()) else 0.5
            lam = base * season * growth * factor
            n = max(0, round(self.rng.gauss(lam, math.sqrt(lam)))) if lam > 0 else 0
            out.append((day, n))
        return out

    def _time_of_day(self, source: str, workday: bool) -> float:
        r = self.rng
        if source == "grid_patrol" or not workday and source not in ("hotline_12345", "resident"):
            h = r.choice([9.7, 10.5, 14.6, 15.4]) + r.gauss(0, 0.7)
            return min(max(h, 8.6), 17.4)
        if source == "hotline_12345":
            return min(max(r.choice([9.5, 10.5, 14.5, 15.5, 19.5]) + r.gauss(0, 1.2), 7.5), 21.5)
        if source == "resident":
            return min(max(r.choice([8.0, 12.3, 18.8, 20.5]) + r.gauss(0, 1.3), 6.5), 22.8)
        return min(max(r.choice([9.5, 10.5, 14.5, 15.5]) + r.gauss(0, 1.0), 8.6), 17.4)

    def specs(self, start_day: int, end_day: int) -> list[Spec]:
        """Specs for the days ``start_day`` … ``end_day + 1`` days ago (0 = today, up to now)."""
        r = self.rng
        out = []
        for day, n in self._day_counts(start_day, end_day):
            workday = self.time.is_workday(day.date())
            for _ in range(n):
                sources = [
                    (s, w * (0.35 if s == "grid_patrol" and not workday else 1)) for s, w in SOURCE_MIX
                ]
                source = r.choices([s for s, _ in sources], weights=[w for _, w in sources])[0]
                at = day + timedelta(hours=self._time_of_day(source, workday))
                if at >= self.now:
                    continue
                out.append(self._spec(source, at))
        out.sort(key=lambda s: s.created_at)
        return out

    def _spec(self, source: str, at: datetime, *, category=None) -> Spec:
        r = self.rng
        a = self.actors
        if category is None:
            if source == "petition":
                category = next((c for c, _ in self.categories if c.code.startswith("J93")), None)
            if category is None:
                pool = [(c, w) for c, w in self.categories if not c.code.startswith("J93")] or self.categories
                flood_season = 5 <= at.month <= 10  # 防汛防台 in summer only
                weights = [
                    w * ((3 if flood_season else 0.2) if c.code.startswith("J96") else 1) for c, w in pool
                ]
                category = r.choices([c for c, _ in pool], weights=weights)[0]
        grid = r.choices(self.grids, weights=self.grid_weights)[0]
        ordinary = grid.parent_id or grid.pk
        if source == "grid_patrol":
            creator = a.workers.get(ordinary) or a.dispatcher
            if creator is a.dispatcher:
                source = "dispatcher"
        elif source == "leader":
            creator = a.leader
        else:
            creator = a.dispatcher
        places = self.places.get(grid.pk) or [("", None, None)]
        address, lng, lat = r.choice(places)
        if lng is None:
            lng = lat = None
        where = address or grid.name
        description = r.choice(DESCRIPTIONS.get(category.code, ["{where}发现问题，请尽快处理。"])).format(
            where=where
        )
        self.index += 1
        spec = Spec(
            index=self.index,
            created_at=at,
            source=source,
            category=category,
            grid=grid,
            lng=lng,
            lat=lat,
            address=address,
            description=description,
            creator=creator,
            rng=random.Random(r.getrandbits(64)),
            occurred_at=at - timedelta(minutes=r.uniform(5, 240)) if source != "grid_patrol" else at,
        )
        if source in ("hotline_12345", "resident", "petition", "media"):
            spec.reporter_name = names.person_name(r) if source != "media" else ""
            spec.reporter_phone = names.mobile(r) if source != "media" else ""
        if source == "hotline_12345":
            spec.source_ref = f"12345-{at:%Y%m%d}-{r.randint(1, 9999):04d}"
        if source in ("grid_patrol", "resident") and r.random() < 0.7:
            spec.photo = r.randrange(8)
        return spec

    # -- the life of one case --

    def _desk(self, spec: Spec, t: datetime, minutes: float) -> datetime:
        if spec.fast:
            return t + timedelta(minutes=max(minutes * 0.05, 1))
        return self.time.desk(t + timedelta(minutes=minutes))

    def _office(self, spec: Spec, t: datetime, hours: float) -> datetime:
        if spec.fast:
            return t + timedelta(minutes=max(hours * 60 * 0.05, 2))
        return self.time.work_hours_later(t, hours)

    def _verifier(self, spec: Spec):
        a, r = self.actors, spec.rng
        worker = a.workers.get(spec.grid.parent_id or spec.grid.pk)
        staff = a.community_staff.get(spec.grid.community_id)
        roll = r.random()
        if worker is not None and roll < 0.7:
            return worker
        if staff is not None and roll < 0.85:
            return staff
        return a.dispatcher

    def _right_department(self, spec: Spec):
        dept = spec.category.default_department
        if dept is not None and dept.street_id != self.street.pk:
            dept = self.departments.get(dept.code.removeprefix(self.dept_prefix))  # this street's own
        if dept is None and spec.category.default_department_code:
            dept = self.departments.get(spec.category.default_department_code)
        if spec.category.code.startswith(("J91", "J94")) and spec.rng.random() < 0.4:
            dept = self.community_dept.get(spec.grid.community_id, dept)
        return dept or self.departments.get("CGZD")

    def _wrong_department(self, right):
        base = right.code.removeprefix(self.dept_prefix)
        code = CONFUSED_WITH.get(base, "CGZD" if base != "CGZD" else "ZJB")
        return self.departments.get(code)

    def life(self, spec: Spec, eng) -> Generator[datetime, None, None]:
        a, r = self.actors, spec.rng

        def stop(case) -> bool:
            return spec.stop_at is not None and eng.state(case) == spec.stop_at

        t = spec.created_at
        yield t
        auto = spec.creator.role == "grid_worker" and spec.category.grid_worker_can_file and r.random() < 0.85
        case = eng.create(spec, t, auto_accept=auto)
        key = (spec.grid.pk, spec.category.pk)
        if stop(case):
            return
        if not auto:
            t = self._desk(spec, t, r.uniform(3, 50))
            yield t
            roll = r.random()
            p_reject = 0.01 if spec.source == "grid_patrol" else 0.04
            if spec.stop_at is None and roll < p_reject:
                eng.move(case, "reject", a.dispatcher, t, reason=r.choice(REJECT_REASONS))
                return
            if spec.stop_at is None and roll < p_reject + 0.03:
                target = next(
                    (
                        c
                        for c in reversed(self.open_by_place[key])
                        if eng.state(c) in ("reported", "accepted", "dispatched", "handling")
                    ),
                    None,
                )
                if target is not None:
                    eng.move(
                        case, "merge", a.dispatcher, t, target_case=target, note="同一问题重复上报，合并处理"
                    )
                    return
            eng.move(case, "accept", a.dispatcher, t)
            if stop(case):
                return
        self.open_by_place[key] = [*self.open_by_place[key][-3:], case]
        if spec.stop_at is None and r.random() < 0.004:
            t = self._desk(spec, t, r.uniform(20, 300))
            yield t
            eng.move(case, "void", a.shift_leader, t, reason="重复登记，信息有误，予以作废")
            return
        slow = r.random() < 0.03  # the desk sometimes sits on a case (派遣超时)
        t = self._desk(spec, t, r.uniform(5, 60) + (r.uniform(120, 600) if slow else 0))
        yield t
        right = self._right_department(spec)
        detour = r.random() if spec.stop_at is None else 1.0
        dept = self._wrong_department(right) if detour < 0.08 else right
        eng.move(case, "dispatch", a.dispatcher, t, department=dept)
        if stop(case):
            return
        if detour < 0.05:  # the department sends it back (退回) and the desk dispatches again
            t = self._office(spec, t, r.uniform(0.3, 3))
            yield t
            eng.move(case, "return", a.handlers[dept.pk], t, reason=r.choice(RETURN_REASONS))
            t = self._desk(spec, t, r.uniform(10, 90))
            yield t
            eng.move(case, "dispatch", a.dispatcher, t, department=right)
        elif detour < 0.08:  # the desk notices and reassigns (改派)
            t = self._desk(spec, t, r.uniform(30, 240))
            yield t
            eng.move(case, "reassign", a.dispatcher, t, department=right, note="根据职责调整处置部门")
        yield from self._handle(spec, eng, case, t, right, allow_redo=True)

    def _handle(self, spec: Spec, eng, case, t: datetime, dept, *, allow_redo: bool):
        a, r = self.actors, spec.rng
        handler = a.handlers[dept.pk]
        t = self._office(spec, t, r.uniform(0.1, 2.5))
        yield t
        eng.move(case, "sign", handler, t)
        if spec.stop_at in ("handling", "suspended"):
            if spec.stop_at == "suspended":
                t = self._desk(spec, t, r.uniform(10, 60))
                yield t
                eng.move(case, "suspend", a.dispatcher, t, reason=r.choice(SUSPEND_REASONS))
            return
        if spec.stop_at is None and r.random() < 0.02:  # 挂账
            t = self._desk(spec, t, r.uniform(120, 2880))
            yield t
            eng.move(case, "suspend", a.dispatcher, t, reason=r.choice(SUSPEND_REASONS))
            if r.random() < 0.3:
                return  # still 挂账 (or resumed after "now")
            t = self._desk(spec, t, r.uniform(7, 40) * 1440)
            yield t
            eng.move(case, "resume", a.dispatcher, t, note="协调完毕，恢复办理")
        if r.random() < 0.04:  # 延期
            t = self._office(spec, t, r.uniform(1, 6))
            yield t
            unit, *_ = eng.budget(case)
            amount = 2 if unit in DAY_UNITS else 8
            eng.move(
                case,
                "request_extension",
                handler,
                t,
                amount=amount,
                unit=unit,
                reason=r.choice(EXTENSION_REASONS),
            )
            t = self._office(spec, t, r.uniform(0.2, 3))
            yield t
            if r.random() < 0.8:
                eng.move(case, "approve_extension", a.shift_leader, t, note="同意延期")
            else:
                eng.move(case, "deny_extension", a.shift_leader, t, note="请按原时限办结")
        fraction = math.exp(r.gauss(math.log(0.42), 0.5))  # share of the time limit used (> 1: overdue)
        for attempt in range(3):
            unit, started, budget, paused = eng.budget(case)
            due = self.time.wc.advance(unit, started, fraction * (budget or 0) + (paused or 0)).due
            if fraction > 0.9 and attempt == 0 and r.random() < 0.4:  # 督办 while it drags on
                mid = started + (due - started) * 0.85
                t = max(t + timedelta(minutes=5), self.time.office(mid))
                yield t
                if eng.state(case) in ("dispatched", "handling"):
                    supervisor = r.choice([a.shift_leader, a.leader])
                    eng.move(case, "supervise", supervisor, t, note=r.choice(SUPERVISE_NOTES))
            t = max(t + timedelta(minutes=10), due if not spec.fast else t)
            t = t if spec.fast else self.time.office(t)
            yield t
            eng.move(case, "finish", handler, t, note=r.choice(FEEDBACK), photo=r.randrange(8))
            if spec.stop_at == "handled":
                return
            t = self._office(spec, t, r.uniform(0.3, 6))
            yield t
            verifier = self._verifier(spec)
            if attempt == 0 and spec.stop_at is None and r.random() < 0.06:  # 返工
                eng.move(case, "verify_fail", verifier, t, reason=r.choice(REWORK_REASONS))
                fraction = 0.2 + r.random() * 0.4
                continue
            eng.move(case, "verify_pass", verifier, t)
            break
        if spec.stop_at == "verified":
            return
        t = self._desk(spec, t, r.uniform(20, 360))
        yield t
        eng.move(case, "close", r.choice([a.dispatcher, a.dispatcher, a.shift_leader]), t)
        if spec.stop_at == "closed" or r.random() < 0.04:
            return  # 回访 not reached (yet)
        t = self._desk(spec, t, r.uniform(240, 3600))
        yield t
        rating = r.choices([x for x, _ in RATING_MIX], weights=[w for _, w in RATING_MIX])[0]
        redo = allow_redo and rating == "dissatisfied" and r.random() < 0.3
        eng.move(
            case,
            "rate",
            a.dispatcher,
            t,
            rating=rating,
            redo=redo,
            note="电话回访" + ("，反映人不满意，重办" if redo else ""),
        )
        if redo:
            yield from self._handle(spec, eng, case, t, dept, allow_redo=False)

    # -- the scheduler --

    def play(self, specs: list[Spec], eng, *, tick_from: datetime | None = None) -> None:
        """Run every life on ``eng`` in global time order, up to ``self.now``."""
        heap: list = []
        counter = 0
        for spec in specs:
            gen = self.life(spec, eng)
            first = next(gen)
            heapq.heappush(heap, (first, counter, gen))
            counter += 1
        if tick_from is not None:
            heapq.heappush(heap, (tick_from, counter, None))
            counter += 1
        while heap:
            t, _, gen = heapq.heappop(heap)
            if t > self.now:
                break
            if gen is None:  # the light job
                eng.tick(t)
                heapq.heappush(heap, (t + JOB_EVERY, counter, None))
                counter += 1
                continue
            try:
                nxt = gen.send(None)
            except StopIteration:
                continue
            heapq.heappush(heap, (nxt, counter, gen))
            counter += 1


def _actors(staff, prefix: str = "") -> Actors:
    from civicgrid.accounts.models import User

    wanted = [prefix + name for name in ("dispatcher", "zhibanzhang", "lingdao")]
    users = {u.username: u for u in User.objects.filter(username__in=wanted)}
    return Actors(
        dispatcher=users[wanted[0]],
        shift_leader=users[wanted[1]],
        leader=users[wanted[2]],
        handlers=staff.handlers,
        workers=staff.workers,
        community_staff=staff.community_staff,
    )


def load_cases(
    street,
    rng: random.Random,
    *,
    staff,
    log: Callable[[str], None] = lambda msg: None,
    days: int = DAYS,
    live_days: int = LIVE_DAYS,
    scale: float = 1.0,
    showcase: int = 2,
    prefix: str = "",
    dept_prefix: str = "",
) -> dict | None:
    """A year of cases ending now. Returns counts, or None when the demo cases already exist."""
    import time as _time

    from civicgrid.cases import jobs, notifications
    from civicgrid.cases.models import Case, CaseState, Notification
    from civicgrid.core import clock
    from civicgrid.core.models import AuditLog

    if (
        AuditLog.objects.filter(action="demo.cases", object_id=str(street.pk)).exists()
        or Case.objects.filter(street=street).exists()
    ):
        log("演示案件已存在，跳过。")
        return None
    now = clock.now()
    actors = _actors(staff, prefix)
    year = Year(street, rng, actors, now=now, days=days, scale=scale, dept_prefix=dept_prefix)
    photos = _photos(random.Random(rng.random()))
    live_days = min(live_days, days)
    t0 = _time.perf_counter()

    # 1. older history, in memory, then one set-based insert through the case engine
    from civicgrid.cases import services

    bulk_specs = year.specs(days, live_days)
    bulk = HistoryEngine()
    if bulk_specs:
        log(f"正在生成 {days} 天前至 {live_days} 天前的历史案件（{len(bulk_specs)} 件，批量写入）……")
        year.play(bulk_specs, bulk)
    written = services.bulk_import_history(
        actor=None,
        engine=bulk,
        photos=photos if bulk_specs else [],
        audit_record={
            "action": "demo.cases",
            "object_type": "places.street",
            "object_id": street.pk,
            "object_repr": street.name,
            "after": {"phase": "history", "days": days, "live_days": live_days},
            "note": "演示数据：批量写入的历史案件（未逐条记录审计）",
        },
    )
    t1 = _time.perf_counter()
    if bulk_specs:
        log(f"历史案件写入完成：{written['cases']} 件，{written['events']} 条流转记录（{t1 - t0:.1f} 秒）。")

    # 2. the recent weeks: in memory too, with the audit rows, notifications and light-job notices the services
    # and the job would have left; then a few showcase cases through the services themselves
    year.open_by_place.clear()
    live_specs = year.specs(live_days, -1)
    log(f"正在生成最近 {live_days} 天的案件（{len(live_specs)} 件，逐步审计与通知，批量写入）……")
    recent = RecentHistoryEngine(tick_from=now - timedelta(days=live_days), now=now)
    year.play(live_specs, recent)
    recent_written = services.bulk_import_history(actor=None, engine=recent, photos=photos)
    live = LiveEngine(photos)

    # 3. a few cases standing in every open state right now
    counts = Counter(Case.objects.filter(street=street).values_list("state", flat=True))
    extra = []
    for state in (
        "reported",
        "accepted",
        "dispatched",
        "handling",
        "handled",
        "verified",
        "closed",
        "suspended",
    ):
        for k in range(max(0, showcase - counts.get(state, 0))):
            at = now - timedelta(minutes=150 + 47 * k + 13 * len(extra))
            source = "grid_patrol" if state != "reported" else "hotline_12345"
            spec = year._spec(source, at)
            if state == "reported":
                spec.creator = actors.dispatcher
            spec.stop_at, spec.fast = state, True
            extra.append(spec)
    if extra:
        year.play(sorted(extra, key=lambda s: s.created_at), live)
    with clock.frozen(now):
        jobs.refresh_lights(now)
    # notifications older than two days have been read
    with clock.frozen(now - timedelta(days=1)):
        old = Notification.objects.filter(read_at__isnull=True, created_at__lt=now - timedelta(days=2))
        for user_id in sorted(set(old.values_list("user_id", flat=True))):
            ids = list(old.filter(user_id=user_id).values_list("pk", flat=True))
            notifications.mark_read(user=type(actors.dispatcher).objects.get(pk=user_id), ids=ids)
    t2 = _time.perf_counter()
    log(
        f"最近案件写入完成：{recent_written['cases']} 件，{recent_written['events']} 条流转记录，"
        f"{recent_written['audit']} 条审计记录，{recent_written['notifications']} 条通知（{t2 - t1:.1f} 秒）。"
    )

    qs = Case.objects.filter(street=street)
    by_state = Counter(qs.values_list("state", flat=True))
    total = sum(by_state.values())
    overdue = qs.filter(is_overdue=True).count()
    labels = dict(CaseState.choices)
    summary = (
        f"演示案件 {total} 件（历史 {written['cases']} 件，最近 {total - written['cases']} 件），曾超时 {overdue} 件；"
        + "，".join(f"{labels.get(s, s)} {n}" for s, n in sorted(by_state.items(), key=lambda x: -x[1]))
    )
    log(summary)
    return {
        "cases": total,
        "bulk": written["cases"],
        "live": total - written["cases"],
        "by_state": dict(by_state),
        "overdue": overdue,
        "seconds_bulk": round(t1 - t0, 1),
        "seconds_live": round(t2 - t1, 1),
        "summary": summary,
    }
