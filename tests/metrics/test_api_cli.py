"""The stats API and ``civicgrid stats``: one JSON, scoped to the caller's tier and role.

西湖区 holds 甲街道 (A: two cases in its grid, one dispatched to its 城管) and 乙街道 (B: one case); all reported in
June 2026. A's people count A's cases only, the 区 level both, a 处置部门 what is assigned to it, the 审计管理员
nothing; the command (the platform) counts everything and prints the same JSON as the API.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from civicgrid.accounts.roles import Role
from civicgrid.cases import services as case_services
from civicgrid.core import clock
from civicgrid.metrics import services
from tests.cases.factories import CategoryFactory
from tests.factories import CommunityFactory, DepartmentFactory, GridFactory, StreetFactory, UserFactory
from tests.metrics.conftest import at

pytestmark = pytest.mark.django_db
JUNE = {"from": "2026-06-01", "to": "2026-06-30"}


class Side:
    def __init__(self, tag: str, code: str, col: int, category):
        self.street = StreetFactory(code=code, name=f"{tag}街道", division_code="330106")
        self.community = CommunityFactory(street=self.street, name=f"{tag}社区")
        self.grid = GridFactory(community=self.community, col=col, code=f"{code}{col:06d}")
        self.dept = DepartmentFactory(code=f"D{code}", name=f"{tag}城管", street=self.street)
        self.users = {
            role: UserFactory(role=role, street=self.street, **extra)
            for role, extra in [
                (Role.DISPATCHER, {}),
                (Role.LEADER, {}),
                (Role.DEPT_HANDLER, {"department": self.dept}),
                (Role.GRID_WORKER, {"grids": [self.grid]}),
                (Role.AUDIT_ADMIN, {}),
            ]
        }
        self.category = category

    def report(self, day: int, **kw):
        with clock.frozen(at(2026, 6, day, 10, 0)):
            return case_services.create_case(
                actor=self.users[Role.DISPATCHER],
                source="hotline_12345",
                description="路灯不亮",
                category=self.category,
                grid=self.grid,
                address="示范路1号",
                **kw,
            )

    def dispatch(self, case, day: int):
        d = self.users[Role.DISPATCHER]
        with clock.frozen(at(2026, 6, day, 11, 0)):
            case = case_services.perform(actor=d, case=case, move="accept", version=case.version)
            return case_services.perform(
                actor=d, case=case, move="dispatch", version=case.version, department=self.dept
            )


@pytest.fixture
def tiers(db):
    category = CategoryFactory()
    a, b = Side("甲", "330106801", 40, category), Side("乙", "330106802", 50, category)
    a.dispatch(a.report(3), 3)
    a.report(4)
    b.report(5)
    a.district_user = UserFactory(role=Role.DISPATCHER, street=None, district=a.street.district)
    services.refresh()
    return a, b


def received(api_client, user, **params):
    r = api_client.login(user).get("/stats/", **{**JUNE, **params})
    assert r.status_code == 200, r.content
    return r.json()


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (Role.DISPATCHER, 2),
        (Role.LEADER, 2),
        (Role.DEPT_HANDLER, 1),  # the dispatched one
        (Role.GRID_WORKER, 2),  # both lie in A's grid
    ],
)
def test_a_street_account_counts_its_own_street_only(tiers, api_client, who, expected):
    a, b = tiers
    data = received(api_client, a.users[who], by="street")
    assert data["totals"]["received"] == expected
    assert [g["label"] for g in data["groups"]] == ["甲街道"]


def test_the_district_level_counts_every_street_of_its_district(tiers, api_client):
    a, b = tiers
    data = received(api_client, a.district_user, by="street")
    assert data["totals"]["received"] == 3
    assert {g["key"]: g["received"] for g in data["groups"]} == {a.street.code: 2, b.street.code: 1}
    one = received(api_client, a.district_user, street=b.street.code)
    assert (one["street"], one["totals"]["received"]) == (b.street.code, 1)
    district = received(api_client, a.district_user, by="district")["groups"]
    assert [(g["label"], g["received"]) for g in district] == [(a.street.district.name, 3)]


def test_another_streets_code_is_refused_naming_the_field(tiers, api_client):
    a, b = tiers
    r = api_client.login(a.users[Role.DISPATCHER]).get("/stats/", street=b.street.code, **JUNE)
    assert r.status_code == 400 and r.json()["field"] == "street"
    assert "乙" not in r.content.decode()


def test_the_auditor_sees_no_figures(tiers, api_client):
    a, _b = tiers
    assert api_client.login(a.users[Role.AUDIT_ADMIN]).get("/stats/", **JUNE).status_code == 403
    assert api_client.get("/stats/definitions").status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01", "to": "2026-06-30"}, "from"),
        ({"from": "2026-06-01", "to": "30.06.2026"}, "to"),
        ({"from": "2026-07-01", "to": "2026-06-30"}, "from"),
        ({"from": "2000-01-01", "to": "2026-06-30"}, "to"),
        ({**JUNE, "by": "weekday"}, "by"),
    ],
)
def test_bad_dates_and_groupings_are_400_with_the_field(tiers, api_client, params, field):
    a, _b = tiers
    r = api_client.login(a.users[Role.DISPATCHER]).get("/stats/", **params)
    assert r.status_code == 400, r.content
    assert r.json()["field"] == field


def test_the_definitions_name_formula_unit_and_parts(tiers, api_client):
    a, _b = tiers
    defs = {d["name"]: d for d in api_client.login(a.users[Role.LEADER]).get("/stats/definitions").json()}
    sat = defs["satisfaction_rate"]
    assert (sat["label"], sat["unit"], sat["numerator"], sat["denominator"]) == (
        "满意率",
        "%",
        "rated_good",
        "rated",
    )
    assert "办结时间" in sat["period"]
    assert defs["received"]["denominator"] is None


def test_the_command_prints_the_same_json_as_the_api_for_the_platform(tiers, api_client, make_user):
    a, b = tiers
    out = io.StringIO()
    call_command(
        "stats", "--from", "2026-06-01", "--to", "2026-06-30", "--by", "community", "--json", stdout=out
    )
    cli = json.loads(out.getvalue())
    assert cli["totals"]["received"] == 3 and cli["totals"]["dispatched"] == 1
    assert {g["label"]: g["received"] for g in cli["groups"]} == {"甲社区": 2, "乙社区": 1}
    platform_admin = make_user(Role.SYSTEM_ADMIN, street=None, district=None)
    assert received(api_client, platform_admin, by="community") == cli
    out = io.StringIO()
    call_command("stats", "--from", "2026-06-01", "--to", "2026-06-30", "--street", a.street.code, stdout=out)
    assert "受理数：2 件" in out.getvalue()


def test_the_command_refuses_bad_input_and_rebuilds(tiers):
    with pytest.raises(CommandError, match="--by"):
        call_command("stats", "--from", "2026-06-01", "--to", "2026-06-30", "--by", "weekday", "--json")
    with pytest.raises(CommandError, match="--from"):
        call_command("stats", "--from", "June", "--json")
    with pytest.raises(CommandError, match="--street"):
        call_command("stats", "--street", "999999999")
    out = io.StringIO()
    call_command("stats", "rebuild", "--json", stdout=out)
    assert json.loads(out.getvalue())["cases"] == 3


def test_the_cli_entry_point_dispatches_to_the_command(tiers, capsys):
    from civicgrid import cli

    cli.main(["civicgrid", "stats", "--from", "2026-06-01", "--to", "2026-06-30", "--json"])
    assert json.loads(capsys.readouterr().out)["totals"]["received"] == 3


def test_the_answer_keeps_the_documented_schema_and_the_daily_trend_has_every_day(tiers, api_client):
    from civicgrid.metrics.api import StatsOut

    a, b = tiers
    data = received(api_client, a.district_user, by="department")
    assert StatsOut.model_validate(data).model_dump(by_alias=True) == data  # sent as is, in StatsOut's shape
    trend = received(api_client, a.district_user, by="day")
    assert len(trend["groups"]) == 30 and trend["groups"][0]["key"] == "2026-06-01"
    assert trend["groups"][-1]["label"] == "6月30日"
    assert sum(g["received"] for g in trend["groups"]) == trend["totals"]["received"] == 3
    assert StatsOut.model_validate(trend).model_dump(by_alias=True) == trend
    r = api_client.login(a.district_user).get(
        "/stats/", **{"from": "2025-01-01", "to": "2026-06-30", "by": "day"}
    )
    assert r.status_code == 400 and r.json()["field"] == "by"
