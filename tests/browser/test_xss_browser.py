"""Script payloads typed into every public and staff text input are shown as text, never run.

A hostile tester's report: a 随手拍 address ``<img src=x onerror=…>`` ran as the dispatcher who hovered the case's
pin (Leaflet tooltips parse HTML). Here payloads go in through 随手拍, the 网格员 field report, the desk form, the
REST API, Open311, a 12345 import and admin-edited names (grid, community, category, department); then the pages
that show them are opened as the staff who see them, pins and grid outlines hovered. Each page must leave
``window.__xss`` undefined, fire no dialog, report no Content-Security-Policy violation (an injected handler would
be blocked by the CSP and reported) and show the payload as visible text.
"""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from civicgrid.accounts.roles import Role
from civicgrid.cases import services as case_services
from civicgrid.cases.categories import load_categories
from civicgrid.cases.models import Case
from civicgrid.core import geoindex
from civicgrid.intake import hotline
from civicgrid.open311 import services as open311_services
from tests.cases.factories import CategoryFactory
from tests.factories import (
    ORIGIN_LAT,
    ORIGIN_LNG,
    STEP,
    CommunityFactory,
    DepartmentFactory,
    GridFactory,
    StreetFactory,
    UserFactory,
)
from tests.intake.conftest import row, write_xlsx
from tests.intake.imaging import jpeg_upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"
SVG = '"><svg onload=window.__xss=1>'
INSIDE = (ORIGIN_LNG + STEP / 2, ORIGIN_LAT + STEP / 2)  # centre of the payload-named grid


class Watch:
    """Dialogs, page errors and CSP violations of one page, for its whole life."""

    def __init__(self, page):
        self.events: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda e: self.events.append(f"pageerror: {e}"))
        page.on("console", self._console)

    def _dialog(self, dialog):
        self.events.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def _console(self, msg):
        if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text:
            self.events.append(f"csp: {msg.text}")


def assert_clean(page, watch: Watch, where: str, *texts: str):
    assert page.evaluate("typeof window.__xss") == "undefined", where
    assert not watch.events, f"{where}: {watch.events}"
    injected = page.locator("img[src=x], svg[onload], script:not([src]):not([type='application/json'])")
    assert injected.count() == 0, f"{where}: payload became markup"
    body = page.locator("body").inner_text()
    for text in texts:
        assert text in body, f"{where}: {text!r} is not shown as text"


def hover_tooltip(page, locator, corner: bool = True) -> str:
    # a grid outline is hovered near its corner (a pin may sit in the middle), a pin in its centre
    locator.hover(force=True, position={"x": 6, "y": 6} if corner else None)
    tip = page.locator(".leaflet-tooltip").last
    tip.wait_for(state="visible")
    assert tip.locator("img, svg, script").count() == 0
    return tip.inner_text()


@pytest.fixture
def payload_street(settings, tmp_path):
    """A 街道 whose admin-edited names carry payloads, and staff for every page."""
    settings.INTAKE_RUN_INLINE = True
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    cache.clear()
    load_categories()
    street = StreetFactory()
    community = CommunityFactory(street=street, name=f"社区{SVG}")
    grid = GridFactory(col=0, community=community, name=f"网格{IMG}")
    GridFactory(col=1, community=community, name="第二网格")
    geoindex.invalidate()
    dept = DepartmentFactory(code="XSS", name=f"部门{SCRIPT}")
    DepartmentFactory(code="CGZD", name="城管中队")
    category = CategoryFactory(name=f"分类{SVG}", default_department=dept)
    _, key = open311_services.issue_key(actor=None, name="市民服务平台", street=street)
    return {
        "tmp": tmp_path,
        "grid": grid,
        "dept": dept,
        "category": category,
        "key": key,
        "dispatcher": UserFactory(role=Role.DISPATCHER, full_name="陈调度"),
        "handler": UserFactory(role=Role.DEPT_HANDLER, department=dept),
        "worker": UserFactory(role=Role.GRID_WORKER, grids=[grid]),
        "admin": UserFactory(role=Role.SYSTEM_ADMIN, is_staff=True),
    }


def seed_through_every_input(s) -> dict[str, Case | str]:
    """One case per way in, each carrying payloads; returns them by source (and the 随手拍 tracking URL)."""
    at = {"lng": f"{INSIDE[0]:.6f}", "lat": f"{INSIDE[1]:.6f}"}
    made: dict = {}

    anon = Client()
    anon.get("/s/", REMOTE_ADDR="203.0.113.9")  # the resident's device cookie
    resp = anon.post(
        "/s/",
        {"kind": "garbage", "description": f"随手拍描述{SCRIPT}", "address": f"随手拍地址{IMG}", **at},
        REMOTE_ADDR="203.0.113.9",
    )
    assert resp.status_code == 302, resp.content.decode()[:300]
    made["track_url"] = resp["Location"]
    made["resident"] = Case.objects.get(description__startswith="随手拍描述")

    worker = Client()
    worker.force_login(s["worker"])
    resp = worker.post(
        "/field/",
        {
            "category": s["category"].pk,
            "description": f"网格员描述{SVG}",
            "address": f"网格员地址{IMG}",
            "photos": [jpeg_upload()],
            **at,
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:300]
    made["patrol"] = Case.objects.get(description__startswith="网格员描述")

    desk = Client()
    desk.force_login(s["dispatcher"])
    resp = desk.post(
        "/field/staff/",
        {
            "source": "leader",
            "source_ref": f"交办{SVG}",
            "description": f"交办描述{IMG}",
            "address": f"交办地址{SCRIPT}",
            "reporter_name": f"反映人{IMG}",
            **at,
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:300]
    made["desk"] = Case.objects.get(description__startswith="交办描述")

    resp = desk.post(
        "/api/v1/cases",
        json.dumps(
            {
                "source": "hotline_12345",
                "description": f"接口描述{SCRIPT}",
                "address": f"接口地址{SVG}",
                "reporter_name": f"接口{SVG}",
                "lng": INSIDE[0],
                "lat": INSIDE[1],
            }
        ),
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content.decode()[:300]
    made["api"] = Case.objects.get(description__startswith="接口描述")

    resp = anon.post(
        "/open311/v2/requests.json",
        {
            "api_key": s["key"],
            "service_code": "S06010",
            "attribute[severity]": "moderate",
            "lat": at["lat"],
            "long": at["lng"],
            "description": f"开放接口描述{IMG}",
            "address_string": f"开放接口地址{SVG}",
        },
    )
    assert resp.status_code in (200, 201), resp.content.decode()[:300]
    made["open311"] = Case.objects.get(description__startswith="开放接口描述")

    # a 12345 export through the importer's own screens (upload → mapping → start); the address matches nothing
    path = write_xlsx(
        s["tmp"] / "12345.xlsx", [row("GDX1", 诉求内容=f"热线描述{SVG}", 事发地址=f"热线地址{IMG}")]
    )
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    resp = desk.post("/intake/upload/", {"source": "hotline_12345", "file": upload})
    job_pk = int(re.search(r"/jobs/(\d+)/", resp["Location"]).group(1))
    desk.post(f"/intake/jobs/{job_pk}/mapping/", {f"map_{f.name}": f.label for f in hotline.FIELDS})
    desk.post(f"/intake/jobs/{job_pk}/start/")
    made["hotline"] = Case.objects.get(source_ref="GDX1")
    return made


def test_payloads_from_every_input_show_as_text_on_every_page(
    browser, page, live_server, browser_login, payload_street, screenshot_dir
):
    s = payload_street
    made = seed_through_every_input(s)
    url = live_server.url
    # a dispatch and a return put payloads (address, department name, reason) into notifications
    resident_case = made["resident"]
    for move, actor, kw in (
        ("accept", s["dispatcher"], {}),
        ("dispatch", s["dispatcher"], {"department": s["dept"]}),
        ("return", s["handler"], {"reason": f"退回理由{IMG}"}),
    ):
        resident_case.refresh_from_db()
        case_services.perform(actor=actor, case=resident_case, move=move, version=resident_case.version, **kw)

    watch = Watch(page)
    browser_login(page, s["dispatcher"])

    # the map: grid outlines named by the admin, the legend of communities
    page.wait_for_selector("#grid-map[data-loaded='2']")
    outlines = page.locator("#grid-map path.leaflet-interactive")
    tips, popups = [], []
    for i in range(outlines.count()):
        tips.append(hover_tooltip(page, outlines.nth(i)))
        hint = page.inner_text("#map-hint")
        outlines.nth(i).click(position={"x": 6, "y": 6})  # the click popup names the grid too
        page.wait_for_function("old => document.getElementById('map-hint').textContent !== old", arg=hint)
        popup = page.locator(".leaflet-popup-content").last  # opened with the hint, once the lookup answered
        popup.wait_for(state="visible")
        assert popup.locator("img, svg, script").count() == 0
        popups.append(popup.inner_text())
        page.mouse.move(0, 0)
    assert any(f"网格{IMG}" in t and f"社区{SVG}" in t for t in tips), tips
    assert any(f"网格{IMG}" in p for p in popups), popups
    hover_tooltip(page, outlines.nth(next(i for i, t in enumerate(tips) if IMG in t)))
    page.screenshot(path=str(screenshot_dir / "xss-map-grid-tooltip.png"))
    assert_clean(page, watch, "home", f"社区{SVG}")

    page.goto(f"{url}/cases/inbox/")
    assert_clean(page, watch, "inbox", f"随手拍地址{IMG}", f"开放接口地址{SVG}", f"网格{IMG}")
    page.goto(f"{url}/cases/?text=")
    assert_clean(page, watch, "list", f"网格{IMG}")  # titles are cut to fit the table

    # every case's detail: facts, timeline, the map pin's address tooltip and the grid outline's tooltip
    shots = 0
    for source, text in (
        ("resident", f"随手拍描述{SCRIPT}"),
        ("patrol", f"网格员描述{SVG}"),
        ("desk", f"交办描述{IMG}"),
        ("api", f"接口描述{SCRIPT}"),
        ("open311", f"开放接口描述{IMG}"),
        ("hotline", f"热线描述{SVG}"),
    ):
        case = made[source]
        page.goto(f"{url}/cases/{case.pk}/")
        expected = [text] + ([case.address] if case.address else [])
        if case.lng is not None:
            page.wait_for_selector("#case-map[data-loaded='1']")
            tip = hover_tooltip(page, page.locator("#case-map path[stroke='#fff']"), corner=False)
            assert tip == case.address, (source, tip)
            if not shots:
                page.screenshot(path=str(screenshot_dir / "xss-pin-tooltip.png"))
                shots += 1
            page.mouse.move(0, 0)
            grid_tip = hover_tooltip(
                page, page.locator("#case-map path.leaflet-interactive:not([stroke='#fff'])")
            )
            assert f"网格{IMG}" in grid_tip
        assert_clean(page, watch, f"detail {source}", *expected)
    page.goto(f"{url}/cases/{resident_case.pk}/")
    assert_clean(page, watch, "timeline", f"退回理由{IMG}", f"部门{SCRIPT}")

    page.goto(f"{url}/cases/notifications/")
    assert_clean(page, watch, "notifications", f"退回理由{IMG}")

    page.goto(f"{url}/intake/placements/")
    page.wait_for_selector("#placement-map[data-loaded='2']")
    hover_tooltip(page, page.locator("#placement-map path.leaflet-interactive").first)
    assert_clean(page, watch, "placements", f"热线地址{IMG}")

    # the department handler's notification carries the address through the case title
    handler = browser.new_context(locale="zh-CN").new_page()
    handler_watch = Watch(handler)
    browser_login(handler, s["handler"])
    handler.goto(f"{url}/cases/notifications/")
    assert_clean(handler, handler_watch, "handler notifications", f"随手拍地址{IMG}")
    handler.context.close()

    # the resident's own tracking page (anonymous)
    resident = browser.new_context(locale="zh-CN").new_page()
    resident_watch = Watch(resident)
    resident.goto(f"{url}{made['track_url']}")
    assert_clean(resident, resident_watch, "track", f"随手拍描述{SCRIPT}", f"随手拍地址{IMG}")
    resident.context.close()

    # admin-edited names in the admin's own lists
    admin = browser.new_context(locale="zh-CN").new_page()
    admin_watch = Watch(admin)
    browser_login(admin, s["admin"])
    for path, text in (
        ("/admin/places/grid/", f"网格{IMG}"),
        ("/admin/places/community/", f"社区{SVG}"),
        ("/admin/cases/category/?q=分类", f"分类{SVG}"),
        ("/admin/accounts/department/", f"部门{SCRIPT}"),
    ):
        admin.goto(f"{url}{path}")
        assert_clean(admin, admin_watch, path, text)
    admin.context.close()
