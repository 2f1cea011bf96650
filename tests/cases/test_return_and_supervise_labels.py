"""After a department 退回s a case, the desk's next action reads 改派 everywhere (button, timeline, API); 督办
says up front that it raises the 紧急程度 and the timeline records the change."""

from __future__ import annotations

import pytest

from civicgrid.cases.models import CaseEvent

pytestmark = pytest.mark.django_db


def _returned(world):
    case = world.to_state("dispatched")
    return world.move(case, "return", actor=world.handler, reason="不属于本部门职责")


def test_returned_case_offers_reassign_not_dispatch_on_the_page(world, client):
    case = _returned(world)
    client.force_login(world.dispatcher)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "被退回待改派" in html
    assert 'data-testid="action-dispatch">改派</summary>' in html
    assert "确认改派" in html and ">派遣</summary>" not in html
    # the form pre-selects nothing wrong: the department list is offered
    r = client.post(
        f"/cases/{case.pk}/",
        {"move": "dispatch", "dispatch-version": case.version, "dispatch-department": world.dept2.pk},
        follow=True,
    )
    html = r.content.decode()
    assert "已改派：" in html
    timeline = html[html.index('data-testid="timeline"') :]
    assert '<span class="badge text-bg-info">改派</span>' in timeline
    assert ">派遣</span>" in timeline  # the first, ordinary 派遣 keeps its label
    assert CaseEvent.objects.filter(case=case, move="dispatch").order_by("-seq").first().data["after_return"]


def test_api_labels_redispatch_as_reassign(world, api_client):
    case = _returned(world)
    api = api_client.login(world.dispatcher)
    d = api.get(f"/cases/{case.pk}").json()
    assert {m["name"]: m["label"] for m in d["allowed_moves"]}["dispatch"] == "改派"
    r = api.post(f"/cases/{case.pk}/dispatch", {"version": d["version"], "department": world.dept2.pk})
    labels = [(e["move"], e["move_label"]) for e in r.json()["timeline"]]
    assert labels[-1] == ("dispatch", "改派") and ("dispatch", "派遣") in labels


def test_fresh_case_still_reads_dispatch(world, client):
    case = world.to_state("accepted")
    client.force_login(world.dispatcher)
    assert 'data-testid="action-dispatch">派遣</summary>' in client.get(f"/cases/{case.pk}/").content.decode()


def test_supervise_form_announces_the_priority_raise_and_timeline_records_it(world, client):
    case = world.to_state("handling")
    assert case.priority == "normal"
    client.force_login(world.shift_leader)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "督办将把紧急程度由「普通」提升为「紧急」" in html
    r = client.post(
        f"/cases/{case.pk}/",
        {"move": "supervise", "supervise-version": case.version, "supervise-note": "请今日内处置完毕"},
        follow=True,
    )
    html = r.content.decode()
    case.refresh_from_db()
    assert case.priority == "urgent"
    assert "紧急程度：</span>普通 → 紧急" in html
    event = case.events.order_by("-seq").first()
    assert event.data["priority_from"] == "normal" and event.data["priority"] == "urgent"


def test_supervise_at_top_priority_says_it_stays(world, client):
    case = world.to_state("handling")
    for _ in range(2):
        case = world.move(case, "supervise", actor=world.shift_leader, note="加快")
    assert case.priority == "critical"
    client.force_login(world.shift_leader)
    assert "紧急程度已是「特急」" in client.get(f"/cases/{case.pk}/").content.decode()
    case = world.move(case, "supervise", actor=world.shift_leader, note="再次督办")
    assert "priority_from" not in case.events.order_by("-seq").first().data
