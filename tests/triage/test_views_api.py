"""The 智能分拨 API and the panel on the case page: who may ask, what comes back, what is recorded."""

from __future__ import annotations

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.triage import engine, modelstore
from civicgrid.triage.models import TriageKeyword, TriageSuggestion

pytestmark = pytest.mark.django_db


def test_a_dispatcher_gets_three_suggestions_with_reasons_and_a_department(tw, api_client):
    tw.cat["油烟污染"].default_department = tw.dept2
    tw.cat["油烟污染"].save()
    r = api_client.login(tw.dispatcher).post(
        "/triage/suggest", {"title": "油烟扰民", "description": "楼下烧烤店油烟直排，熏得开不了窗"}
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["source"] == "keywords" and body["auto_dispatch"] is False
    assert body["items"][0]["name"] == "油烟污染" and "油烟直排" in body["items"][0]["terms"]
    assert len(body["items"]) <= 3 and body["department"] == {"id": tw.dept2.pk, "name": tw.dept2.name}
    assert TriageSuggestion.objects.count() == 0  # a bare text is not recorded


def test_a_case_suggestion_is_recorded_and_scoped_to_the_case(tw, api_client, make_user):
    case = tw.complaint("路边生活垃圾堆了一周没人清理")
    r = api_client.login(tw.dispatcher).post("/triage/suggest", {"case": case.pk})
    assert r.status_code == 200, r.content
    assert r.json()["suggestion"] == TriageSuggestion.objects.get(case=case).pk
    from tests.factories import StreetFactory, UserFactory

    stranger = UserFactory(role=Role.DISPATCHER, street=StreetFactory(code="330106099", name="别的街道"))
    r = api_client.login(stranger).post("/triage/suggest", {"case": case.pk})
    assert r.status_code == 404


@pytest.mark.parametrize(
    "role", [Role.DEPT_HANDLER, Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.LEADER, Role.AUDIT_ADMIN]
)
def test_roles_that_do_not_classify_are_refused(tw, api_client, role):
    r = api_client.login(tw.by_role(role)).post("/triage/suggest", {"description": "路灯不亮"})
    assert r.status_code == 403


@pytest.mark.parametrize(
    "payload,field",
    [
        ({}, "description"),
        ({"description": "x" * 5001}, "description"),
        ({"case": 0}, "case"),
        ({"description": "a\x00b"}, "description"),
    ],
)
def test_bad_input_is_a_field_error_never_a_5xx(tw, api_client, payload, field):
    r = api_client.login(tw.dispatcher).post("/triage/suggest", payload)
    assert r.status_code == 422 and field in r.content.decode()


def test_the_admin_edits_keyword_lists_and_sees_model_versions(tw, api_client, model_dir):
    cat = tw.cat["擅自饲养家禽家畜"]
    r = api_client.login(tw.dispatcher).put(f"/triage/keywords/{cat.pk}", {"words": ["遛狗"]})
    assert r.status_code == 403
    api = api_client.login(tw.sysadmin)
    r = api.put(f"/triage/keywords/{cat.pk}", {"words": ["遛狗", "不牵绳"], "weight": 3})
    assert r.status_code == 200 and r.json()["words"] == ["遛狗", "不牵绳"]
    assert TriageKeyword.objects.get(category=cat).weight == 3
    assert any(k["name"] == "擅自饲养家禽家畜" for k in api.get("/triage/keywords").json())
    assert api.put("/triage/keywords/99999999", {"words": ["x"]}).status_code == 422
    assert api.put(f"/triage/keywords/{cat.pk}", {"words": ["长" * 31]}).status_code == 422

    assert api.get("/triage/models").json() == []
    model, _ = engine.train(
        ["路面坑洼", "道路破损", "噪音太吵", "夜里很吵"],
        ["道路破损", "道路破损", "噪声扰民", "噪声扰民"],
        engine.DEFAULT,
        folds=2,
    )
    model.meta.update(n=4, source="test")
    modelstore.save(model)
    got = api.get("/triage/models").json()
    assert [m["version"] for m in got] == ["v0001"] and got[0]["current"] and got[0]["labels"] == 2
    assert api_client.login(tw.dispatcher).get("/triage/models").status_code == 403


def test_the_case_page_loads_the_panel_for_the_desk_only(tw, client):
    case = tw.complaint("楼下烧烤店油烟直排，熏得开不了窗")
    client.force_login(tw.dispatcher)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="triage-slot"' in page and "js/triage.js" in page
    panel = client.get(f"/triage/cases/{case.pk}/")
    assert panel.status_code == 200
    html = panel.content.decode()
    assert "油烟污染" in html and "依据" in html and 'data-testid="triage-use"' in html

    row = TriageSuggestion.objects.get(case=case)
    r = client.post(f"/triage/suggestions/{row.pk}/pick/", {"category": row.items[0]["category"]})
    assert r.status_code == 200 and 'data-testid="triage-picked"' in r.content.decode()
    assert f'data-picked-category="{row.items[0]["category"]}"' in r.content.decode()
    r = client.post(f"/triage/suggestions/{row.pk}/pick/", {"category": "abc"})
    assert r.status_code == 422
    assert client.post("/triage/suggestions/999999/pick/", {"category": 1}).status_code == 404

    client.force_login(tw.handler)
    assert 'data-testid="triage-slot"' not in client.get(f"/cases/{case.pk}/").content.decode()
    assert client.get(f"/triage/cases/{case.pk}/").status_code == 403
