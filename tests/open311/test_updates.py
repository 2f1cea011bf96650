"""FixMyStreet's servicerequestupdates: public timeline events out, peer notes in (round trip)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from civicgrid.cases import services as case_services
from civicgrid.core import clock
from civicgrid.core.models import AuditLog
from civicgrid.open311.models import InboundUpdate, ServiceRequest
from tests.factories import DepartmentFactory
from tests.open311.helpers import assert_error

UPDATE_FIELDS = {"update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"}


def _window(days: int = 1) -> dict:
    now = clock.now()
    return {
        "start_date": clock.to_local(now - timedelta(days=days)).isoformat(),
        "end_date": clock.to_local(now + timedelta(minutes=5)).isoformat(),
    }


def _check_update(item: dict) -> None:
    assert set(item) == UPDATE_FIELDS
    assert item["status"] in ("open", "closed")
    assert item["updated_datetime"].endswith("+08:00")
    assert isinstance(item["update_id"], str) and item["update_id"]
    assert isinstance(item["description"], str) and item["description"]


def _post_update(o311, place, srid: str, fmt: str = "json", **overrides):
    data = {
        "api_key": place.plain,
        "service_request_id": srid,
        "update_id": "peer-1",
        "status": "IN_PROGRESS",
        "description": "对方平台：已转交物业处理",
        "updated_datetime": "2025-11-20T10:00:00+08:00",
        "media_url": "https://peer.example.com/photo/1.jpg",
    }
    data.update(overrides)
    return o311.post(f"servicerequestupdates.{fmt}", {k: v for k, v in data.items() if v is not None})


def test_round_trip(o311, place, submit):
    srid = submit()["service_request_id"]
    body = o311.json(_post_update(o311, place, srid))
    assert len(body) == 1 and body[0]["service_request_id"] == srid
    update_id = body[0]["update_id"]
    assert update_id

    inbound = InboundUpdate.objects.get(external_update_id="peer-1")
    assert inbound.case.open311_request.service_request_id == srid
    assert inbound.status == "in_progress"
    assert AuditLog.objects.filter(action="open311.update.create", object_id=str(inbound.pk)).exists()
    # the peer's note is in the case timeline as a public note, and the case did not move
    assert inbound.event is not None and inbound.event.move == "public_note"
    assert inbound.event.note == "对方平台：已转交物业处理"
    assert inbound.event.from_state == inbound.event.to_state == inbound.case.state

    listed = o311.json(o311.get("servicerequestupdates.json", **_window()))
    for item in listed:
        _check_update(item)
    mine = [u for u in listed if u["update_id"] == update_id]
    assert len(mine) == 1
    assert mine[0]["service_request_id"] == srid
    assert mine[0]["description"] == "对方平台：已转交物业处理"
    assert mine[0]["media_url"] == "https://peer.example.com/photo/1.jpg"
    assert mine[0]["status"] == "open"  # our case's status: a peer's note does not move the case

    root = o311.xml(o311.get("servicerequestupdates.xml", **_window()))
    assert root.tag == "service_request_updates"
    xml_mine = [u for u in root.findall("request_update") if u.findtext("update_id") == update_id]
    assert len(xml_mine) == 1
    assert xml_mine[0].findtext("description") == "对方平台：已转交物业处理"
    assert xml_mine[0].findtext("service_request_id") == srid


def test_reposting_the_same_update_id_is_idempotent(o311, place, submit):
    srid = submit()["service_request_id"]
    first = o311.json(_post_update(o311, place, srid))[0]["update_id"]
    again = o311.json(_post_update(o311, place, srid, description="重发"))[0]["update_id"]
    assert first == again
    assert InboundUpdate.objects.count() == 1
    # without an update_id every post is a new note
    o311.json(_post_update(o311, place, srid, update_id=None))
    o311.json(_post_update(o311, place, srid, update_id=None))
    assert InboundUpdate.objects.count() == 3


def test_post_update_xml_response(o311, place, submit):
    srid = submit()["service_request_id"]
    root = o311.xml(_post_update(o311, place, srid, fmt="xml"))
    assert root.tag == "service_request_updates"
    assert root.find("request_update").findtext("update_id")
    assert root.find("request_update").findtext("service_request_id") == srid


def test_state_changes_are_public_updates_without_staff_names(o311, place, submit):
    srid = submit()["service_request_id"]
    case = ServiceRequest.objects.get(service_request_id=srid).case
    dept = DepartmentFactory(code="CGZD", name="城管中队")
    case = case_services.perform(
        actor=place.dispatcher, case=case, move="accept", version=case.version, note="内部备注：赵六跟进"
    )
    case = case_services.perform(
        actor=place.dispatcher, case=case, move="dispatch", version=case.version, department=dept
    )
    response = o311.get("servicerequestupdates.json", **_window())
    listed = o311.json(response)
    mine = [u for u in listed if u["service_request_id"] == srid]
    for item in mine:
        _check_update(item)
    descriptions = [u["description"] for u in mine]
    assert descriptions == [
        "已收到您反映的问题，等待受理。",
        "问题已受理立案，等待派遣处置部门。",
        "已派遣处置部门。",
    ]
    text = response.content.decode()
    assert place.dispatcher.full_name not in text and place.dispatcher.username not in text
    assert "赵六" not in text and "13800000001" not in text and "王小明" not in text

    # internal moves that keep the state (督办) are not public updates
    # tiers: every account belongs to a 街道 (this database holds two; an account without one sees nothing)
    leader = type(place.dispatcher).objects.create(
        username="leader1", role="leader", full_name="领导甲", street=place.street
    )
    case_services.perform(actor=leader, case=case, move="supervise", version=case.version, note="抓紧")
    again = [
        u
        for u in o311.json(o311.get("servicerequestupdates.json", **_window()))
        if u["service_request_id"] == srid
    ]
    assert len(again) == 3


def test_rejection_update_is_closed(o311, place, submit):
    srid = submit()["service_request_id"]
    case = ServiceRequest.objects.get(service_request_id=srid).case
    case_services.perform(
        actor=place.dispatcher, case=case, move="reject", version=case.version, reason="内部原因"
    )
    mine = [
        u
        for u in o311.json(o311.get("servicerequestupdates.json", **_window()))
        if u["service_request_id"] == srid
    ]
    assert mine[-1]["status"] == "closed" and mine[-1]["description"] == "经核实，该问题不予受理。"
    assert "内部原因" not in json.dumps(mine, ensure_ascii=False)


def test_updates_are_filtered_by_date_and_street(o311, place, submit):
    now = clock.now()
    with clock.frozen(now - timedelta(days=30)):
        old = submit()["service_request_id"]
    recent = submit()["service_request_id"]
    ids = {u["service_request_id"] for u in o311.json(o311.get("servicerequestupdates.json", **_window(2)))}
    assert ids == {recent}
    start = clock.to_local(now - timedelta(days=31)).isoformat()
    end = clock.to_local(now - timedelta(days=29)).isoformat()
    ids = {
        u["service_request_id"]
        for u in o311.json(o311.get("servicerequestupdates.json", start_date=start, end_date=end))
    }
    assert ids == {old}
    # default window (no dates) covers both; another 街道's key sees neither
    assert {u["service_request_id"] for u in o311.json(o311.get("servicerequestupdates.json"))} == {
        old,
        recent,
    }
    assert o311.json(o311.get("servicerequestupdates.json", api_key=place.other_plain)) == []
    assert_error(o311, o311.get("servicerequestupdates.json", start_date="nope"), 400)
    assert_error(o311, o311.get("servicerequestupdates.json", api_key="bad"), 403)


@pytest.mark.parametrize(
    ("overrides", "status", "needle"),
    [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "bad"}, 403, "api_key"),
        ({"service_request_id": None}, 400, "service_request_id"),
        ({"service_request_id": "311-NOPE"}, 404, "311-NOPE"),
        ({"status": None}, 400, "status"),
        ({"status": "exploded"}, 400, "status"),
        ({"description": None}, 400, "description"),
        ({"updated_datetime": None}, 400, "updated_datetime"),
        ({"updated_datetime": "last tuesday"}, 400, "updated_datetime"),
        ({"media_url": "ftp://x/y"}, 400, "media_url"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_update_errors(o311, place, submit, overrides, status, needle, fmt):
    srid = submit()["service_request_id"]
    response = _post_update(o311, place, srid, fmt=fmt, **overrides)
    assert needle in assert_error(o311, response, status, fmt)
    assert not InboundUpdate.objects.exists()


def test_another_streets_key_cannot_post_an_update(o311, place, submit):
    srid = submit()["service_request_id"]
    response = _post_update(o311, place, srid, api_key=place.other_plain)
    assert_error(o311, response, 404)
    assert not InboundUpdate.objects.exists()


def test_revoked_key_cannot_post_an_update(o311, place, submit):
    from civicgrid.open311 import services

    srid = submit()["service_request_id"]
    services.revoke_key(actor=None, key=place.key)
    assert_error(o311, _post_update(o311, place, srid), 403)


def test_peer_note_shows_as_public_reply_in_the_case_timeline(o311, place, submit, client):
    from civicgrid.accounts.roles import Role
    from civicgrid.open311.models import ServiceRequest
    from tests.factories import UserFactory

    srid = submit()["service_request_id"]
    _post_update(o311, place, srid)
    case = ServiceRequest.objects.get(service_request_id=srid).case
    client.force_login(UserFactory(role=Role.DISPATCHER))
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "公开回复" in html and "对方平台：已转交物业处理" in html
