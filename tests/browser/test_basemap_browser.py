"""The maps' base layer in a real browser: the demo's own vector base (no tiles, no network), tile layers as the
deployment configures them, and GCJ-02 maps on which grids, pins and clicks still line up."""

from __future__ import annotations

import json
import random
import time

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.core import basemap, gcj02
from tests.core.test_gcj02 import REFERENCE_PAIRS
from tests.factories import CommunityFactory, GridFactory, UserFactory
from tests.intake.conftest import world  # noqa: F401  (fixture: two grids side by side, departments)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_street(db):
    from civicgrid.demo.builder import build_demo

    return build_demo(with_cases=False)


def _base_layer_state(page, selector: str) -> dict:
    return page.evaluate(
        """(sel) => {
            const el = document.querySelector(sel);
            const pane = el.querySelector('.leaflet-cg-base-pane');
            return {
                kind: el.dataset.basemap,
                crs: el.dataset.basemapCrs,
                features: Number(el.dataset.basemapFeatures || 0),
                basePaths: pane ? pane.querySelectorAll('path').length : 0,
                labels: [...el.querySelectorAll('.leaflet-cg-base-labels-pane .cg-base-label span')].map((s) => s.textContent),
                labelHtml: [...el.querySelectorAll('.leaflet-cg-base-labels-pane .cg-base-label')].map((s) => s.innerHTML),
                tiles: [...el.querySelectorAll('.leaflet-tile-pane img')].map((i) => i.getAttribute('src')),
                gridPaths: el.querySelectorAll('.leaflet-overlay-pane path').length,
            };
        }""",
        selector,
    )


def test_home_map_draws_the_demo_streets_buildings_and_labels_under_the_grids(
    page, live_server, browser_login, demo_street, screenshot_dir
):
    from civicgrid.places.models import MapFeature

    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    browser_login(page, UserFactory(role=Role.DISPATCHER))
    page.wait_for_function("() => Number(document.getElementById('grid-map').dataset.basemapFeatures) > 0")
    page.wait_for_function("() => document.getElementById('grid-map').dataset.loaded === '64'")
    state = _base_layer_state(page, "#grid-map")
    stored = MapFeature.objects.exclude(kind="label").count()
    assert state["kind"] == "none" and state["crs"] == "wgs84" and state["tiles"] == []
    assert state["features"] == MapFeature.objects.count()
    # every road (casing + fill), building and area is a path under the grids
    roads = MapFeature.objects.filter(kind="road").count()
    assert state["basePaths"] == stored + roads
    assert state["gridPaths"] >= 64
    # at the street-wide zoom the community names show; road names from one zoom closer
    assert "翠苑社区" in state["labels"]
    page.screenshot(path=str(screenshot_dir / "basemap_home.png"))
    page.evaluate("CGMap.maps[0].setView([30.275, 120.13], 16, {animate: false})")
    page.wait_for_function("() => document.querySelectorAll('.cg-base-label-road span').length > 0")
    state = _base_layer_state(page, "#grid-map")
    assert any(name.endswith("路") for name in state["labels"])
    page.screenshot(path=str(screenshot_dir / "basemap_home_zoomed.png"))
    # nothing left the machine: every request went to the live server
    assert all(url.startswith(live_server.url) for url in requests), [
        u for u in requests if not u.startswith(live_server.url)
    ]
    assert errors == []


def test_labels_from_data_are_text_not_html(page, live_server, browser_login, demo_street):
    from civicgrid.places.services import replace_map_features

    evil = '<img src=x onerror="window.pwned=1">翠苑'
    replace_map_features(
        actor=None,
        source="test",
        features=[
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [120.13, 30.275]},
                "properties": {"kind": "label", "name": evil, "subtype": "community", "level": 3},
            }
        ],
    )
    browser_login(page, UserFactory(role=Role.DISPATCHER))
    page.wait_for_function("() => Number(document.getElementById('grid-map').dataset.basemapFeatures) > 0")
    page.wait_for_function("() => document.querySelectorAll('.cg-base-label-community span').length > 0")
    state = _base_layer_state(page, "#grid-map")
    assert evil in state["labels"]
    assert not any("<img" in html for html in state["labelHtml"])
    assert page.evaluate("window.pwned") is None


def test_resident_page_has_the_vector_base(phone_page, live_server, demo_street, screenshot_dir):
    page = phone_page
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/s/")
    page.wait_for_function("() => Number(document.getElementById('rs-map').dataset.basemapFeatures) > 0")
    page.wait_for_selector("#rs-map[data-loaded]")
    state = _base_layer_state(page, "#rs-map")
    assert state["basePaths"] > 300 and state["tiles"] == []
    page.locator("#rs-map").scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # the fit-to-grids zoom settles
    page.screenshot(path=str(screenshot_dir / "basemap_resident.png"), full_page=True)
    assert errors == []


def test_js_conversion_matches_python_on_reference_pairs_and_random_points(page, live_server, demo_street):
    page.goto(f"{live_server.url}/s/")
    page.wait_for_function("() => window.CGMap !== undefined")
    rng = random.Random(11)
    points = [(wlng, wlat) for wlat, wlng, _, _ in REFERENCE_PAIRS]
    points += [(rng.uniform(73, 135), rng.uniform(18, 53)) for _ in range(200)]
    points += [(2.35, 48.85), (-74.0, 40.7), (139.7, 35.7)]  # Paris, New York, Tokyo: no shift
    out = page.evaluate(
        """(pts) => pts.map(([lng, lat]) => {
            const g = CGMap.wgsToGcj(lng, lat);
            return [g, CGMap.gcjToWgs(g[0], g[1])];
        })""",
        points,
    )
    for (lng, lat), (g, back) in zip(points, out, strict=True):
        py_g = gcj02.wgs_to_gcj(lng, lat)
        assert g == pytest.approx(py_g, abs=1e-12)
        assert back == pytest.approx(gcj02.gcj_to_wgs(*py_g), abs=1e-9)
        assert back == pytest.approx((lng, lat), abs=1e-8)  # < 1 mm
    for (_, _, glat, glng), (g, _) in zip(REFERENCE_PAIRS, out, strict=False):
        assert g == pytest.approx((glng, glat), abs=1e-7)


@pytest.fixture
def small_street(db):
    community = CommunityFactory(name="东湖社区")
    return [
        GridFactory(community=community, col=c, row=r, name=f"东湖第{c}{r}网格")
        for c in range(2)
        for r in range(2)
    ]


def _configure(settings, env: dict) -> dict:
    conf = basemap.from_env(env)
    settings.CIVICGRID = {**settings.CIVICGRID, "BASEMAP": conf, "MAP_TILE_ORIGINS": conf["origins"]}
    return conf


@pytest.mark.parametrize(
    "env",
    [
        {"CIVICGRID_BASEMAP": "tianditu", "CIVICGRID_TIANDITU_KEY": "abc123"},
        {
            "CIVICGRID_BASEMAP": "xyz",
            "CIVICGRID_BASEMAP_URL": "http://tiles.intra.local/{z}/{x}/{y}.png",
            "CIVICGRID_BASEMAP_ATTRIBUTION": "<b>区测绘院</b>",
            "CIVICGRID_BASEMAP_MAX_ZOOM": "17",
        },
    ],
    ids=["tianditu", "xyz"],
)
def test_wgs84_tile_layers_load_as_configured(page, live_server, browser_login, small_street, settings, env):
    conf = _configure(settings, env)
    browser_login(page, UserFactory(role=Role.DISPATCHER))
    page.wait_for_function("() => document.getElementById('grid-map').dataset.loaded === '4'")
    page.wait_for_function("() => document.querySelectorAll('#grid-map .leaflet-tile-pane img').length > 0")
    state = _base_layer_state(page, "#grid-map")
    assert state["kind"] == conf["kind"] and state["crs"] == "wgs84" and state["features"] == 0
    origins = {"/".join(src.split("/")[:3]) for src in state["tiles"]}
    assert origins <= set(conf["origins"]), origins
    if conf["kind"] == "tianditu":
        assert all("tk=abc123" in src for src in state["tiles"])
        assert any("LAYER=vec" in src for src in state["tiles"]) and any(
            "LAYER=cva" in src for src in state["tiles"]
        )
    else:
        # the attribution is shown as text, not markup
        assert page.inner_text(".leaflet-control-attribution") == "<b>区测绘院</b>"
    # WGS-84 tiles: the map is plain Web Mercator
    same = page.evaluate(
        "(() => { const m = CGMap.maps[0]; const p = m.project([30.27, 120.15], 15);"
        " const q = L.CRS.EPSG3857.latLngToPoint(L.latLng(30.27, 120.15), 15); return [p.x - q.x, p.y - q.y]; })()"
    )
    assert same == [0, 0]


@pytest.mark.parametrize("kind", ["amap", "tencent"])
def test_gcj02_tiles_grids_pins_and_clicks_line_up(
    page, live_server, browser_login, small_street, settings, kind
):
    conf = _configure(settings, {"CIVICGRID_BASEMAP": kind})
    browser_login(page, UserFactory(role=Role.DISPATCHER))
    page.wait_for_function("() => document.getElementById('grid-map').dataset.loaded === '4'")
    page.wait_for_function("() => document.querySelectorAll('#grid-map .leaflet-tile-pane img').length > 0")
    state = _base_layer_state(page, "#grid-map")
    assert state["kind"] == kind and state["crs"] == "gcj02"
    assert {"/".join(src.split("/")[:3]) for src in state["tiles"]} <= set(conf["origins"])

    # a WGS-84 vertex of a grid is drawn where its GCJ-02 position sits on the providers' tile grid
    grid = small_street[0]
    lng, lat = grid.geometry["coordinates"][0][0]
    glng, glat = gcj02.wgs_to_gcj(lng, lat)
    shift = page.evaluate(
        """([lng, lat, glng, glat]) => {
            const m = CGMap.maps[0], z = m.getZoom();
            const drawn = m.project(L.latLng(lat, lng), z);
            const onTiles = L.CRS.EPSG3857.latLngToPoint(L.latLng(glat, glng), z);
            const naive = L.CRS.EPSG3857.latLngToPoint(L.latLng(lat, lng), z);
            return {off: Math.hypot(drawn.x - onTiles.x, drawn.y - onTiles.y),
                    naive: Math.hypot(drawn.x - naive.x, drawn.y - naive.y)};
        }""",
        [lng, lat, glng, glat],
    )
    assert shift["off"] < 0.01  # the same pixel, to a hundredth
    assert shift["naive"] > 5  # and it is a real shift (hundreds of metres in 杭州)

    # a click maps back to WGS-84: the point reported is the one under the cursor on the GCJ-02 tiles
    box = page.locator("#grid-map").bounding_box()
    x, y = box["width"] / 2 + 7, box["height"] / 2 + 9
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_function("() => document.getElementById('map-hint').textContent.includes('：')")
    hint = page.inner_text("#map-hint")
    clicked = json.loads("[" + hint[hint.index("(") + 1 : hint.index(")")] + "]")
    on_tiles = page.evaluate(
        """([x, y]) => {
            const m = CGMap.maps[0];
            const world = m.containerPointToLayerPoint([x, y]).add(m.getPixelOrigin());
            const g = L.CRS.EPSG3857.pointToLatLng(world, m.getZoom());
            return [g.lng, g.lat];
        }""",
        [x, y],
    )
    expected = gcj02.gcj_to_wgs(*on_tiles)
    assert clicked == pytest.approx(expected, abs=2e-5)  # the hint shows 5 decimals
    assert "东湖社区" in hint  # and the lookup found the grid drawn under the cursor


@pytest.mark.parametrize("kind", ["none", "amap"])
def test_placing_an_imported_case_by_clicking_the_map(
    page,
    live_server,
    browser_login,
    world,  # noqa: F811  (the fixture imported from tests.intake.conftest)
    settings,
    tmp_path,
    kind,
):
    """人工定位: the dispatcher clicks where the case is; on 高德 tiles too the case lands on that WGS-84 point."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import OperationalError
    from django.urls import reverse

    from civicgrid.cases.models import Case
    from civicgrid.intake import services, tasks
    from civicgrid.intake.models import PlacementTask
    from tests.intake.conftest import row, write_csv

    _configure(settings, {"CIVICGRID_BASEMAP": kind})
    dispatcher = UserFactory(role=Role.DISPATCHER)
    from civicgrid.cases.models import Category
    from tests.cases.factories import CategoryFactory

    if not Category.objects.filter(
        name="暴露垃圾", level="minor"
    ).exists():  # flushed by an earlier browser test
        CategoryFactory(name="暴露垃圾")
    ref = f"GD95-{kind}"
    path = write_csv(tmp_path / "p.csv", [row(ref, 事发地址="无名小巷")])
    job = services.create_job(actor=dispatcher, upload=SimpleUploadedFile(path.name, path.read_bytes()))
    services.start_job(actor=dispatcher, job=job)
    for _ in range(100):  # run here, or by the live server's own worker, whichever takes it first
        try:
            tasks.run_pending()
            if PlacementTask.objects.filter(status="open").exists():
                break
        except OperationalError:  # SQLite: the server's worker holds the table right now
            pass
        time.sleep(0.1)
    assert PlacementTask.objects.filter(status="open").count() == 1
    browser_login(page, dispatcher)
    page.goto(f"{live_server.url}{reverse('intake:placements')}")
    page.wait_for_selector("#placement-map .leaflet-overlay-pane path")
    assert page.get_attribute("#placement-map", "data-basemap-crs") == (
        "gcj02" if kind == "amap" else "wgs84"
    )
    g2 = world["g2"]
    lng, lat = (g2.min_lng + g2.max_lng) / 2, (g2.min_lat + g2.max_lat) / 2
    x, y = page.evaluate(
        "([lng, lat]) => { const p = CGMap.maps[0].latLngToContainerPoint([lat, lng]); return [p.x, p.y]; }",
        [lng, lat],
    )
    box = page.locator("#placement-map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    picked = (float(page.input_value("#place-lng")), float(page.input_value("#place-lat")))
    assert picked == pytest.approx((lng, lat), abs=3e-5)  # within a pixel of the grid's centre
    page.click("#place-submit")
    page.wait_for_load_state()
    case = Case.objects.get(source_ref=ref)
    assert case.grid_id == g2.pk and (case.lng, case.lat) == pytest.approx(picked, abs=1e-6)
