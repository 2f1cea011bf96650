"""网格员巡查上报 (/field/) and the desk entry of 领导交办 / 舆情 / 信访 (/field/staff/)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from civicgrid.accounts.roles import Role
from civicgrid.cases.categories import load_categories
from civicgrid.cases.models import Case, CaseState, Category
from civicgrid.core import geoindex
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, STEP, GridFactory, StreetFactory, UserFactory
from tests.intake.imaging import fake_jpeg_upload, gps_jpeg_upload, jpeg_upload

pytestmark = pytest.mark.django_db

IN_OWN = (ORIGIN_LNG + STEP / 2, ORIGIN_LAT + STEP / 2)  # grid 1 (the worker's)
IN_DEDICATED = (ORIGIN_LNG + STEP * 0.2, ORIGIN_LAT + STEP * 0.2)  # 专属网格 inside grid 1
IN_OTHER = (ORIGIN_LNG + 3.5 * STEP, ORIGIN_LAT + STEP / 2)  # grid 2 (someone else's)
NOWHERE = (ORIGIN_LNG + 1, ORIGIN_LAT + 1)


@pytest.fixture(autouse=True)
def _fresh():
    cache.clear()


@pytest.fixture
def area(db):
    load_categories()
    StreetFactory()
    g1 = GridFactory(col=0, row=0, name="翠苑第一网格")
    g2 = GridFactory(col=3, row=0, name="翠苑第二网格")
    dedicated = GridFactory(
        col=0,
        row=0,
        name="示范学校专属网格",
        kind="dedicated",
        parent=g1,
        community=g1.community,
        geometry={
            "type": "Polygon",
            "coordinates": [
                [
                    [ORIGIN_LNG + STEP * 0.1, ORIGIN_LAT + STEP * 0.1],
                    [ORIGIN_LNG + STEP * 0.3, ORIGIN_LAT + STEP * 0.1],
                    [ORIGIN_LNG + STEP * 0.3, ORIGIN_LAT + STEP * 0.3],
                    [ORIGIN_LNG + STEP * 0.1, ORIGIN_LAT + STEP * 0.3],
                    [ORIGIN_LNG + STEP * 0.1, ORIGIN_LAT + STEP * 0.1],
                ]
            ],
        },
    )
    geoindex.invalidate()
    worker = UserFactory(role=Role.GRID_WORKER, grids=[g1], full_name="王网格")
    return {
        "g1": g1,
        "g2": g2,
        "dedicated": dedicated,
        "worker": worker,
        "can_file": Category.objects.get(code="S06010"),  # 暴露垃圾: 网格员可自行立案
        "no_file": Category.objects.get(code="S06028"),  # 噪声扰民: needs the dispatch desk
    }


def patrol(client, area, *, point=IN_OWN, category="can_file", json=False, photos=None, **fields):
    data = {
        "category": area[category].pk if category in ("can_file", "no_file") else category,
        "description": "路口暴露垃圾约两立方米",
        "photos": photos if photos is not None else [jpeg_upload()],
        "idempotency_key": fields.pop("idempotency_key", ""),
    }
    if point is not None:
        data.update({"lng": f"{point[0]:.6f}", "lat": f"{point[1]:.6f}"})
    data.update(fields)
    extra = {"HTTP_ACCEPT": "application/json"} if json else {}
    return client.post("/field/", data, **extra)


def test_only_grid_workers_use_the_patrol_page(client, area):
    client.force_login(area["worker"])
    resp = client.get("/field/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "翠苑第一网格" in html and "可直接立案" in html and "暴露垃圾" in html
    client.force_login(UserFactory(role=Role.DISPATCHER))
    assert client.get("/field/").status_code == 403
    client.logout()
    assert client.get("/field/").status_code == 302  # to the login page


def test_can_file_category_is_accepted_at_once(client, area):
    client.force_login(area["worker"])
    resp = patrol(client, area)
    assert resp.status_code == 302
    case = Case.objects.get()
    assert resp["Location"] == f"/field/done/{case.pk}/"
    assert case.source == "grid_patrol" and case.created_by == area["worker"]
    assert case.state == CaseState.ACCEPTED and case.number and case.accepted_at
    assert case.grid_id == area["g1"].pk and case.category == area["can_file"]
    assert case.attachments.count() == 1
    done = client.get(resp["Location"]).content.decode()
    assert "已立案" in done and case.number in done


def test_other_categories_wait_for_the_dispatch_desk(client, area):
    client.force_login(area["worker"])
    resp = patrol(client, area, category="no_file", json=True)
    assert resp.status_code == 201
    body = resp.json()
    case = Case.objects.get(pk=body["case"])
    assert case.state == CaseState.REPORTED and case.number is None
    assert body["redirect"] == f"/field/done/{case.pk}/"


def test_a_point_outside_the_workers_grids_is_refused(client, area):
    client.force_login(area["worker"])
    for point in (IN_OTHER, NOWHERE):
        resp = patrol(client, area, point=point, json=True)
        assert resp.status_code == 422
        msg = resp.json()["errors"]["location"]
        assert msg.startswith("位置：该位置不在您负责的网格内") and "翠苑第一网格" in msg
    resp = patrol(client, area, point=IN_OTHER)
    assert resp.status_code == 422 and "不在您负责的网格内" in resp.content.decode()
    assert not Case.objects.exists()


def test_dedicated_grid_inside_own_grid_counts_as_own(client, area):
    client.force_login(area["worker"])
    assert patrol(client, area, point=IN_DEDICATED).status_code == 302
    assert Case.objects.get().grid_id == area["dedicated"].pk


def test_photo_gps_places_the_report_and_is_checked_too(client, area):
    client.force_login(area["worker"])
    resp = patrol(client, area, point=None, photos=[gps_jpeg_upload(*IN_OWN)])
    assert resp.status_code == 302
    case = Case.objects.get()
    assert case.grid_id == area["g1"].pk and abs(case.lng - IN_OWN[0]) < 1e-5
    resp = patrol(client, area, point=None, photos=[gps_jpeg_upload(*IN_OTHER)], json=True)
    assert resp.status_code == 422 and "不在您负责的网格内" in resp.json()["errors"]["location"]


def test_missing_position_photo_and_category_are_named(client, area):
    client.force_login(area["worker"])
    resp = patrol(client, area, point=None, photos=[], category="", description="", json=True)
    assert resp.status_code == 422
    errors = resp.json()["errors"]
    assert errors["location"].startswith("位置：")
    assert errors["photos"] == "照片：请至少拍一张现场照片"
    assert errors["category"].startswith("问题分类：")
    assert errors["description"].startswith("问题描述：")


def test_fake_photo_is_refused(client, area):
    client.force_login(area["worker"])
    resp = patrol(client, area, photos=[fake_jpeg_upload()], json=True)
    assert resp.status_code == 422 and "不是有效的图片" in resp.json()["errors"]["photos"]


def test_double_submit_creates_one_case(client, area):
    client.force_login(area["worker"])
    first = patrol(client, area, idempotency_key="k-123")
    second = patrol(client, area, idempotency_key="k-123")
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Case.objects.count() == 1


# --- desk sources -----------------------------------------------------------------------------------


def desk(client, *, json=True, **fields):
    data = {
        "source": "leader",
        "source_ref": "交办〔2025〕12号",
        "description": "关于示范路夜间施工噪声的交办",
    }
    data.update(fields)
    return client.post("/field/staff/", data, **({"HTTP_ACCEPT": "application/json"} if json else {}))


def test_desk_sources_with_reference_numbers(client, area):
    dispatcher = UserFactory(role=Role.DISPATCHER)
    client.force_login(dispatcher)
    assert client.get("/field/staff/").status_code == 200
    for source, ref in (
        ("leader", "交办〔2025〕12号"),
        ("media", "YQ-20250301"),
        ("petition", "XF2025-0088"),
    ):
        resp = desk(client, source=source, source_ref=ref)
        assert resp.status_code == 201, resp.json()
        case = Case.objects.get(pk=resp.json()["case"])
        assert case.source == source and case.source_ref == ref and case.state == CaseState.REPORTED


def test_desk_requires_the_reference_and_refuses_duplicates(client, area):
    client.force_login(UserFactory(role=Role.SHIFT_LEADER))
    resp = desk(client, source_ref="  ")
    assert resp.status_code == 422 and resp.json()["errors"]["source_ref"].startswith("来源编号：")
    assert desk(client).status_code == 201
    resp = desk(client)
    assert resp.status_code == 422 and "已登记" in resp.json()["errors"]["source_ref"]
    resp = desk(client, source="hotline_12345", source_ref="X1")
    assert resp.status_code == 422 and resp.json()["errors"]["source"].startswith("来源：")
    assert Case.objects.count() == 1


def test_desk_can_accept_at_once_with_a_category(client, area):
    client.force_login(UserFactory(role=Role.DISPATCHER))
    resp = desk(client, auto_accept="1")
    assert resp.status_code == 422 and "须选择问题分类" in resp.json()["errors"]["category"]
    resp = desk(
        client,
        auto_accept="1",
        category=area["no_file"].pk,
        lng=f"{IN_OTHER[0]:.6f}",
        lat=f"{IN_OTHER[1]:.6f}",
        reporter_name="陈先生",
        photos=[jpeg_upload()],
    )
    assert resp.status_code == 201
    case = Case.objects.get()
    assert case.state == CaseState.ACCEPTED and case.number and case.grid_id == area["g2"].pk
    assert case.reporter_name == "陈先生" and case.attachments.count() == 1


def test_desk_is_for_the_dispatch_desk_only(client, area):
    client.force_login(area["worker"])
    assert client.get("/field/staff/").status_code == 403
    assert desk(client).status_code == 403
    assert not Case.objects.exists()


def test_done_page_is_scoped(client, area):
    client.force_login(area["worker"])
    patrol(client, area)
    case = Case.objects.get()
    client.force_login(UserFactory(role=Role.GRID_WORKER, grids=[area["g2"]]))
    assert client.get(f"/field/done/{case.pk}/").status_code == 404


def test_the_case_engine_refuses_another_grid_even_if_the_form_let_it_through(client, area, monkeypatch):
    """The patch rule lives in the case engine: a form whose own position check is lost or stale (here: one that
    takes any point for the worker's grid) still cannot file — let alone 立案 — a case elsewhere."""
    from civicgrid.intake import field

    monkeypatch.setattr(field, "_own_grid_at", lambda user, lng, lat: area["g1"])
    client.force_login(area["worker"])
    resp = patrol(client, area, point=IN_OTHER, json=True)
    assert resp.status_code == 403
    assert resp.json()["errors"]["location"].startswith("位置：该位置不在您负责的网格内，不能在此上报或立案")
    assert not Case.objects.exists()


def test_huge_dimension_png_is_refused_in_bounded_memory(client, area):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.bombs import PeakRss, png_bomb

    client.force_login(area["worker"])
    with PeakRss() as mem:
        resp = patrol(client, area, photos=[SimpleUploadedFile("巡查.png", png_bomb(6300, 6300))], json=True)
    assert resp.status_code == 422
    msg = resp.json()["errors"]["photos"]
    assert "巡查.png" in msg and "尺寸过大" in msg
    assert mem.growth_mb < 60
