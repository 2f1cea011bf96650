"""Stage clocks through real cases: limits, lights at 80/100 %, extensions add time, 挂账 pauses the clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from civicgrid.cases.jobs import refresh_lights
from civicgrid.cases.models import Case, Notification
from civicgrid.core import clock

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 4, 9, 0)  # Tuesday 09:00 Asia/Shanghai
H = timedelta(hours=1)


def _light(case: Case, at: datetime) -> Case:
    with clock.frozen(at):
        refresh_lights()
    case.refresh_from_db()
    return case


def test_handle_clock_and_lights(world, django_capture_on_commit_callbacks):
    with clock.frozen(clock.aware(T0)):
        c = world.to_state("dispatched")  # handle stage: 10 natural hours from T0
    assert c.stage == "handle" and c.limit_amount == 10 and c.limit_unit == "natural_hours"
    assert c.due_at == clock.aware(T0) + 10 * H and not c.due_provisional
    start = clock.aware(T0)
    with django_capture_on_commit_callbacks(execute=True):
        assert _light(c, start + 7 * H + timedelta(minutes=59)).light == "green"
        c = _light(c, start + 8 * H)  # exactly 80 %
        assert c.light == "yellow" and c.last_notified_light == "yellow"
    notes = Notification.objects.filter(case=c, kind="yellow")
    assert {n.user for n in notes} == {world.handler, world.dispatcher, world.dispatcher2}
    with django_capture_on_commit_callbacks(execute=True):
        assert _light(c, start + 9 * H).light == "yellow"
        assert _light(c, start + 10 * H).light == "yellow"  # 100 % is still yellow
    assert Notification.objects.filter(case=c, kind="yellow").count() == 3  # notified once
    with django_capture_on_commit_callbacks(execute=True):
        c = _light(c, start + 10 * H + timedelta(seconds=1))
    assert c.light == "red" and c.is_overdue
    red_users = set(Notification.objects.filter(case=c, kind="red").values_list("user__username", flat=True))
    assert world.shift_leader.username in red_users and world.handler.username in red_users
    with django_capture_on_commit_callbacks(execute=True):
        _light(c, start + 12 * H)
    assert Notification.objects.filter(case=c, kind="red").count() == len(red_users)


def test_extension_adds_time(world):
    start = clock.aware(T0)
    with clock.frozen(start):
        c = world.to_state("handling")
    with clock.frozen(start + 9 * H):
        c = world.move(
            c, "request_extension", actor=world.handler, amount=5, unit="natural_hours", reason="待配件"
        )
        assert c.due_at == start + 10 * H  # a request alone changes nothing
        c = world.move(c, "approve_extension", actor=world.shift_leader, note="同意")
    assert c.extension_amount == 5 and c.due_at == start + 15 * H
    assert c.light == "green"  # 9h of 15h = 60 %
    ev = c.events.get(move="approve_extension")
    assert ev.data["amount"] == 5 and ev.clock["extension"] == 5 and ev.clock["due_at"]
    assert _light(c, start + 12 * H).light == "yellow"  # 80 % of 15h
    assert _light(c, start + 15 * H + timedelta(seconds=1)).light == "red"


def test_suspend_pauses_clock(world):
    start = clock.aware(T0)
    with clock.frozen(start):
        c = world.to_state("handling")
    with clock.frozen(start + 2 * H):
        c = world.move(c, "suspend", reason="等待产权单位答复")
    # while suspended: the job leaves the case alone, and the clock does not run
    assert _light(c, start + 20 * H).light == "green"
    with clock.frozen(start + 6 * H):
        c = world.move(c, "resume")
    assert c.state == "handling" and c.paused_measure_seconds == 4 * 3600
    assert c.due_at == start + 14 * H
    assert _light(c, start + 11 * H).light == "green"  # 7h consumed of 10h
    assert _light(c, start + 12 * H).light == "yellow"  # 8h consumed
    ev = c.events.get(move="resume")
    assert ev.clock["elapsed_seconds"] == 2 * 3600


def test_working_hours_stage(world):
    world.category.dispatch_limit_amount = 2
    world.category.dispatch_limit_unit = "working_hours"
    world.category.save()
    with clock.frozen(datetime(2025, 3, 4, 11, 0)):
        c = world.to_state("accepted")
    # 11:00–12:00 then 13:30–14:30 (working hours 08:30–12:00, 13:30–17:30)
    assert clock.to_local(c.due_at).replace(tzinfo=None) == datetime(2025, 3, 4, 14, 30)
    # lunch break does not count: at 13:30 only 1h of 2h is consumed → green
    assert _light(c, clock.aware(datetime(2025, 3, 4, 13, 30))).light == "green"
    assert _light(c, clock.aware(datetime(2025, 3, 4, 14, 6))).light == "yellow"  # 96 min = 80 %


def test_each_stage_restarts_the_clock(world):
    start = clock.aware(T0)
    with clock.frozen(start):
        c = world.to_state("accepted")
    assert c.stage == "dispatch" and c.due_at == start + 2 * H
    with clock.frozen(start + 3 * H):
        refresh_lights()
        c.refresh_from_db()
        assert c.light == "red" and c.is_overdue
        c = world.move(c, "dispatch", department=world.dept)
    assert c.stage == "handle" and c.light == "green" and c.due_at == start + 13 * H
    assert c.is_overdue  # sticky: the case was overdue once
    with clock.frozen(start + 4 * H):
        c = world.move(c, "sign", actor=world.handler)
        c = world.move(c, "finish", actor=world.handler, note="完成", attachments=[("a.png", _png())])
    assert c.stage == "verify" and c.due_at == start + 8 * H


def _png():
    from tests.cases.factories import png_bytes

    return png_bytes()
