"""Fixtures for the Open311 tests: a 街道 with grids and a key, a second 街道 with its own key, a client for
/open311/v2/, and validators built from the shared GeoReport v2 JSON Schemas (../shared/open311)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from civicgrid.accounts.roles import Role
from civicgrid.cases.models import Category
from civicgrid.open311 import services
from tests.factories import CommunityFactory, GridFactory, StreetFactory, UserFactory
from tests.open311.helpers import point

SCHEMA_BASE = "https://schemas.open311.test/georeport-v2/"
SCHEMA_FILES = (
    "request.json",
    "requests.json",
    "service.json",
    "services.json",
    "service-definition.json",
    "swagger.json",
)
_ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_datetime(value) -> bool:
    if not isinstance(value, str):
        return True
    if not _ISO_WITH_OFFSET.match(value):
        raise ValueError(f"not an ISO 8601 date-time with a timezone: {value!r}")
    datetime.fromisoformat(value)
    return True


@FORMAT_CHECKER.checks("uri", raises=ValueError)
def _is_uri(value) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    if not (parts.scheme and parts.netloc):
        raise ValueError(f"not an absolute URI: {value!r}")
    return True


class Schemas:
    """``schemas.validate(body, "requests.json")`` or ``"swagger.json#/definitions/TokenResponse"``; ``$ref``s
    between the files resolve through a :class:`referencing.Registry` keyed by the files' names."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def errors(self, body, schema: str) -> list[str]:
        validator = Draft4Validator(
            {"$ref": SCHEMA_BASE + schema}, registry=self.registry, format_checker=FORMAT_CHECKER
        )
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]

    def validate(self, body, schema: str) -> None:
        errors = self.errors(body, schema)
        assert not errors, f"{schema}: " + "; ".join(errors)

    def validate_items(self, body: list, schema: str) -> None:
        assert isinstance(body, list), body
        for item in body:
            self.validate(item, schema)


@pytest.fixture
def schemas(shared_dir) -> Schemas:
    folder = shared_dir / "open311"
    if not folder.is_dir():
        pytest.skip(f"{folder} (the GeoReport v2 JSON Schemas) is not present")
    resources = []
    for name in SCHEMA_FILES:
        contents = json.loads((folder / name).read_text(encoding="utf-8"))
        resources.append((SCHEMA_BASE + name, Resource(contents=contents, specification=DRAFT4)))
    return Schemas(Registry().with_resources(resources))


class Place:
    def __init__(self):
        self.street = StreetFactory()
        self.community = CommunityFactory(street=self.street)
        self.grid = GridFactory(col=0, community=self.community)
        self.grid2 = GridFactory(col=1, community=self.community)
        self.other_street = StreetFactory(code="330106002", name="邻近街道")
        self.other_community = CommunityFactory(street=self.other_street)
        self.other_grid = GridFactory(col=8, community=self.other_community)
        self.key, self.plain = services.issue_key(actor=None, name="市民服务平台", street=self.street)
        self.other_key, self.other_plain = services.issue_key(
            actor=None, name="邻近街道平台", street=self.other_street
        )
        self.dispatcher = UserFactory(role=Role.DISPATCHER)
        self.sysadmin = UserFactory(role=Role.SYSTEM_ADMIN)
        self.matter = Category.objects.get(code="S06010")  # 暴露垃圾 (管理事项)
        self.component = Category.objects.get(code="B01001")  # 供水井盖 (管理部件)
        self.street_matter = Category.objects.get(code="J91001")  # 邻里纠纷 (街道事项)


@pytest.fixture
def place(db) -> Place:
    return Place()


class Open311Client:
    def __init__(self, client):
        self.c = client

    def get(self, path: str, **params):
        return self.c.get(f"/open311/v2/{path}", params)

    def post(self, path: str, data: dict):
        return self.c.post(f"/open311/v2/{path}", data)

    def json(self, response, status: int = 200):
        assert response.status_code == status, (response.status_code, response.content.decode()[:500])
        assert response["Content-Type"].startswith("application/json")
        return json.loads(response.content)

    def xml(self, response, status: int = 200) -> ET.Element:
        assert response.status_code == status, (response.status_code, response.content.decode()[:500])
        assert response["Content-Type"].startswith("text/xml")
        assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
        return ET.fromstring(response.content)


@pytest.fixture
def o311(client) -> Open311Client:
    return Open311Client(client)


@pytest.fixture
def submit(o311, place):
    """POST a valid request (matter 暴露垃圾 in grid 1) with overrides; returns the JSON body's first item."""

    def do(fmt: str = "json", **overrides):
        lng, lat = point(0)
        data = {
            "api_key": place.plain,
            "service_code": place.matter.code,
            "lat": str(lat),
            "long": str(lng),
            "attribute[severity]": "moderate",
            "description": "小区门口有一堆暴露垃圾，已经好几天了",
            "first_name": "小明",
            "last_name": "王",
            "phone": "13800000001",
            "email": "wang@example.com",
            "device_id": "dev-1",
            "account_id": "acct-9",
        }
        data.update(overrides)
        data = {k: v for k, v in data.items() if v is not None}
        response = o311.post(f"requests.{fmt}", data)
        if fmt == "xml":
            return o311.xml(response)
        return o311.json(response)[0]

    return do
