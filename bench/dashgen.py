"""The data of bench_dashboard.py: a Beijing year of cases written with COPY into a migrated PostgreSQL database.

16 区 (the real names and 街道 counts, 343 街道), 8–30 社区 per 街道, 3–6 网格 per 社区, 20–30 处置部门 per 街道, the
seeded categories (Zipf-weighted), 7 sources, 3 procedures (标准 95 %, 安全隐患 3 %, 矛盾纠纷 2 %), a seasonal daily
volume (春节 dip, summer peak, weekends ×0.75, day-time hours) over the 365 days up to the bench's "today", the
states and times of a real closed loop (不予受理/合并/作废, 立案, 派遣, 签收 events, 办结, 回访评价, 返工, 超时), open
cases in the last days. Runs inside a set-up Django process (bench_dashboard.py calls :func:`generate`).
"""

from __future__ import annotations

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


# the staging table one chunk is copied into (binary COPY of int64 columns; -1 = none), then turned into cases and
# 签收 events by one INSERT … SELECT each
STAGE_COLS = (
    "id", "text", "source", "proc", "state", "rating", "rework", "overdue", "created", "accepted", "dispatched",
    "handled", "closed", "due", "signed", "street", "community", "grid", "department", "category",
)  # fmt: skip
# outcome × procedure → state (the closed loop's end or where it stands "now")
OUTCOMES = {
    "rejected": ("rejected", "void", "terminated"),
    "merged": ("merged", "merged", "merged"),  # standard only
    "voided": ("voided", "void", "terminated"),
    "reported": ("reported", "found", "registered"),
    "accepted": ("accepted", "found", "registered"),
    "closed": ("closed", "closed", "closed"),
    "rated": ("rated", "rated", "rated"),  # standard only
    "handling": ("handling", "fixing", "mediating"),
    "dispatched": ("dispatched", "fixing", "mediating"),
}
STATES = sorted({s for row in OUTCOMES.values() for s in row})
RATINGS = ["", "satisfied", "basic", "dissatisfied"]


def _fates(*, proc, fate, sec, acc, dis, sign, close, handled, rating_r, now_s) -> dict[str, np.ndarray]:
    """Each case's state, rating and times (seconds after the first day's 00:00, -1 none), vectorised."""
    std = proc == 0
    rejected = fate < 0.03
    merged = ~rejected & (fate < 0.05) & std
    voided = ~rejected & ~merged & (fate < 0.055)
    loop = ~(rejected | merged | voided)
    a_ok = loop & (acc <= now_s)
    d_ok = a_ok & (dis <= now_s)
    sg_ok = d_ok & (sign <= now_s)
    c_ok = d_ok & (close <= now_s)
    rated = c_ok & std & (rating_r < 0.72)
    outcome = np.select(
        [rejected, merged, voided, loop & ~a_ok, a_ok & ~d_ok, rated, c_ok, d_ok & sg_ok, d_ok],
        [0, 1, 2, 3, 4, 6, 5, 7, 8],
    )
    table = np.array([[STATES.index(s) for s in row] for row in OUTCOMES.values()], dtype=np.int64)
    rating = np.where(rated, np.select([rating_r < 0.55, rating_r < 0.68], [1, 2], 3), 0)
    return {
        "state": table[outcome, proc],
        "rating": rating,
        "accepted": np.where(a_ok, acc, -1),
        "dispatched": np.where(d_ok, dis, -1),
        "signed": np.where(sg_ok, sign, -1),
        "handled": np.where(c_ok, handled, -1),
        "closed": np.where(c_ok, close, -1),
    }


def _binary_copy(columns: list[np.ndarray]) -> bytes:
    """PostgreSQL's binary COPY format for rows of int64 columns (a fixed-width record per row)."""
    k = len(columns)
    dtype = np.dtype([("n", ">i2")] + [f for i in range(k) for f in ((f"l{i}", ">i4"), (f"v{i}", ">i8"))])
    rows = np.empty(len(columns[0]), dtype=dtype)
    rows["n"] = k
    for i, col in enumerate(columns):
        rows[f"l{i}"] = 8
        rows[f"v{i}"] = col
    return b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8 + rows.tobytes() + b"\xff\xff"


def _stage_sql(first: date) -> tuple[str, str]:
    """The INSERT … SELECT statements from the staging table into cases_case and cases_caseevent."""

    def arr(items) -> str:
        return "(ARRAY[" + ", ".join("'" + x + "'" for x in items) + "])"

    base = f"timestamptz '{first.isoformat()} 00:00:00+08'"

    def at(col: str) -> str:
        return f"CASE WHEN s.{col} < 0 THEN NULL ELSE {base} + s.{col} * interval '1 second' END"

    exprs = {
        "id": "s.id",
        "title": "''",
        "description": f"{arr(TEXTS)}[s.text + 1]",
        "source": f"{arr(SOURCES[0])}[s.source + 1]",
        "source_ref": "''",
        "priority": "'normal'",
        "state": f"{arr(STATES)}[s.state + 1]",
        "version": "1",
        "suspended_from": "''",
        "returned": "false",
        "address": "''",
        "reporter_name": "''",
        "reporter_phone": "''",
        "rating": f"{arr(RATINGS)}[s.rating + 1]",
        "redo_count": "0",
        "rework_count": "s.rework",
        "supervise_count": "0",
        "handling_feedback": "''",
        "stage": "''",
        "limit_unit": "''",
        "extension_amount": "0",
        "paused_measure_seconds": "0",
        "due_provisional": "false",
        "light": "''",
        "last_notified_light": "''",
        "is_overdue": "s.overdue = 1",
        "procedure": f"{arr(PROCEDURES[0])}[s.proc + 1]",
        "created_at": at("created"),
        "accepted_at": at("accepted"),
        "dispatched_at": at("dispatched"),
        "handled_at": at("handled"),
        "closed_at": at("closed"),
        "due_at": at("due"),
        "updated_at": f"{base} + coalesce(nullif(s.closed, -1), nullif(s.signed, -1), nullif(s.dispatched, -1), "
        "nullif(s.accepted, -1), s.created) * interval '1 second'",
        "street_id": "s.street",
        "community_id": "s.community",
        "grid_id": "s.grid",
        "department_id": "nullif(s.department, -1)",
        "category_id": "s.category",
    }
    assert tuple(exprs) == CASE_COLS
    cases = f"INSERT INTO cases_case ({', '.join(CASE_COLS)}) SELECT {', '.join(exprs.values())} FROM bench_stage s"
    events = (
        f"INSERT INTO cases_caseevent ({', '.join(EVENT_COLS)}) SELECT s.id, 4, 'sign', 'dispatched', 'handling', "
        f"'', 'dept_handler', {at('signed')}, '', '{{}}', '{{}}' FROM bench_stage s WHERE s.signed >= 0"
    )
    return cases, events


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
    now_s = 365 * 86400 - 3600 * 6  # "now": 18:00 of today, in seconds after 00:00 of the first day

    log(f"places: {len(world['streets'])} 街道, {len(grids)} 网格 ({time.perf_counter() - t0:.1f} s)")
    # departments as a padded (街道 × order) table, for a vectorised pick
    row_of = np.full(int(street_ids.max()) + 1, -1, dtype=np.int64)  # 街道 id → its row
    row_of[street_ids] = np.arange(len(street_ids))
    n_dept = np.array([len(dept_of[int(s)]) for s in street_ids], dtype=np.int64)
    dept_tab = np.zeros((len(street_ids), int(n_dept.max())), dtype=np.int64)
    for i, s in enumerate(street_ids.tolist()):
        dept_tab[i, : n_dept[i]] = dept_of[s]
    cur.execute(f"CREATE TEMP TABLE bench_stage ({', '.join(f'{c} bigint' for c in STAGE_COLS)})")
    insert_cases, insert_events = _stage_sql(first)
    chunk = 1_000_000
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
        cols = _fates(
            proc=proc, fate=fate, sec=sec, acc=acc, dis=dis, sign=sign, close=close, handled=handled,
            rating_r=rating_r, now_s=now_s,
        )  # fmt: skip
        c = cols["closed"]
        d = cols["dispatched"]
        si = row_of[street_id]
        pick = np.minimum(n_dept[si] - 1, (n_dept[si] * dept_pick**1.8).astype(np.int64))
        cols.update(
            id=ids,
            text=text,
            source=src,
            proc=proc,
            rework=np.where(c >= 0, rework, 0),
            overdue=(overdue & (c >= 0)).astype(np.int64),
            created=sec,
            due=np.where((d >= 0) & (d + 3 * 86400 < 400 * 86400), d + 3 * 86400, -1),
            street=street_id,
            community=comm_id,
            grid=grid_id,
            department=np.where(d >= 0, dept_tab[si, pick], -1),
            category=cat,
        )
        with cur.copy(f"COPY bench_stage ({', '.join(STAGE_COLS)}) FROM STDIN (FORMAT binary)") as cp:
            cp.write(_binary_copy([cols[k] for k in STAGE_COLS]))
        cur.execute(insert_cases)
        cur.execute(insert_events)
        events += int((cols["signed"] >= 0).sum())
        cur.execute("TRUNCATE bench_stage")
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
