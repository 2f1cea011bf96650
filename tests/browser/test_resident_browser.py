"""A resident on a phone (390 px, touch): 随手拍 from category to tracking page, in headless Chromium."""

from __future__ import annotations

import re

import pytest

from civicgrid.cases.categories import load_categories
from civicgrid.cases.models import Attachment, Case
from civicgrid.core import geoindex
from tests.factories import GridFactory, StreetFactory
from tests.intake.imaging import jpeg_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def street(transactional_db):
    from django.core.cache import cache

    cache.clear()
    load_categories()  # a transactional test starts from a flushed database
    StreetFactory()
    g1 = GridFactory(col=0, row=0, name="翠苑第一网格")
    GridFactory(col=1, row=0, name="翠苑第二网格", community=g1.community)
    GridFactory(col=0, row=1, name="翠苑第三网格", community=g1.community)
    geoindex.invalidate()
    return g1


# records what the page puts into its upload: every "photos" part with its type and pixel size
# records what the page puts into its upload (every "photos" part: type and pixel size) in sessionStorage,
# holding the POST until the measurement is done, so it survives the navigation to the tracking page
RECORD_UPLOADS = """
const pending = [];
const append = FormData.prototype.append;
FormData.prototype.append = function (name, value, filename) {
  if (name === "photos" && value instanceof Blob) {
    pending.push(createImageBitmap(value).then((b) => {
      const seen = JSON.parse(sessionStorage.getItem("uploads") || "[]");
      seen.push({ type: value.type, bytes: value.size, width: b.width, height: b.height });
      sessionStorage.setItem("uploads", JSON.stringify(seen));
    }));
  }
  return append.apply(this, arguments);
};
const realFetch = window.fetch;
window.fetch = function () {
  const args = arguments;
  return Promise.all(pending).then(() => realFetch.apply(window, args));
};
"""


def test_resident_reports_from_a_phone_and_tracks_it(phone_page, live_server, street, screenshot_dir):
    page = phone_page
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(RECORD_UPLOADS)
    page.goto(f"{live_server.url}/s/")
    page.wait_for_selector('#rs-map[data-loaded="3"]')
    assert page.viewport_size["width"] == 390

    # 1. category, in plain words
    page.get_by_text("垃圾堆放", exact=True).tap()
    assert page.is_checked("input[name=kind][value=garbage]")

    # 2. description
    page.fill("#rs-description", "小区东门外垃圾堆了三天没人清理，味道很大")

    # 3. a photo straight from the camera: 3000 x 2250, resized in the browser before upload
    page.set_input_files(
        "#rs-photo-input",
        files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(size=(3000, 2250))}],
    )
    page.wait_for_selector('#rs-photos[data-count="1"] .rs-photo img')
    page.wait_for_selector(".rs-photo-busy", state="detached")

    # 4. tap the map inside the first grid (its outline is drawn from the public endpoint)
    box = page.locator(".leaflet-overlay-pane path").first.bounding_box()
    page.locator("#rs-map").scroll_into_view_if_needed()
    box = page.locator(".leaflet-overlay-pane path").first.bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#rs-where.is-set")
    assert page.input_value("#rs-lng") and page.input_value("#rs-lat")
    assert page.locator(".leaflet-marker-icon").count() == 1

    page.fill("#rs-phone", "13800138000")
    page.screenshot(path=str(screenshot_dir / "resident_report_filled.png"), full_page=True)

    # 5. submit
    page.locator("#rs-submit").tap()
    page.wait_for_url(re.compile(r"/s/t/[0-9A-Z]{10}/\?new=1$"))
    uploads = page.evaluate("JSON.parse(sessionStorage.getItem('uploads') || '[]')")
    # resized by the page's canvas before it left the phone
    assert [(u["type"], u["width"], u["height"]) for u in uploads] == [("image/jpeg", 1600, 1200)]

    code = page.inner_text("[data-testid=tracking-code]")
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code)
    assert page.is_visible("text=提交成功")
    page.screenshot(path=str(screenshot_dir / "resident_submitted.png"), full_page=True)

    case = Case.objects.get(source="resident")
    assert case.source_ref == code.replace("-", "")
    assert case.grid_id == street.pk and case.category.code == "S06010"
    assert case.reporter_phone == "13800138000"
    assert Attachment.objects.get(case=case).width == 1600

    # 6. later: the resident opens the tracking page with the code
    page.goto(f"{live_server.url}/s/t/")
    page.fill("#rs-lookup-code", code.lower())
    page.get_by_role("button", name="查询").tap()
    page.wait_for_url(f"{live_server.url}/s/t/{case.source_ref}/")
    assert page.inner_text("[data-testid=public-state]") == "已收到，等待受理"
    assert "138****8000" in page.content()
    page.screenshot(path=str(screenshot_dir / "resident_tracking.png"), full_page=True)
    assert errors == []


def test_phone_page_shows_field_errors_without_leaving(phone_page, live_server, street, screenshot_dir):
    page = phone_page
    page.goto(f"{live_server.url}/s/")
    page.wait_for_selector('#rs-map[data-loaded="3"]')
    page.set_input_files(
        "#rs-photo-input",
        files=[{"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not an image" * 40}],
    )
    page.wait_for_selector(".rs-photo-busy", state="detached")
    page.locator("#rs-submit").tap()
    page.wait_for_selector("#rs-summary:not([hidden])")
    assert page.inner_text('[data-error-for="kind"]').startswith("问题类型：")
    assert page.inner_text('[data-error-for="description"]').startswith("问题描述：")
    assert "不是有效的图片" in page.inner_text('[data-error-for="photos"]')
    assert page.inner_text('[data-error-for="location"]').startswith("位置：")
    assert page.url == f"{live_server.url}/s/"
    page.screenshot(path=str(screenshot_dir / "resident_errors.png"), full_page=True)
    assert not Case.objects.exists()
