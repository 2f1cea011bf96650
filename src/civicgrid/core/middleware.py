from __future__ import annotations

import functools
import ipaddress
import logging
import re
from collections.abc import Callable

from civicgrid.core import audit, observability

logger = logging.getLogger(__name__)


def _ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


@functools.lru_cache(maxsize=8)
def _trusted_proxies(setting: str) -> tuple[bool, tuple]:
    """``CIVICGRID_TRUST_X_FORWARDED_FOR``: empty/0 = ignore the header; 1/true = the peer (REMOTE_ADDR) is our
    reverse proxy; a comma list of addresses/networks (``10.0.0.0/8,127.0.0.1``) = those are our proxies."""
    value = (setting or "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False, ()
    if value in ("1", "true", "yes", "on"):
        return True, ()
    try:
        return True, tuple(
            ipaddress.ip_network(p.strip(), strict=False) for p in value.split(",") if p.strip()
        )
    except ValueError as exc:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"CIVICGRID_TRUST_X_FORWARDED_FOR 应为 1 或代理服务器地址/网段列表（逗号分隔）：{exc}"
        ) from exc


def client_ip(request) -> str | None:
    """The client's address. Without ``CIVICGRID_TRUST_X_FORWARDED_FOR`` that is REMOTE_ADDR (a header anyone
    can send is never believed). With it, X-Forwarded-For is read from the right — the entries our own proxies
    appended — and the right-most address that is not one of our proxies is the client; earlier entries are
    whatever the client claimed and are ignored."""
    from django.conf import settings

    remote = request.META.get("REMOTE_ADDR")
    trust, networks = _trusted_proxies(str(getattr(settings, "CIVICGRID_TRUST_X_FORWARDED_FOR", "") or ""))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not trust or not forwarded:
        return remote

    def is_proxy(addr) -> bool:
        return any(addr in net for net in networks)

    peer = _ip(remote)
    if networks and (peer is None or not is_proxy(peer)):
        return remote  # the request did not come through one of our proxies
    hops = [h for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        addr = _ip(hop)
        if addr is None:
            return remote  # garbage where our proxy writes: do not guess
        if not networks or not is_proxy(addr):
            return addr.compressed
    first = _ip(hops[0]) if hops else None
    return first.compressed if first else remote


class RequestContextMiddleware:
    """Makes the client IP available to audit rows written during this request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = audit.current_ip.set(client_ip(request))
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            observability.user_id_var.set(user.pk)  # log lines written while serving carry the user id
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


MB = 1024 * 1024


# Route limits the apps register at ready() (they know their upload sizes); core only applies them.
_ROUTE_LIMITS: dict[str, tuple[re.Pattern, int]] = {}
# Path prefixes whose other routes take small bodies only (JSON/form posts): the API, Open311.
_PREFIX_LIMITS: list[tuple[str, int]] = [("/api/", MB)]
# Path prefixes with their own error format for the 413 answer: ``(prefix, render(request, detail))``.
_TOO_LARGE_RENDERERS: dict[str, Callable] = {}


def register_body_limit(pattern: str, limit: int) -> None:
    """Requests whose path matches ``pattern`` (a regex, anchored at the start) may send ``limit`` bytes."""
    _ROUTE_LIMITS[pattern] = (re.compile(pattern), int(limit))


def register_small_body_prefix(prefix: str, limit: int = MB) -> None:
    """Every other route under ``prefix`` accepts at most ``limit`` bytes."""
    if (prefix, limit) not in _PREFIX_LIMITS:
        _PREFIX_LIMITS.append((prefix, int(limit)))


def register_too_large_renderer(prefix: str, render: Callable) -> None:
    """Answer a too-large request under ``prefix`` with ``render(request, detail)`` (its own error format)."""
    _TOO_LARGE_RENDERERS[prefix] = render


def body_limit(path: str) -> int | None:
    """The largest request body (bytes) ``path`` accepts, or None for no limit of ours (Django's apply).

    JSON and form posts to the API and Open311 are small; the upload routes (registered by their apps: the
    cases' photos, 随手拍, the boundary file import) allow their files plus room for the multipart framing.
    """
    for pattern, limit in _ROUTE_LIMITS.values():
        if pattern.match(path):
            return limit
    for prefix, limit in _PREFIX_LIMITS:
        if path.startswith(prefix):
            return limit
    return None


def _size(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{n // 1024} KB"


class RequestSizeLimitMiddleware:
    """Refuses a body larger than its route accepts with 413 before anything reads it (``Content-Length``).

    A body with no length is read as empty by Django's WSGI handler, so the header is the whole story.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_limit(request.path_info) if length else None
        if limit is not None and length > limit:
            return too_large_response(request, length, limit)
        return self.get_response(request)


def too_large_response(request, length: int, limit: int):
    from django.http import HttpResponse, JsonResponse

    detail = f"请求体过大（{_size(length)}），此接口最多接受 {_size(limit)}"
    path = request.path_info
    for prefix, render in _TOO_LARGE_RENDERERS.items():
        if path.startswith(prefix):
            return render(request, detail)
    wants_json = path.startswith("/api/") or "json" in request.META.get("HTTP_ACCEPT", "")
    if wants_json:
        return JsonResponse({"code": "payload_too_large", "detail": detail}, status=413)
    return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")


class NulByteGuardMiddleware:
    """Web pages: a NUL byte in any query parameter or form field (not file contents) is a 400 before a view
    runs. PostgreSQL cannot store NUL; Django's form fields refuse it already, this covers the parameters views
    read directly (filters, idempotency keys, tracking codes). The API and Open311 check their own inputs
    (naming the field, in their error formats)."""

    SKIP = ("/api/", "/open311/", "/static/", "/media/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(self.SKIP):
            bad = self._first_nul(request)
            if bad is not None:
                from django.http import HttpResponseBadRequest

                return HttpResponseBadRequest(
                    f"参数 {bad[:40]} 含有 NUL 空字符，请删除后重试", content_type="text/plain; charset=utf-8"
                )
        return self.get_response(request)

    @staticmethod
    def _first_nul(request) -> str | None:
        if "\x00" in request.path_info:
            return "路径"
        sources = [request.GET]
        if request.method == "POST":
            try:
                sources.append(request.POST)
            except Exception:  # noqa: BLE001 - a broken body is the view's (Django's) 400 to give
                return None
        for params in sources:
            for key, values in params.lists():
                if "\x00" in key or any("\x00" in v for v in values if isinstance(v, str)):
                    return key.replace("\x00", "")
        return None
