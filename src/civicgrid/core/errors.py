"""Domain errors. Services raise these; the API and views translate them to HTTP answers.

Every error carries a message a 街道 clerk can read (Chinese) and, where it is about one input, the field name.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Codes every part of the API may answer with; each domain adds its own (``civicgrid.cases.errors``).
    The values are a public contract (``docs/api-errors.md``): never rename one."""

    INVALID = "invalid"
    VALIDATION_FAILED = "validation_failed"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    UNAUTHORIZED = "unauthorized"
    CONFLICT = "conflict"
    ILLEGAL_TRANSITION = "illegal_transition"
    STALE_VERSION = "stale_version"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    ERROR = "error"


class DomainError(Exception):
    """Base class. ``status`` is the HTTP status the API answers with."""

    status = 400
    code: str = ErrorCode.INVALID

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None, details=None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.details = details

    def as_dict(self) -> dict:
        data = {"code": str(self.code), "detail": self.message}
        if self.field:
            data["field"] = self.field
        if self.details is not None:
            data["details"] = self.details
        return data


class ValidationFailed(DomainError):
    """Bad input. ``field`` names the offending field; ``details`` may list per-row/per-feature problems."""

    status = 422
    code = ErrorCode.VALIDATION_FAILED


class NotFound(DomainError):
    """The object does not exist *or the user may not see it* (never leak existence)."""

    status = 404
    code = ErrorCode.NOT_FOUND

    def __init__(self, message: str = "对象不存在或无权查看", **kw):
        super().__init__(message, **kw)


class PermissionDenied(DomainError):
    status = 403
    code = ErrorCode.FORBIDDEN

    def __init__(self, message: str = "没有执行此操作的权限", **kw):
        super().__init__(message, **kw)


class Conflict(DomainError):
    """The move is not legal now, or the object changed since the caller read it."""

    status = 409
    code = ErrorCode.CONFLICT


class IllegalTransition(Conflict):
    code = ErrorCode.ILLEGAL_TRANSITION


class StaleVersion(Conflict):
    code = ErrorCode.STALE_VERSION

    def __init__(self, message: str = "该对象已被他人修改，请刷新后重试", **kw):
        super().__init__(message, **kw)
