"""``civicgrid demo`` draws its own base map: named roads, building footprints, 小区 areas and labels."""

from __future__ import annotations

import io
import json
from collections import Counter

import pytest
from django.core.management import call_command
from shapely.geometry import Point, shape

from civicgrid.core.models import AuditLog
from civicgrid.demo import names
from civicgrid.places.models import Building, Community, MapFeature

pytestmark = pytest.mark.django_db


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", "--no-cases", stdout=out)
    return out.getvalue()


def test_the_demo_street_gets_roads_buildings_and_labels(client):
    run_demo()
    kinds = Counter(MapFeature.objects.values_list("kind", flat=True))
    assert kinds["road"] == len(names.EW_ROADS) + len(names.NS_ROADS)
    assert set(MapFeature.objects.filter(kind="road").values_list("name", flat=True)) == set(
        names.EW_ROADS + names.NS_ROADS
    )
    # a footprint for every 楼栋 and 楼宇 (小区 are areas), each around the building's own point
    footprints = [
        shape(g) for g in MapFeature.objects.filter(kind="building").values_list("geometry", flat=True)
    ]
    standing = Building.objects.exclude(kind="estate")
    assert len(footprints) == standing.count()
    assert all(any(f.contains(Point(b.lng, b.lat)) for f in footprints) for b in standing[:40])
    assert MapFeature.objects.filter(kind="area", subtype="estate").count() > 30
    labels = set(MapFeature.objects.filter(kind="label").values_list("name", flat=True))
    assert set(Community.objects.values_list("name", flat=True)) <= labels
    assert set(names.EW_ROADS) <= labels
    # served to every map
    data = json.loads(client.get("/places/basemap.geojson").content)
    assert len(data["features"]) == MapFeature.objects.count()


def test_a_second_run_adds_nothing_and_an_older_demo_gets_its_base_map():
    run_demo()
    before = sorted(MapFeature.objects.values_list("kind", "name", "level"))
    audit = AuditLog.objects.count()
    run_demo()
    assert sorted(MapFeature.objects.values_list("kind", "name", "level")) == before
    assert AuditLog.objects.count() == audit
    # a demo built before the base map existed: the next run adds it, the same as a fresh build's
    MapFeature.objects.all().delete()
    out = run_demo()
    assert "已补充演示底图" in out
    assert sorted(MapFeature.objects.values_list("kind", "name", "level")) == before
