"""CIVICGRID_BASEMAP …: the environment → the base layer the maps get, the tile origins the CSP allows, and a
clear error naming the variable for a setting the maps could not use."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from civicgrid.core.basemap import from_env
from tests.factories import UserFactory

TIANDITU_ORIGINS = [f"https://t{n}.tianditu.gov.cn" for n in range(8)]


def test_default_is_no_tiles():
    conf = from_env({})
    assert conf == {"kind": "none", "crs": "wgs84", "layers": [], "origins": []}


def test_tianditu_vector_and_its_labels_with_the_key():
    conf = from_env({"CIVICGRID_BASEMAP": "tianditu", "CIVICGRID_TIANDITU_KEY": "0123abcd"})
    assert conf["crs"] == "wgs84"  # CGCS2000 ≈ WGS-84: no shift
    base, labels = conf["layers"]
    assert (
        "/vec_w/wmts?" in base["url"] and "LAYER=vec" in base["url"] and base["url"].endswith("tk=0123abcd")
    )
    assert "/cva_w/wmts?" in labels["url"] and "TILEMATRIX={z}&TILEROW={y}&TILECOL={x}" in labels["url"]
    assert base["subdomains"] == [str(n) for n in range(8)] and base["attribution"]
    assert conf["origins"] == TIANDITU_ORIGINS


def test_tianditu_imagery():
    conf = from_env(
        {"CIVICGRID_BASEMAP": "tianditu", "CIVICGRID_TIANDITU_KEY": "k1", "CIVICGRID_TIANDITU_STYLE": "img"}
    )
    assert ["LAYER=img" in conf["layers"][0]["url"], "LAYER=cia" in conf["layers"][1]["url"]] == [True, True]


def test_xyz_for_an_intranet_server():
    conf = from_env(
        {
            "CIVICGRID_BASEMAP": "xyz",
            "CIVICGRID_BASEMAP_URL": "https://{s}.tiles.gov.local:8443/street/{z}/{x}/{y}.png",
            "CIVICGRID_BASEMAP_SUBDOMAINS": "abc",
            "CIVICGRID_BASEMAP_ATTRIBUTION": "区测绘院",
            "CIVICGRID_BASEMAP_MIN_ZOOM": "10",
            "CIVICGRID_BASEMAP_MAX_ZOOM": "19",
        }
    )
    (layer,) = conf["layers"]
    assert (layer["minZoom"], layer["maxZoom"], layer["subdomains"], layer["attribution"]) == (
        10,
        19,
        ["a", "b", "c"],
        "区测绘院",
    )
    assert conf["crs"] == "wgs84"
    assert conf["origins"] == [f"https://{s}.tiles.gov.local:8443" for s in "abc"]


def test_xyz_mirror_of_gcj02_tiles():
    conf = from_env(
        {
            "CIVICGRID_BASEMAP": "xyz",
            "CIVICGRID_BASEMAP_URL": "http://10.0.0.5/amap/{z}/{x}/{y}.png",
            "CIVICGRID_BASEMAP_CRS": "GCJ02",
        }
    )
    assert conf["crs"] == "gcj02" and conf["origins"] == ["http://10.0.0.5"]


@pytest.mark.parametrize(
    ("kind", "origins"),
    [
        ("amap", [f"https://webrd0{n}.is.autonavi.com" for n in range(1, 5)]),
        ("tencent", [f"https://rt{n}.map.gtimg.com" for n in range(4)]),
    ],
)
def test_amap_and_tencent_are_gcj02(kind, origins):
    conf = from_env({"CIVICGRID_BASEMAP": kind})
    assert conf["crs"] == "gcj02" and conf["origins"] == origins


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"CIVICGRID_BASEMAP": "google"}, "CIVICGRID_BASEMAP"),
        ({"CIVICGRID_BASEMAP": "tianditu"}, "CIVICGRID_TIANDITU_KEY"),
        ({"CIVICGRID_BASEMAP": "tianditu", "CIVICGRID_TIANDITU_KEY": "a&b=c"}, "CIVICGRID_TIANDITU_KEY"),
        (
            {"CIVICGRID_BASEMAP": "tianditu", "CIVICGRID_TIANDITU_KEY": "k", "CIVICGRID_TIANDITU_STYLE": "x"},
            "CIVICGRID_TIANDITU_STYLE",
        ),
        ({"CIVICGRID_BASEMAP": "xyz"}, "CIVICGRID_BASEMAP_URL"),
        (
            {"CIVICGRID_BASEMAP": "xyz", "CIVICGRID_BASEMAP_URL": "ftp://x/{z}/{x}/{y}"},
            "CIVICGRID_BASEMAP_URL",
        ),
        (
            {"CIVICGRID_BASEMAP": "xyz", "CIVICGRID_BASEMAP_URL": "http://x/tiles.png"},
            "CIVICGRID_BASEMAP_URL",
        ),
        (
            {"CIVICGRID_BASEMAP": "xyz", "CIVICGRID_BASEMAP_URL": "http://{s}.x/{z}/{x}/{y}"},
            "CIVICGRID_BASEMAP_SUBDOMAINS",
        ),
        (
            {
                "CIVICGRID_BASEMAP": "xyz",
                "CIVICGRID_BASEMAP_URL": "http://x/{z}/{x}/{y}",
                "CIVICGRID_BASEMAP_MAX_ZOOM": "z",
            },
            "CIVICGRID_BASEMAP_MAX_ZOOM",
        ),
        (
            {
                "CIVICGRID_BASEMAP": "xyz",
                "CIVICGRID_BASEMAP_URL": "http://x/{z}/{x}/{y}",
                "CIVICGRID_BASEMAP_MIN_ZOOM": "15",
                "CIVICGRID_BASEMAP_MAX_ZOOM": "12",
            },
            "CIVICGRID_BASEMAP_MIN_ZOOM",
        ),
        (
            {
                "CIVICGRID_BASEMAP": "xyz",
                "CIVICGRID_BASEMAP_URL": "http://x/{z}/{x}/{y}",
                "CIVICGRID_BASEMAP_CRS": "bd09",
            },
            "CIVICGRID_BASEMAP_CRS",
        ),
    ],
)
def test_unusable_settings_name_the_variable(env, names):
    with pytest.raises(ImproperlyConfigured, match=names):
        from_env(env)


def test_settings_publish_the_tile_origins_for_the_csp(settings):
    assert settings.CIVICGRID["MAP_TILE_ORIGINS"] == settings.CIVICGRID["BASEMAP"]["origins"]


@pytest.mark.django_db
def test_map_pages_hand_the_layer_definition_to_the_browser(client, settings):
    from civicgrid.accounts.roles import Role

    conf = from_env({"CIVICGRID_BASEMAP": "tianditu", "CIVICGRID_TIANDITU_KEY": "k9"})
    settings.CIVICGRID = {**settings.CIVICGRID, "BASEMAP": conf, "MAP_TILE_ORIGINS": conf["origins"]}
    client.force_login(UserFactory(role=Role.DISPATCHER))
    for url in ("/", "/cases/new/", "/s/"):
        html = client.get(url).content.decode()
        start = html.index('<script id="cg-basemap" type="application/json">') + len(
            '<script id="cg-basemap" type="application/json">'
        )
        received = json.loads(html[start : html.index("</script>", start)])
        assert received == {"kind": "tianditu", "crs": "wgs84", "layers": conf["layers"], "vector": None}, url
        assert "js/basemap.js" in html


@pytest.mark.django_db
def test_without_tiles_the_browser_gets_the_vector_base_once_one_is_stored(client):
    from civicgrid.places.services import replace_map_features

    def received():
        html = client.get("/s/").content.decode()
        start = html.index('type="application/json">', html.index('id="cg-basemap"')) + len(
            'type="application/json">'
        )
        return json.loads(html[start : html.index("</script>", start)])

    assert received()["vector"] is None  # nothing stored: plain grey, no request for it
    replace_map_features(
        actor=None,
        source="t",
        features=[
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[120.1, 30.2], [120.2, 30.2]]},
                "properties": {"kind": "road", "name": "文三路"},
            }
        ],
    )
    assert received() == {"kind": "none", "crs": "wgs84", "layers": [], "vector": "/places/basemap.geojson"}
