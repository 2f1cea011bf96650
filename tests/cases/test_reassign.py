"""改派: the new department gets a fresh 签收/处置 clock, an approved extension stays, and the previous department
is told and loses access (lists, detail, API, 待办, its unread notifications)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.cases import selectors
from civicgrid.cases.models import CaseDepartment, Notification, NotificationKind, Stage
from civicgrid.core import clock

pytestmark = pytest.mark.django_db


def _handling_with_extension(world):
    case = world.to_state("handling")
    world.move(
        case,
        "request_extension",
        actor=world.handler,
        amount=5,
        unit="natural_hours",
        reason="需协调产权单位",
    )
    world.move(case, "approve_extension", actor=world.shift_leader)
    case.refresh_from_db()
    assert case.extension_amount == 5
    return case


def test_reassign_restarts_clock_for_new_department_and_keeps_approved_extension(world):
    case = _handling_with_extension(world)
    started = case.clock_started_at
    with clock.frozen(started + timedelta(hours=3)):
        case = world.move(case, "reassign", department=world.dept2, note="属市场监管职责")
        now = clock.now()
    assert case.state == "dispatched" and case.department == world.dept2
    assert case.stage == Stage.HANDLE
    assert case.clock_started_at == now > started  # the new department's clock starts at the 改派
    assert case.limit_amount == 10 and case.extension_amount == 5  # 10 h limit + the approved 5 h
    assert round((case.due_at - now).total_seconds() / 3600) == 15
    event = case.events.order_by("-seq").first()
    assert event.move == "reassign"
    assert event.data["previous_department_name"] == "城管中队" and event.data["extension_kept"] == 5


def test_previous_department_is_told_and_loses_access(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = world.to_state("handling")
    handler = world.handler
    assert Notification.objects.filter(user=handler, case=case, read_at__isnull=True).exists()
    with django_capture_on_commit_callbacks(execute=True):
        world.move(case, "reassign", department=world.dept2)
    # told, and its old work items on the case are cleared
    told = Notification.objects.get(user=handler, kind=NotificationKind.REASSIGNED)
    assert "市场监管所" in told.text and told.read_at is None
    assert (
        not Notification.objects.filter(user=handler, case=case, read_at__isnull=True)
        .exclude(kind=NotificationKind.REASSIGNED)
        .exists()
    )
    # no longer sees it anywhere
    assert not selectors.visible_cases(user=handler).filter(pk=case.pk).exists()
    assert not selectors.inbox(user=handler).filter(pk=case.pk).exists()
    # the new department does
    assert selectors.inbox(user=world.handler2).filter(pk=case.pk).exists()
    assert CaseDepartment.objects.get(case=case, department=world.dept).revoked_at is not None


def test_previous_department_loses_access_over_http_and_api(world, client, api_client):
    case = world.to_state("dispatched")
    client.force_login(world.handler)
    assert client.get(f"/cases/{case.pk}/").status_code == 200
    world.move(case, "reassign", department=world.dept2)
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert case.display_number not in client.get("/cases/").content.decode()
    assert case.display_number not in client.get("/cases/inbox/").content.decode()
    api = api_client.login(world.handler)
    assert api.get(f"/cases/{case.pk}").status_code == 404
    assert api.get("/cases").json()["total"] == 0
    assert api.get("/cases/inbox").json()["total"] == 0


def test_reassign_back_restores_access(world, api_client):
    case = world.to_state("dispatched")
    world.move(case, "reassign", department=world.dept2)
    world.move(case, "reassign", department=world.dept)
    assert selectors.visible_cases(user=world.handler).filter(pk=case.pk).exists()
    assert not selectors.visible_cases(user=world.handler2).filter(pk=case.pk).exists()
    r = api_client.login(world.handler).get(f"/cases/{case.pk}")
    assert r.status_code == 200 and r.json()["department"]["name"] == "城管中队"


def test_returning_department_keeps_read_access_until_redispatched(world, django_capture_on_commit_callbacks):
    case = world.to_state("dispatched")
    world.move(case, "return", actor=world.handler, reason="不属于本部门职责")
    assert selectors.visible_cases(user=world.handler).filter(pk=case.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        world.move(case, "dispatch", department=world.dept2)
    assert not selectors.visible_cases(user=world.handler).filter(pk=case.pk).exists()
    assert Notification.objects.filter(user=world.handler, kind=NotificationKind.REASSIGNED).exists()


def test_api_reassign_keeps_extension(world, api_client):
    case = _handling_with_extension(world)
    api = api_client.login(world.dispatcher)
    r = api.post(f"/cases/{case.pk}/reassign", {"version": case.version, "department": world.dept2.pk})
    assert r.status_code == 200, r.content
    d = r.json()
    assert d["state"] == "dispatched" and d["extension_amount"] == 5 and d["limit_amount"] == 10
    assert api_client.login(world.handler).get(f"/cases/{case.pk}").status_code == 404
