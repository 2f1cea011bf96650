"""The metrics module's errors: a bad statistics query is a 400 (``invalid``) naming the field."""

from civicgrid.core.errors import DomainError, ErrorCode


class BadQuery(DomainError):
    status = 400
    code = ErrorCode.INVALID
