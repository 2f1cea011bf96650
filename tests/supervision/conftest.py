from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from civicgrid.cases.models import Case
from tests.cases.factories import World

TZ = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute)).replace(tzinfo=TZ)


def bulk_cases(world, day: date, n: int, *, community=None, category=None, hour: int = 9, **kw) -> list[Case]:
    """``n`` cases reported on ``day`` (local) — rows as the engine stores them; the rules only read them."""
    rows = []
    for i in range(n):
        created = at(day, hour, i % 60) + timedelta(seconds=next(_seq) % 50)
        rows.append(
            Case(
                street=(community or world.community).street,
                community=community or world.community,
                grid=world.grid,
                category=category or world.category,
                description=kw.get("description", "占道经营"),
                source="hotline_12345",
                state=kw.get("state", "closed"),
                address=kw.get("address", f"示范路{next(_seq)}号"),
                reporter_phone=kw.get("reporter_phone", ""),
                created_at=created,
                updated_at=created,
            )
        )
    return Case.objects.bulk_create(rows)


@pytest.fixture
def world(db):
    return World()
