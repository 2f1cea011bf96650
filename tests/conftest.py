from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from that thread are safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REPO = Path(__file__).resolve().parent.parent
# ../shared beside the checkout; CIVICGRID_SHARED_DIR points elsewhere (e.g. from a git worktree)
SHARED = Path(os.environ.get("CIVICGRID_SHARED_DIR") or REPO.parent / "shared")
CHROMIUM = os.environ.get("CIVICGRID_CHROMIUM", "/usr/bin/chromium")

# a second 办理程序 for the whole session (tests/procedure_app.py), registered before any URLconf is loaded — as
# an app does from its AppConfig.ready() — so its API endpoints are generated and every test runs beside it
from tests import procedure_app  # noqa: E402

procedure_app.register()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test procedure's detail table (its model belongs to no installed app, so no migration makes it)."""
    from django.db import connection

    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        editor.create_model(procedure_app.RectifyDetail)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """Each test starts from the database, not from a holiday-calendar snapshot another test loaded."""
    from civicgrid.core import workcalendar

    workcalendar.clear_cache()
    yield
    workcalendar.clear_cache()


@pytest.fixture(autouse=True)
def _fresh_address_index():
    """Each test starts from the database, not from an address index built inside another test's (rolled back)
    transaction."""
    from civicgrid.places import addressindex

    addressindex.invalidate()
    yield
    addressindex.invalidate()


@pytest.fixture(autouse=True)
def _fresh_row_caches():
    """Each test starts from the database, not from a category, grid or token copy made inside another test's
    (rolled back) transaction."""
    from civicgrid.accounts import services as account_services
    from civicgrid.cases import selectors as case_selectors
    from civicgrid.places import selectors as place_selectors
    from civicgrid.triage import selectors as triage_selectors

    caches = (
        account_services._token_cache,
        case_selectors._catalogue,
        place_selectors._grid_cards,
        triage_selectors._catalogue,
    )
    for cache in caches:
        cache.reset()
    yield
    for cache in caches:
        cache.reset()


@pytest.fixture
def shared_dir() -> Path:
    """../shared reference data: present in CI, absent in a user's clone (tests skip with the reason)."""
    if not SHARED.is_dir():
        pytest.skip("../shared (reference data beside the checkout) is not present in this clone")
    return SHARED


@pytest.fixture
def make_user(db):
    from tests.factories import UserFactory

    def make(role, **kw):
        return UserFactory(role=role, **kw)

    return make


@pytest.fixture
def api_client(client):
    """A Django test client with helpers for the JSON API under /api/v1/."""
    import json

    class Api:
        def __init__(self, c):
            self.c = c
            self.headers = {}

        def login(self, user):
            self.c.force_login(user)
            return self

        def token(self, key):
            self.headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
            return self

        def get(self, path, **params):
            return self.c.get(f"/api/v1{path}", params, **self.headers)

        def post(self, path, data=None, **extra):
            return self.c.post(
                f"/api/v1{path}",
                json.dumps(data or {}),
                content_type="application/json",
                **self.headers,
                **extra,
            )

        def put(self, path, data=None, **extra):
            return self.c.put(
                f"/api/v1{path}",
                json.dumps(data or {}),
                content_type="application/json",
                **self.headers,
                **extra,
            )

    return Api(client)


# --- browser ---------------------------------------------------------------------------------------


def _one_request_at_a_time_on_sqlite() -> None:
    """The live server answers the browser's requests in threads that share the in-memory SQLite test database's
    one connection (Django's ``connections_override``): two overlapping requests (a page and its htmx panel, a
    service worker's replay of queued check-ins and GPS points) interleave on it — "no such savepoint", or both
    threads stuck in SQLite for good. On SQLite, the live server's handler runs one request at a time; PostgreSQL
    gives each thread its own connection and is left as it is.

    Patched when this conftest is imported: pytest-django's ``live_server`` is session-scoped, so it starts (and
    creates its server) before any function-scoped fixture could patch it."""
    import threading

    from django.test.testcases import LiveServerThread

    if getattr(LiveServerThread, "_civicgrid_serialized", False):
        return
    original = LiveServerThread._create_server
    lock = threading.Lock()

    def _create_server(self, *args, **kwargs):
        from django.db import connection

        server = original(self, *args, **kwargs)
        if connection.vendor != "sqlite":
            return server
        set_app = server.set_app

        def set_serialized_app(handler):
            def serialized(environ, start_response):
                with lock:
                    return list(handler(environ, start_response))  # the whole body, inside the lock

            set_app(serialized)

        server.set_app = set_serialized_app
        return server

    LiveServerThread._create_server = _create_server
    LiveServerThread._civicgrid_serialized = True


_one_request_at_a_time_on_sqlite()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CIVICGRID_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing but CIVICGRID_REQUIRE_BROWSER=1 (install Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 860})
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    ctx.close()


@pytest.fixture
def phone_page(browser):
    ctx = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    ctx.close()


@pytest.fixture
def screenshot_dir() -> Path:
    d = REPO / "var" / "screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture
def browser_login(live_server):
    """Log a user in through the real login form."""
    from tests.factories import PASSWORD

    def login(page, user):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=whoami]", state="attached")

    return login


# --- loud report of skipped browser tests -------------------------------------------------------------


def _skipped_browser_tests(terminalreporter) -> list[str]:
    return sorted(
        {
            rep.nodeid
            for rep in terminalreporter.stats.get("skipped", [])
            if "browser" in getattr(rep, "keywords", {})
        }
    )


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say loudly that browser tests did not run (Chromium missing): a silent skip looks like a pass.

    With ``CIVICGRID_SKIP_REPORT=FILE`` (set by ``make test``) the count is also appended to FILE, so the
    Makefile repeats the banner after all runs."""
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the controller reports for the whole run
        return
    skipped = _skipped_browser_tests(terminalreporter)
    if not skipped:
        return
    banner = f"浏览器测试已跳过 / BROWSER TESTS SKIPPED: {len(skipped)} tests"
    terminalreporter.write_sep("!", banner, red=True, bold=True)
    terminalreporter.write_line(f"原因 / reason: {CHROMIUM} 不存在；安装 chromium fonts-noto-cjk 后重新运行")
    for nodeid in skipped[:5]:
        terminalreporter.write_line(f"  {nodeid}")
    if len(skipped) > 5:
        terminalreporter.write_line(f"  … 另有 {len(skipped) - 5} 个")
    report = os.environ.get("CIVICGRID_SKIP_REPORT")
    if report:
        from django.db import connection

        with open(report, "a", encoding="utf-8") as fh:
            fh.write(f"{connection.vendor} {len(skipped)}\n")
