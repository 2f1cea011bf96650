"""The ledgers' services and selectors: who writes where, field-named refusals, scoping per role, the 预案 review
cycle, the 时间银行 balance that never goes negative, and the report figures on hand-built data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from civicgrid.activities import selectors, services
from civicgrid.activities.models import Activity, EmergencyPlan, add_months
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog
from tests.activities.conftest import activity

pytestmark = pytest.mark.django_db


def names(qs) -> set[str]:
    return set(qs.values_list("name", flat=True))


def test_who_records_where(aw):
    # a 社区工作人员's activity lands in their 社区 even without choosing it; the leader's is 街道-level
    assert aw.own.community == aw.community and aw.own.street == aw.street
    assert aw.street_level.community is None and aw.street_level.street == aw.street
    # …a 社区工作人员 may not put one into another 社区
    with pytest.raises(ValidationFailed) as exc:
        activity(aw.community_staff, community=aw.other_community.pk)
    assert exc.value.field == "community"
    for reader in (aw.grid_worker, aw.dispatcher, aw.handler):
        with pytest.raises(PermissionDenied):
            activity(reader)
    log = AuditLog.objects.get(action="activities.activity.create", object_id=str(aw.own.pk))
    assert log.after["attendance"] == 30 and log.actor_username == aw.community_staff.username


@pytest.mark.parametrize(
    "field,value",
    [("end_date", date(2026, 3, 1)), ("date", date(2999, 1, 1)), ("sessions", 0), ("attendance", -1),
     ("kind", "party"), ("name", " "), ("place", ""), ("attendance", "许多"), ("date", "2026-13-01")],
)  # fmt: skip
def test_bad_input_names_the_field(aw, field, value):
    with pytest.raises(ValidationFailed) as exc:
        activity(aw.leader, **{field: value})
    assert exc.value.field == field


def test_scoping_per_role(aw):
    everything = {"本社区议事会", "外社区文艺汇演", "街道消防演练"}
    for who in (aw.dispatcher, aw.shift_leader, aw.leader, aw.sysadmin):
        assert names(selectors.visible_activities(user=who)) == everything
    assert names(selectors.visible_activities(user=aw.community_staff)) == {"本社区议事会"}
    assert names(selectors.visible_activities(user=aw.grid_worker)) == {
        "本社区议事会"
    }  # the 社区 of their grids
    assert names(selectors.visible_activities(user=aw.other_worker)) == {"外社区文艺汇演"}
    assert names(selectors.visible_activities(user=aw.handler)) == set()
    assert names(selectors.visible_activities(user=aw.auditor)) == set()


def test_update_and_delete_stay_in_ones_patch(aw):
    data = services.ActivityData(kind="culture", name="改名", date=date(2026, 3, 1), place="礼堂")
    with pytest.raises(PermissionDenied):
        services.update_activity(actor=aw.other_staff, activity=aw.own, data=data)
    with pytest.raises(PermissionDenied):
        services.delete_activity(actor=aw.community_staff, activity=aw.street_level)
    a = services.update_activity(actor=aw.community_staff, activity=aw.own, data=data)
    assert (a.name, a.sessions, a.community_id) == ("改名", 1, aw.community.pk)
    log = AuditLog.objects.get(action="activities.activity.update", object_id=str(a.pk))
    assert log.before["name"] == "本社区议事会" and log.after["name"] == "改名"
    services.delete_activity(actor=aw.leader, activity=a)
    assert not Activity.objects.filter(pk=a.pk).exists()


def test_totals_by_kind(aw):
    by_kind = selectors.totals_by_kind(selectors.visible_activities(user=aw.leader))
    assert list(by_kind)[:3] == ["publicity", "training", "drill"] and len(by_kind) == 7
    assert by_kind["deliberation"] | {} == {"label": "议事", "count": 1, "sessions": 2, "attendance": 30,
                                            "households": 12, "materials": 100}  # fmt: skip
    assert by_kind["training"]["count"] == 0
    total = selectors.totals(selectors.visible_activities(user=aw.leader))
    assert (total["count"], total["sessions"], total["attendance"], total["households"]) == (3, 4, 310, 52)


def test_add_months_clamps_the_day():
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)


def plan(actor, **kw) -> EmergencyPlan:
    data = {"level": "special", "name": "防汛防台应急预案", "issued_on": date(2024, 5, 1)} | kw
    return services.create_plan(actor=actor, data=services.PlanData(**data))


def test_plan_review_cycle_and_overdue(aw):
    p = plan(aw.leader, reviewed_on=date(2025, 6, 30))
    assert p.next_review_due == date(2026, 6, 30) and p.review_months == 12
    assert not p.overdue_on(date(2026, 6, 30)) and p.overdue_on(date(2026, 7, 1))
    q = plan(aw.leader, name="燃气事故应急预案", review_months=6)  # never reviewed: from the issue day
    assert q.next_review_due == date(2024, 11, 1)
    rows = selectors.plan_rows(user=aw.leader, as_of=date(2026, 1, 1))
    assert [(r.name, r.is_overdue) for r in rows] == [("燃气事故应急预案", True), ("防汛防台应急预案", False)]
    with pytest.raises(ValidationFailed) as exc:
        plan(aw.leader, name="防汛防台应急预案")
    assert exc.value.field == "name"
    with pytest.raises(ValidationFailed) as exc:
        plan(aw.leader, name="社区预案", level="community")
    assert exc.value.field == "community"
    with pytest.raises(ValidationFailed) as exc:
        plan(aw.leader, name="倒序", reviewed_on=date(2024, 1, 1))
    assert exc.value.field == "reviewed_on"
    # a 社区工作人员's 社区预案 is their 社区's
    assert plan(aw.community_staff, name="本社区预案", level="community").community == aw.community


def test_time_bank_balance_never_negative(aw):
    v = services.create_volunteer(
        actor=aw.community_staff, data=services.VolunteerData(name="王秀英", phone="139-1234-5678")
    )
    assert v.phone == "13912345678" and selectors.mask_phone(v.phone) == "139****5678"
    log = AuditLog.objects.get(action="activities.volunteer.create", object_id=str(v.pk))
    assert log.after["phone"] == "139****5678" and "13912345678" not in str(log.after)
    services.record_entry(actor=aw.community_staff, volunteer=v, day=date(2026, 3, 15), kind="earn", hours="5",
                          activity_id=aw.own.pk)  # fmt: skip
    services.record_entry(actor=aw.community_staff, volunteer=v, day=date(2026, 4, 1), kind="spend", hours=3)
    assert selectors.balance(v) == Decimal("2.0")
    with pytest.raises(ValidationFailed) as exc:
        services.record_entry(
            actor=aw.community_staff, volunteer=v, day=date(2026, 4, 2), kind="spend", hours=2.5
        )
    assert exc.value.field == "hours" and "当前余额 2.0 小时" in exc.value.message
    services.record_entry(actor=aw.community_staff, volunteer=v, day=date(2026, 4, 2), kind="spend", hours=2)
    assert selectors.balance(v) == Decimal(0)
    for bad in ("0", "-1", "abc", "1001"):
        with pytest.raises(ValidationFailed) as exc:
            services.record_entry(
                actor=aw.community_staff, volunteer=v, day=date(2026, 4, 2), kind="earn", hours=bad
            )
        assert exc.value.field == "hours"
    with pytest.raises(PermissionDenied):
        services.record_entry(actor=aw.other_staff, volunteer=v, day=date(2026, 4, 2), kind="earn", hours=1)
    with pytest.raises(ValidationFailed) as exc:  # the same name and phone twice
        services.create_volunteer(
            actor=aw.community_staff, data=services.VolunteerData(name="王秀英", phone="13912345678")
        )
    assert exc.value.field == "name"
    row = selectors.volunteer_rows(user=aw.leader).get(pk=v.pk)
    assert (row.earned, row.spent) == (Decimal(5), Decimal(5))


def test_report_figures_on_hand_built_data(aw):
    Activity.objects.all().delete()
    staff, leader = aw.community_staff, aw.leader
    for d, kind, sessions, people, households in (
        (date(2025, 12, 31), "publicity", 1, 1000, 1000),  # the day before: out
        (date(2026, 1, 1), "publicity", 2, 60, 30),  # first day: in
        (date(2026, 6, 30), "publicity", 1, 40, 10),  # last day: in
        (date(2026, 7, 1), "drill", 1, 1000, 1000),  # the day after: out
    ):
        activity(leader, name=f"活动{d}", date=d, kind=kind, sessions=sessions, attendance=people,
                 households=households)  # fmt: skip
    activity(
        staff, name="社区演练", date=date(2026, 3, 3), kind="drill", sessions=1, attendance=25, households=0
    )
    v = services.create_volunteer(
        actor=staff, data=services.VolunteerData(name="李建华", registered_on=date(2025, 1, 1))
    )
    for d, kind, h in ((date(2025, 12, 31), "earn", 9), (date(2026, 1, 1), "earn", 3.5), (date(2026, 6, 30), "earn", 2),
                       (date(2026, 5, 1), "spend", 4)):  # fmt: skip
        services.record_entry(actor=staff, volunteer=v, day=d, kind=kind, hours=h)
    plan(leader, name="总体预案", level="overall", issued_on=date(2023, 1, 10), reviewed_on=date(2025, 8, 1))
    plan(
        leader, name="专项A", issued_on=date(2024, 3, 1), reviewed_on=date(2026, 8, 1)
    )  # reviewed after the period
    plan(leader, name="专项B", issued_on=date(2026, 7, 2))  # issued after the period: not counted
    f = selectors.report_figures(user=leader, start=date(2026, 1, 1), end=date(2026, 6, 30))
    pub, drill = f["activities"]["publicity"], f["activities"]["drill"]
    assert (pub["count"], pub["sessions"], pub["attendance"], pub["households"]) == (2, 3, 100, 40)
    assert (drill["count"], drill["sessions"], drill["attendance"]) == (1, 1, 25)
    assert f["activities_total"]["attendance"] == 125 and f["activities_total"]["sessions"] == 4
    assert f["volunteer_hours"] == Decimal("5.5") and f["volunteer_hours_spent"] == Decimal(4)
    assert f["volunteers"] == 1
    # 总体预案 due 2026-08-01 (not overdue on 06-30); 专项A: as of 06-30 only issued (due 2025-03-01): overdue
    assert (f["plans"], f["plans_overdue"]) == (2, 1)
    # the 社区工作人员's own figures: their 社区 only
    mine = selectors.report_figures(user=staff, start=date(2026, 1, 1), end=date(2026, 6, 30))
    assert (
        mine["activities_total"]["count"] == 1
        and mine["plans"] == 0
        and mine["volunteer_hours"] == Decimal("5.5")
    )
    empty = selectors.report_figures(user=leader, start=date(2020, 1, 1), end=date(2020, 12, 31))
    assert empty["activities_total"] == {
        "count": 0,
        "sessions": 0,
        "attendance": 0,
        "households": 0,
        "materials": 0,
    }
    assert (empty["volunteer_hours"], empty["plans"], empty["plans_overdue"], empty["volunteers"]) == (
        0,
        0,
        0,
        0,
    )
