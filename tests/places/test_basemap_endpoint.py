"""The vector base map: stored through the service (checked, audited), served to every map page (the public
随手拍 one too) with an ETag so browsers revalidate instead of downloading it again."""

from __future__ import annotations

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog
from civicgrid.places.models import MapFeature
from civicgrid.places.services import replace_map_features
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def road(name="文三路", coords=((120.10, 30.27), (120.16, 30.27)), **props):
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [list(c) for c in coords]},
        "properties": {"kind": "road", "name": name, **props},
    }


def label(name, lng=120.13, lat=30.275):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lng, lat]},
        "properties": {"kind": "label", "name": name, "subtype": "community", "level": 3},
    }


def test_anyone_gets_it_and_revalidates_by_etag(client):
    replace_map_features(actor=None, source="survey", features=[road(), label("翠苑社区")])
    first = client.get("/places/basemap.geojson")  # not signed in: the resident page needs it too
    assert first.status_code == 200 and first["Content-Type"].startswith("application/geo+json")
    assert first["Cache-Control"] == "public, no-cache" and first["ETag"]
    body = first.json()
    assert [f["properties"]["name"] for f in body["features"]] == ["翠苑社区", "文三路"]
    again = client.get("/places/basemap.geojson", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    # a change gives a new ETag at once, and the old one no longer matches
    replace_map_features(actor=None, source="survey", features=[road("文二路")])
    changed = client.get("/places/basemap.geojson", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert [f["properties"]["name"] for f in changed.json()["features"]] == ["文二路"]
    assert client.post("/places/basemap.geojson").status_code == 405


def test_browsers_that_take_gzip_get_it_compressed(client):
    import gzip
    import json

    replace_map_features(actor=None, source="survey", features=[road(f"路{n}") for n in range(200)])
    plain = client.get("/places/basemap.geojson")
    packed = client.get("/places/basemap.geojson", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
    assert len(packed.content) < len(plain.content) / 4
    assert json.loads(gzip.decompress(packed.content)) == plain.json()
    assert packed["ETag"] != plain["ETag"]  # two representations, two validators
    again = client.get(
        "/places/basemap.geojson", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=f"W/{packed['ETag']}"
    )
    assert again.status_code == 304


def test_replacing_one_source_keeps_the_others_and_is_audited():
    admin = UserFactory(role=Role.SYSTEM_ADMIN)
    replace_map_features(actor=None, source="demo", features=[road("丰收路")])
    assert replace_map_features(actor=admin, source="survey", features=[road(), road("文二路")]) == 2
    assert replace_map_features(actor=admin, source="survey", features=[road("学院路")]) == 1
    assert sorted(MapFeature.objects.values_list("source", "name")) == [
        ("demo", "丰收路"),
        ("survey", "学院路"),
    ]
    row = AuditLog.objects.filter(action="places.basemap.replace").first()
    assert row.actor_id == admin.pk and row.after == {"source": "survey", "count": 1, "removed": 2}


@pytest.mark.parametrize(
    ("feature", "field", "words"),
    [
        ({**road(), "properties": {"kind": "river"}}, "kind", "第 2 个要素"),
        (road(coords=((120.1, 30.2),)), "geometry", "第 2 个要素"),
        ({**road(), "geometry": {"type": "Point", "coordinates": [120.1, 30.2]}}, "geometry", "LineString"),
        (road(coords=((12010000, 3020000), (12020000, 3020000))), "geometry", "WGS84"),
        (label(""), "name", "注记须有名称"),
        (road("路" * 101), "name", "100"),
        (road(level="高"), "level", "整数"),
    ],
)
def test_bad_features_are_named_and_nothing_is_written(feature, field, words):
    replace_map_features(actor=None, source="survey", features=[road("原有路")])
    with pytest.raises(ValidationFailed) as exc:
        replace_map_features(actor=None, source="survey", features=[road(), feature])
    assert exc.value.field == field and words in exc.value.message
    assert list(MapFeature.objects.values_list("name", flat=True)) == ["原有路"]


def test_only_a_system_admin_may_replace_it():
    with pytest.raises(PermissionDenied):
        replace_map_features(actor=UserFactory(role=Role.DISPATCHER), source="x", features=[road()])
    assert not MapFeature.objects.exists()
