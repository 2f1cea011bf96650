"""discovery, services, service definitions; the shared schemas; 403/404 on reads."""

from __future__ import annotations

import pytest

from civicgrid.cases.models import Category
from tests.open311.helpers import assert_error


def test_schema_harness_rejects_bad_bodies(schemas):
    """The validators are not vacuous: $refs resolve and wrong bodies fail."""
    good = [{"service_code": "X", "service_name": "x", "metadata": False, "type": "realtime"}]
    schemas.validate(good, "services.json")
    assert schemas.errors([{**good[0], "type": "sometimes"}], "services.json")
    request = {"service_request_id": "1", "status": "open", "service_code": "X"}
    assert schemas.errors([request], "requests.json")  # requested_datetime missing
    assert schemas.errors(
        [{**request, "requested_datetime": "2025-01-01T08:00:00"}], "requests.json"
    )  # no tz
    schemas.validate([{**request, "requested_datetime": "2025-01-01T08:00:00+08:00"}], "requests.json")
    assert schemas.errors({"service_request_id": 5}, "swagger.json#/definitions/TokenResponse")


def test_services_json(o311, place, schemas):
    body = o311.json(o311.get("services.json"))
    schemas.validate(body, "services.json")
    by_code = {s["service_code"]: s for s in body}
    expected = Category.objects.filter(level="minor", is_enabled=True, is_public=True).count()
    assert len(body) == expected > 100
    assert not any(s["service_code"] in ("S06", "B01", "J92") for s in body)  # 大类 are groups, not services
    garbage = by_code["S06010"]
    assert garbage["service_name"] == "暴露垃圾"
    assert garbage["group"] == "市容环境类"
    assert garbage["type"] == "realtime" and garbage["metadata"] is True
    assert by_code["J92005"]["keywords"] == "飞线充电,楼道充电,电瓶车充电"
    assert by_code["B01001"]["group"] == "市政公用设施"


def test_services_leave_out_disabled_categories(o311, place):
    Category.objects.filter(code="S06010").update(is_enabled=False)
    Category.objects.filter(code="J91").update(is_enabled=False)  # a disabled 大类 hides its 小类
    codes = {s["service_code"] for s in o311.json(o311.get("services.json"))}
    assert "S06010" not in codes
    assert not any(c.startswith("J91") for c in codes)
    assert "S06012" in codes
    assert o311.get("services/S06010.json").status_code == 404


def test_services_xml(o311, place):
    root = o311.xml(o311.get("services.xml"))
    assert root.tag == "services"
    services = root.findall("service")
    assert len(services) == len(o311.json(o311.get("services.json")))
    j = next(s for s in services if s.findtext("service_code") == "J92001")
    assert j.findtext("service_name") == "消防安全隐患"
    assert j.findtext("group") == "安全隐患"
    assert j.findtext("keywords") == "消防,堵塞安全出口,灭火器"
    assert j.findtext("metadata") == "true" and j.findtext("type") == "realtime"


@pytest.mark.parametrize("code", ["S06010", "B01001", "J92001"])
def test_service_definition_json(o311, place, schemas, code):
    body = o311.json(o311.get(f"services/{code}.json"))
    schemas.validate(body, "service-definition.json")
    assert body["service_code"] == code
    attrs = {a["code"]: a for a in body["attributes"]}
    severity = attrs["severity"]
    assert severity["datatype"] == "singlevaluelist" and severity["required"] is True
    assert {v["key"] for v in severity["values"]} == {"minor", "moderate", "severe"}
    assert attrs["note"]["datatype"] == "string" and attrs["note"]["required"] is False
    assert attrs["note"]["description"] == "补充说明"
    assert [a["order"] for a in body["attributes"]] == list(range(1, len(body["attributes"]) + 1))


def test_service_definitions_differ_per_kind(o311, place):
    component = {a["code"] for a in o311.json(o311.get("services/B01001.json"))["attributes"]}
    matter = {a["code"] for a in o311.json(o311.get("services/S06010.json"))["attributes"]}
    assert "component_state" in component and "component_state" not in matter


def test_service_definition_xml(o311, place):
    root = o311.xml(o311.get("services/B01001.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "B01001"
    attrs = root.find("attributes").findall("attribute")
    severity = next(a for a in attrs if a.findtext("code") == "severity")
    assert severity.findtext("datatype") == "singlevaluelist"
    assert severity.findtext("required") == "true" and severity.findtext("variable") == "true"
    keys = [v.findtext("key") for v in severity.find("values").findall("value")]
    assert keys == ["minor", "moderate", "severe"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_is_404(o311, place, fmt):
    assert "NOPE" in assert_error(o311, o311.get(f"services/NOPE.{fmt}"), 404, fmt)


def test_unknown_format_and_endpoint_are_404(o311, place):
    assert_error(o311, o311.get("services.csv"), 404)
    assert_error(o311, o311.get("services/S06010.html"), 404)
    assert_error(o311, o311.get("requests.yaml"), 404)
    assert_error(o311, o311.get("nothing.json"), 404)
    assert_error(o311, o311.get("nothing.xml"), 404, "xml")
    assert_error(o311, o311.get("services"), 404)


def test_reads_with_a_bad_key_are_403(o311, place):
    assert_error(o311, o311.get("services.json", api_key="wrong"), 403)
    assert_error(o311, o311.get("services.xml", api_key="wrong"), 403, "xml")
    assert o311.get("services.json", api_key=place.plain).status_code == 200


def test_unknown_jurisdiction_is_404_and_foreign_one_403(o311, place):
    assert_error(o311, o311.get("services.json", jurisdiction_id="999999999"), 404)
    assert o311.get("services.json", jurisdiction_id=place.street.code).status_code == 200
    assert_error(
        o311, o311.get("services.json", api_key=place.plain, jurisdiction_id=place.other_street.code), 403
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery(o311, place, fmt):
    response = o311.get(f"discovery.{fmt}")
    if fmt == "json":
        body = o311.json(response)
        assert body["changeset"].endswith("+08:00")
        endpoint = body["endpoints"][0]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"] == "http://testserver/open311/v2/"
        assert set(endpoint["formats"]) == {"text/xml", "application/json"}
        assert endpoint["type"] == "production"
    else:
        root = o311.xml(response)
        assert root.tag == "discovery"
        endpoint = root.find("endpoints").find("endpoint")
        assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
        assert [f.text for f in endpoint.find("formats").findall("format")] == [
            "text/xml",
            "application/json",
        ]
        assert root.findtext("key_service")


def test_root_serves_discovery(o311, place):
    assert o311.json(o311.get(""))["endpoints"][0]["url"] == "http://testserver/open311/v2/"


def test_wrong_method_is_refused(o311, place):
    response = o311.post("services.json", {})
    assert response.status_code == 405 and response["Allow"] == "GET"
