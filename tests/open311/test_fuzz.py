"""Open311 under hostile input: NUL bytes and control characters in any parameter are a 400 in the spec's error
format (PostgreSQL cannot store NUL: these run on both databases), oversized bodies a 413, and a
hypothesis fuzz over every parameter of every endpoint never gets a 5xx."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicgrid.cases.models import Case
from tests.open311.helpers import assert_error, point

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_raise(client):
    client.raise_request_exception = False


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "name", ["service_code", "description", "address_string", "media_url", "first_name", "api_key", "lat"]
)
def test_nul_in_a_posted_request_is_400_naming_the_parameter(o311, place, name, fmt):
    lng, lat = point(0)
    data = {
        "api_key": place.plain,
        "service_code": place.matter.code,
        "lat": str(lat),
        "long": str(lng),
        "description": "垃圾没人清理",
        "attribute[severity]": "moderate",
    }
    data[name] = (data.get(name) or "x") + "\x00"
    text = assert_error(o311, o311.post(f"requests.{fmt}", data), 400, fmt)
    assert name in text and "控制字符" in text
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "path,params",
    [
        ("requests.json", {"service_code": "S06010\x00"}),
        ("requests.json", {"status": "open\x00"}),
        ("requests.json", {"start_date": "2025-01-01\x00"}),
        ("requests.json", {"service_request_id": "1\x00,2"}),
        ("requests.json", {"jurisdiction_id": "\x00"}),
        ("services.json", {"api_key": "k\x00"}),
        ("servicerequestupdates.json", {"end_date": "\x01"}),
        ("services/S06010\x00.json", {}),
        ("requests/1\x00.json", {}),
        ("tokens/\x00abc.json", {}),
    ],
)
def test_nul_in_a_query_or_path_is_400(o311, place, path, params):
    assert "控制字符" in assert_error(o311, o311.get(path, **params), 400)


def test_an_oversized_post_is_413_in_the_spec_error_format(o311, place):
    r = o311.post("requests.xml", {"api_key": place.plain, "description": "x" * (2 * 1024 * 1024)})
    assert "请求体过大" in assert_error(o311, r, 413, "xml")


def test_an_overlong_parameter_is_400(o311, place):
    r = o311.get("requests.json", service_code="S" * 20_000)
    assert "过长" in assert_error(o311, r, 400)


_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "S06010",
            "open",
            "closed",
            "open,closed",
            "2025-01-01",
            "2025-01-01T00:00:00+08:00",
            "S06010\x00",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
_PARAMS = [
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "description",
    "media_url",
    "start_date",
    "end_date",
    "status",
    "jurisdiction_id",
    "api_key",
    "service_request_id",
    "update_id",
    "updated_datetime",
    "attribute[severity]",
    "email",
    "phone",
]
_PATHS = [
    "requests",
    "services",
    "servicerequestupdates",
    "discovery",
    "services/{v}",
    "requests/{v}",
    "tokens/{v}",
]


@settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(_PATHS),
    fmt=st.sampled_from(["json", "xml", "JSON", "html"]),
    method=st.sampled_from(["GET", "POST"]),
    params=st.dictionaries(st.sampled_from(_PARAMS), _text, max_size=6),
    with_key=st.booleans(),
    segment=st.text(alphabet=st.characters(blacklist_characters="/?#%"), min_size=1, max_size=12),
)
def test_fuzzed_open311_calls_never_answer_5xx(o311, place, path, fmt, method, params, with_key, segment):
    if with_key:
        params = {**params, "api_key": place.plain}
    url = f"{path.format(v=segment)}.{fmt}"
    r = o311.get(url, **params) if method == "GET" else o311.post(url, params)
    assert r.status_code < 500, (method, url, params, r.status_code, r.content[:300])
