from __future__ import annotations

import functools
import logging
import re

from civicgrid.core import audit

logger = logging.getLogger(__name__)


def client_ip(request) -> str | None:
    # behind a reverse proxy set CIVICGRID_TRUST_X_FORWARDED_FOR; by default trust only REMOTE_ADDR
    from django.conf import settings

    if getattr(settings, "CIVICGRID_TRUST_X_FORWARDED_FOR", False):
        fwd = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if fwd:
            return fwd.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


class RequestContextMiddleware:
    """Makes the client IP available to audit rows written during this request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = audit.current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            audit.current_ip.reset(token)


# --- security headers -----------------------------------------------------------------------------

# a base-map tile origin as CSP wants it: scheme://host[:port], the host may start with "*."
_ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?$")


@functools.lru_cache(maxsize=8)
def _policy(tile_origins: tuple[str, ...]) -> str:
    good = []
    for origin in tile_origins:
        o = str(origin).strip().rstrip("/")
        if _ORIGIN.match(o):
            good.append(o)
        else:
            logger.warning(
                "CIVICGRID['MAP_TILE_ORIGINS']: %r is not an origin (https://host[:port]); ignored", origin
            )
    directives = [
        "default-src 'self'",
        # every script is a file under /static/: no inline <script>, no onclick=, no eval
        "script-src 'self'",
        # Leaflet, ECharts, Bootstrap and htmx set style attributes / inject a <style>
        "style-src 'self' 'unsafe-inline'",
        # data:/blob: for photo previews drawn in the browser and Leaflet/Swagger icons; plus base-map tiles
        " ".join(["img-src 'self' data: blob:", *good]),
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
    return "; ".join(directives)


def content_security_policy() -> str:
    """The Content-Security-Policy every response carries (base-map tile origins from settings)."""
    from django.conf import settings

    origins = (getattr(settings, "CIVICGRID", None) or {}).get("MAP_TILE_ORIGINS") or ()
    if isinstance(origins, str):
        origins = [origins]
    return _policy(tuple(origins))


class SecurityHeadersMiddleware:
    """Content-Security-Policy (no inline script anywhere), nosniff, Referrer-Policy and X-Frame-Options on every
    response, static files and error pages included. A header a view set itself is left alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy()
        response.setdefault("X-Content-Type-Options", "nosniff")
        response.setdefault("Referrer-Policy", "same-origin")
        if "X-Frame-Options" not in response and not getattr(response, "xframe_options_exempt", False):
            response["X-Frame-Options"] = "DENY"
        return response
