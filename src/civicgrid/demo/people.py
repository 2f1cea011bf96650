"""处置部门 and one demo account per role, created through :mod:`civicgrid.accounts.services` (validated, audited).

Both are upserts: an existing department (same code, or same name) or account (same username) is left as it is,
so running the demo twice — or on a database where an administrator already exists — changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from civicgrid.accounts import services
from civicgrid.accounts.models import Department, User
from civicgrid.accounts.roles import Role

# One password for every demo account (≥ 10 characters, 4 character classes). Printed by ``civicgrid demo``.
DEMO_PASSWORD = "Demo@2026civic"

# code, name, kind, sort order
STREET_DEPARTMENTS = [
    ("CGZD", "城管中队", "enforcement", 10),
    ("ZJB", "住建办", "construction", 20),
    ("HBS", "环保所", "environment", 30),
    ("SCJG", "市场监管所", "market", 40),
    ("AJB", "安监办", "safety", 50),
    ("SFS", "司法所", "justice", 60),
    ("PCS", "派出所", "police", 70),
    ("SWB", "社会事务办", "service", 80),
    ("XFB", "信访办", "other", 90),
    ("YJB", "应急办", "safety", 100),
]


@dataclass
class DemoAccount:
    username: str
    role: str
    full_name: str
    note: str
    created: bool = True
    password: str | None = DEMO_PASSWORD  # None: an existing account whose password is not the demo one

    @property
    def role_label(self) -> str:
        return Role(self.role).label


def community_department_code(community) -> str:
    return f"SQ{community.code[-3:]}"


def ensure_departments(communities, phone_for, *, street=None) -> dict[str, Department]:
    """Street departments plus one per 社区/村. ``phone_for(code)`` gives a fictional phone. Returns by code."""
    wanted = [(code, name, kind, order, None) for code, name, kind, order in STREET_DEPARTMENTS]
    for n, comm in enumerate(communities, start=1):
        wanted.append((community_department_code(comm), comm.name, "community", 200 + n, comm))
    existing = {d.code: d for d in Department.objects.all()}
    by_name = {d.name: d for d in existing.values()}
    out: dict[str, Department] = {}
    for code, name, kind, order, comm in wanted:
        dept = existing.get(code) or by_name.get(name)
        if dept is None:
            dept = services.create_department(
                actor=None,
                code=code,
                name=name,
                kind=kind,
                phone=phone_for(code),
                community=comm,
                sort_order=order,
                street=street,
            )
        out[code] = dept
    return out


def ensure_accounts(
    *, departments: dict[str, Department], community, worker_grids, street=None
) -> list[DemoAccount]:
    """One account per role. ``community``: the 社区 of ``shequ``; ``worker_grids``: ``wangge``'s grids."""
    handler_dept = departments["CGZD"]
    specs = [
        ("admin", Role.SYSTEM_ADMIN, "系统管理员", "账号、部门、网格与参数管理", {"is_superuser": True}),
        ("auditor", Role.AUDIT_ADMIN, "审计员", "只读审计日志（三权分立）", {}),
        ("dispatcher", Role.DISPATCHER, "陈晓燕", "指挥中心受理、立案、派遣", {}),
        ("zhibanzhang", Role.SHIFT_LEADER, "刘志强", "值班长：审核、改派、结案", {}),
        ("handler", Role.DEPT_HANDLER, "赵磊", f"{handler_dept.name}处置人员", {"department": handler_dept}),
        ("shequ", Role.COMMUNITY_STAFF, "孙丽华", f"{community.name}工作人员", {"community": community}),
        (
            "wangge",
            Role.GRID_WORKER,
            "周海涛",
            "网格员：" + "、".join(g.name for g in worker_grids),
            {"grids": list(worker_grids)},
        ),
        ("lingdao", Role.LEADER, "吴建国", "街道领导：查看全部工单与地图，督办", {}),
    ]
    if street is not None:  # every account belongs to the 街道 (the tier it sees)
        specs = [(u, r, n, note, {"street": street, **extra}) for u, r, n, note, extra in specs]
    existing = {u.username: u for u in User.objects.filter(username__in=[s[0] for s in specs])}
    accounts = []
    for username, role, full_name, note, extra in specs:
        user = existing.get(username)
        if user is not None:
            same = user.check_password(DEMO_PASSWORD)
            accounts.append(
                DemoAccount(
                    username,
                    user.role,
                    user.full_name,
                    note if same and user.role == role else "账号已存在，未改动",
                    created=False,
                    password=DEMO_PASSWORD if same else None,
                )
            )
            continue
        services.create_user(
            actor=None,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            full_name=full_name,
            **extra,
        )
        accounts.append(DemoAccount(username, role, full_name, note))
    return accounts


@dataclass
class Staff:
    """Who acts in the demo cases besides the eight role accounts."""

    handlers: dict[int, User]  # department id → a 处置部门人员 of it
    workers: dict[int, User]  # ordinary grid id → its 网格员
    community_staff: dict[int, User]  # community id → a 社区工作人员
    created: int = 0


def ensure_staff(
    *, departments: dict[str, Department], communities, grids, rng, street=None, prefix: str = ""
) -> Staff:
    """A 网格员 for every ordinary grid, a 社区工作人员 for every 社区 and a handler for every department.

    The eight role accounts go through ``services.create_user`` one by one; these ~80 colleagues share the same
    (already validated) demo password, so they are inserted in bulk with one password hash (argon2 is slow on
    purpose) and each still gets its ``accounts.user.create`` audit row. They belong to ``street``; ``prefix``
    starts the login names of a second 街道's staff (``xx_sq002`` …).
    """
    from django.contrib.auth.hashers import make_password

    from civicgrid.core import audit

    wanted: list[tuple[User, list]] = []
    by_name = {u.username: u for u in User.objects.all()}

    def want(username: str, **fields) -> None:
        grid_list = fields.pop("grids", [])
        if not username.startswith("cz_"):  # a handler's name carries its department's (unique) code
            username = prefix + username
        if username not in by_name:
            if street is not None:
                fields.update(street=street, district_id=street.district_id)
            wanted.append((User(username=username, **fields), grid_list))

    for code, dept in departments.items():
        if code == "CGZD":
            want("handler2", role=Role.DEPT_HANDLER, department=dept, full_name=_name(rng))
        else:
            want(f"cz_{dept.code.lower()}", role=Role.DEPT_HANDLER, department=dept, full_name=_name(rng))
    for comm in communities:
        if comm.code[-3:] != "001":
            want(f"sq{comm.code[-3:]}", role=Role.COMMUNITY_STAFF, community=comm, full_name=_name(rng))
    taken = set(User.grids.through.objects.values_list("grid_id", flat=True))
    for grid in grids:
        if grid.kind == "ordinary" and grid.pk not in taken:
            want(f"wg{grid.code[-6:]}", role=Role.GRID_WORKER, full_name=_name(rng), grids=[grid])
    created = 0
    if wanted:
        hashed = make_password(DEMO_PASSWORD)
        for user, _ in wanted:
            user.password = hashed
            user.phone = _phone(rng)
        saved = User.objects.bulk_create([u for u, _ in wanted])
        links = [
            User.grids.through(user_id=u.pk, grid_id=g.pk)
            for u, (_, gl) in zip(saved, wanted, strict=True)
            for g in gl
        ]
        User.grids.through.objects.bulk_create(links)
        for u, (_, gl) in zip(saved, wanted, strict=True):
            after = audit.snapshot(u)
            after["grids"] = [g.code for g in gl]
            audit.record(
                actor=None, action="accounts.user.create", obj=u, after=after, note="演示数据：工作人员账号"
            )
        created = len(saved)

    users = list(User.objects.filter(is_active=True).prefetch_related("grids"))
    handlers: dict[int, User] = {}
    workers: dict[int, User] = {}
    community_staff: dict[int, User] = {}
    for u in sorted(users, key=lambda u: u.username):
        if u.role == Role.DEPT_HANDLER and u.department_id:
            handlers.setdefault(u.department_id, u)
        elif u.role == Role.COMMUNITY_STAFF and u.community_id:
            community_staff.setdefault(u.community_id, u)
        elif u.role == Role.GRID_WORKER:
            for g in u.grids.all():
                workers.setdefault(g.pk, u)
    return Staff(handlers=handlers, workers=workers, community_staff=community_staff, created=created)


def _name(rng) -> str:
    from civicgrid.demo.names import person_name

    return person_name(rng)


def _phone(rng) -> str:
    from civicgrid.demo.names import mobile

    return mobile(rng)
