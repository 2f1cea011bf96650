"""Every response carries the Content-Security-Policy (no inline script), nosniff, Referrer-Policy and
X-Frame-Options; base-map tile origins from settings are allowed as images; no template has inline script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import civicgrid
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REQUIRED = (
    "default-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "img-src 'self' data: blob:",
)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {d.split()[0]: d for d in (p.strip() for p in policy.split(";")) if d}


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/s/t/",
        "/static/js/safe.js",
        "/no-such-page/",
        "/api/v1/openapi.json",
        "/admin/login/",
    ],
)
def test_every_kind_of_response_has_the_headers(client, path):
    response = client.get(path)
    assert response.status_code < 500
    policy = response["Content-Security-Policy"]
    for directive in REQUIRED:
        assert directive in policy, (path, directive)
    assert "'unsafe-eval'" not in policy and "'unsafe-inline'" not in directives(response)["script-src"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin")
    assert response["X-Frame-Options"] == "DENY"


def test_map_tile_origins_are_allowed_as_images_only(client, settings):
    settings.CIVICGRID = {
        **settings.CIVICGRID,
        "MAP_TILE_ORIGINS": [
            "https://t0.tianditu.gov.cn",
            "https://*.tile.example.cn:8443/",
            "bad; script-src *",
        ],
    }
    d = directives(client.get("/accounts/login/"))
    assert (
        d["img-src"] == "img-src 'self' data: blob: https://t0.tianditu.gov.cn https://*.tile.example.cn:8443"
    )
    assert d["script-src"] == "script-src 'self'"  # a malformed entry cannot widen the policy
    assert "tianditu" not in d["default-src"] + d["connect-src"]


def test_no_template_has_inline_script_or_handlers():
    root = Path(civicgrid.__file__).parent
    offenders = []
    for path in root.rglob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER):
            offenders += [f"{path.relative_to(root)}: {m.group(0)[:80]}" for m in pattern.finditer(text)]
    assert not offenders, offenders


def test_htmx_runs_without_eval(client):
    client.force_login(UserFactory())
    html = client.get("/").content.decode()
    assert '"allowEval": false' in html and "js/safe.js" in html
    assert not INLINE_SCRIPT.search(html) and not INLINE_HANDLER.search(html)
