"""GeoReport v2 endpoints (plus FixMyStreet's ``servicerequestupdates``), each in ``.json`` and ``.xml``.

Reads are public (optionally narrowed by ``jurisdiction_id``) unless ``CIVICGRID["OPEN311_READ_REQUIRES_KEY"]``
(env ``CIVICGRID_OPEN311_READ_REQUIRES_KEY=1``) asks for a key on every read but ``discovery``; a read that carries
an ``api_key`` must carry a valid one and then sees only its 街道. What a read may show: :mod:`.selectors`.
Writes need a valid, unrevoked ``api_key`` and stay inside its 街道.
Errors are ``[{code, description}]`` with HTTP 400 (bad/missing parameter), 403 (api_key), 404 (unknown).
"""

from __future__ import annotations

import functools
import re
from datetime import timedelta

from django.conf import settings
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from civicgrid.cases.selectors import public_text
from civicgrid.core import clock
from civicgrid.core.validation import has_control_chars, short
from civicgrid.open311 import catalog, selectors, services
from civicgrid.open311.formats import (
    BadRequest,
    Forbidden,
    NotFound,
    Open311Error,
    check_format,
    iso,
    parse_datetime,
    render,
    render_error,
)
from civicgrid.open311.models import Open311Key, ServiceRequest
from civicgrid.places.models import Street

DEFAULT_WINDOW = timedelta(days=90)
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2025-11-22T00:00:00+08:00"
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")


def endpoint(*methods: str):
    """Format check, method check and error rendering for one Open311 view ``view(request, ..., fmt)``."""

    def deco(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, fmt: str = "json", **kwargs):
            try:
                fmt = check_format(fmt)
                if request.method not in methods:
                    response = render_error(
                        fmt,
                        Open311Error(405, f"不支持的请求方法 {request.method}，请使用 {'/'.join(methods)}"),
                    )
                    response["Allow"] = ", ".join(methods)
                    return response
                _check_params(request, kwargs)
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as exc:
                return render_error(fmt, exc)

        return wrapper

    return deco


MAX_PARAM_CHARS = 10_000


def _check_params(request, path_kwargs: dict) -> None:
    """Every parameter (query, form, path) is plain text of a sane length, before any of it reaches the
    database (PostgreSQL cannot store NUL)."""
    try:
        items = [(k, v) for k, v in path_kwargs.items()]
        items += [(k, v) for k in request.GET for v in request.GET.getlist(k)]
        if request.method == "POST":
            items += [(k, v) for k in request.POST for v in request.POST.getlist(k)]
    except (MultiPartParserError, UnicodeDecodeError, ValueError):
        raise BadRequest("请求体无法解析（应为 application/x-www-form-urlencoded 或 multipart/form-data）")
    for name, value in items:
        for text, what in ((name, "参数名"), (value, f"参数 {short(name, 40)}")):
            if isinstance(text, str) and has_control_chars(text):
                raise BadRequest(f"{what}不能包含控制字符（如 NUL 空字符）")
        if isinstance(value, str) and len(value) > MAX_PARAM_CHARS:
            raise BadRequest(f"参数 {short(name, 40)} 过长（最多 {MAX_PARAM_CHARS} 个字符）")


def _params(request):
    return request.POST if request.method == "POST" else request.GET


def _param(request, name: str) -> str:
    """A form field (POST) or query parameter; a POST may also carry e.g. ``api_key`` in its query string."""
    value = _params(request).get(name)
    if value is None and request.method == "POST":
        value = request.GET.get(name)
    return (value or "").strip()


def _write_key(request) -> Open311Key:
    plain = _param(request, "api_key")
    if not plain:
        raise Forbidden("缺少 api_key")
    key = services.authenticate(plain)
    if key is None:
        raise Forbidden("api_key 无效或已吊销")
    _check_jurisdiction(request, key)
    return key


def read_requires_key() -> bool:
    return bool(settings.CIVICGRID.get("OPEN311_READ_REQUIRES_KEY"))


def _reader(request) -> tuple[Street | None, Open311Key | None]:
    """The 街道 a read is limited to (the key's, else ``jurisdiction_id``'s, else none: all) and the key read
    with, if any. Without a key: 403 when the deployment requires keys for reads."""
    plain = _param(request, "api_key")
    if plain:
        key = services.authenticate(plain)
        if key is None:
            raise Forbidden("api_key 无效或已吊销")
        _check_jurisdiction(request, key)
        return key.jurisdiction, key
    if read_requires_key():
        raise Forbidden("缺少 api_key：本平台的 Open311 查询需要接口密钥（请向街道系统管理员申请）")
    jurisdiction_id = _param(request, "jurisdiction_id")
    if not jurisdiction_id:
        return None, None
    street = Street.objects.filter(code=jurisdiction_id).first()
    if street is None:
        raise NotFound(f"jurisdiction_id 不存在：{jurisdiction_id}")
    return street, None


def _read_scope(request) -> Street | None:
    return _reader(request)[0]


def _check_jurisdiction(request, key: Open311Key) -> None:
    jurisdiction_id = _param(request, "jurisdiction_id")
    if jurisdiction_id and jurisdiction_id != key.jurisdiction.code:
        raise Forbidden("该 api_key 不属于所请求的 jurisdiction_id")


def _list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


# --- discovery and services ------------------------------------------------------------------------


def root(request):
    """``/open311/v2/`` itself: the discovery document in JSON."""
    return discovery(request, fmt="json")


@endpoint("GET")
def discovery(request, fmt):
    base = request.build_absolute_uri(reverse("open311:root"))
    data = {
        "changeset": CHANGESET,
        "contact": "街道网格化治理平台指挥中心（请通过街道办事处联系系统管理员）",
        "key_service": "api_key 由街道系统管理员发放（管理后台「Open311 接口密钥」或 civicgrid open311_key create）",
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(fmt, "discovery", data)


@endpoint("GET")
def service_list(request, fmt):
    _read_scope(request)
    return render(fmt, "services", [catalog.service_dict(c) for c in catalog.service_categories()])


@endpoint("GET")
def service_definition(request, code, fmt):
    _read_scope(request)
    category = catalog.get_service(code)
    return render(fmt, "service_definition", catalog.definition_dict(category))


# --- requests -------------------------------------------------------------------------------------


@endpoint("GET", "POST")
def requests_view(request, fmt):
    if request.method == "POST":
        return _create_request(request, fmt)
    street, key = _reader(request)
    params = request.GET
    ids = _list(params.get("service_request_id", ""))
    if ids:
        # per the spec every other parameter is ignored when ids are given; the 90-day window still applies
        cases = selectors.find_requests(street=street, ids=ids, since=_since(), key=key)
    else:
        statuses = _list(params.get("status", "").lower())
        bad = [s for s in statuses if s not in ("open", "closed")]
        if bad:
            raise BadRequest(f"status 取值无效：{', '.join(bad)}（应为 open 或 closed）")
        start, end = _date_window(params)
        cases = selectors.find_requests(
            street=street,
            service_codes=_list(params.get("service_code", "")),
            statuses=statuses,
            start=start,
            end=end,
        )
    text = public_text()
    return render(fmt, "service_requests", [selectors.request_dict(c, text=text) for c in cases])


def _since():
    """The oldest report a lookup by id may return (the default list's window)."""
    return clock.now() - DEFAULT_WINDOW


def _date_window(params):
    """``[start, end)``: both given (at most 90 days apart), one given (90 days from/to it) or the last 90 days."""
    raw_start, raw_end = (params.get("start_date") or "").strip(), (params.get("end_date") or "").strip()
    start = parse_datetime(raw_start, "start_date") if raw_start else None
    end = parse_datetime(raw_end, "end_date", end_of_day=True) if raw_end else None
    if start is None and end is None:
        end = clock.now()
        start = end - DEFAULT_WINDOW
    elif start is None:
        start = end - DEFAULT_WINDOW
    elif end is None:
        end = start + DEFAULT_WINDOW
    if start >= end:
        raise BadRequest("start_date 必须早于 end_date")
    if end - start > DEFAULT_WINDOW + timedelta(days=1):
        raise BadRequest("start_date 与 end_date 的间隔不能超过 90 天")
    return start, end


def _create_request(request, fmt):
    key = _write_key(request)
    post = request.POST
    attributes: dict[str, list[str]] = {}
    for name in post:
        m = _ATTRIBUTE.match(name)
        if m:
            attributes.setdefault(m.group(1), []).extend(post.getlist(name))
    data = services.RequestInput(
        service_code=_param(request, "service_code"),
        lat=_param(request, "lat"),
        long=_param(request, "long"),
        address_string=_param(request, "address_string"),
        address_id=_param(request, "address_id"),
        attributes=attributes,
        description=post.get("description", ""),
        media_url=_param(request, "media_url"),
        email=_param(request, "email"),
        first_name=_param(request, "first_name"),
        last_name=_param(request, "last_name"),
        phone=_param(request, "phone"),
        device_id=_param(request, "device_id"),
        account_id=_param(request, "account_id"),
    )
    sr = services.submit_request(key=key, data=data)
    body = [
        {
            "service_request_id": sr.service_request_id,
            "token": sr.token,
            "service_notice": public_text()(selectors.service_notice(sr.case)),
            "account_id": sr.account_id,
        }
    ]
    return render(fmt, "service_requests", body)


@endpoint("GET")
def request_detail(request, service_request_id, fmt):
    street, key = _reader(request)
    case = selectors.get_request(
        street=street, service_request_id=service_request_id, since=_since(), key=key
    )
    if case is None:
        raise NotFound(f"服务请求不存在：{service_request_id}")
    return render(fmt, "service_requests", [selectors.request_dict(case, text=public_text())])


@endpoint("GET")
def token_view(request, token, fmt):
    street = _read_scope(request)
    qs = ServiceRequest.objects.filter(token=token)
    if street is not None:
        qs = qs.filter(jurisdiction=street)
    sr = qs.first()
    if sr is None:
        raise NotFound("令牌不存在")
    return render(fmt, "service_requests", [{"service_request_id": sr.service_request_id, "token": sr.token}])


# --- servicerequestupdates (FixMyStreet extension) ---------------------------------------------------


@endpoint("GET", "POST")
def updates_view(request, fmt):
    if request.method == "POST":
        return _post_update(request, fmt)
    street = _read_scope(request)
    start, end = _date_window(request.GET)
    updates = selectors.public_updates(street=street, start=start, end=end)
    text = public_text()
    return render(fmt, "service_request_updates", [selectors.update_dict(u, text=text) for u in updates])


def _post_update(request, fmt):
    key = _write_key(request)
    srid = _param(request, "service_request_id")
    if not srid:
        raise BadRequest("缺少参数 service_request_id")
    case = selectors.get_request(street=key.jurisdiction, service_request_id=srid)
    if case is None:
        raise NotFound(f"服务请求不存在：{srid}")
    raw_dt = _param(request, "updated_datetime")
    data = services.UpdateInput(
        service_request_id=srid,
        update_id=_param(request, "update_id"),
        status=_param(request, "status"),
        description=request.POST.get("description", ""),
        updated_datetime=parse_datetime(raw_dt, "updated_datetime") if raw_dt else None,
        media_url=_param(request, "media_url"),
    )
    inbound = services.post_update(key=key, case=case, data=data)
    body = [
        {
            "update_id": selectors.inbound_update_id(inbound),
            "service_request_id": srid,
            "updated_datetime": iso(inbound.received_at),
        }
    ]
    return render(fmt, "service_request_updates", body)


# --- anything else under /open311/v2/ ----------------------------------------------------------------


@endpoint("GET", "POST")
def unknown(request, path, fmt):
    raise NotFound(f"接口不存在：{path}")


@csrf_exempt
def unknown_any(request, path):
    """Paths with no ``.format`` suffix at all."""
    return render_error("json", NotFound(f"接口不存在：{path or '/'}（请使用 .json 或 .xml 后缀）"))
