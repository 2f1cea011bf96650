"""Build the demo 区: 示范街道 (geography, buildings, units, departments, accounts, a year of cases when
available), a second, smaller 街道 (西溪街道, :mod:`civicgrid.demo.tiers`) with its own accounts and a few hundred
cases, and the 区-level accounts (区指挥中心, 区领导) that see both.

Idempotent: the street is found by its code; if it exists its geography is left alone, and departments and
accounts are upserted by code / username. Everything for the places runs in one transaction with one
``demo.load`` audit row summarising the counts.
"""

from __future__ import annotations

import importlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from civicgrid.core import audit
from civicgrid.demo import basemap as demo_basemap
from civicgrid.demo import names
from civicgrid.demo import tiers as demo_tiers
from civicgrid.demo.buildings import plan_places, write_places
from civicgrid.demo.geography import plan_street, write_geography
from civicgrid.demo.people import DemoAccount, Staff, ensure_accounts, ensure_departments, ensure_staff

DEFAULT_SEED = 20260101
WORKER_GRID_COUNT = 3


@dataclass
class DemoResult:
    created: bool  # False when the street already existed
    street: object
    accounts: list[DemoAccount]
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    staff: Staff | None = None
    cases: dict | None = None  # what load_cases reported (None: skipped)
    second_street: object = None  # 西溪街道
    second_cases: dict | None = None
    hazards: dict | None = None  # what load_hazards reported (None: skipped)
    gridwork: dict | None = None  # what load_gridwork reported (None: skipped)
    disputes: dict | None = None  # what load_disputes reported (None: skipped)
    enforcement: dict | None = None  # what load_enforcement reported (None: skipped)
    opinion: dict | None = None  # what load_opinion reported (None: skipped)
    petitions: dict | None = None  # what load_petitions reported (None: skipped)
    goals: dict | None = None  # what load_goals reported (None: the year's catalogue existed)
    registers: dict | None = None  # what load_registers reported (None: skipped)
    estates: dict | None = None  # what load_estates reported (None: skipped)
    payments: dict | None = None  # what load_payments reported (None: skipped)
    evaluation: dict | None = None  # what load_evaluation reported (None: skipped)
    activities: dict | None = None  # what load_activities reported (None: skipped)


# demo loaders run after the cases, in this order (civicgrid.demo.<name>.load_<name>; DemoResult.<name>)
LEDGER_LOADERS = (
    "hazards",
    "gridwork",
    "registers",
    "estates",
    "payments",
    "activities",
    "disputes",
    "enforcement",
    "opinion",
    "petitions",
    "evaluation",
    "supervision",  # after the cases: tracks their 督办 moves and runs the warning rules over the year
)


def counts_for(street) -> dict[str, int]:
    from civicgrid.places.models import Building, Community, Grid, Unit

    grids = Grid.objects.filter(community__street=street)
    return {
        "communities": Community.objects.filter(street=street).count(),
        "grids": grids.filter(kind="ordinary").count(),
        "dedicated_grids": grids.filter(kind="dedicated").count(),
        "buildings": Building.objects.filter(grid__community__street=street).count(),
        "units": Unit.objects.filter(grid__community__street=street).count(),
    }


def _bump_places_revision() -> None:
    """Once, after the bulk writes (which send no signals): move the places revision so every process rebuilds
    its point → grid and address indexes, and drop this process's own at once."""
    from civicgrid.places.signals import bump_revision

    bump_revision()


def write_basemap(plan, buildings, seed: int) -> int:
    """Store the street's vector base map (roads, buildings, labels) drawn when no tile server is configured."""
    from civicgrid.places.services import replace_map_features

    features = demo_basemap.plan_basemap(plan, buildings, random.Random(f"{seed}:basemap"))
    return replace_map_features(actor=None, source=demo_basemap.SOURCE, features=features)


def build_demo(
    *,
    seed: int = DEFAULT_SEED,
    with_cases: bool = True,
    log: Callable[[str], None] = lambda msg: None,
    cases_options: dict | None = None,
) -> DemoResult:
    from civicgrid.core.models import AuditLog
    from civicgrid.places.models import Grid, MapFeature, Street

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    with transaction.atomic():
        street = Street.objects.filter(code=names.STREET_CODE).first()
        created = street is None
        if created:
            log(f"正在生成{names.STREET_NAME}（随机种子 {seed}）……")
            plan = plan_street(random.Random(f"{seed}:geography"))
            street, _communities, grids_by_code = write_geography(plan)
            buildings, units = plan_places(plan, random.Random(f"{seed}:places"))
            write_places(buildings, units, grids_by_code)
            _bump_places_revision()
            write_basemap(plan, buildings, seed)
        else:
            log(f"{street.name}（{street.code}）已存在，跳过地理数据。")
            if not MapFeature.objects.filter(source=demo_basemap.SOURCE).exists():
                # a demo street made before the vector base existed: the plan is a pure function of its seed
                row = AuditLog.objects.filter(action="demo.load", object_id=str(street.pk)).first()
                old_seed = (row.after or {}).get("seed", seed) if row is not None else seed
                plan = plan_street(random.Random(f"{old_seed}:geography"))
                buildings, _units = plan_places(plan, random.Random(f"{old_seed}:places"))
                write_basemap(plan, buildings, old_seed)
                log("已补充演示底图（道路、建筑与注记）。")
        seconds["places"] = time.perf_counter() - t0

        communities = list(street.communities.order_by("code"))
        phone_rng = random.Random(f"{seed}:phones")
        departments = ensure_departments(communities, lambda code: names.landline(phone_rng), street=street)
        first = communities[0]
        worker_grids = list(
            Grid.objects.filter(community=first, kind="ordinary").order_by("code")[:WORKER_GRID_COUNT]
        )
        accounts = ensure_accounts(
            departments=departments, community=first, worker_grids=worker_grids, street=street
        )
        ensure_staff(
            departments=departments,
            communities=communities,
            grids=list(Grid.objects.filter(community__street=street).order_by("code")),
            rng=random.Random(f"{seed}:staff"),
            street=street,
        )

        # the 区: a second, smaller 街道 with its own departments and accounts, and the 区-level accounts
        second, second_created = demo_tiers.write_second_street()
        if second_created:
            _bump_places_revision()
            log(f"已生成{second.name}（{second.code}）：3 个社区/村，9 个网格。")
        second_departments = demo_tiers.ensure_second_departments(
            second, lambda code: names.landline(phone_rng)
        )
        accounts += demo_tiers.ensure_second_accounts(second, second_departments)
        accounts += demo_tiers.ensure_district_accounts(street.district)
        staff = ensure_staff(
            departments=second_departments,
            communities=list(second.communities.order_by("code")),
            grids=list(Grid.objects.filter(community__street=second).order_by("code")),
            rng=demo_tiers.rng_for(seed, "staff"),
            street=second,
            prefix="xx_",
        )
        from civicgrid.open311.services import ensure_demo_key

        ensure_demo_key(street=street)
        counts = counts_for(street)
        counts["departments"] = len(departments)
        if created:
            audit.record(
                actor=None,
                action="demo.load",
                object_type="places.street",
                object_id=street.pk,
                object_repr=street.name,
                after={"seed": seed, **counts, "accounts": [a.username for a in accounts if a.created]},
                note=f"加载演示数据：{street.name}",
            )
    seconds["accounts"] = time.perf_counter() - t0 - seconds["places"]

    result = DemoResult(
        created=created,
        street=street,
        accounts=accounts,
        counts=counts,
        seconds=seconds,
        staff=staff,
        second_street=second,
    )
    if with_cases:
        from civicgrid.demo import cases as demo_cases

        if demo_cases.engine_ready():
            t1 = time.perf_counter()
            result.cases = demo_cases.load_cases(
                street, random.Random(f"{seed}:cases"), staff=staff, log=log, **(cases_options or {})
            )
            options = dict(cases_options or {})
            options["scale"] = options.get("scale", 1.0) * demo_tiers.SECOND_SCALE
            options["showcase"] = min(options.get("showcase", 2), 1)
            log(f"正在生成{second.name}的演示案件……")
            result.second_cases = demo_cases.load_cases(
                second,
                demo_tiers.rng_for(seed, "cases"),
                staff=staff,
                log=log,
                prefix="xx_",
                dept_prefix=demo_tiers.SECOND_PREFIX,
                **options,
            )
            seconds["cases"] = time.perf_counter() - t1
            opts = cases_options or {}
            # the ledgers and the grid work, each a year on the demo 街道 (a module with DAYS and load_<name>)
            for name in LEDGER_LOADERS:
                module = importlib.import_module(f"civicgrid.demo.{name}")
                t2 = time.perf_counter()
                loaded = getattr(module, f"load_{name}")(
                    street,
                    random.Random(f"{seed}:{name}"),
                    staff=staff,
                    log=log,
                    days=opts.get("days", module.DAYS),
                    scale=opts.get("scale", 1.0),
                )
                setattr(result, name, loaded)
                seconds[name] = time.perf_counter() - t2
        else:
            log("案件引擎尚未就绪，跳过演示案件。")
    from civicgrid.core import clock
    from civicgrid.demo import goals as demo_goals

    t3 = time.perf_counter()
    today = clock.local_now().date()
    result.goals = demo_goals.load_goals(
        street, random.Random(f"{seed}:goals"), year=today.year, month=today.month - 1 or 1, log=log
    )
    seconds["goals"] = time.perf_counter() - t3
    return result
