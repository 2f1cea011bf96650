from __future__ import annotations

from civicgrid.core import audit, observability


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
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            observability.user_id_var.set(user.pk)  # log lines written while serving carry the user id
        try:
            return self.get_response(request)
        finally:
            audit.current_ip.reset(token)
