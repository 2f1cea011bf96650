"""舆情 figures on hand-built data: one cohort by 收集时间 — 收集数, 办结数 (incl. 无需处置) by the end of the period,
办结率, 回应数, by level and platform; empty periods."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from civicgrid.core import clock
from civicgrid.opinion import metrics

pytestmark = pytest.mark.django_db


def at(y, m, d, h=10):
    return datetime(y, m, d, h, tzinfo=clock.SHANGHAI)


@pytest.fixture
def ledger(ow):
    """May: 4 collected — 一般 closed in May, 重大 closed 2 June (responded in May), 较大 handled but open, one
    dismissed; 30 April 23:00 one more (April's); June: one on a news site, still 未研判."""
    with clock.frozen(at(2026, 6, 20)):
        ow.full(at=at(2026, 5, 3), level="general")
        major = ow.full(at=at(2026, 5, 31, 10), level="major", conclude=False)
        with clock.frozen(at(2026, 6, 2)):
            ow.act(major, "conclude")
        ow.full(at=at(2026, 5, 10), level="serious", respond=False, conclude=False)
        with clock.frozen(at(2026, 5, 12)):
            ow.act(ow.register(platform="forum", media="本地论坛"), "dismiss", reason="不属实")
        ow.full(at=at(2026, 4, 30, 23), level="general")
        with clock.frozen(at(2026, 6, 5)):
            ow.register(platform="news", media="都市快报")
    return ow


def test_may(ledger):
    f = metrics.figures(user=ledger.dispatcher, start=date(2026, 5, 1), end=date(2026, 5, 31))
    # the 30 April 23:00 one is April's; 办结 by 31 May: the 一般 and the dismissed one (the 重大 closed in June)
    assert (f.collected, f.concluded, f.responded) == (4, 2, 2)
    assert f.conclude_rate == 50.0
    levels = {r["key"]: (r["collected"], r["concluded"]) for r in f.by_level}
    assert levels == {"general": (1, 1), "serious": (1, 0), "major": (1, 0), "": (1, 1)}
    platforms = {r["key"]: r["collected"] for r in f.by_platform}
    assert platforms["weibo"] == 3 and platforms["forum"] == 1 and platforms["news"] == 0


def test_the_same_cohort_seen_later_counts_what_closed_since(ledger):
    f = metrics.figures(user=ledger.dispatcher, start=date(2026, 5, 1), end=date(2026, 6, 30))
    assert (f.collected, f.concluded) == (5, 3) and f.conclude_rate == 60.0
    by_level = {r["key"]: r["rate"] for r in f.by_level}
    assert by_level["major"] == 100.0 and by_level["serious"] == 0.0


def test_an_empty_period(ledger):
    f = metrics.figures(user=ledger.dispatcher, start=date(2025, 1, 1), end=date(2025, 12, 31))
    assert (f.collected, f.concluded, f.responded, f.conclude_rate) == (0, 0, 0, None)
    assert all(r["rate"] is None for r in f.by_level + f.by_platform)


def test_a_grid_worker_counts_nothing(ledger):
    f = metrics.figures(user=ledger.grid_worker, start=date(2026, 5, 1), end=date(2026, 5, 31))
    assert f.collected == 0
