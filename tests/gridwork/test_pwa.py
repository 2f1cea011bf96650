"""The 网格员 phone app as a PWA (civicgrid.gridwork.pwa) and the idempotent endpoints its offline queue sends to:
the service worker and the manifest are served the way browsers require, the 网格员 pages link them, and what the
phone re-sends after a dead spot — a check-in through the API, a case report through /field/ — is stored once,
keyed per user (another worker's identical phone id is a different record)."""

from __future__ import annotations

import json

import pytest
from django.contrib.staticfiles import finders

from civicgrid.accounts.roles import Role
from civicgrid.cases.models import Case
from civicgrid.gridwork.models import PointCheck
from tests.factories import UserFactory
from tests.gridwork.conftest import PatrolWorld, inside
from tests.intake.imaging import jpeg_upload

pytestmark = pytest.mark.django_db

API = "/api/v1/gridwork"


@pytest.fixture
def pw():
    return PatrolWorld()


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_the_service_worker_is_served_for_the_whole_site_under_a_strict_policy(client):
    r = client.get("/sw.js")  # anonymous: the browser fetches updates without a session
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/javascript")
    assert r["Service-Worker-Allowed"] == "/"
    assert r["Cache-Control"] == "no-cache"
    policy = r["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    assert "script-src 'self' 'unsafe-inline'" not in policy
    body = r.content.decode()
    config = json.loads(body.split("const CONFIG = ", 1)[1].split(";\n", 1)[0])
    assert len(config["version"]) == 12
    assert "/static/js/offline.js" in config["shell"] and "/static/js/gridwork.js" in config["shell"]
    assert all(
        finders.find(u.removeprefix("/static/")) for u in config["shell"]
    )  # nothing precached is missing
    assert config["tileMax"] > 0
    assert client.post("/sw.js").status_code == 405


def test_the_manifest_names_the_app_in_chinese_and_its_icons_exist(client):
    r = client.get("/manifest.webmanifest")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/manifest+json")
    m = r.json()
    assert m["name"] == "网格通 · 网格员" and m["short_name"] == "网格通" and m["lang"] == "zh-CN"
    assert m["display"] == "standalone" and m["start_url"] == "/gridwork/" and m["scope"] == "/"
    sizes = {(i["sizes"], i.get("purpose", "any")) for i in m["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in m["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        with open(path, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert {s["url"] for s in m["shortcuts"]} == {"/gridwork/", "/field/"}


def test_the_grid_workers_pages_link_the_manifest_the_worker_and_the_sync_panel(pw, client):
    client.force_login(pw.grid_worker)
    for url in ("/gridwork/", f"/gridwork/points/{pw.market.pk}/check/", "/field/"):
        html = client.get(url).content.decode()
        assert 'rel="manifest" href="/manifest.webmanifest"' in html, url
        assert 'data-sw="/sw.js"' in html and f'data-user="{pw.grid_worker.pk}"' in html, url
        assert "/static/js/offline.js" in html, url
    patrol = client.get("/gridwork/").content.decode()
    assert f'data-cg-warm href="/gridwork/points/{pw.market.pk}/check/"' in patrol  # kept for offline use


def test_a_check_in_sent_again_after_a_dead_spot_is_stored_once_per_worker(pw, client):
    client.force_login(pw.grid_worker)
    lng, lat = pw.market.lng, pw.market.lat
    body = {"client_id": "offline-check-0001", "point": pw.market.pk, "lng": lng, "lat": lat, "score": 90}
    first = post(client, f"{API}/checks", body)
    again = post(client, f"{API}/checks", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert PointCheck.objects.filter(worker=pw.grid_worker).count() == 1
    # the same phone id from another worker is that worker's own check-in (keyed per user)
    client.force_login(pw.worker2)
    grid1_point = pw.point("李四的点位", "river", col=1, grid=pw.grid2)
    other = post(
        client, f"{API}/checks", {**body, "point": grid1_point.pk, "lng": inside(1)[0], "lat": inside(1)[1]}
    )
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert PointCheck.objects.filter(client_id="offline-check-0001").count() == 2
    # a refused check-in (not the worker's point) is a 4xx the phone will not retry
    bad = post(client, f"{API}/checks", {**body, "client_id": "offline-check-0002"})
    assert bad.status_code == 404 and bad.json()["detail"]


def test_a_check_in_with_a_finding_re_sent_files_one_case(pw, client):
    client.force_login(pw.grid_worker)
    body = {
        "client_id": "offline-check-0003",
        "point": pw.river.pk,
        "lng": pw.river.lng,
        "lat": pw.river.lat,
        "findings": "河面漂浮垃圾约5平方米",
        "report": True,
        "category": pw.minor.pk,
    }
    first, again = post(client, f"{API}/checks", body), post(client, f"{API}/checks", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["case"] == again.json()["case"] is not None
    assert Case.objects.count() == 1


def report(client, pw, key):
    x, y = inside(0)
    data = {
        "category": pw.minor.pk,
        "description": "离线时拍到的暴露垃圾",
        "photos": [jpeg_upload()],
        "idempotency_key": key,
        "lng": f"{x:.6f}",
        "lat": f"{y:.6f}",
    }
    return client.post("/field/", data, HTTP_ACCEPT="application/json")


def test_a_queued_case_report_sent_twice_files_one_case_with_its_photo(pw, client):
    client.force_login(pw.grid_worker)
    first, again = report(client, pw, "case-offline-0001"), report(client, pw, "case-offline-0001")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["case"] == again.json()["case"]
    case = Case.objects.get()
    assert case.attachments.count() == 1 and case.created_by == pw.grid_worker
    # another worker's identical key is another report
    other = UserFactory(role=Role.GRID_WORKER, grids=[pw.grid])
    client.force_login(other)
    assert report(client, pw, "case-offline-0001").status_code == 201
    assert Case.objects.count() == 2
    # refused content is a 422 naming the field: the phone shows it and offers 放弃
    client.force_login(pw.grid_worker)
    r = client.post("/field/", {"idempotency_key": "case-offline-0002"}, HTTP_ACCEPT="application/json")
    assert r.status_code == 422 and set(r.json()["errors"]) >= {"photos", "description", "category"}
