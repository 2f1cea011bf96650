"""The 随手拍 progress page shows every photo it counts (the resident's own, and the 处置后照片 once the result is
published), never a count without pictures; timeline entries made through the resident channel, Open311 and
imports are labelled by their channel, not by the service account's role."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from civicgrid.accounts.roles import Role
from civicgrid.cases import services
from civicgrid.cases.categories import load_categories
from civicgrid.cases.models import Case
from civicgrid.core import geoindex
from tests.cases.factories import photo
from tests.factories import (
    ORIGIN_LAT,
    ORIGIN_LNG,
    STEP,
    DepartmentFactory,
    GridFactory,
    StreetFactory,
    UserFactory,
)
from tests.intake.imaging import jpeg_upload

pytestmark = pytest.mark.django_db

INSIDE = {"lng": f"{ORIGIN_LNG + STEP / 2:.6f}", "lat": f"{ORIGIN_LAT + STEP / 2:.6f}"}


@pytest.fixture
def street(db):
    cache.clear()
    load_categories()
    StreetFactory()
    grid = GridFactory(col=0, row=0, name="翠苑第一网格")
    geoindex.invalidate()
    yield grid
    cache.clear()


def _report(client, **fields):
    client.get("/s/", REMOTE_ADDR="203.0.113.9")  # the resident's device cookie, as a phone gets it
    data = {"kind": "garbage", "description": "小区东门外垃圾堆了三天没人清理", **INSIDE, **fields}
    resp = client.post("/s/", data, REMOTE_ADDR="203.0.113.9")
    assert resp.status_code == 302
    return re.search(r"/s/t/([0-9A-Z]{10})/", resp["Location"]).group(1)


def _thumbs(html: str) -> list[str]:
    return re.findall(r'<img src="(/s/t/[0-9A-Z]{10}/photos/\d+/thumb/)"', html)


def _handle_to_closed(case, grid):
    dept = DepartmentFactory(code="CGZD", name="城管中队")
    dispatcher = UserFactory(role=Role.DISPATCHER)
    handler = UserFactory(role=Role.DEPT_HANDLER, department=dept)
    worker = UserFactory(role=Role.GRID_WORKER, grids=[grid])

    def move(actor, name, **kw):
        case.refresh_from_db()
        return services.perform(actor=actor, case=case, move=name, version=case.version, **kw)

    move(dispatcher, "accept")
    move(dispatcher, "dispatch", department=dept)
    move(handler, "sign")
    move(handler, "finish", note="已清运", attachments=[photo("a.png"), photo("b.png", (1, 2, 3))])
    return move, dispatcher, worker


def test_every_counted_photo_is_shown_and_served(client, street):
    code = _report(client, photos=[jpeg_upload(), jpeg_upload()])
    html = client.get(f"/s/t/{code}/").content.decode()
    thumbs = _thumbs(html)
    assert len(thumbs) == 2 and 'data-testid="photo-count">2 张<' in html
    for url in thumbs:
        r = client.get(url)
        assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    assert client.get(thumbs[0].replace(code, "ABCDEFGHJK")).status_code == 404


def test_after_photos_appear_once_the_result_is_published(client, street):
    code = _report(client, photos=[jpeg_upload()])
    case = Case.objects.get(source="resident", source_ref=code)
    move, dispatcher, worker = _handle_to_closed(case, street)
    html = client.get(f"/s/t/{code}/").content.decode()
    # handled, not yet verified: the department's photos are not public yet, and not counted
    assert len(_thumbs(html)) == 1 and 'data-testid="result-photos"' not in html
    after = case.attachments.filter(kind="after")
    assert client.get(f"/s/t/{code}/photos/{after[0].pk}/thumb/").status_code == 404
    move(worker, "verify_pass")
    move(dispatcher, "close")
    html = client.get(f"/s/t/{code}/").content.decode()
    assert "处理后照片（2 张）" in html and len(_thumbs(html)) == 3
    assert client.get(f"/s/t/{code}/photos/{after[0].pk}/thumb/").status_code == 200


def test_report_without_photos_says_none(client, street):
    html = client.get(f"/s/t/{_report(client)}/").content.decode()
    assert 'data-testid="photo-count">无<' in html and not _thumbs(html)
    assert 'data-testid="channel">居民（随手拍）<' in html


def test_staff_timeline_labels_the_resident_channel(client, street):
    code = _report(client)
    case = Case.objects.get(source="resident", source_ref=code)
    staff = UserFactory(role=Role.DISPATCHER)
    client.force_login(staff)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert '<strong data-testid="event-actor">居民（随手拍）</strong>' in html
    timeline = html[html.index('data-testid="timeline"') :]
    assert "社区工作人员" not in timeline
    r = client.get(f"/api/v1/cases/{case.pk}")
    event = r.json()["timeline"][0]
    assert event["channel"] == "resident" and event["actor_label"] == "居民（随手拍）"
