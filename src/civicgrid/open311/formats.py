"""Wire formats of GeoReport v2: JSON and XML bodies, the ``[{code, description}]`` errors, ISO 8601 times."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from xml.etree import ElementTree as ET

from django.http import HttpResponse

from civicgrid.core import clock

FORMATS = ("json", "xml")
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}

# the element name of one item in a list-valued field, per the spec's XML examples
LIST_ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


ERROR_CODE_HEADER = "X-CivicGrid-Error-Code"


class Open311Error(Exception):
    """Answered as ``[{code, description}]`` with HTTP ``status`` (400 bad params, 403 key, 404 unknown)."""

    def __init__(self, status: int, description: str, *, error_code: str = ""):
        super().__init__(description)
        self.status = status
        self.description = description
        # the platform's machine code (docs/api-errors.md) when a domain rule refused the request; sent in the
        # ``X-CivicGrid-Error-Code`` header, since the spec's error body has only ``code`` and ``description``
        self.error_code = str(error_code or "")


class BadRequest(Open311Error):
    def __init__(self, description: str, **kw):
        super().__init__(400, description, **kw)


class Forbidden(Open311Error):
    def __init__(self, description: str = "api_key 无效或已吊销", **kw):
        super().__init__(403, description, **kw)


class NotFound(Open311Error):
    def __init__(self, description: str):
        super().__init__(404, description)


# --- rendering ------------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _fill(parent: ET.Element, key: str, value) -> None:
    el = ET.SubElement(parent, key)
    if isinstance(value, dict):
        for k, v in value.items():
            _fill(el, k, v)
    elif isinstance(value, list | tuple):
        item_tag = LIST_ITEM_TAGS.get(key, "item")
        for item in value:
            _fill(el, item_tag, item)
    else:
        el.text = _text(value)


def to_xml(root: str, data) -> bytes:
    """``root`` is the spec's root element (``services``, ``service_requests``, ``discovery`` …). A list becomes
    repeated item elements (``<services><service>…``); a dict becomes the root's children."""
    el = ET.Element(root)
    if isinstance(data, dict):
        for k, v in data.items():
            _fill(el, k, v)
    else:
        item_tag = LIST_ITEM_TAGS[root]
        for item in data:
            _fill(el, item_tag, item)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        el, encoding="utf-8", xml_declaration=False
    )


def render(fmt: str, root: str, data, *, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        body = to_xml(root, data)
    else:
        body = json.dumps(data, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES.get(fmt, CONTENT_TYPES["json"]))


def render_error(fmt: str, error: Open311Error) -> HttpResponse:
    fmt = fmt if fmt in FORMATS else "json"
    response = render(
        fmt, "errors", [{"code": error.status, "description": error.description}], status=error.status
    )
    if getattr(error, "error_code", ""):
        response[ERROR_CODE_HEADER] = error.error_code
    return response


def check_format(fmt: str) -> str:
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        raise NotFound(f"不支持的格式：{fmt or '(空)'}，请使用 json 或 xml")
    return fmt


# --- times ----------------------------------------------------------------------------------------


def iso(dt: datetime | None) -> str | None:
    """ISO 8601 in Asia/Shanghai with its offset: ``2025-11-22T09:30:00+08:00``."""
    if dt is None:
        return None
    return clock.to_local(dt).isoformat(timespec="seconds")


_SPACE_OFFSET = re.compile(r"^(.+T[\d:.]+) (\d{2}(?::?\d{2})?)$")


def parse_datetime(value: str, field: str, *, end_of_day: bool = False) -> datetime:
    """Parse an ISO 8601 date or date-time. Naive values are Asia/Shanghai wall time. A bare date means the
    start of that day, or with ``end_of_day`` the start of the next (used as an exclusive upper bound).
    A ``+`` that arrived as a space (unencoded query string) is put back."""
    raw = (value or "").strip()
    m = _SPACE_OFFSET.match(raw)
    if m:
        raw = f"{m.group(1)}+{m.group(2)}"
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            d = date.fromisoformat(raw)
            if end_of_day:
                d += timedelta(days=1)
            return datetime.combine(d, time.min, tzinfo=clock.SHANGHAI)
        return clock.aware(datetime.fromisoformat(raw))
    except ValueError:
        raise BadRequest(f"{field} 不是有效的 ISO 8601 时间：{value}")
