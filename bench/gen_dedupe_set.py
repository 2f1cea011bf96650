"""Generate a month of synthetic city complaints and a labelled near-duplicate evaluation set.

    .venv/bin/python bench/gen_dedupe_set.py --window 20000 --pairs 400 --out dedupe_set.csv

Background: ``window`` complaints over 30 days in a Beijing-sized city (most in the centre, a Gaussian of ~8 km
around 116.40, 39.91), each an address (区 + road + 小区/号院 + building) and one of ~40 problems in 8 category
families, written in one of several phrasings, sometimes with an extra sentence.

Labelled queries (half positive, half negative), each a new complaint checked against the window:

* positive — the same problem as a planted earlier report, 0–120 m away, worded as a **paraphrase** (another
  phrasing of the problem), with **typos** (1–3 characters replaced by homophones), with **extra detail**, or by
  **another reporter** (another opening, the address written shorter);
* negative — **same address, different problem** (a planted report at that address, 0–30 m, another problem of
  the same or another family), or **the same problem 2 km away** (same phrasing, another address ~2 km off).

The answer key is the planted report's id (positives) or "none of the planted reports" (negatives).
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from civicgrid.triage.dedupe import Record  # noqa: E402

T0 = 1_780_000_000.0  # window start (epoch s)
DAY = 86400.0
CENTER = (116.40, 39.91)

DISTRICTS = [
    "东城区",
    "西城区",
    "朝阳区",
    "海淀区",
    "丰台区",
    "石景山区",
    "通州区",
    "昌平区",
    "大兴区",
    "顺义区",
]
ROAD_A = [
    "安定",
    "和平",
    "建国",
    "朝阳",
    "光华",
    "望京",
    "阜成",
    "西直",
    "复兴",
    "永定",
    "广安",
    "丰台",
    "学院",
    "知春",
    "双榆",
    "花园",
    "东四",
    "交道",
    "鼓楼",
    "德胜",
    "马甸",
    "北苑",
    "南苑",
    "十里",
    "八里",
    "劲松",
    "潘家",
    "方庄",
    "蒲黄",
    "石榴",
    "大红",
    "天坛",
    "先农",
    "白纸",
    "牛街",
    "枣林",
    "小营",
    "清河",
    "回龙",
    "天通",
]  # noqa: E501
ROAD_B = ["路", "北路", "南路", "东路", "西路", "大街", "胡同", "东里", "西里", "中街"]
XIAOQU = [
    "阳光",
    "金色",
    "幸福",
    "和谐",
    "晨光",
    "瑞祥",
    "锦绣",
    "华清",
    "富力",
    "远洋",
    "万科",
    "首开",
    "金隅",
    "保利",
    "绿地",
    "新康",
    "康乐",
    "安华",
    "裕中",
    "惠新",
    "育新",
    "芍药",
    "安贞",
    "胜古",
    "左家",
    "团结",
    "红庙",
    "延静",
    "甜水",
    "铁路",
]  # noqa: E501
XIAOQU_B = ["小区", "家园", "嘉园", "花园", "里", "苑", "公寓"]

# family → problems → phrasings; {a} is the address
FAMILIES: dict[int, list[list[str]]] = {
    1: [  # 市容环境
        [
            "{a}门口的垃圾桶已经满了好几天没人清运，味道很大",
            "{a}垃圾堆积多日无人清理，散发臭味",
            "反映{a}的生活垃圾好几天没有清运，垃圾桶都溢出来了",
            "{a}这边垃圾没人收，堆得到处都是，气味难闻",
        ],
        [
            "{a}有人乱倒建筑垃圾，堆在路边好几堆",
            "{a}路边被倾倒了大量装修垃圾，没人管",
            "举报{a}附近有车辆夜间偷倒渣土和建筑垃圾",
        ],
        [
            "{a}小广告贴得到处都是，墙上电线杆上全是",
            "{a}楼道和外墙被乱贴小广告，影响市容",
            "{a}附近牛皮癣广告泛滥，请清理",
        ],
        [
            "{a}路面有大片油污没人清扫",
            "{a}道路上洒落泥土和油污，很脏很滑",
        ],
        [
            "{a}公共厕所很脏，好几天没人打扫",
            "{a}的公厕卫生太差，臭气熏天，无人保洁",
        ],
    ],
    2: [  # 噪声污染
        [
            "{a}附近工地夜间施工噪音太大，晚上十一点还在干活",
            "{a}旁边的工地半夜施工，吵得无法睡觉",
            "反映{a}工地深夜作业扰民，噪声很大",
        ],
        [
            "{a}楼下饭店排风机噪音很大，从早响到晚",
            "{a}底商餐馆的风机声音太吵，影响休息",
        ],
        [
            "{a}广场舞音响声音太大，每天晚上吵到十点",
            "{a}每晚有人跳广场舞，音箱开得特别响",
            "{a}广场舞扰民，音乐声音过大",
        ],
        [
            "{a}装修电钻声中午和周末也不停",
            "{a}有住户装修时间不规范，午休时间还在打电钻",
        ],
    ],
    3: [  # 道路交通
        [
            "{a}路面塌陷出现一个大坑，车辆经过很危险",
            "{a}马路上有个坑越来越大，已经有电动车摔倒",
            "{a}道路破损严重，坑洼不平，请尽快修补",
        ],
        [
            "{a}井盖丢失，路上留下一个洞，很危险",
            "{a}的井盖不见了，晚上看不见容易掉下去",
            "{a}有个井盖破损塌陷，行人容易踩空",
        ],
        [
            "{a}路灯坏了好久，晚上一片漆黑",
            "{a}的路灯不亮了，夜里走路很不安全",
            "反映{a}一排路灯都不亮，请维修",
        ],
        [
            "{a}红绿灯坏了，路口车辆乱成一团",
            "{a}路口信号灯不工作，交通混乱",
        ],
        [
            "{a}人行道上停满了汽车，行人只能走机动车道",
            "{a}车辆乱停乱放占用人行道和盲道",
            "{a}门口违章停车严重，堵住了消防通道",
        ],
    ],
    4: [  # 供水供暖
        [
            "{a}家里停水一整天了，也没有通知",
            "{a}突然停水，到现在还没来水",
            "反映{a}从早上开始没有自来水",
        ],
        [
            "{a}暖气不热，屋里只有十几度",
            "{a}供暖温度不达标，家里很冷",
            "{a}暖气片是凉的，已经好几天了",
        ],
        [
            "{a}路边水管爆裂，水流得满街都是",
            "{a}地下自来水管漏水，路面一直冒水",
        ],
        [
            "{a}自来水发黄有异味，不敢喝",
            "{a}水龙头出来的水浑浊发黄",
        ],
    ],
    5: [  # 园林绿化
        [
            "{a}有棵大树倾斜快倒了，下面经常有人走",
            "{a}的树歪得厉害，刮风怕砸到人和车",
            "{a}一棵树被风吹断了树枝挂在电线上",
        ],
        [
            "{a}绿地被人占了种菜",
            "{a}有居民毁绿种菜，绿化带都被挖了",
        ],
        [
            "{a}杨絮柳絮太多，希望处理一下",
            "{a}飞絮严重，影响出行和呼吸",
        ],
    ],
    6: [  # 违法建设
        [
            "{a}顶楼有人私搭乱建，盖了一间彩钢房",
            "{a}楼顶违建，加盖了房子",
            "举报{a}楼顶违章搭建彩钢板房",
        ],
        [
            "{a}一层住户私自扩建院子，占用公共绿地",
            "{a}底层住户圈占公共空间，违法扩建",
        ],
        [
            "{a}有商户占道经营，把货物摆到人行道上",
            "{a}门店店外经营，桌椅摆到了马路上",
        ],
    ],
    7: [  # 社区服务
        [
            "{a}电梯坏了好几天，老人上下楼很困难",
            "{a}的电梯经常停运，物业不维修",
            "反映{a}电梯故障一直没有修好",
        ],
        [
            "{a}楼道里堆满了杂物，有消防隐患",
            "{a}楼道被私人物品占用，堵塞消防通道",
        ],
        [
            "{a}有人飞线充电，电线从楼上拉下来给电瓶车充电",
            "{a}居民从窗户拉电线给电动车充电，很危险",
        ],
        [
            "{a}楼下有流浪狗经常追咬路人",
            "{a}附近流浪狗越来越多，孩子不敢出门",
        ],
    ],
    8: [  # 环境污染
        [
            "{a}楼下餐馆油烟直排，窗户都不敢开",
            "{a}饭店油烟很大，熏得家里全是味",
            "反映{a}底商烧烤油烟扰民",
        ],
        [
            "{a}有人露天焚烧垃圾，烟很大",
            "{a}附近经常有人烧东西，空气很呛",
        ],
        [
            "{a}河道里有死鱼，水发黑发臭",
            "{a}旁边的河水变黑，臭味很重",
        ],
    ],
}

EXTRA = [
    "已经反映过好几次了。",
    "希望有关部门尽快处理。",
    "家里有老人和小孩，非常担心。",
    "周围居民意见很大。",
    "昨天晚上开始的，今天还是这样。",
    "物业说不归他们管。",
    "拍了照片可以提供。",
    "请尽快派人来看一下。",
]
OPENINGS = [
    "",
    "",
    "市民来电反映：",
    "您好，",
    "我是附近居民，",
    "网格员巡查发现：",
    "居民王女士反映：",
    "来电人称：",
]
TYPOS = {
    "垃": "拉",
    "圾": "级",
    "清": "请",
    "运": "云",
    "噪": "燥",
    "音": "因",
    "施": "师",
    "坏": "怀",
    "灯": "登",
    "暖": "缓",
    "停": "亭",
    "坑": "炕",
    "违": "为",
    "梯": "题",
    "烟": "咽",
    "味": "未",
    "路": "露",
    "很": "狠",
    "已": "以",
    "在": "再",
    "的": "得",
}


@dataclass
class Place:
    address: str
    short: str
    lng: float
    lat: float


def _offset(lng: float, lat: float, metres: float, rng: random.Random) -> tuple[float, float]:
    ang = rng.random() * 2 * math.pi
    dy = metres * math.sin(ang) / 110_574.0
    dx = metres * math.cos(ang) / (110_574.0 * math.cos(math.radians(lat)))
    return lng + dx, lat + dy


def new_place(rng: random.Random) -> Place:
    lng = rng.gauss(CENTER[0], 0.09)
    lat = rng.gauss(CENTER[1], 0.07)
    road = rng.choice(ROAD_A) + rng.choice(ROAD_B)
    xq = rng.choice(XIAOQU) + rng.choice(XIAOQU_B)
    district = rng.choice(DISTRICTS)
    if rng.random() < 0.5:
        short = f"{road}{rng.randint(1, 200)}号院"
    else:
        short = f"{xq}{rng.randint(1, 30)}号楼"
    address = f"{district}{short}" if short.startswith(road) else f"{district}{road}{short}"
    return Place(address, short, lng, lat)


def grid_of(lng: float, lat: float) -> int:
    """A 1 km square 'grid' id (the bench has no real grid boundaries)."""
    return int((lat - 39.0) / 0.009) * 100_000 + int((lng - 115.0) / 0.0117)


def write_text(
    rng: random.Random, family: int, problem: int, phrasing: int, place: Place, *, short=False
) -> str:
    body = FAMILIES[family][problem][phrasing].format(a=place.short if short else place.address)
    opening = rng.choice(OPENINGS)
    extra = rng.choice(EXTRA) if rng.random() < 0.3 else ""
    return f"{opening}{body}。{extra}"


def random_problem(rng: random.Random) -> tuple[int, int]:
    family = rng.choice(list(FAMILIES))
    return family, rng.randrange(len(FAMILIES[family]))


def background(n: int, *, seed: int = 1, start_id: int = 1) -> list[Record]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        place = new_place(rng)
        family, problem = random_problem(rng)
        phrasing = rng.randrange(len(FAMILIES[family][problem]))
        out.append(
            Record(
                id=start_id + i,
                created=T0 + rng.random() * 30 * DAY,
                text=write_text(rng, family, problem, phrasing, place),
                lng=place.lng,
                lat=place.lat,
                grid=grid_of(place.lng, place.lat),
                family=family,
                street=None,
                address=place.address,
                category=family * 100 + problem,
            )
        )
    return out


def typo(rng: random.Random, text: str) -> str:
    chars = list(text)
    spots = [i for i, ch in enumerate(chars) if ch in TYPOS]
    for i in rng.sample(spots, min(len(spots), rng.randint(1, 3))):
        chars[i] = TYPOS[chars[i]]
    return "".join(chars)


@dataclass
class Query:
    record: Record
    kind: str
    expected: int | None  # the planted report's id for a positive, None for a negative
    planted: int  # the planted report's id (for a negative: the one that must NOT be found)


def labelled(n: int, *, seed: int = 2, start_id: int = 10_000_000) -> tuple[list[Record], list[Query]]:
    """``n`` queries (half positive) and the planted reports they refer to."""
    rng = random.Random(seed)
    planted: list[Record] = []
    queries: list[Query] = []
    next_id = start_id
    kinds_pos = ["paraphrase", "typo", "extra_detail", "another_reporter"]
    kinds_neg = ["same_address_other_problem", "same_problem_2km"]
    for k in range(n):
        place = new_place(rng)
        family, problem = random_problem(rng)
        phrasings = FAMILIES[family][problem]
        ph = rng.randrange(len(phrasings))
        created = T0 + (5 + rng.random() * 22) * DAY
        master = Record(
            id=next_id,
            created=created,
            text=write_text(rng, family, problem, ph, place),
            lng=place.lng,
            lat=place.lat,
            grid=grid_of(place.lng, place.lat),
            family=family,
            address=place.address,
            category=family * 100 + problem,
        )
        planted.append(master)
        qid = next_id + 1
        next_id += 2
        later = created + rng.random() * 3 * DAY
        if k % 2 == 0:
            kind = kinds_pos[(k // 2) % len(kinds_pos)]
            lng, lat = _offset(place.lng, place.lat, rng.random() * 120, rng)
            address = place.address
            if kind == "paraphrase":
                other = [i for i in range(len(phrasings)) if i != ph]
                text = write_text(rng, family, problem, rng.choice(other), place)
            elif kind == "typo":
                text = typo(rng, master.text)
            elif kind == "extra_detail":
                text = master.text + rng.choice(EXTRA) + rng.choice(EXTRA)
            else:
                address = place.short
                body = phrasings[ph].format(a=place.short)
                text = rng.choice(["居民李先生反映：", "另一位居民来电：", "有群众反映，"]) + body + "。"
            q = Record(qid, later, text, lng, lat, grid_of(lng, lat), family, None, address, master.category)
            queries.append(Query(q, kind, master.id, master.id))
        else:
            kind = kinds_neg[(k // 2) % len(kinds_neg)]
            if kind == "same_address_other_problem":
                lng, lat = _offset(place.lng, place.lat, rng.random() * 30, rng)
                if rng.random() < 0.5 and len(FAMILIES[family]) > 1:
                    f2, p2 = family, rng.choice([i for i in range(len(FAMILIES[family])) if i != problem])
                else:
                    f2 = rng.choice([f for f in FAMILIES if f != family])
                    p2 = rng.randrange(len(FAMILIES[f2]))
                text = write_text(rng, f2, p2, rng.randrange(len(FAMILIES[f2][p2])), place)
                q = Record(
                    qid, later, text, lng, lat, grid_of(lng, lat), f2, None, place.address, f2 * 100 + p2
                )
            else:
                lng, lat = _offset(place.lng, place.lat, 2000 + rng.random() * 200, rng)
                far = new_place(rng)
                far = Place(far.address, far.short, lng, lat)
                text = write_text(rng, family, problem, ph, far)
                q = Record(
                    qid, later, text, lng, lat, grid_of(lng, lat), family, None, far.address, master.category
                )
            queries.append(Query(q, kind, None, master.id))
    return planted, queries


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=400)
    ap.add_argument("--out", default="dedupe_set.csv")
    args = ap.parse_args(argv)
    planted, queries = labelled(args.pairs)
    by_id = {r.id: r for r in planted}
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kind", "label", "query_text", "query_address", "planted_text", "planted_address"])
        for q in queries:
            p = by_id[q.planted]
            w.writerow(
                [q.kind, int(q.expected is not None), q.record.text, q.record.address, p.text, p.address]
            )
    print(f"{len(queries)} labelled queries → {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
