from __future__ import annotations

import functools
import ipaddress

from civicgrid.core import audit


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
        try:
            return self.get_response(request)
        finally:
            audit.current_ip.reset(token)
