from __future__ import annotations

import functools
import ipaddress
import logging
import re

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


def body_limit(path: str) -> int | None:
    """The largest request body (bytes) ``path`` accepts, or None for no limit of ours (Django's apply).

    JSON and form posts to the API and Open311 are small; the upload routes allow their photos (10 MB each)
    or their boundary file, plus room for the multipart framing.
    """
    from civicgrid.cases.attachments import MAX_BYTES as PHOTO_BYTES
    from civicgrid.cases.attachments import MAX_PHOTOS_PER_MOVE
    from civicgrid.intake.photos import MAX_PHOTOS
    from civicgrid.places.importers import MAX_FILE_BYTES

    if path.startswith("/api/"):
        for pattern, limit in (
            (_API_PHOTO, PHOTO_BYTES + MB),
            (_API_FINISH, MAX_PHOTOS_PER_MOVE * PHOTO_BYTES + MB),
            (_API_IMPORT, MAX_FILE_BYTES + MB),
        ):
            if pattern.match(path):
                return limit
        return MB
    if path.startswith("/open311/"):
        return MB
    if path in ("/s/", "/field/"):  # 随手拍 and the grid worker's report: photos of one report
        return MAX_PHOTOS * PHOTO_BYTES + MB
    if _WEB_CASE_FORM.match(path):  # 上报 and the action forms on a case's page
        return MAX_PHOTOS_PER_MOVE * PHOTO_BYTES + MB
    return None


_API_PHOTO = re.compile(r"^/api/v1/cases/attachments/?$")
_API_FINISH = re.compile(r"^/api/v1/cases/\d+/finish/?$")
_API_IMPORT = re.compile(r"^/api/v1/places/import/?$")
_WEB_CASE_FORM = re.compile(r"^/cases/(new|\d+)/$")


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
    if path.startswith("/open311/"):
        from civicgrid.open311.formats import Open311Error, render_error

        fmt = "xml" if path.endswith(".xml") else "json"
        return render_error(fmt, Open311Error(413, detail))
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
