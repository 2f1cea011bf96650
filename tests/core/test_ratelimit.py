"""Shared rate-limit counters: one count for every process, strict when requests race."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection, connections

from civicgrid.core import clock, ratelimit
from civicgrid.core.ratelimit import Limit

pytestmark = pytest.mark.django_db

FIVE_AN_HOUR = Limit("test_five", 5, 3600)


def test_counts_survive_the_loss_of_process_memory_and_slide_with_time():
    t0 = clock.aware(datetime(2026, 3, 2, 9, 0))
    for i in range(5):
        cache.clear()  # another worker process: nothing in memory
        with clock.frozen(t0 + timedelta(minutes=10 * i)):
            assert ratelimit.take(FIVE_AN_HOUR, "phone-a") is not None
    with clock.frozen(t0 + timedelta(minutes=59)):
        assert ratelimit.take(FIVE_AN_HOUR, "phone-a") is None
        assert ratelimit.count(FIVE_AN_HOUR, "phone-a") == 5  # a refused take is not counted
        assert ratelimit.take(FIVE_AN_HOUR, "phone-b") is not None
    with clock.frozen(t0 + timedelta(minutes=61)):
        assert ratelimit.take(FIVE_AN_HOUR, "phone-a") is not None


def test_a_slot_given_back_is_free_again():
    slots = [ratelimit.take(FIVE_AN_HOUR, "x") for _ in range(5)]
    assert ratelimit.take(FIVE_AN_HOUR, "x") is None
    slots[0].give_back()
    slots[0].give_back()  # only once
    assert ratelimit.count(FIVE_AN_HOUR, "x") == 4
    assert ratelimit.take(FIVE_AN_HOUR, "x") is not None


def test_identities_are_stored_hashed():
    ratelimit.hit(FIVE_AN_HOUR, "13900001111")
    with connection.cursor() as cur:
        cur.execute('SELECT "key" FROM core_ratecounter')
        keys = [r[0] for r in cur.fetchall()]
    assert keys and all("13900001111" not in k for k in keys)


def test_one_time_tokens_are_used_once():
    assert ratelimit.first_use("tok", "nonce-1", 600)
    cache.clear()
    assert not ratelimit.first_use("tok", "nonce-1", 600)


@pytest.mark.django_db(transaction=True)
def test_racing_workers_cannot_take_more_than_the_limit():
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memorydb"):
        pytest.skip("the in-memory SQLite test database is one connection; PostgreSQL runs this test")
    taken: list[bool] = []
    barrier = threading.Barrier(8)

    def worker():
        try:
            barrier.wait()
            taken.append(ratelimit.take(FIVE_AN_HOUR, "same-device") is not None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == [False] * 3 + [True] * 5
