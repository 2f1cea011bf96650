"""Factories and helpers for case tests."""

from __future__ import annotations

import io

import factory
from PIL import Image

from civicgrid.accounts.roles import Role
from civicgrid.cases import services
from civicgrid.cases.models import Case, Category
from tests.factories import DepartmentFactory, GridFactory, UserFactory


class MajorCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = "T90"
    std_code = "90"
    name = "测试大类"
    kind = "street"
    level = "major"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    parent = factory.SubFactory(MajorCategoryFactory)
    code = factory.Sequence(lambda n: f"T{90000 + n}")
    std_code = factory.Sequence(lambda n: f"{90000 + n}")
    name = factory.Sequence(lambda n: f"测试小类{n + 1}")
    kind = "street"
    level = "minor"
    dispatch_limit_amount = 2
    dispatch_limit_unit = "natural_hours"
    handle_limit_amount = 10
    handle_limit_unit = "natural_hours"
    verify_limit_amount = 4
    verify_limit_unit = "natural_hours"


def png_bytes(color=(200, 30, 30), size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def photo(name="after.png", color=(10, 120, 10)):
    return (name, png_bytes(color))


class World:
    """A small 街道: one community with two grids, two departments and a user per role."""

    def __init__(self):
        self.grid = GridFactory(col=0)
        self.community = self.grid.community
        self.grid2 = GridFactory(col=1, community=self.community)
        self.other_grid = GridFactory(col=5)  # another community
        self.dept = DepartmentFactory(code="CGZD", name="城管中队")
        self.dept2 = DepartmentFactory(code="SCJG", name="市场监管所")
        self.category = CategoryFactory(default_department=self.dept)
        self.minor = CategoryFactory(grid_worker_can_file=True, name="暴露垃圾(测试)")
        self.dispatcher = UserFactory(role=Role.DISPATCHER)
        self.dispatcher2 = UserFactory(role=Role.DISPATCHER)
        self.shift_leader = UserFactory(role=Role.SHIFT_LEADER)
        self.leader = UserFactory(role=Role.LEADER)
        self.sysadmin = UserFactory(role=Role.SYSTEM_ADMIN)
        self.auditor = UserFactory(role=Role.AUDIT_ADMIN)
        self.handler = UserFactory(role=Role.DEPT_HANDLER, department=self.dept)
        self.handler2 = UserFactory(role=Role.DEPT_HANDLER, department=self.dept2)
        self.grid_worker = UserFactory(role=Role.GRID_WORKER, grids=[self.grid])
        self.other_worker = UserFactory(role=Role.GRID_WORKER, grids=[self.other_grid])
        self.community_staff = UserFactory(role=Role.COMMUNITY_STAFF, community=self.community)
        self.other_staff = UserFactory(role=Role.COMMUNITY_STAFF, community=self.other_grid.community)

    def by_role(self, role: str):
        return {
            Role.DISPATCHER: self.dispatcher,
            Role.SHIFT_LEADER: self.shift_leader,
            Role.LEADER: self.leader,
            Role.SYSTEM_ADMIN: self.sysadmin,
            Role.AUDIT_ADMIN: self.auditor,
            Role.DEPT_HANDLER: self.handler,
            Role.GRID_WORKER: self.grid_worker,
            Role.COMMUNITY_STAFF: self.community_staff,
        }[role]

    def report(self, *, actor=None, grid=None, category="default", **kw) -> Case:
        return services.create_case(
            actor=actor or self.dispatcher,
            source=kw.pop("source", "hotline_12345"),
            description=kw.pop("description", "路边垃圾堆积，气味难闻"),
            category=self.category if category == "default" else category,
            grid=grid or self.grid,
            address=kw.pop("address", "示范路1号"),
            **kw,
        )

    def move(self, case: Case, move: str, actor=None, **kw) -> Case:
        case.refresh_from_db()
        return services.perform(
            actor=actor or self.dispatcher, case=case, move=move, version=case.version, **kw
        )

    def to_state(self, state: str, **kw) -> Case:
        """Drive a fresh case into ``state`` through the services."""
        c = self.report(**kw)
        path = {
            "reported": [],
            "accepted": ["accept"],
            "rejected": ["reject"],
            "dispatched": ["accept", "dispatch"],
            "handling": ["accept", "dispatch", "sign"],
            "handled": ["accept", "dispatch", "sign", "finish"],
            "verified": ["accept", "dispatch", "sign", "finish", "verify_pass"],
            "closed": ["accept", "dispatch", "sign", "finish", "verify_pass", "close"],
            "rated": ["accept", "dispatch", "sign", "finish", "verify_pass", "close", "rate"],
            "suspended": ["accept", "suspend"],
            "voided": ["void"],
            "merged": ["merge"],
        }[state]
        for mv in path:
            c = self.move(c, mv, **self.default_args(mv))
        assert c.state == state
        return c

    def default_args(self, move: str) -> dict:
        return {
            "reject": {"actor": self.dispatcher, "reason": "不属于本街道"},
            "dispatch": {"department": self.dept},
            "sign": {"actor": self.handler},
            "finish": {"actor": self.handler, "note": "已清理", "attachments": [photo()]},
            "verify_pass": {"actor": self.grid_worker},
            "rate": {"rating": "satisfied"},
            "suspend": {"reason": "等待产权单位答复"},
            "void": {"actor": self.shift_leader, "reason": "重复登记"},
        }.get(move) or ({"target_case": self.report()} if move == "merge" else {})
