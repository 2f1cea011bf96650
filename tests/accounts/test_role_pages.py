"""Every role opens every page its menu leads to, and the pages those pages link to: nothing answers 5xx, no page
carries inline script, and a menu entry a role sees is a page that role may use (the issue: 新建工单 answered 500
for 社区工作人员 and 领导)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve

from civicgrid.accounts.roles import Role
from civicgrid.intake.models import ImportJob, JobStatus
from tests.cases.factories import World
from tests.core.test_security_headers import INLINE_HANDLER, INLINE_SCRIPT

pytestmark = pytest.mark.django_db

# links that change something on GET or leave the site section under test
SKIP_PREFIXES = ("/accounts/logout", "/admin/logout", "/static/", "/media/")


class Links(HTMLParser):
    """The hrefs inside <nav> (the menu) and inside <main> (the page's own links)."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.nav: list[str] = []
        self.main: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("nav", "main"):
            self.stack.append(tag)
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if self.stack and self.stack[-1] == "nav" or "nav" in self.stack:
                self.nav.append(href)
            elif "main" in self.stack or not self.stack:
                self.main.append(href)

    def handle_endtag(self, tag):
        if tag in ("nav", "main") and tag in self.stack:
            self.stack.remove(tag)


def links(html: str) -> Links:
    p = Links()
    p.feed(html)
    return p


def local(href: str, base: str) -> str | None:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith(("#", "mailto:", "tel:", "javascript:")) or not href:
        return None
    path = parts.path or urlsplit(base).path
    if not path.startswith("/"):
        path = urlsplit(base).path.rsplit("/", 1)[0] + "/" + path
    if path.startswith(SKIP_PREFIXES):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def view_name(url: str) -> str:
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return url


@pytest.fixture
def world(db):
    return World()


@pytest.fixture
def busy_world(world):
    """Cases in several states (with their notifications) and a finished import job, so the pages have rows."""
    world.sysadmin.is_staff = True  # as accounts.services.create_user makes every 系统管理员
    world.sysadmin.save(update_fields=["is_staff"])
    for state in ("reported", "handled"):
        world.to_state(state)
    ImportJob.objects.create(
        created_by=world.dispatcher,
        original_name="12345导出.xlsx",
        file_path="imports/x.xlsx",
        file_format="xlsx",
        status=JobStatus.DONE,
        total=3,
        processed=3,
        succeeded=3,
        created_count=3,
    )
    return world


@pytest.mark.parametrize("role", list(Role))
def test_every_menu_page_opens_for_every_role(client, busy_world, role):
    user = busy_world.by_role(role)
    client.force_login(user)
    home = client.get("/")
    assert home.status_code == 200
    menu = [u for u in (local(h, "/") for h in links(home.content.decode()).nav) if u]
    assert menu, f"{role}: the menu has no links"

    seen_views: set[str] = set()
    failures: list[str] = []
    to_visit = [(u, "menu") for u in dict.fromkeys(menu)]
    while to_visit:
        url, origin = to_visit.pop(0)
        name = view_name(url)
        if origin != "menu" and name in seen_views:
            continue  # one page per kind (one case detail, one admin change list …) keeps the sweep fast
        seen_views.add(name)
        resp = client.get(url)
        code = resp.status_code
        if code >= 500 or (origin == "menu" and code != 200) or code == 403:
            failures.append(f"{url} ({origin}) -> {code}")
            continue
        html = resp.content.decode() if code == 200 and "html" in resp.get("Content-Type", "") else ""
        if INLINE_SCRIPT.search(html) or INLINE_HANDLER.search(html):
            failures.append(f"{url}: inline script under a script-src 'self' policy")
        if origin == "menu" and html:
            page_links = links(html).main
            for href in page_links:
                target = local(href, url)
                if target:
                    to_visit.append((target, url))
    assert not failures, f"{role}: " + "; ".join(failures)
    assert len(seen_views) >= len(set(map(view_name, menu)))


@pytest.mark.parametrize("role", [Role.COMMUNITY_STAFF, Role.LEADER])
def test_community_staff_and_leader_report_a_case_from_their_menu(client, world, role):
    """The regression itself: /cases/new/ (KeyError 'auto_accept' before) opens and files a case."""
    user = world.by_role(role)
    client.force_login(user)
    page = client.get("/cases/new/")
    assert page.status_code == 200
    assert 'name="auto_accept"' not in page.content.decode()  # 现场立案 is not theirs
    key = page.context["form"].initial["idempotency_key"]
    resp = client.post(
        "/cases/new/",
        {
            "description": "小区门口路灯不亮",
            "address": "示范路3号",
            "category": "",
            "idempotency_key": key,
            "auto_accept": "1",  # ignored for these roles
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:500]
    from civicgrid.cases.models import Case

    case = Case.objects.get(created_by=user)
    assert case.state == "reported"


def test_admin_menu_entry_only_for_a_system_admin_who_can_enter_the_admin(client, world):
    """A 系统管理员 account that is not marked staff cannot open /admin/, so its menu does not offer it."""
    client.force_login(world.sysadmin)
    assert not world.sysadmin.is_staff
    assert 'data-testid="nav-admin"' not in client.get("/").content.decode()
    world.sysadmin.is_staff = True
    world.sysadmin.save(update_fields=["is_staff"])
    assert 'data-testid="nav-admin"' in client.get("/").content.decode()
    assert client.get("/admin/").status_code == 200
