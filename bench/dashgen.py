"""The data of bench_dashboard.py: a Beijing year of cases written with COPY into a migrated PostgreSQL database.

16 区 (the real names and 街道 counts, 343 街道), 8–30 社区 per 街道, 3–6 网格 per 社区, 20–30 处置部门 per 街道, the
seeded categories (Zipf-weighted), 7 sources, 3 procedures (标准 95 %, 安全隐患 3 %, 矛盾纠纷 2 %), a seasonal daily
volume (春节 dip, summer peak, weekends ×0.75, day-time hours) over the 365 days up to the bench's "today", the
states and times of a real closed loop (不予受理/合并/作废, 立案, 派遣, 签收 events, 办结, 回访评价, 返工, 超时), open
cases in the last days. Runs inside a set-up Django process (bench_dashboard.py calls :func:`generate`).
"""

from __future__ import annotations

import io
import time
from datetime import date, timedelta

import numpy as np

DISTRICTS = [  # (name, division code, 街道 count)
    ("东城区", "110101", 17),
    ("西城区", "110102", 15),
    ("朝阳区", "110105", 43),
    ("丰台区", "110106", 26),
    ("石景山区", "110107", 9),
    ("海淀区", "110108", 29),
    ("门头沟区", "110109", 13),
    ("房山区", "110111", 28),
    ("通州区", "110112", 22),
    ("顺义区", "110113", 25),
    ("昌平区", "110114", 22),
    ("大兴区", "110115", 22),
    ("怀柔区", "110116", 16),
    ("平谷区", "110117", 18),
    ("密云区", "110118", 20),
    ("延庆区", "110119", 18),
]
SYLL = list(
    "安华和平建国兴隆东西南北新城金台望京朝阳团结湖呼家楼麦子店六里屯八里庄酒仙桥太阳宫亚运村奥运香河园左家庄三里屯"
)
DEPTS = [
    "城管执法队",
    "环卫所",
    "市政养护所",
    "园林绿化所",
    "房管所",
    "物业管理科",
    "交通大队",
    "派出所",
    "市场监管所",
    "供电所",
    "自来水公司",
    "燃气公司",
    "热力公司",
    "电信公司",
    "安全生产科",
    "城市管理办",
    "社区建设办",
    "民政科",
    "卫健办",
    "住建科",
    "河长办",
    "消防站",
    "平安建设办",
    "综合执法队二中队",
    "拆违办",
    "垃圾分类办",
    "老旧小区改造办",
    "停车管理办",
    "街巷长办公室",
    "应急管理科",
]
TEXTS = [
    "小区门口垃圾堆放无人清理",
    "路灯不亮影响夜间出行",
    "井盖破损存在安全隐患",
    "占道经营影响通行",
    "楼道堆物堆料",
    "共享单车乱停乱放",
    "绿地内有私搭乱建",
    "噪音扰民夜间施工",
    "下水道堵塞污水外溢",
    "道路破损坑洼积水",
    "违规张贴小广告",
    "机动车乱停占用消防通道",
    "暖气不热要求检修",
    "树木枝杈遮挡路灯",
    "餐饮油烟扰民",
    "电动自行车楼道充电",
]
SOURCES = (
    ["grid_patrol", "hotline_12345", "resident", "dispatcher", "leader", "media", "other"],
    [0.45, 0.35, 0.10, 0.05, 0.02, 0.02, 0.01],
)
PROCEDURES = (["standard", "hazard", "dispute"], [0.95, 0.03, 0.02])
GEOM = '{"type":"Polygon","coordinates":[[[116.40,39.90],[116.41,39.90],[116.41,39.91],[116.40,39.90]]]}'
CASE_COLS = (
    "id",
    "title",
    "description",
    "source",
    "source_ref",
    "priority",
    "state",
    "version",
    "suspended_from",
    "returned",
    "address",
    "reporter_name",
    "reporter_phone",
    "rating",
    "redo_count",
    "rework_count",
    "supervise_count",
    "handling_feedback",
    "stage",
    "limit_unit",
    "extension_amount",
    "paused_measure_seconds",
    "due_provisional",
    "light",
    "last_notified_light",
    "is_overdue",
    "procedure",
    "created_at",
    "accepted_at",
    "dispatched_at",
    "handled_at",
    "closed_at",
    "due_at",
    "updated_at",
    "street_id",
    "community_id",
    "grid_id",
    "department_id",
    "category_id",
)
EVENT_COLS = (
    "case_id",
    "seq",
    "move",
    "from_state",
    "to_state",
    "actor_name",
    "actor_role",
    "at",
    "note",
    "data",
    "clock",
)


def places(cur, rnd: np.random.Generator) -> dict:
    """Districts, 街道, 社区, 网格, departments; returns the arrays the cases are drawn from."""
    names = set()

    def name(suffix: str) -> str:
        while True:
            n = "".join(rnd.choice(SYLL, size=int(rnd.integers(2, 4)))) + suffix
            if n not in names:
                names.add(n)
                return n

    street_rows, street_district = [], []
    for d_name, code, n_streets in DISTRICTS:
        cur.execute("INSERT INTO places_district (name, code) VALUES (%s, %s) RETURNING id", (d_name, code))
        did = cur.fetchone()[0]
        for i in range(n_streets):
            street_rows.append((name("街道"), code, f"{code}{i + 1:03d}", did))
            street_district.append(did)
    with cur.copy("COPY places_street (name, division_code, code, district_id) FROM STDIN") as cp:
        for r in street_rows:
            cp.write_row(r)
    cur.execute("SELECT id, code, name FROM places_street ORDER BY code")
    streets = cur.fetchall()
    comm_rows = []
    for sid, scode, _ in streets:
        for c in range(int(rnd.integers(8, 31))):
            comm_rows.append((f"{scode}{c + 1:03d}", name("社区"), "community", sid))
    with cur.copy("COPY places_community (code, name, kind, street_id) FROM STDIN") as cp:
        for r in comm_rows:
            cp.write_row(r)
    cur.execute("SELECT id, code, street_id FROM places_community ORDER BY code")
    comms = cur.fetchall()
    grid_rows = []
    for cid, ccode, _sid in comms:
        for g in range(int(rnd.integers(3, 7))):
            grid_rows.append(
                f"{ccode}{g + 1:03d}\t{ccode}网格{g + 1}\tgrid\t{GEOM}\t250000\t116.40\t39.90\t116.41\t39.91\tt\t"
                f"2026-01-01 00:00:00+08\t{cid}\n"
            )
    with cur.copy(
        "COPY places_grid (code, name, kind, geometry, area_m2, min_lng, min_lat, max_lng, max_lat, is_active, "
        "updated_at, community_id) FROM STDIN"
    ) as cp:
        cp.write("".join(grid_rows))
    cur.execute(
        "SELECT g.id, g.community_id, c.street_id FROM places_grid g JOIN places_community c ON c.id = g.community_id ORDER BY g.id"
    )
    grids = np.array(cur.fetchall(), dtype=np.int64)
    dept_rows = []
    for sid, scode, sname in streets:
        for i, dn in enumerate(DEPTS[: int(rnd.integers(20, 31))]):
            dept_rows.append((f"{scode}-{i:02d}", sname + dn, "department", "", True, i, sid))
    with cur.copy(
        "COPY accounts_department (code, name, kind, phone, is_active, sort_order, street_id) FROM STDIN"
    ) as cp:
        for r in dept_rows:
            cp.write_row(r)
    cur.execute(
        "SELECT street_id, array_agg(id ORDER BY sort_order) FROM accounts_department GROUP BY street_id"
    )
    depts = dict(cur.fetchall())
    return {"streets": streets, "grids": grids, "depts": depts}


def daily_weights(start: date, days: int) -> np.ndarray:
    """A seasonal daily volume: summer peak, 春节 dip (2026-02-17), weekends ×0.75."""
    w = np.empty(days)
    for i in range(days):
        d = start + timedelta(days=i)
        doy = d.timetuple().tm_yday
        season = 1.0 + 0.25 * np.sin(2 * np.pi * (doy - 105) / 365)  # max mid-July, min mid-January
        if abs((d - date(2026, 2, 17)).days) <= 7:
            season *= 0.55
        if d.weekday() >= 5:
            season *= 0.75
        w[i] = season
    return w / w.sum()


HOURS = np.array([1, 1, 1, 1, 1, 2, 4, 8, 12, 13, 13, 11, 8, 9, 11, 11, 10, 9, 7, 6, 5, 4, 2, 1], dtype=float)


def generate(conn, n: int, today: date, *, seed: int = 2026, log=print) -> dict:
    """Write ``n`` cases (ids 1..n) and their 签收 events; returns a summary."""
    rnd = np.random.default_rng(seed)
    cur = conn.cursor()
    t0 = time.perf_counter()
    world = places(cur, rnd)
    cur.execute("SELECT id FROM cases_category WHERE level = 'minor' AND is_enabled ORDER BY id")
    cats = np.array([r[0] for r in cur.fetchall()], dtype=np.int64)
    cat_p = 1.0 / np.arange(1, len(cats) + 1) ** 0.9
    cat_p /= cat_p.sum()
    rnd.shuffle(cats)
    grids = world["grids"]
    # big urban 街道 report far more than rural ones: lognormal weights per 街道, spread over its grids
    street_ids = np.array([s for s, _, _ in world["streets"]], dtype=np.int64)
    street_w = dict(zip(street_ids.tolist(), rnd.lognormal(0, 0.6, len(street_ids)).tolist(), strict=True))
    per_street = np.bincount(np.searchsorted(street_ids, grids[:, 2]), minlength=len(street_ids))
    grid_p = np.array([street_w[s] / per_street[np.searchsorted(street_ids, s)] for s in grids[:, 2]])
    grid_p *= rnd.lognormal(0, 0.5, len(grid_p))
    grid_p /= grid_p.sum()
    dept_of = {s: np.array(v, dtype=np.int64) for s, v in world["depts"].items()}
    first = today - timedelta(days=364)
    day_p = daily_weights(first, 365)
    day_str = [(first + timedelta(days=i)).isoformat() for i in range(400)]
    tod = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+08" for s in range(86400)]
    now_s = 365 * 86400 - 3600 * 6  # "now": 18:00 of today, in seconds after 00:00 of the first day

    def ts(sec: int) -> str:
        return f"{day_str[sec // 86400]} {tod[sec % 86400]}"

    log(f"places: {len(world['streets'])} 街道, {len(grids)} 网格 ({time.perf_counter() - t0:.1f} s)")
    chunk = 250_000
    events = 0
    t1 = time.perf_counter()
    for lo in range(0, n, chunk):
        m = min(chunk, n - lo)
        ids = np.arange(lo + 1, lo + m + 1)
        day = rnd.choice(365, size=m, p=day_p)
        sec = day * 86400 + rnd.choice(24, size=m, p=HOURS / HOURS.sum()) * 3600 + rnd.integers(0, 3600, m)
        sec = np.where(sec > now_s, sec - 86400, sec)  # nothing after "now"
        g = rnd.choice(len(grids), size=m, p=grid_p)
        grid_id, comm_id, street_id = grids[g, 0], grids[g, 1], grids[g, 2]
        cat = cats[rnd.choice(len(cats), size=m, p=cat_p)]
        src = rnd.choice(len(SOURCES[0]), size=m, p=SOURCES[1])
        proc = rnd.choice(3, size=m, p=PROCEDURES[1])
        fate = rnd.random(m)  # < .03 rejected, < .05 merged, < .055 voided, else the loop
        acc = sec + rnd.integers(120, 7200, m)
        dis = acc + rnd.integers(60, 3600, m)
        late = rnd.random(m) < 0.12
        sign = dis + np.where(late, rnd.integers(7200, 86400 * 2, m), rnd.integers(60, 7000, m))
        close = dis + (rnd.lognormal(np.log(20 * 3600), 0.9, m)).astype(np.int64)
        handled = np.maximum(sign + 60, close - rnd.integers(600, 4 * 3600, m))
        rating_r = rnd.random(m)
        overdue = rnd.random(m) < 0.06
        rework = (rnd.random(m) < 0.03).astype(np.int64)
        dept_pick = rnd.random(m)
        text = rnd.integers(0, len(TEXTS), m)
        buf = io.StringIO()
        ev = io.StringIO()
        for i in range(m):
            sid = int(street_id[i])
            f = fate[i]
            p = PROCEDURES[0][proc[i]]
            s = int(sec[i])
            a = d = h = c = sg = None
            rating = ""
            if f < 0.03:
                state = "rejected" if p == "standard" else {"hazard": "void", "dispute": "terminated"}[p]
            elif f < 0.05 and p == "standard":
                state = "merged"
            elif f < 0.055:
                state = "voided" if p == "standard" else {"hazard": "void", "dispute": "terminated"}[p]
            else:
                a = int(acc[i])
                if a > now_s:
                    a = None
                    state = {"standard": "reported", "hazard": "found", "dispute": "registered"}[p]
                else:
                    d = int(dis[i]) if int(dis[i]) <= now_s else None
                    sg = int(sign[i]) if d is not None and int(sign[i]) <= now_s else None
                    cl = int(close[i])
                    if d is None:
                        state = {"standard": "accepted", "hazard": "found", "dispute": "registered"}[p]
                    elif cl <= now_s:
                        h, c = int(handled[i]), cl
                        r = rating_r[i]
                        if p == "standard" and r < 0.72:
                            state = "rated"
                            rating = "satisfied" if r < 0.55 else ("basic" if r < 0.68 else "dissatisfied")
                        else:
                            state = "closed"
                    else:
                        state = {"standard": "handling", "hazard": "fixing", "dispute": "mediating"}[p]
                        if sg is None:
                            state = {"standard": "dispatched", "hazard": "fixing", "dispute": "mediating"}[p]
            dept = r"\N"
            if d is not None:
                opts = dept_of[sid]
                dept = str(int(opts[min(len(opts) - 1, int(len(opts) * dept_pick[i] ** 1.8))]))
            due = ts(d + 3 * 86400) if d is not None and d + 3 * 86400 < 400 * 86400 else r"\N"
            buf.write(
                f"{ids[i]}\t\t{TEXTS[text[i]]}\t{SOURCES[0][src[i]]}\t\tnormal\t{state}\t1\t\tf\t"
                f"\t\t\t{rating}\t0\t{rework[i] if c else 0}\t0\t\t\t\t0\t0\tf\t\t\t"
                f"{'t' if overdue[i] and c else 'f'}\t{p}\t{ts(s)}\t{ts(a) if a else chr(92) + 'N'}\t"
                f"{ts(d) if d else chr(92) + 'N'}\t{ts(h) if h else chr(92) + 'N'}\t{ts(c) if c else chr(92) + 'N'}\t"
                f"{due}\t{ts(c or sg or d or a or s)}\t{sid}\t{comm_id[i]}\t{grid_id[i]}\t{dept}\t{cat[i]}\n"
            )
            if sg is not None:
                ev.write(f"{ids[i]}\t4\tsign\tdispatched\thandling\t\tdept_handler\t{ts(sg)}\t\t{{}}\t{{}}\n")
                events += 1
        with cur.copy(f"COPY cases_case ({', '.join(CASE_COLS)}) FROM STDIN") as cp:
            cp.write(buf.getvalue())
        with cur.copy(f"COPY cases_caseevent ({', '.join(EVENT_COLS)}) FROM STDIN") as cp:
            cp.write(ev.getvalue())
        conn.commit()
        done = lo + m
        rate = done / (time.perf_counter() - t1)
        log(f"  {done:,} cases ({rate:,.0f}/s, eta {(n - done) / rate:.0f} s)")
    cur.execute("SELECT setval(pg_get_serial_sequence('cases_case', 'id'), %s)", (n,))
    cur.execute(
        "SELECT setval(pg_get_serial_sequence('cases_caseevent', 'id'), (SELECT max(id) FROM cases_caseevent))"
    )
    conn.commit()
    return {
        "cases": n,
        "events": events,
        "streets": len(world["streets"]),
        "grids": len(grids),
        "first": first,
    }
