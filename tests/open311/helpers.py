"""Helpers shared by the Open311 tests."""

from __future__ import annotations

from tests.factories import ORIGIN_LAT, ORIGIN_LNG, STEP


def point(col: int, row: int = 0) -> tuple[float, float]:
    """(lng, lat) in the middle of the grid square at (col, row)."""
    return ORIGIN_LNG + (col + 0.5) * STEP, ORIGIN_LAT + (row + 0.5) * STEP


def assert_error(o311, response, status: int, fmt: str = "json") -> str:
    """The body is the spec's error list (``[{code, description}]`` / ``<errors><error>``); returns the text."""
    if fmt == "xml":
        root = o311.xml(response, status)
        assert root.tag == "errors"
        errors = root.findall("error")
        assert len(errors) == 1
        assert errors[0].findtext("code") == str(status)
        assert errors[0].findtext("description")
        return errors[0].findtext("description")
    body = o311.json(response, status)
    assert isinstance(body, list) and len(body) == 1
    assert set(body[0]) == {"code", "description"}
    assert body[0]["code"] == status and isinstance(body[0]["description"], str) and body[0]["description"]
    return body[0]["description"]
