"""The JSON API (``/api/v1/``): one NinjaAPI, one router per app, domain errors mapped to HTTP.

Auth: ``Authorization: Bearer cg_…`` machine tokens, or the browser session (CSRF-checked).
Errors always look like ``{"code": "...", "detail": "中文说明", "field": "..."}``.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer

from civicgrid.core import observability
from civicgrid.core.errors import DomainError


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        from civicgrid.accounts.services import authenticate_token

        user = authenticate_token(token)
        if user is not None:
            request.user = user
            observability.user_id_var.set(user.pk)  # log lines written while serving carry the user id
        return user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; CSRF is enforced for unsafe methods."""

    param_name = "sessionid"

    def __init__(self):
        super().__init__(csrf=True)

    def authenticate(self, request: HttpRequest, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


api = NinjaAPI(
    title="CivicGrid 街道网格化治理平台 API",
    version="1.0.0",
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionAuth()],
    docs_url="/docs",
)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return api.create_response(request, {"code": "unauthorized", "detail": "未登录或令牌无效"}, status=401)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return api.create_response(request, {"code": "error", "detail": str(exc)}, status=exc.status_code)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    errors = exc.errors
    first = errors[0] if errors else {}
    loc = [str(p) for p in first.get("loc", []) if p not in ("body", "query", "path", "form", "payload")]
    field = ".".join(loc) or None
    msg = first.get("msg", "输入不合法")
    detail = f"字段 {field} 不合法：{msg}" if field else f"输入不合法：{msg}"
    return api.create_response(
        request,
        {"code": "validation_failed", "detail": detail, "field": field, "details": errors},
        status=422,
    )


api.add_router("/accounts", "civicgrid.accounts.api.router")
api.add_router("/places", "civicgrid.places.api.router")
api.add_router("/cases", "civicgrid.cases.api.router")
# further routers are added by their apps below (one line each)
