"""A year of a ledger kept elsewhere (or the demo's year) is recorded through the engine in one go
(``services.record_past_cases``): every timeline is checked against its procedure's table first; a bad one is
named and nothing is written."""

from __future__ import annotations

from datetime import datetime

import pytest

from civicgrid.cases import services
from civicgrid.cases.models import Case, CaseDepartment, CaseEvent
from civicgrid.core import clock
from civicgrid.core.errors import ValidationFailed
from civicgrid.core.models import AuditLog
from tests.procedure_app import CODE

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return clock.aware(datetime(*args))


def past(
    world, number: str, moves: list[tuple[str, str, str, datetime]], *, closed_at=None
) -> services.PastCase:
    case = Case(
        number=number,
        title="消防通道堵塞 · 示范路2号",
        description="消防通道被杂物堵塞",
        source="grid_patrol",
        procedure=CODE,
        grid=world.grid,
        community_id=world.grid.community_id,
        street_id=world.grid.community.street_id,
        created_by=world.dispatcher,
        created_at=moves[0][3],
        closed_at=closed_at,
    )
    events = [
        CaseEvent(move=m, from_state=f, to_state=t, actor=world.dispatcher, at=when, note="", data={})
        for m, f, t, when in moves
    ]
    links = [CaseDepartment(department=world.dept, first_assigned_at=moves[1][3])] if len(moves) > 1 else []
    return services.PastCase(case=case, events=events, departments=links)


def signed_off(world, number: str) -> services.PastCase:
    return past(
        world,
        number,
        [
            ("create", "", "found", at(2025, 3, 1, 9)),
            ("assign_fix", "found", "assigned", at(2025, 3, 1, 10)),
            ("start_fix", "assigned", "fixing", at(2025, 3, 2, 9)),
            ("report_fixed", "fixing", "fixed", at(2025, 3, 5, 16)),
            ("sign_off", "fixed", "signed_off", at(2025, 3, 6, 11)),
        ],
        closed_at=at(2025, 3, 6, 11),
    )


def test_a_past_year_is_recorded_with_its_timelines_links_and_one_audit_row(world):
    still_open = past(
        world,
        "T20250302001",
        [("create", "", "found", at(2025, 3, 2, 9)), ("assign_fix", "found", "assigned", at(2025, 3, 2, 10))],
    )
    cases = services.record_past_cases(
        actor=world.dispatcher, rows=[signed_off(world, "T20250301001"), still_open]
    )

    first, second = (Case.objects.get(pk=c.pk) for c in cases)
    assert (first.state, first.version, first.updated_at) == ("signed_off", 5, at(2025, 3, 6, 11))
    assert (second.state, second.version, second.closed_at) == ("assigned", 2, None)
    assert list(first.events.order_by("seq").values_list("seq", "move")) == [
        (1, "create"),
        (2, "assign_fix"),
        (3, "start_fix"),
        (4, "report_fixed"),
        (5, "sign_off"),
    ]
    assert first.events.get(seq=1).actor_name  # named from the actor
    assert CaseDepartment.objects.filter(case__in=cases, department=world.dept).count() == 2
    row = AuditLog.objects.get(action="cases.case.record_past")
    assert row.after == {"cases": 2, "by_procedure": {CODE: 2}, "events": 7}


@pytest.mark.parametrize(
    ("moves", "closed", "message"),
    [
        ([("assign_fix", "found", "assigned", at(2025, 3, 1))], None, "须以上报（create）开始"),
        ([("create", "", "assigned", at(2025, 3, 1))], None, "上报应进入「发现隐患」"),
        (
            [("create", "", "found", at(2025, 3, 1)), ("sign_off", "found", "signed_off", at(2025, 3, 2))],
            at(2025, 3, 2),
            "「sign_off」不能从「发现隐患」进行",
        ),
        (
            [("create", "", "found", at(2025, 3, 1)), ("assign_fix", "found", "fixing", at(2025, 3, 2))],
            None,
            "「assign_fix」应进入「已交办」",
        ),
        (
            [("create", "", "found", at(2025, 3, 2)), ("assign_fix", "found", "assigned", at(2025, 3, 1))],
            None,
            "早于上一条",
        ),
        ([("create", "", "found", at(2099, 1, 1))], None, "不晚于现在"),
        (
            [("create", "", "found", at(2025, 3, 1)), ("fly", "found", "assigned", at(2025, 3, 2))],
            None,
            "没有操作",
        ),
        ([("create", "", "found", at(2025, 3, 1))], at(2025, 3, 1), "未结束的不能有"),
    ],
)
def test_a_history_the_table_does_not_allow_is_named_and_nothing_is_written(world, moves, closed, message):
    good = signed_off(world, "T20250301001")
    bad = past(world, "T20250301002", moves, closed_at=closed)
    with pytest.raises(ValidationFailed, match=message) as exc:
        services.record_past_cases(actor=world.dispatcher, rows=[good, bad])
    assert "第 2 件" in str(exc.value)
    assert not Case.objects.filter(number__in=["T20250301001", "T20250301002"]).exists()
    assert not AuditLog.objects.filter(action="cases.case.record_past").exists()
