"""The API and the pages: scoping per role (the 指挥中心 drafts, 值班长/领导 publish, everybody reads published
boards, only the 街道-wide roles see live rankings and drafts), bad input named by field, exports."""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_the_board_flow_through_the_api(june, client):
    login(client, june.shift_leader)
    r = client.put(
        "/api/v1/evaluation/settings",
        {"w_response": 30, "w_resolve": 35, "w_satisfaction": 35, "min_cases": 1, "board_size": 1},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["stored"] is True
    login(client, june.dispatcher)
    r = client.post(
        "/api/v1/evaluation/boards",
        {"kind": "grid_worker", "month": "2026-06"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    board = r.json()
    assert board["state"] == "draft" and board["red"] == [june.grid_worker.username]
    assert board["moves"] == ["redraft", "submit"]
    mine = next(x for x in board["rows"] if x["key"] == june.grid_worker.username)
    assert (mine["valid_rate"], mine["verify_rate"], mine["score"], mine["rank"]) == (66.7, 50.0, 58.4, 1)
    url = f"/api/v1/evaluation/boards/{board['id']}"
    # a 社区 user does not see the draft
    login(client, june.community_staff)
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/evaluation/boards").json() == []
    login(client, june.dispatcher)
    r = client.post(f"{url}/transition", {"move": "publish"}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    r = client.post(
        f"{url}/transition", {"move": "submit", "version": board["version"]}, content_type="application/json"
    )
    assert r.json()["state"] == "review"
    r = client.post(f"{url}/transition", {"move": "publish"}, content_type="application/json")
    assert r.status_code == 403
    login(client, june.leader)
    r = client.post(f"{url}/transition", {"move": "return"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["field"] == "note"
    r = client.post(
        f"{url}/transition", {"move": "publish", "note": "同意发布"}, content_type="application/json"
    )
    assert r.json()["state"] == "published" and r.json()["moves"] == []
    # published: every staff account reads it, nobody moves it
    for who in (june.community_staff, june.grid_worker, june.handler):
        login(client, who)
        got = client.get(url).json()
        assert (
            got["state"] == "published" and got["red"] == [june.grid_worker.username] and got["moves"] == []
        )
    login(client, june.dispatcher)
    r = client.post(f"{url}/transition", {"move": "redraft"}, content_type="application/json")
    assert r.status_code == 409
    # one-page exports of the frozen snapshot
    login(client, june.grid_worker)
    xlsx = client.get(f"/evaluation/boards/{board['id']}/board.xlsx")
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    texts = [c.value for row in ws.iter_rows() for c in row if c.value]
    assert "2026年6月网格员红黑榜" in texts[0] and "58.4" in texts and ws.max_row < 40
    docx = client.get(f"/evaluation/boards/{board['id']}/board.docx")
    doc = Document(io.BytesIO(docx.content))
    assert "网格员红黑榜" in doc.paragraphs[0].text
    assert "58.4" in [c.text for c in doc.tables[0].rows[1].cells]


def test_live_rankings_are_for_the_street_wide_roles(june, client):
    login(client, june.leader)
    r = client.get(
        "/api/v1/evaluation/ranking", {"kind": "community", "from": "2026-06-01", "to": "2026-06-30"}
    )
    assert r.status_code == 200
    data = r.json()
    assert (
        data["rows"] == [] and data["apart"][0]["apart"] == "too_few" and data["weights"]["w_resolve"] == 35
    )
    r = client.get("/api/v1/evaluation/role-scores", {"from": "2026-06-01", "to": "2026-06-30"})
    assert {d["key"] for d in r.json()["dispatchers"]} == {
        june.dispatcher.username,
        june.dispatcher2.username,
    }
    for who in (june.community_staff, june.grid_worker, june.handler, june.auditor):
        login(client, who)
        assert client.get("/api/v1/evaluation/ranking").status_code == 403
        assert client.get("/api/v1/evaluation/role-scores").status_code == 403
        assert client.get("/api/v1/evaluation/assessments", {"year": 2026}).status_code == 403
        assert client.get("/evaluation/ranking/").status_code == 403
    assert client.get("/api/v1/evaluation/boards").status_code == 403  # the auditor: no business data


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "field"),
    [
        ("get", "/api/v1/evaluation/ranking?kind=city", None, 422, "kind"),
        ("get", "/api/v1/evaluation/ranking?from=2026-13-01", None, 400, "from"),
        ("get", "/api/v1/evaluation/ranking?street=999999999", None, 422, "street"),
        ("get", "/api/v1/evaluation/ranking?kind=street", None, 403, None),  # a 街道 account: not the 区's
        ("post", "/api/v1/evaluation/boards", {"kind": "grid", "month": "六月"}, 422, "month"),
        ("post", "/api/v1/evaluation/boards", {"kind": "town", "month": "2026-06"}, 422, "kind"),
        (
            "put",
            "/api/v1/evaluation/settings",
            {"w_response": 50, "w_resolve": 35, "w_satisfaction": 35},
            422,
            "w_response",
        ),
        (
            "put",
            "/api/v1/evaluation/settings",
            {"w_response": 30, "w_resolve": "x", "w_satisfaction": 35},
            422,
            "w_resolve",
        ),
        (
            "put",
            "/api/v1/evaluation/settings?level=moon",
            {"w_response": 30, "w_resolve": 35, "w_satisfaction": 35},
            422,
            "level",
        ),
        ("get", "/api/v1/evaluation/assessments?year=1900", None, 422, "year"),
        ("post", "/api/v1/evaluation/assessments", {"month": "2026-06", "score": "高"}, 422, "score"),
        (
            "post",
            "/api/v1/evaluation/assessments",
            {"month": "2026-06", "score": 90, "rank": 5, "total": 3},
            422,
            "rank",
        ),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(june, client, method, url, body, status, field):
    user = june.dispatcher if method == "post" and "boards" in url else june.shift_leader
    login(client, user)
    kw = {"content_type": "application/json", "data": body} if body is not None else {}
    r = getattr(client, method)(url, **kw)
    assert r.status_code == status, r.content
    if field:
        assert r.json()["field"] == field


def test_the_pages_open_for_each_role(june, client):
    from civicgrid.evaluation import services

    services.save_assessment(actor=june.leader, street=june.grid.community.street, month="2026-06", score=93)
    login(client, june.shift_leader)
    for url in (
        "/evaluation/",
        "/evaluation/ranking/?kind=grid_worker&month=2026-06",
        "/evaluation/ranking/?kind=street",
        "/evaluation/roles/?month=2026-06",
        "/evaluation/settings/",
        "/evaluation/assessments/?year=2026",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
    assert "城市长效管理考核" in client.get("/evaluation/assessments/?year=2026").content.decode()
    r = client.post(
        "/evaluation/settings/",
        {"w_response": 40, "w_resolve": 40, "w_satisfaction": 40, "min_cases": 5, "board_size": 3},
    )
    assert r.status_code == 200 and 'data-testid="error-w_response"' in r.content.decode()
    login(client, june.grid_worker)
    assert client.get("/evaluation/").status_code == 200
    assert client.get("/evaluation/settings/").status_code == 403
