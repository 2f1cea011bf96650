"""/api/v1/supervision: 督办 a case and a department list, 销号, counts; warnings list with filters and 确认/处置.
Bad input answers 4xx naming the field; other roles and other 街道 get 403/404."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from civicgrid.core import clock
from civicgrid.supervision import services
from civicgrid.supervision.models import EarlyWarning, Supervision
from tests.factories import StreetFactory, UserFactory
from tests.supervision.conftest import bulk_cases

API = "/api/v1/supervision"


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _due(days=2):
    return (clock.to_local(clock.now()) + timedelta(days=days)).date().isoformat()


def test_supervise_a_case_then_clear_it_through_the_api(world, client):
    case = world.to_state("handling")
    client.force_login(world.shift_leader)
    r = _post(client, f"{API}/cases", {"case_id": case.pk, "note": "尽快处理", "due_at": _due()})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == "case" and body["state"] == "open" and body["case_ids"] == [case.pk]
    assert body["case_number"] == case.number and body["department"] == "城管中队"
    r = client.get(f"{API}/", {"state": "open"})
    assert r.json()["count"] == 1
    r = _post(client, f"{API}/items/{body['id']}/clear", {"note": "部门已反馈"})
    assert r.status_code == 200 and r.json()["state"] == "cleared" and r.json()["clear_note"] == "部门已反馈"
    assert _post(client, f"{API}/items/{body['id']}/clear", {"note": "再次"}).status_code == 409
    r = client.get(f"{API}/counts")
    assert (
        r.json()["total"] == 1
        and r.json()["cleared"] == 1
        and r.json()["rows"][0]["department"] == "城管中队"
    )


def test_bad_input_names_the_field(world, client):
    case = world.to_state("handling")
    client.force_login(world.leader)
    r = _post(client, f"{API}/cases", {"case_id": case.pk, "note": "x", "due_at": "2020-01-01"})
    assert r.status_code == 422 and r.json()["field"] == "due_at"
    r = _post(client, f"{API}/cases", {"case_id": case.pk, "note": "", "due_at": _due()})
    assert r.status_code == 422
    r = _post(client, f"{API}/cases", {"case_id": 10**15, "note": "x", "due_at": _due()})
    assert r.status_code == 404
    r = _post(client, f"{API}/departments", {"department_id": world.dept2.pk, "note": "x", "due_at": _due()})
    assert r.status_code == 422 and r.json()["field"] == "department"
    assert client.get(f"{API}/", {"state": "nope"}).status_code == 422
    assert client.get(f"{API}/warnings", {"rule": "nope"}).status_code == 422
    assert client.get(f"{API}/counts", {"from": "2026-02-30"}).status_code == 422


@pytest.mark.parametrize("role", ["dispatcher", "handler"])
def test_roles_that_may_not_supervise_get_403(world, client, role):
    case = world.to_state("handling")
    client.force_login(getattr(world, role))
    r = _post(client, f"{API}/cases", {"case_id": case.pk, "note": "x", "due_at": _due()})
    assert r.status_code == 403


def test_grid_worker_and_other_street_see_nothing(world, client):
    case = world.to_state("handling")
    s = services.supervise_case(actor=world.leader, case=case, note="快", due_at=_due())
    client.force_login(world.grid_worker)
    assert client.get(f"{API}/").status_code == 403
    other = UserFactory(role="leader", street=StreetFactory(code="330106088", name="西溪街道"))
    client.force_login(other)
    assert client.get(f"{API}/").json()["count"] == 0
    assert client.get(f"{API}/items/{s.pk}").status_code == 404
    client.force_login(world.handler)  # its own department's 督办
    assert client.get(f"{API}/items/{s.pk}").json()["note"] == "快"


def test_warnings_list_filters_and_acknowledge(world, client):
    today = clock.to_local(clock.now()).date()
    bulk_cases(world, today, 3, address="示范路77号")
    bulk_cases(world, today, 3, reporter_phone="13512345678", address="")
    services.run_warnings(street=world.community.street)
    # 6 cases today in one 社区 × 大类 with no history is a surge too
    assert sorted(EarlyWarning.objects.values_list("rule", flat=True)) == [
        "repeat_address",
        "repeat_caller",
        "surge",
    ]
    client.force_login(world.dispatcher)
    r = client.get(f"{API}/warnings", {"rule": "repeat_caller"})
    (w,) = r.json()["results"]
    assert w["title"] == "来电 135****5678" and w["state"] == "pending" and w["observed"] == 3
    assert (
        client.get(f"{API}/warnings", {"from": (today + timedelta(days=1)).isoformat()}).json()["count"] == 0
    )
    r = _post(client, f"{API}/warnings/{w['id']}/handle", {"move": "acknowledge", "note": "已联系来电人"})
    assert (
        r.status_code == 200
        and r.json()["state"] == "acknowledged"
        and r.json()["handle_note"] == "已联系来电人"
    )
    r = _post(client, f"{API}/warnings/{w['id']}/handle", {"move": "explode", "note": "x"})
    assert r.status_code == 422 and r.json()["field"] == "move"
    assert client.get(f"{API}/warnings", {"state": "open"}).json()["count"] == 3
    assert client.get(f"{API}/warnings", {"state": "pending"}).json()["count"] == 2
    client.force_login(world.handler)
    assert client.get(f"{API}/warnings").json()["count"] == 0  # not addressed to its department
    assert client.get(f"{API}/warnings/{w['id']}").status_code == 404


def test_pages_render_for_the_desk_and_refuse_others(world, client):
    case = world.to_state("handling")
    services.supervise_case(actor=world.leader, case=case, note="页面督办", due_at=_due())
    bulk_cases(world, clock.to_local(clock.now()).date(), 3, address="示范路5号")
    services.run_warnings(street=world.community.street)
    client.force_login(world.shift_leader)
    page = client.get("/supervision/").content.decode()
    assert "页面督办" in page and "督办统计" in page and "warnings-panel" in page
    assert f'data-testid="warnings-panel-count">{EarlyWarning.objects.count()}<' in page
    assert "示范路5号" in client.get("/supervision/warnings/").content.decode()
    assert "页面督办" in client.get(f"/cases/{case.pk}/").content.decode()  # the case page's panel
    s = Supervision.objects.get()
    r = client.post(f"/supervision/{s.pk}/", {"note": "已办结"})
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.state == "cleared"
    assert client.get("/supervision/warnings/?state=bogus&community=abc&from=xx").status_code == 200
    client.force_login(world.grid_worker)
    assert client.get("/supervision/").status_code == 403


def test_the_rule_settings_are_kept_per_street_in_the_admin(world, client):
    from civicgrid.supervision.models import WarningConfig

    client.force_login(UserFactory(role="system_admin", is_staff=True))
    assert client.get("/admin/supervision/warningconfig/add/").status_code == 200
    r = client.post(
        "/admin/supervision/warningconfig/add/",
        {
            "street": world.community.street_id,
            "surge_enabled": "on",
            "surge_weeks": 6,
            "surge_threshold": 0.01,
            "surge_min_count": 4,
            "repeat_enabled": "on",
            "repeat_address_count": 4,
            "repeat_caller_count": 3,
            "repeat_days": 14,
            "overdue_lookback_days": 60,
            "overdue_quantile": 80,
            "overdue_min_samples": 5,
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    cfg = WarningConfig.objects.get(street_id=world.community.street_id)
    assert (cfg.surge_weeks, cfg.repeat_days, cfg.overdue_enabled) == (6, 14, False)
    client.force_login(UserFactory(role="dispatcher", is_staff=True))
    assert client.get("/admin/supervision/warningconfig/").status_code == 403
