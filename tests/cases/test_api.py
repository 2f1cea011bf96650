"""/api/v1/cases: create (idempotent), list filters + pagination, detail, moves, and every error code."""

from __future__ import annotations

import pytest

from civicgrid.accounts.services import issue_token
from civicgrid.cases.models import Case
from tests.cases.factories import png_bytes

pytestmark = pytest.mark.django_db


def _create(api, **extra):
    body = {"source": "hotline_12345", "description": "小区门口垃圾堆积", "address": "示范路1号"}
    body.update(extra.pop("body", {}))
    return api.post("/cases", body, **extra)


def test_openapi_renders(api_client, world):
    r = api_client.login(world.dispatcher).get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for move in ("accept", "dispatch", "verify-pass", "request-extension", "supervise", "finish"):
        assert f"/api/v1/cases/{{case_id}}/{move}" in paths


def test_requires_auth(client):
    assert client.get("/api/v1/cases").status_code == 401


def test_create_with_token_and_idempotency_key(api_client, world):
    _t, key = issue_token(actor=None, user=world.dispatcher, name="hotline")
    api = api_client.token(key)
    body = {"category": world.category.pk, "grid": world.grid.pk, "reporter_phone": "13812345678"}
    r1 = _create(api, body=body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert r1.status_code == 201, r1.content
    r2 = _create(api, body=body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert r2.status_code == 200 and r2.json()["id"] == r1.json()["id"]
    assert Case.objects.count() == 1
    r3 = _create(api, body=body, HTTP_IDEMPOTENCY_KEY="k-2")
    assert r3.status_code == 201 and r3.json()["id"] != r1.json()["id"]
    d = r1.json()
    assert d["state"] == "reported" and d["state_label"] == "上报" and d["reporter_phone"] == "13812345678"
    assert [m["name"] for m in d["allowed_moves"]] == ["accept", "reject", "merge"]
    assert d["timeline"][0]["move"] == "create"


def test_create_validation_errors_name_the_field(api_client, world):
    api = api_client.login(world.dispatcher)
    r = api.post("/cases", {"source": "pigeon", "description": "x"})
    assert r.status_code == 422 and r.json()["field"] == "source"
    r = api.post("/cases", {"source": "resident"})
    assert r.status_code == 422 and r.json()["field"] == "description"
    r = _create(api, body={"lng": 120.1})
    assert r.status_code == 422 and r.json()["field"] == "lat"
    r = _create(api, body={"category": 999999})
    assert r.status_code == 422 and r.json()["field"] == "category"
    r = _create(api, body={"lat": 95.0, "lng": 120.0})
    assert r.status_code == 422 and r.json()["field"] == "lat"


def test_create_forbidden_role(api_client, world):
    r = _create(api_client.login(world.handler))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_full_loop_over_http(api_client, world):
    api = api_client.login(world.dispatcher)
    d = _create(api, body={"category": world.category.pk, "grid": world.grid.pk}).json()
    cid = d["id"]
    d = api.post(f"/cases/{cid}/accept", {"version": d["version"]}).json()
    assert d["state"] == "accepted" and d["number"].startswith("C")
    d = api.post(f"/cases/{cid}/dispatch", {"version": d["version"], "department": world.dept.pk}).json()
    assert d["department"]["name"] == "城管中队"

    api.login(world.handler)
    d = api.get(f"/cases/{cid}").json()
    assert [m["path"] for m in d["allowed_moves"]] == ["sign", "return", "request-extension"]
    d = api.post(f"/cases/{cid}/sign", {"version": d["version"]}).json()
    # multipart finish with a real photo
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("after.png", png_bytes(), content_type="image/png")
    r = api.c.post(
        f"/api/v1/cases/{cid}/finish", {"version": d["version"], "note": "已清理", "photos": [photo]}
    )
    assert r.status_code == 200, r.content
    d = r.json()
    assert d["state"] == "handled" and d["attachments"][0]["kind"] == "after"
    assert d["attachments"][0]["event_seq"] == d["timeline"][-1]["seq"]

    api.login(world.grid_worker)
    d = api.post(f"/cases/{cid}/verify-pass", {"version": d["version"]}).json()
    api.login(world.dispatcher)
    d = api.post(f"/cases/{cid}/close", {"version": d["version"]}).json()
    d = api.post(f"/cases/{cid}/rate", {"version": d["version"], "rating": "basic"}).json()
    assert d["state"] == "rated" and len(d["timeline"]) == 8 and d["allowed_moves"] == []


def test_attachment_upload_then_reference(api_client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = api_client.login(world.handler)
    r = api.c.post(
        "/api/v1/cases/attachments",
        {"file": SimpleUploadedFile("a.png", png_bytes(), content_type="image/png"), "kind": "after"},
    )
    assert r.status_code == 201, r.content
    att = r.json()["id"]
    bad = api.c.post(
        "/api/v1/cases/attachments", {"file": SimpleUploadedFile("a.jpg", b"GIF89a-not-really", "image/jpeg")}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "attachments"
    c = world.to_state("handling")
    r = api.c.post(
        f"/api/v1/cases/{c.pk}/finish", {"version": c.version, "note": "完成", "attachment_ids": str(att)}
    )
    assert r.status_code == 200, r.content
    assert r.json()["attachments"][0]["id"] == att


def test_error_codes(api_client, world):
    c = world.to_state("accepted")
    api = api_client.login(world.dispatcher)
    # 409 illegal transition
    r = api.post(f"/cases/{c.pk}/sign", {"version": c.version})
    assert r.status_code in (403, 409)
    r = api.post(f"/cases/{c.pk}/close", {"version": c.version})
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    # 403: state allows dispatch, role does not
    r = api_client.login(world.leader).post(f"/cases/{c.pk}/dispatch", {"version": c.version})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    # 404 out of scope
    r = api_client.login(world.other_worker).get(f"/cases/{c.pk}")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = api_client.login(world.other_worker).post(f"/cases/{c.pk}/dispatch", {"version": c.version})
    assert r.status_code == 404
    r = api_client.login(world.dispatcher).get("/cases/987654")
    assert r.status_code == 404
    # 422 field named: missing version / missing reason
    r = api.post(f"/cases/{c.pk}/dispatch", {"department": world.dept.pk})
    assert r.status_code == 422 and r.json()["field"] == "version"
    r = api.post(f"/cases/{c.pk}/suspend", {"version": c.version})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = api.post(f"/cases/{c.pk}/dispatch", {"version": c.version, "department": 424242})
    assert r.status_code == 422 and r.json()["field"] == "department"
    # 409 stale version (sequential; the parallel variant is in test_concurrency)
    ok = api.post(f"/cases/{c.pk}/dispatch", {"version": c.version, "department": world.dept.pk})
    assert ok.status_code == 200
    r = api_client.login(world.dispatcher2).post(
        f"/cases/{c.pk}/dispatch", {"version": c.version, "department": world.dept2.pk}
    )
    assert r.status_code == 409 and r.json()["code"] == "stale_version" and "刷新" in r.json()["detail"]


def test_list_filters_and_pagination(api_client, world):
    made = [world.report(description=f"第{i}个案件") for i in range(7)]
    d = world.to_state("dispatched", description="需要派遣的井盖")
    world.report(grid=world.grid2, source="resident")
    api = api_client.login(world.dispatcher)
    r = api.get("/cases", limit=3, offset=0).json()
    assert r["total"] == 9 and len(r["items"]) == 3 and r["limit"] == 3
    r2 = api.get("/cases", limit=3, offset=6).json()
    assert len(r2["items"]) == 3
    seen = {i["id"] for i in r["items"]} | {i["id"] for i in r2["items"]}
    seen |= {i["id"] for i in api.get("/cases", limit=3, offset=3).json()["items"]}
    assert len(seen) == 9
    assert [i["id"] for i in api.get("/cases", status="dispatched").json()["items"]] == [d.pk]
    assert api.get("/cases", source="resident").json()["total"] == 1
    assert api.get("/cases", grid=world.grid2.pk).json()["total"] == 1
    assert api.get("/cases", department=world.dept.pk).json()["total"] == 1
    assert api.get("/cases", q="井盖").json()["total"] == 1
    assert api.get("/cases", light="green").json()["total"] == 1
    assert api.get("/cases", category=world.category.code).json()["total"] == 9
    today = made[0].created_at.astimezone().date().isoformat()
    assert api.get("/cases", date_from=today, date_to=today).json()["total"] == 9
    assert api.get("/cases", date_from="2000-01-01", date_to="2000-01-02").json()["total"] == 0
    bad = api.get("/cases", status="nope")
    assert bad.status_code == 422 and bad.json()["field"] == "status"
    bad = api.get("/cases", limit=0)
    assert bad.status_code == 422 and bad.json()["field"] == "limit"
    bad = api.get("/cases", light="purple")
    assert bad.status_code == 422 and bad.json()["field"] == "light"


def test_list_is_scoped_and_phone_masked(api_client, world):
    c = world.to_state("dispatched", reporter_phone="13812345678")
    world.report(grid=world.other_grid)
    r = api_client.login(world.handler).get("/cases").json()
    assert r["total"] == 1 and r["items"][0]["reporter_phone"] == "138****5678"
    r = api_client.login(world.dispatcher).get(f"/cases/{c.pk}").json()
    assert r["reporter_phone"] == "13812345678"
    assert api_client.login(world.auditor).get("/cases").json()["total"] == 0


def test_categories_and_inbox(api_client, world):
    api = api_client.login(world.grid_worker)
    tree = api.get("/cases/categories").json()
    codes = {m["code"] for m in tree}
    assert {"B01", "S06", "J91", "J92"} <= codes
    s06 = next(m for m in tree if m["code"] == "S06")
    garbage = next(c for c in s06["children"] if c["code"] == "S06010")
    assert garbage["name"] == "暴露垃圾" and garbage["grid_worker_can_file"] is True
    handled = world.to_state("handled")
    inbox = api.get("/cases/inbox").json()
    assert [i["id"] for i in inbox["items"]] == [handled.pk]


def test_extension_and_merge_over_http(api_client, world):
    c = world.to_state("handling")
    api = api_client.login(world.handler)
    r = api.post(
        f"/cases/{c.pk}/request-extension",
        {"version": c.version, "amount": 3, "unit": "natural_hours", "reason": "等待"},
    )
    assert r.status_code == 200 and r.json()["pending_extension"]["amount"] == 3
    v = r.json()["version"]
    r = api_client.login(world.shift_leader).post(f"/cases/{c.pk}/approve-extension", {"version": v})
    assert (
        r.status_code == 200 and r.json()["extension_amount"] == 3 and r.json()["pending_extension"] is None
    )
    a, b = world.report(), world.report()
    r = api_client.login(world.dispatcher).post(
        f"/cases/{a.pk}/merge", {"version": a.version, "target_case": b.pk}
    )
    assert r.status_code == 200 and r.json()["duplicate_of"] == b.pk and r.json()["state"] == "merged"
