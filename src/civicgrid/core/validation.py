"""Shared input bounds: text without control characters, database-sized integers, bounded lists.

PostgreSQL refuses NUL bytes in text (psycopg raises, the request would answer 500) and integers beyond a
bigint; SQLite overflows on the same integers. Every API input goes through one of these types, so a bad
value is a 422 naming the field, never a database error.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from civicgrid.core.errors import ValidationFailed

MAX_DB_INT = 2**63 - 1  # bigint / SQLite INTEGER
MAX_OFFSET = 10_000_000
MAX_IDS = 20  # ids in one list input (attachments of one move …)

# C0 controls except tab, line feed and carriage return; NUL is the one PostgreSQL cannot store
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CONTROL_MESSAGE = "不能包含控制字符（如 NUL 空字符），请删除后重试"


def has_control_chars(value: str) -> bool:
    return bool(_CONTROL.search(value))


def check_text(value, *, field: str, label: str | None = None):
    """``value`` unchanged, or :class:`ValidationFailed` naming ``field`` when it holds control characters."""
    if isinstance(value, str) and _CONTROL.search(value):
        raise ValidationFailed(f"{label or field}{CONTROL_MESSAGE}", field=field)
    return value


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError("control_characters", CONTROL_MESSAGE)
    return value


# str without control characters; combine with Field(max_length=...) for the length
Text = Annotated[str, AfterValidator(_no_control)]
# a primary key / foreign key as the client sends it
Id = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
# a version counter, an amount … anything stored in an integer column
DbInt = Annotated[int, Field(ge=-MAX_DB_INT, le=MAX_DB_INT)]


def short(text, limit: int = 300) -> str:
    """``text`` as one bounded line for an error message: at most ``limit`` characters, ``…`` when cut."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
