"""Photo uploads stay in bounded memory: huge-dimension images are refused from their header, big JPEGs are
decoded at a reduced scale. Through every case upload path: API upload, API 办结 multipart, web detail form,
web 上报 form."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from civicgrid.cases.models import Attachment, CaseState
from tests.bombs import PeakRss, png_bomb

pytestmark = pytest.mark.django_db

# a 6300×6300 RGBA PNG: ~20 KB on disk, 160 MB decoded; the bound leaves room for test-client noise
BOUND_MB = 60


def bomb(name="bomb.png"):
    return SimpleUploadedFile(name, png_bomb(6300, 6300), content_type="image/png")


def test_api_upload_of_a_huge_png_is_refused_from_its_header(api_client, world):
    data = png_bomb(6300, 6300)
    assert len(data) < 200_000
    api = api_client.login(world.handler)
    with PeakRss() as mem:
        r = api.c.post("/api/v1/cases/attachments", {"file": bomb("巨图.png"), "kind": "after"})
    assert r.status_code == 422, r.content
    body = r.json()
    assert body["field"] == "attachments"
    assert "巨图.png" in body["detail"] and "6300×6300" in body["detail"] and "尺寸过大" in body["detail"]
    assert mem.growth_mb < BOUND_MB, f"decoding grew RSS by {mem.growth_mb:.0f} MB"
    assert not Attachment.objects.exists()


def test_a_header_beyond_forty_megapixels_is_refused_for_any_format(api_client, world):
    api = api_client.login(world.handler)
    r = api.c.post(
        "/api/v1/cases/attachments", {"file": SimpleUploadedFile("wide.png", png_bomb(20000, 2500))}
    )
    assert r.status_code == 422
    assert "wide.png" in r.json()["detail"] and "4000 万像素" in r.json()["detail"]


def test_api_finish_with_a_huge_png_is_refused_and_the_case_stays(api_client, world):
    case = world.to_state("handling")
    api = api_client.login(world.handler)
    with PeakRss() as mem:
        r = api.c.post(
            f"/api/v1/cases/{case.pk}/finish",
            {"version": case.version, "note": "已清理", "photos": [bomb("after.png")]},
        )
    assert r.status_code == 422 and "after.png" in r.json()["detail"]
    assert mem.growth_mb < BOUND_MB
    case.refresh_from_db()
    assert case.state == CaseState.HANDLING


def test_web_finish_form_refuses_a_huge_png_next_to_the_photo_field(client, world):
    case = world.to_state("handling")
    client.force_login(world.handler)
    with PeakRss() as mem:
        r = client.post(
            f"/cases/{case.pk}/",
            {
                "move": "finish",
                "finish-version": case.version,
                "finish-note": "已处理",
                "finish-attachments": bomb(),
            },
        )
    assert r.status_code == 422
    assert "bomb.png" in r.content.decode() and "尺寸过大" in r.content.decode()
    assert mem.growth_mb < BOUND_MB


def test_web_report_form_refuses_a_huge_png(client, world):
    client.force_login(world.dispatcher)
    with PeakRss() as mem:
        r = client.post(
            "/cases/new/",
            {
                "source": "hotline_12345",
                "description": "路边垃圾堆积",
                "category": world.category.pk,
                "grid": world.grid.pk,
                "address": "示范路1号",
                "idempotency_key": "k-huge-png",
                "photos": [bomb("现场.png")],
            },
        )
    assert r.status_code == 422
    assert "现场.png" in r.content.decode() and "尺寸过大" in r.content.decode()
    assert mem.growth_mb < BOUND_MB
    assert not Attachment.objects.exists()


def test_a_big_phone_jpeg_is_accepted_and_decoded_at_reduced_scale(api_client, world, monkeypatch):
    """24 MP is over what a PNG may decode to, but a JPEG is decoded at 1/8 scale for its thumbnail."""
    buf = io.BytesIO()
    Image.new("L", (6000, 4000), 128).save(buf, "JPEG", quality=70)
    decoded = []
    real_load = Image.Image.load

    def spy(self):
        decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(Image.Image, "load", spy)
    api = api_client.login(world.handler)
    r = api.c.post("/api/v1/cases/attachments", {"file": SimpleUploadedFile("big.jpg", buf.getvalue())})
    assert r.status_code == 201, r.content
    assert (r.json()["width"], r.json()["height"]) == (6000, 4000)
    assert max(w * h for w, h in decoded) <= 750 * 500
