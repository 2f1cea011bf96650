"""What the public Open311 reads may show: only categories marked 对外公开 (never 信访, 纠纷, personal registers, nor
the 信访/舆情 channels), free text scrubbed of phone numbers, ID numbers and names, lookups by id inside the 90-day
window, and — when the deployment asks for it — an api_key on every read. servicerequestupdates follows the same
rules."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from civicgrid.cases import services as case_services
from civicgrid.cases.admin import CategoryAdmin
from civicgrid.cases.models import Case, Category, Source
from civicgrid.core import clock
from civicgrid.open311.models import ServiceRequest
from tests.factories import UserFactory
from tests.open311.helpers import assert_error, point

PRIVATE_CODES = ("J91001", "J93001", "J93002", "J94001", "J94005", "J95002", "J96001", "J99001", "S09003")
SECRETS = ("13912345678", "87654321", "110105194912310021", "王小明", "张三丰", "王先生", "李女士")


def _window() -> dict:
    now = clock.now()
    return {
        "start_date": clock.to_local(now - timedelta(days=1)).isoformat(),
        "end_date": clock.to_local(now + timedelta(minutes=5)).isoformat(),
    }


def _numbered_case(place, *, category: Category, source: str = Source.HOTLINE_12345, **kw) -> Case:
    lng, lat = point(1)
    case = case_services.create_case(
        actor=place.dispatcher,
        source=source,
        description=kw.pop("description", "来电人反映的问题"),
        category=category,
        lng=lng,
        lat=lat,
        reporter_name=kw.pop("reporter_name", "李四"),
        reporter_phone="13900000000",
        **kw,
    )
    case = case_services.perform(actor=place.dispatcher, case=case, move="accept", version=case.version)
    case_services.add_public_note(actor=place.dispatcher, case=case, note="已联系反映人，正在协调")
    return case


# --- categories -----------------------------------------------------------------------------------


def test_private_categories_are_not_services(o311, place, schemas):
    body = o311.json(o311.get("services.json"))
    schemas.validate(body, "services.json")
    codes = {s["service_code"] for s in body}
    assert "S06010" in codes and "J92001" in codes  # 暴露垃圾, 消防安全隐患: public
    for code in PRIVATE_CODES:
        assert code not in codes
        assert_error(o311, o311.get(f"services/{code}.json"), 404)
    assert not any(c.startswith(("J91", "J93", "J94", "J95")) for c in codes)
    # … and a client cannot file one
    lng, lat = point(0)
    response = o311.post(
        "requests.json",
        {
            "api_key": place.plain,
            "service_code": "J93002",
            "lat": lat,
            "long": lng,
            "attribute[severity]": "minor",
        },
    )
    assert "J93002" in assert_error(o311, response, 400)
    assert not Case.objects.exists()


@pytest.mark.parametrize("code", ["J93001", "J91001", "J94001"])
def test_cases_in_private_categories_are_never_shown(o311, place, code):
    case = _numbered_case(place, category=Category.objects.get(code=code))
    for params in ({}, {"api_key": place.plain}):
        assert o311.json(o311.get("requests.json", **params)) == []
        assert_error(o311, o311.get(f"requests/{case.number}.json", **params), 404)
        assert_error(o311, o311.get(f"requests/{case.number}.xml", **params), 404, "xml")
        assert o311.json(o311.get("requests.json", service_request_id=case.number, **params)) == []
        assert o311.json(o311.get("servicerequestupdates.json", **_window(), **params)) == []


@pytest.mark.parametrize("source", [Source.PETITION, Source.MEDIA])
def test_petition_and_media_cases_are_never_shown_whatever_their_category(o311, place, source):
    case = _numbered_case(place, category=place.matter, source=source, source_ref="XF-2026-001")
    assert_error(o311, o311.get(f"requests/{case.number}.json"), 404)
    assert o311.json(o311.get("requests.json")) == []
    assert o311.json(o311.get("servicerequestupdates.json", **_window())) == []


def test_the_flag_is_the_administrators_to_set(o311, place, submit):
    assert "is_public" in CategoryAdmin.list_editable and "is_public" in CategoryAdmin.list_filter
    srid = submit()["service_request_id"]
    case = _numbered_case(place, category=place.matter)
    assert o311.get(f"requests/{srid}.json").status_code == 200

    Category.objects.filter(code="S06").update(is_public=False)  # the 大类 hides its 小类
    assert "S06010" not in {s["service_code"] for s in o311.json(o311.get("services.json"))}
    assert_error(o311, o311.get(f"requests/{srid}.json"), 404)
    assert_error(o311, o311.get(f"requests/{case.number}.json"), 404)
    assert o311.json(o311.get("servicerequestupdates.json", **_window())) == []

    Category.objects.filter(code="S06").update(is_public=True)
    Category.objects.filter(code="J93001").update(is_public=True)
    Category.objects.filter(code="J93").update(is_public=True)
    assert "J93001" in {s["service_code"] for s in o311.json(o311.get("services.json"))}
    assert o311.get(f"requests/{srid}.json").status_code == 200


# --- free text ------------------------------------------------------------------------------------


def test_phone_id_numbers_and_names_are_scrubbed_from_every_text(o311, place, submit, schemas):
    srid = submit(
        description="王小明反映：楼下王先生家门口垃圾堆积，联系人：张三丰，电话13912345678，"
        "身份证110105194912310021，座机0571-87654321（20261120 巡查发现，井盖编号 JG-0012）",
        address_string="示范路 8 号（李女士 13912345678）",
    )["service_request_id"]
    staff = UserFactory(role="dispatcher", full_name="赵受理", username="zhaosl")
    case = ServiceRequest.objects.get(service_request_id=srid).case
    case_services.add_public_note(actor=staff, case=case, note="赵受理已联系李女士（13912345678），明日清运")
    o311.post(
        "servicerequestupdates.json",
        {
            "api_key": place.plain,
            "service_request_id": srid,
            "status": "in_progress",
            "description": "物业王先生回电 0571 87654321，身份证 110105194912310021",
            "updated_datetime": "2026-11-20T10:00:00+08:00",
        },
    )

    for response in (o311.get(f"requests/{srid}.json"), o311.get("requests.json")):
        body = o311.json(response)
        schemas.validate(body, "requests.json")
        item = next(r for r in body if r["service_request_id"] == srid)
        text = json.dumps(body, ensure_ascii=False)
        for secret in SECRETS:
            assert secret not in text
        assert "139****5678" in item["description"] and "1****************1" in item["description"]
        assert "王**反映" in item["description"] and "某先生" in item["description"]
        assert "联系人：***" in item["description"] and "垃圾堆积" in item["description"]
        assert "（20261120 巡查发现，井盖编号 JG-0012）" in item["description"]  # dates and codes stay
        assert item["address"] == "示范路 8 号（某女士 139****5678）"
    xml = o311.get(f"requests/{srid}.xml").content.decode()
    assert not any(secret in xml for secret in SECRETS)

    response = o311.get("servicerequestupdates.json", **_window())
    updates = o311.json(response)
    text = response.content.decode()
    for secret in (*SECRETS, "赵受理", "zhaosl"):
        assert secret not in text
    notes = [u["description"] for u in updates if u["service_request_id"] == srid]
    assert "工作人员已联系某女士（139****5678），明日清运" in notes
    assert "物业某先生回电 057*****4321，身份证 1****************1" in notes
    xml = o311.get("servicerequestupdates.xml", **_window()).content.decode()
    assert not any(secret in xml for secret in SECRETS)


# --- the window -----------------------------------------------------------------------------------


def test_lookups_by_id_stay_inside_the_90_day_window(o311, place, submit, schemas):
    with clock.frozen(clock.now() - timedelta(days=100)):
        old_srid = submit()["service_request_id"]
        old_case = _numbered_case(place, category=place.matter)
    recent = _numbered_case(place, category=place.matter)
    unknown = assert_error(o311, o311.get("requests/311-20200101-NOPE.json"), 404)
    assert "311-20200101-NOPE" in unknown

    for ident in (old_srid, old_case.number):
        text = assert_error(o311, o311.get(f"requests/{ident}.json"), 404)
        assert text == f"服务请求不存在：{ident}"  # the same answer as an unknown id
        assert_error(o311, o311.get(f"requests/{ident}.xml"), 404, "xml")
    ids = f"{old_srid},{old_case.number},{recent.number}"
    assert [
        r["service_request_id"] for r in o311.json(o311.get("requests.json", service_request_id=ids))
    ] == [recent.number]
    # the key that submitted a request may follow it beyond the window; not other old cases
    body = o311.json(o311.get(f"requests/{old_srid}.json", api_key=place.plain))
    schemas.validate(body, "requests.json")
    assert body[0]["service_request_id"] == old_srid
    assert_error(o311, o311.get(f"requests/{old_case.number}.json", api_key=place.plain), 404)
    assert o311.get(f"requests/{recent.number}.json").status_code == 200


# --- the read-key setting -------------------------------------------------------------------------


@pytest.fixture
def reads_need_a_key(settings):
    settings.CIVICGRID = {**settings.CIVICGRID, "OPEN311_READ_REQUIRES_KEY": True}


def test_the_setting_is_off_by_default(o311, place):
    from django.conf import settings

    assert settings.CIVICGRID["OPEN311_READ_REQUIRES_KEY"] is False
    assert o311.get("services.json").status_code == 200


@pytest.mark.usefixtures("reads_need_a_key")
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_reads_require_a_key_when_configured(o311, place, submit, schemas, fmt):
    body = submit()
    srid, token = body["service_request_id"], body["token"]
    paths = (
        f"services.{fmt}",
        f"services/S06010.{fmt}",
        f"requests.{fmt}",
        f"requests/{srid}.{fmt}",
        f"tokens/{token}.{fmt}",
        f"servicerequestupdates.{fmt}",
    )
    for path in paths:
        assert "api_key" in assert_error(o311, o311.get(path), 403, fmt)
        assert "api_key" in assert_error(o311, o311.get(path, jurisdiction_id=place.street.code), 403, fmt)
        assert o311.get(path, api_key=place.plain).status_code == 200
    assert o311.get(f"discovery.{fmt}").status_code == 200  # how to get a key stays public
    mine = o311.json(o311.get(f"requests/{srid}.json", api_key=place.plain))
    schemas.validate(mine, "requests.json")
