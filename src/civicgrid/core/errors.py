"""Domain errors. Services raise these; the API and views translate them to HTTP answers.

Every error carries a message a 街道 clerk can read (Chinese) and, where it is about one input, the field name.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class. ``status`` is the HTTP status the API answers with."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None, details=None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.details = details

    def as_dict(self) -> dict:
        data = {"code": self.code, "detail": self.message}
        if self.field:
            data["field"] = self.field
        if self.details is not None:
            data["details"] = self.details
        return data


class ValidationFailed(DomainError):
    """Bad input. ``field`` names the offending field; ``details`` may list per-row/per-feature problems."""

    status = 422
    code = "validation_failed"


class NotFound(DomainError):
    """The object does not exist *or the user may not see it* (never leak existence)."""

    status = 404
    code = "not_found"

    def __init__(self, message: str = "对象不存在或无权查看", **kw):
        super().__init__(message, **kw)


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"

    def __init__(self, message: str = "没有执行此操作的权限", **kw):
        super().__init__(message, **kw)


class Conflict(DomainError):
    """The move is not legal now, or the object changed since the caller read it."""

    status = 409
    code = "conflict"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class StaleVersion(Conflict):
    code = "stale_version"

    def __init__(self, message: str = "该对象已被他人修改，请刷新后重试", **kw):
        super().__init__(message, **kw)
