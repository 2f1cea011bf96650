"""POST/GET requests, requests/{id}, tokens/{token}: case creation through the case engine, public fields,
filters and the 90-day default, scoping by key, and every error path."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from civicgrid.cases import selectors as case_selectors
from civicgrid.cases import services as case_services
from civicgrid.cases.models import Case, CaseEvent, CaseState, Source
from civicgrid.core import clock
from civicgrid.core.models import AuditLog
from civicgrid.open311 import selectors, services
from civicgrid.open311.models import ServiceRequest
from tests.factories import BuildingFactory, DepartmentFactory
from tests.open311.helpers import assert_error, point

RESPONSE_SCHEMA = "swagger.json#/definitions/RequestResponse"
TOKEN_SCHEMA = "swagger.json#/definitions/TokenResponse"


# --- create ---------------------------------------------------------------------------------------


def test_post_creates_a_case_through_the_case_engine(o311, place, submit, schemas):
    body = submit(**{"attribute[note]": "靠近垃圾桶"})
    schemas.validate_items([body], RESPONSE_SCHEMA)
    srid = body["service_request_id"]
    assert srid.startswith("311-") and body["account_id"] == "acct-9" and body["token"]

    sr = ServiceRequest.objects.select_related("case").get(service_request_id=srid)
    case = sr.case
    assert case.source == Source.OPEN311 and case.source_ref == srid
    assert case.category == place.matter and case.state == CaseState.REPORTED
    assert case.grid == place.grid and case.community == place.community  # located by the case engine
    assert case.reporter_name == "王小明" and case.reporter_phone == "13800000001"
    assert "严重程度：一般" in case.description and "补充说明：靠近垃圾桶" in case.description
    assert case.created_by == place.key.service_user
    assert sr.attributes == {"severity": "moderate", "note": "靠近垃圾桶"}
    assert (sr.email, sr.device_id, sr.account_id) == ("wang@example.com", "dev-1", "acct-9")
    assert CaseEvent.objects.filter(case=case, move="create").exists()
    assert case_selectors.visible_cases(user=place.dispatcher).filter(pk=case.pk).exists()
    audit_row = AuditLog.objects.get(action="open311.request.create", object_id=str(sr.pk))
    assert audit_row.actor_username == "open311:市民服务平台" and audit_row.after["case"] == case.pk


def test_post_xml_response(o311, place, submit):
    root = submit("xml")
    assert root.tag == "service_requests"
    request = root.find("request")
    srid = request.findtext("service_request_id")
    assert ServiceRequest.objects.filter(service_request_id=srid).exists()
    assert request.findtext("account_id") == "acct-9"
    assert request.findtext("token") and request.findtext("service_notice")


def test_post_with_address_string_only(o311, place, submit):
    body = submit(lat=None, long=None, address_string="示范路 8 号门口")
    case = ServiceRequest.objects.get(service_request_id=body["service_request_id"]).case
    assert case.address == "示范路 8 号门口" and case.lng is None and case.lat is None
    shown = o311.json(o311.get(f"requests/{body['service_request_id']}.json"))[0]
    assert shown["address"] == "示范路 8 号门口" and shown["lat"] is None and shown["long"] is None


def test_post_with_address_id_uses_the_building(o311, place, submit):
    lng, lat = point(1)
    building = BuildingFactory(grid=place.grid2, address="示范路 20 号", lng=lng, lat=lat)
    body = submit(lat=None, long=None, address_id=str(building.pk))
    case = ServiceRequest.objects.get(service_request_id=body["service_request_id"]).case
    assert case.address == "示范路 20 号" and case.grid == place.grid2
    assert (case.lng, case.lat) == (lng, lat)
    shown = o311.json(o311.get(f"requests/{body['service_request_id']}.json"))[0]
    assert shown["address_id"] == str(building.pk)


def test_post_component_with_all_attributes(o311, place, submit):
    body = submit(
        service_code=place.component.code,
        **{
            "attribute[severity]": "severe",
            "attribute[component_state]": "missing",
            "attribute[component_id]": "JG-0012",
        },
    )
    case = ServiceRequest.objects.get(service_request_id=body["service_request_id"]).case
    assert "部件状况：丢失" in case.description and "部件编号：JG-0012" in case.description


@pytest.mark.parametrize(
    ("overrides", "status", "needle"),
    [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "not-a-key"}, 403, "api_key"),
        ({"service_code": None}, 400, "service_code"),
        ({"service_code": "NOPE"}, 400, "NOPE"),
        ({"service_code": "S06"}, 400, "S06"),  # a 大类 is not a service
        ({"lat": None, "long": None}, 400, "位置"),
        ({"long": None}, 400, "long"),
        ({"lat": "north", "long": "120.1"}, 400, "lat"),
        ({"lat": "95", "long": "120.1"}, 400, "lat"),
        ({"lat": None, "long": None, "address_id": "987654"}, 400, "address_id"),
        ({"attribute[severity]": None}, 400, "severity"),
        ({"attribute[severity]": "apocalyptic"}, 400, "severity"),
        ({"attribute[colour]": "red"}, 400, "colour"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"email": "not-an-email"}, 400, "email"),
        ({"description": "很" * 4001}, 400, "description"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_errors(o311, place, overrides, status, needle, fmt):
    lng, lat = point(0)
    data = {
        "api_key": place.plain,
        "service_code": place.matter.code,
        "lat": str(lat),
        "long": str(lng),
        "attribute[severity]": "minor",
        "description": "测试",
    }
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    description = assert_error(o311, o311.post(f"requests.{fmt}", data), status, fmt)
    assert needle in description
    assert not Case.objects.exists() and not ServiceRequest.objects.exists()


def test_post_with_a_revoked_key_is_403(o311, place, submit):
    services.revoke_key(actor=None, key=place.key)
    lng, lat = point(0)
    response = o311.post(
        "requests.json",
        {
            "api_key": place.plain,
            "service_code": "S06010",
            "lat": lat,
            "long": lng,
            "attribute[severity]": "minor",
        },
    )
    assert "吊销" in assert_error(o311, response, 403)
    assert not Case.objects.exists()


def test_post_outside_the_keys_street_is_400(o311, place):
    lng, lat = point(8)  # the other 街道's grid
    response = o311.post(
        "requests.json",
        {
            "api_key": place.plain,
            "service_code": "S06010",
            "lat": lat,
            "long": lng,
            "attribute[severity]": "minor",
        },
    )
    assert "辖区" in assert_error(o311, response, 400)
    lng, lat = point(40)  # in no grid at all
    response = o311.post(
        "requests.json",
        {
            "api_key": place.plain,
            "service_code": "S06010",
            "lat": lat,
            "long": lng,
            "attribute[severity]": "minor",
        },
    )
    assert_error(o311, response, 400)
    assert not Case.objects.exists()


def test_post_with_a_foreign_jurisdiction_id_is_403(o311, place, submit):
    lng, lat = point(0)
    response = o311.post(
        "requests.json",
        {
            "api_key": place.plain,
            "jurisdiction_id": place.other_street.code,
            "service_code": "S06010",
            "lat": lat,
            "long": lng,
            "attribute[severity]": "minor",
        },
    )
    assert_error(o311, response, 403)


# --- read one -------------------------------------------------------------------------------------


def test_get_one_request_json_has_public_fields_only(o311, place, submit, schemas):
    srid = submit()["service_request_id"]
    response = o311.get(f"requests/{srid}.json")
    body = o311.json(response)
    schemas.validate(body, "requests.json")
    assert isinstance(body, list) and len(body) == 1
    item = body[0]
    assert item["service_request_id"] == srid
    assert item["status"] == "open" and item["status_notes"] == "上报"
    assert item["service_code"] == "S06010" and item["service_name"] == "暴露垃圾"
    assert item["requested_datetime"].endswith("+08:00") and item["updated_datetime"].endswith("+08:00")
    lng, lat = point(0)
    assert item["lat"] == pytest.approx(lat) and item["long"] == pytest.approx(lng)
    assert item["description"].startswith("小区门口有一堆暴露垃圾")
    text = response.content.decode()
    for secret in ("13800000001", "王小明", "小明", "wang@example.com", "dev-1", "acct-9", place.plain):
        assert secret not in text


def test_get_one_request_xml(o311, place, submit):
    srid = submit(media_url="https://img.example.com/p/1.jpg")["service_request_id"]
    root = o311.xml(o311.get(f"requests/{srid}.xml"))
    assert root.tag == "service_requests"
    requests = root.findall("request")
    assert len(requests) == 1
    r = requests[0]
    assert r.findtext("service_request_id") == srid
    assert r.findtext("status") == "open" and r.findtext("status_notes") == "上报"
    assert r.findtext("service_code") == "S06010" and r.findtext("service_name") == "暴露垃圾"
    assert r.findtext("requested_datetime").endswith("+08:00")
    assert r.findtext("media_url") == "https://img.example.com/p/1.jpg"
    lng, lat = point(0)
    assert float(r.findtext("lat")) == pytest.approx(lat) and float(r.findtext("long")) == pytest.approx(lng)
    assert r.find("agency_responsible") is not None and r.findtext("agency_responsible") == ""
    assert "13800000001" not in "".join(root.itertext())


def test_singular_request_path_from_swagger(o311, place, submit):
    srid = submit()["service_request_id"]
    assert o311.json(o311.get(f"request/{srid}.json"))[0]["service_request_id"] == srid


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_request_is_404(o311, place, fmt):
    assert "311-NOPE" in assert_error(o311, o311.get(f"requests/311-NOPE.{fmt}"), 404, fmt)


def test_unknown_format_of_a_request_is_404(o311, place, submit):
    srid = submit()["service_request_id"]
    assert_error(o311, o311.get(f"requests/{srid}.html"), 404)


def test_state_department_and_status_follow_the_case(o311, place, submit, schemas):
    srid = submit()["service_request_id"]
    case = ServiceRequest.objects.get(service_request_id=srid).case
    dept = DepartmentFactory(code="CGZD", name="城管中队")
    case = case_services.perform(actor=place.dispatcher, case=case, move="accept", version=case.version)
    case = case_services.perform(
        actor=place.dispatcher, case=case, move="dispatch", version=case.version, department=dept
    )
    body = o311.json(o311.get(f"requests/{srid}.json"))
    schemas.validate(body, "requests.json")
    item = body[0]
    assert item["service_request_id"] == srid  # still the Open311 id, not the case number
    assert item["status"] == "open" and item["status_notes"] == "已派遣待签收"
    assert item["agency_responsible"] == "城管中队"
    assert item["expected_datetime"] and item["expected_datetime"].endswith("+08:00")
    assert place.dispatcher.full_name not in json.dumps(body, ensure_ascii=False)


def test_rejected_request_is_closed(o311, place, submit, schemas):
    srid = submit()["service_request_id"]
    case = ServiceRequest.objects.get(service_request_id=srid).case
    case_services.perform(
        actor=place.dispatcher,
        case=case,
        move="reject",
        version=case.version,
        reason="内部：重复反映，张三核实",
    )
    body = o311.json(o311.get(f"requests/{srid}.json"))
    schemas.validate(body, "requests.json")
    assert body[0]["status"] == "closed" and body[0]["status_notes"] == "不予受理"
    assert body[0]["expected_datetime"] is None
    assert "张三" not in json.dumps(body, ensure_ascii=False)


def test_cases_from_other_channels_appear_once_numbered(o311, place, schemas):
    lng, lat = point(1)
    case = case_services.create_case(
        actor=place.dispatcher,
        source=Source.HOTLINE_12345,
        description="热线反映：路灯不亮",
        category=place.matter,
        lng=lng,
        lat=lat,
        reporter_name="李四",
        reporter_phone="13900000000",
    )
    assert o311.json(o311.get("requests.json")) == []  # not yet 立案: not public
    case = case_services.perform(actor=place.dispatcher, case=case, move="accept", version=case.version)
    assert case.number
    response = o311.get("requests.json")
    body = o311.json(response)
    schemas.validate(body, "requests.json")
    assert [r["service_request_id"] for r in body] == [case.number]
    assert o311.json(o311.get(f"requests/{case.number}.json"))[0]["status_notes"] == "已立案待派遣"
    assert "李四" not in response.content.decode() and "13900000000" not in response.content.decode()


# --- tokens ---------------------------------------------------------------------------------------


def test_token_resolves_to_the_request(o311, place, submit, schemas):
    body = submit()
    response = o311.get(f"tokens/{body['token']}.json")
    data = o311.json(response)
    schemas.validate_items(data, TOKEN_SCHEMA)
    assert data == [{"service_request_id": body["service_request_id"], "token": body["token"]}]

    root = o311.xml(o311.get(f"tokens/{body['token']}.xml"))
    assert root.tag == "service_requests"
    assert root.find("request").findtext("service_request_id") == body["service_request_id"]
    assert root.find("request").findtext("token") == body["token"]

    # another 街道's key does not resolve it
    assert_error(o311, o311.get(f"tokens/{body['token']}.json", api_key=place.other_plain), 404)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_token_is_404(o311, place, fmt):
    assert_error(o311, o311.get(f"tokens/nope.{fmt}"), 404, fmt)


# --- lists and filters ----------------------------------------------------------------------------


@pytest.fixture
def history(place, submit):
    """Three requests: 10 days ago (matter, open), 5 days ago (component, rejected → closed), 100 days ago."""
    now = clock.now()
    ids = {}
    with clock.frozen(now - timedelta(days=10)):
        ids["recent_open"] = submit()["service_request_id"]
    with clock.frozen(now - timedelta(days=5)):
        ids["recent_closed"] = submit(
            service_code=place.component.code, **{"attribute[component_state]": "damaged"}
        )["service_request_id"]
        case = ServiceRequest.objects.get(service_request_id=ids["recent_closed"]).case
        case_services.perform(
            actor=place.dispatcher, case=case, move="reject", version=case.version, reason="x"
        )
    with clock.frozen(now - timedelta(days=100)):
        ids["old"] = submit()["service_request_id"]
    ids["now"] = now
    return ids


def _ids(body) -> set[str]:
    return {r["service_request_id"] for r in body}


def test_default_is_the_last_90_days(o311, history, schemas):
    body = o311.json(o311.get("requests.json"))
    schemas.validate(body, "requests.json")
    assert _ids(body) == {history["recent_open"], history["recent_closed"]}
    assert body[0]["service_request_id"] == history["recent_closed"]  # newest first


def test_date_filters(o311, history, schemas):
    now = history["now"]
    start = clock.to_local(now - timedelta(days=120)).isoformat()
    end = clock.to_local(now - timedelta(days=60)).isoformat()
    body = o311.json(o311.get("requests.json", start_date=start, end_date=end))
    schemas.validate(body, "requests.json")
    assert _ids(body) == {history["old"]}

    # a bare date; and a "+" that arrived as a space (unencoded query string)
    day = clock.to_local(now - timedelta(days=10)).date().isoformat()
    assert _ids(o311.json(o311.get("requests.json", start_date=day, end_date=day))) == {
        history["recent_open"]
    }
    spaced = clock.to_local(now - timedelta(days=7)).isoformat(timespec="seconds").replace("+", " ")
    assert _ids(o311.json(o311.get("requests.json", start_date=spaced))) == {history["recent_closed"]}
    # UTC input
    utc = (now - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(o311.json(o311.get("requests.json", start_date=utc))) == {history["recent_closed"]}
    # only an end date: the 90 days before it
    end_only = clock.to_local(now - timedelta(days=8)).isoformat()
    assert _ids(o311.json(o311.get("requests.json", end_date=end_only))) == {history["recent_open"]}


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2025-13-45"},
        {"start_date": "2025-06-01", "end_date": "2025-01-01"},
        {"start_date": "2025-01-01", "end_date": "2025-06-01"},  # more than 90 days
        {"status": "pending"},
    ],
)
def test_bad_list_parameters_are_400(o311, place, params):
    assert_error(o311, o311.get("requests.json", **params), 400)
    assert_error(o311, o311.get("requests.xml", **params), 400, "xml")


def test_status_and_service_code_filters(o311, history, schemas):
    closed = o311.json(o311.get("requests.json", status="closed"))
    schemas.validate(closed, "requests.json")
    assert _ids(closed) == {history["recent_closed"]}
    assert _ids(o311.json(o311.get("requests.json", status="open"))) == {history["recent_open"]}
    assert len(o311.json(o311.get("requests.json", status="open,closed"))) == 2
    assert _ids(o311.json(o311.get("requests.json", service_code="B01001"))) == {history["recent_closed"]}
    assert _ids(o311.json(o311.get("requests.json", service_code="S06010,B01001"))) == {
        history["recent_open"],
        history["recent_closed"],
    }
    assert o311.json(o311.get("requests.json", service_code="S06010", status="closed")) == []


def test_service_request_ids_ignore_other_parameters(o311, place, history, schemas):
    wanted = f"{history['old']},{history['recent_open']},311-UNKNOWN"
    params = {"service_request_id": wanted, "status": "closed", "start_date": "x"}
    body = o311.json(o311.get("requests.json", api_key=place.plain, **params))
    schemas.validate(body, "requests.json")
    # the key that submitted them follows its own requests, the 100-day-old one too
    assert _ids(body) == {history["old"], history["recent_open"]}
    # anyone else: only within the 90-day window
    assert _ids(o311.json(o311.get("requests.json", **params))) == {history["recent_open"]}


def test_list_xml(o311, history):
    root = o311.xml(o311.get("requests.xml", status="closed"))
    assert root.tag == "service_requests"
    requests = root.findall("request")
    assert [r.findtext("service_request_id") for r in requests] == [history["recent_closed"]]
    assert requests[0].findtext("status") == "closed" and requests[0].findtext("status_notes") == "不予受理"


def test_at_most_max_rows(o311, history, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_ROWS", 1)
    assert len(o311.json(o311.get("requests.json"))) == 1


def test_the_row_limit_is_1000():
    assert selectors.MAX_ROWS == 1000


# --- scoping --------------------------------------------------------------------------------------


def test_a_key_sees_only_its_street(o311, place, submit, schemas):
    srid = submit()["service_request_id"]
    lng, lat = point(8)
    other = o311.json(
        o311.post(
            "requests.json",
            {
                "api_key": place.other_plain,
                "service_code": "S06010",
                "lat": lat,
                "long": lng,
                "attribute[severity]": "minor",
            },
        )
    )[0]["service_request_id"]

    mine = o311.json(o311.get("requests.json", api_key=place.plain))
    schemas.validate(mine, "requests.json")
    assert _ids(mine) == {srid}
    assert _ids(o311.json(o311.get("requests.json", api_key=place.other_plain))) == {other}
    assert _ids(o311.json(o311.get("requests.json", jurisdiction_id=place.street.code))) == {srid}
    assert _ids(o311.json(o311.get("requests.json"))) == {srid, other}  # public, no key: every 街道

    assert_error(o311, o311.get(f"requests/{srid}.json", api_key=place.other_plain), 404)
    assert_error(o311, o311.get(f"requests/{srid}.xml", jurisdiction_id=place.other_street.code), 404, "xml")
    ids = f"{srid},{other}"
    assert _ids(o311.json(o311.get("requests.json", api_key=place.plain, service_request_id=ids))) == {srid}


def test_a_revoked_key_cannot_read(o311, place, submit):
    submit()
    services.revoke_key(actor=None, key=place.key)
    assert_error(o311, o311.get("requests.json", api_key=place.plain), 403)


def test_api_key_may_come_in_the_query_string_of_a_post(o311, place):
    lng, lat = point(0)
    response = o311.c.post(
        f"/open311/v2/requests.json?api_key={place.plain}",
        {"service_code": "S06010", "lat": lat, "long": lng, "attribute[severity]": "minor"},
    )
    srid = o311.json(response)[0]["service_request_id"]
    assert ServiceRequest.objects.get(service_request_id=srid).key == place.key
