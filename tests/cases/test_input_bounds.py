"""Hostile API input gets a quick 413/422 naming the problem, never a 500 or minutes of work: integers beyond
the database's range, NUL bytes (PostgreSQL cannot store them: these tests run on both databases), oversized
bodies and id lists, broken multipart."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.accounts.services import issue_token
from civicgrid.cases.models import Case

pytestmark = pytest.mark.django_db

HUGE = 2**64
ERROR_KEYS = {"code", "detail"}


@pytest.fixture
def api(api_client, world):
    api_client.c.raise_request_exception = False
    _, key = issue_token(actor=world.dispatcher, user=world.dispatcher, name="模糊测试")
    return api_client.token(key)


def _refused(r, status=422, field=None):
    assert r.status_code == status, (r.status_code, r.content[:300])
    body = r.json()
    assert set(body) >= ERROR_KEYS and body["detail"]
    if field:
        assert body["field"] == field, body
    return body


@pytest.mark.parametrize(
    "params,field",
    [
        ({"limit": -1}, "limit"),
        ({"limit": HUGE}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": HUGE}, "offset"),
        ({"grid": HUGE}, "grid"),
        ({"grid": -5}, "grid"),
        ({"department": HUGE}, "department"),
    ],
)
def test_list_paging_and_ids_out_of_range_are_422(api, params, field):
    _refused(api.get("/cases", **params), field=field)


@pytest.mark.parametrize("params", [{"limit": -5}, {"limit": HUGE}, {"offset": -1}, {"offset": 2**70}])
def test_inbox_paging_out_of_range_is_422(api, params):
    _refused(api.get("/cases/inbox", **params))


def test_ids_and_versions_beyond_bigint_are_422(api, world):
    case = world.report()
    base = {"source": "hotline_12345", "description": "路灯不亮"}
    _refused(api.post("/cases", {**base, "grid": HUGE}), field="grid")
    _refused(api.post("/cases", {**base, "category": -1}), field="category")
    _refused(api.post("/cases", {**base, "attachment_ids": [HUGE]}), field="attachment_ids.0")
    _refused(api.post(f"/cases/{case.pk}/accept", {"version": HUGE}), field="version")
    _refused(api.post(f"/cases/{case.pk}/merge", {"version": case.version, "target_case": HUGE}))
    _refused(api.get(f"/cases/{HUGE}"), field="case_id")
    assert Case.objects.count() == 1


def test_a_long_attachment_id_list_is_refused_at_once(api):
    # 200 000 ids: over the 1 MB JSON limit, refused before parsing
    body = {"source": "hotline_12345", "description": "路灯不亮", "attachment_ids": list(range(1, 200_001))}
    detail = _refused(api.post("/cases", body), status=413)["detail"]
    assert "请求体过大" in detail and "1 MB" in detail
    # 21 ids: parsed, refused by the schema
    body["attachment_ids"] = list(range(1, 22))
    _refused(api.post("/cases", body), field="attachment_ids")


def test_a_25_mb_json_body_is_413_with_a_clear_message(api):
    body = json.dumps({"source": "hotline_12345", "description": "x" * (25 * 1024 * 1024)})
    r = api.c.post("/api/v1/cases", body, content_type="application/json", **api.headers)
    assert "25 MB" in _refused(r, status=413)["detail"]
    assert not Case.objects.exists()


def test_validation_errors_do_not_echo_a_huge_input(api):
    r = api.post("/cases", {"source": "hotline_12345", "description": "长" * 100_000})
    _refused(r, field="description")
    assert len(r.content) < 5_000


def test_an_oversized_photo_upload_is_413(api_client, world):
    api_client.c.raise_request_exception = False
    api = api_client.login(world.handler)
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"0" * (12 * 1024 * 1024), content_type="image/jpeg")
    r = api.c.post("/api/v1/cases/attachments", {"file": big})
    assert "11 MB" in _refused(r, status=413)["detail"]


def test_finish_with_an_empty_or_broken_multipart_body_is_422(api_client, world):
    api_client.c.raise_request_exception = False
    case = world.to_state("handling")
    _, key = issue_token(actor=world.handler, user=world.handler, name="处置端")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    url = f"/api/v1/cases/{case.pk}/finish"
    for content_type, body in [
        ("multipart/form-data; boundary=XXX", b"--XXX--\r\n"),
        ("multipart/form-data; boundary=XXX", b""),
        ("multipart/form-data", b""),
    ]:
        _refused(api_client.c.generic("POST", url, body, content_type=content_type, **auth), field="version")
    r = api_client.c.generic("POST", url, b"garbage", content_type="multipart/form-data", **auth)
    assert "multipart" in _refused(r)["detail"]
    r = api_client.c.post(
        url, {"version": case.version, "note": "好了", "attachment_ids": ",".join(["1"] * 21)}, **auth
    )
    _refused(r, field="attachment_ids")
    case.refresh_from_db()
    assert case.state == "handling"


@pytest.mark.parametrize(
    "field", ["description", "address", "reporter_name", "reporter_phone", "source_ref", "category_code"]
)
def test_nul_bytes_in_create_are_422_naming_the_field(api, field):
    body = {"source": "hotline_12345", "description": "路灯不亮", field: "坏\x00了"}
    detail = _refused(api.post("/cases", body), field=field)["detail"]
    assert "控制字符" in detail
    assert not Case.objects.exists()


def test_nul_bytes_in_list_filters_and_moves_are_422(api, world):
    for params in ({"q": "垃圾\x00"}, {"status": "reported\x00"}, {"category": "\x00"}):
        _refused(api.get("/cases", **params), field=next(iter(params)))
    _refused(api.get("/places/lookup-address", q="示范\x00路"), field="q")
    case = world.report()
    _refused(api.post(f"/cases/{case.pk}/accept", {"version": case.version, "note": "\x00"}), field="note")
    r = api.post(
        "/cases", {"source": "hotline_12345", "description": "路灯不亮"}, HTTP_IDEMPOTENCY_KEY="k" * 101
    )
    _refused(r, field="Idempotency-Key")
    # tabs and line breaks are ordinary text
    r = api.post("/cases", {"source": "hotline_12345", "description": "第一行\n\t第二行"})
    assert r.status_code == 201, r.content


def test_bad_path_ids_and_unknown_api_paths_answer_json(api):
    for path in ("/cases/abc", "/cases/-3/accept", f"/cases/{HUGE}/sign"):
        r = api.get(path) if path == "/cases/abc" else api.post(path, {"version": 1})
        assert r.status_code in (404, 422) and r["Content-Type"].startswith("application/json"), path
        assert _refused(r, status=r.status_code)
    r = api.get("/no-such-endpoint")
    assert "接口不存在" in _refused(r, status=404)["detail"]


def test_web_pages_refuse_nul_bytes_in_parameters(client, world):
    """Views that read parameters directly (audit filters, tracking code, patrol idempotency key)."""
    client.raise_request_exception = False
    client.force_login(world.auditor)
    r = client.get("/audit/", {"object_id": "1\x00", "actor": "x"})
    assert r.status_code == 400 and "object_id" in r.content.decode() and "NUL" in r.content.decode()
    client.logout()
    r = client.get("/s/t/", {"code": "7K3QF\x002M9XD"})
    assert r.status_code == 400
    client.force_login(world.grid_worker)
    r = client.post("/field/", {"description": "垃圾", "idempotency_key": "k\x00"})
    assert r.status_code == 400 and "idempotency_key" in r.content.decode()
    assert not Case.objects.exists()


def test_finish_takes_at_most_six_photos_and_the_web_form_body_is_capped(api_client, world):
    from tests.cases.factories import png_bytes

    api_client.c.raise_request_exception = False
    case = world.to_state("handling")
    api = api_client.login(world.handler)
    photos = [SimpleUploadedFile(f"p{i}.png", png_bytes(), content_type="image/png") for i in range(7)]
    r = api.c.post(
        f"/api/v1/cases/{case.pk}/finish", {"version": case.version, "note": "好了", "photos": photos}
    )
    assert "最多上传 6 张" in _refused(r, field="photos")["detail"]
    # the case page's forms: 6 photos of 10 MB at most
    r = api.c.post(
        f"/cases/{case.pk}/",
        b"x",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=62 * 1024 * 1024,
    )
    assert r.status_code == 413 and "61 MB" in r.content.decode()
