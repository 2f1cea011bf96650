"""The JSON API (``/api/v1/``): one NinjaAPI, one router per app (added in ``civicgrid/urls.py``), domain
errors mapped to HTTP.

Auth: ``Authorization: Bearer cg_…`` machine tokens, or the browser session (CSRF-checked); the same for the
description (``/api/v1/openapi.json``, ``/api/v1/docs``): see :func:`docs_access`.
Errors always look like ``{"code": "...", "detail": "中文说明", "field": "..."}``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.views import openapi_json
from ninja.security import APIKeyCookie, HttpBearer

from civicgrid.core import observability
from civicgrid.core.errors import DomainError
from civicgrid.core.validation import short

# ``(key) -> user | None``: who a bearer key belongs to. The accounts app (which owns the tokens) fills it in at
# ready(); core only knows that a key is checked there.
_token_authenticator: Callable[[str], object | None] | None = None


def register_token_authenticator(fn: Callable[[str], object | None]) -> None:
    global _token_authenticator
    _token_authenticator = fn


def authenticate_token(key: str):
    """The active user a bearer key belongs to, or None (also when no authenticator is registered)."""
    if _token_authenticator is None:
        return None
    return _token_authenticator(key)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
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


def _unauthorized() -> JsonResponse:
    response = JsonResponse({"code": "unauthorized", "detail": "未登录或令牌无效"}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


def docs_access(view):
    """The API description is for the API's users: ``/api/v1/openapi.json`` and the ``/api/v1/docs`` page answer a
    logged-in user or a valid bearer token (e.g. a test tool's); anyone else gets 401 (openapi.json) or the login
    page (docs). A bearer token that is given but invalid is a 401 for both."""
    is_json = getattr(view, "func", None) is openapi_json

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() == "bearer":
            user = authenticate_token(key.strip())
            if user is None:
                return _unauthorized()
            request.user = user
        else:
            user = getattr(request, "user", None)
            if user is None or not user.is_authenticated or not user.is_active:
                return _unauthorized() if is_json else redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


ERROR_RESPONSES = {
    400: "请求不合法",
    401: "未登录或令牌无效",
    403: "当前角色无权执行此操作",
    404: "对象不存在或无权查看",
    409: "操作与案件当前状态冲突，或案件已被他人修改（illegal_transition / stale_version）",
    413: "请求体过大",
    422: "输入不合法（field 指明字段）",
}
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {
        "code": {
            "type": "string",
            "description": "机器可读、长期稳定的错误码（见 docs/api-errors.md），如 validation_failed、not_found、cannot_dispatch",
        },
        "detail": {"type": "string", "description": "中文说明"},
        "field": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "出错的字段"},
        "details": {"description": "逐条的错误明细（如导入时每个要素的问题）"},
    },
    "required": ["code", "detail"],
}


def _error_codes(path: str, method: str) -> tuple[int, ...]:
    codes = [400, 401, 403, 404, 422]
    if method in ("post", "put", "patch"):
        codes.append(413)
        if path.startswith("/api/v1/cases") and not path.endswith("/attachments"):
            codes.append(409)
    return tuple(sorted(codes))


class CivicGridAPI(NinjaAPI):
    """Documents the error answers (``{"code", "detail", "field"?}``) of every operation in the OpenAPI
    document: the exception handlers below produce them, the routes only declare their success bodies."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for code in _error_codes(path, method):
                    responses.setdefault(str(code), {"description": ERROR_RESPONSES[code], **ref})
        return schema


api = CivicGridAPI(
    title="CivicGrid 街道网格化治理平台 API",
    version="1.0.0",
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionAuth()],
    docs_url="/docs",
    docs_decorator=docs_access,
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


MAX_REPORTED_ERRORS = 20


def _bounded_error(err: dict) -> dict:
    """One pydantic error without a megabyte-long echo of the input."""
    out = {}
    for key, value in err.items():
        if key == "input":
            if isinstance(value, str | int | float | bool) or value is None:
                out[key] = short(value, 100) if isinstance(value, str) else value
            continue  # dicts/lists/files: the client knows what it sent
        if key == "ctx":
            value = {k: v if isinstance(v, int | float | bool) else short(v, 100) for k, v in value.items()}
        out[key] = value
    return out


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return api.create_response(
        request,
        {"code": "payload_too_large", "detail": "请求体过大：表单/JSON 数据超过服务器允许的大小"},
        status=413,
    )


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request, exc):
    return api.create_response(
        request,
        {
            "code": "validation_failed",
            "detail": "multipart 请求体无法解析，请检查 Content-Type 的 boundary 与各部分格式",
        },
        status=422,
    )


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    errors = [_bounded_error(e) for e in exc.errors[:MAX_REPORTED_ERRORS]]
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


# The apps' routers are added by the composition root (civicgrid/urls.py): core does not know the apps above it.
