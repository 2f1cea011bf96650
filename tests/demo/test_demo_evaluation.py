"""The demo's year of 红黑榜 and 城市长效管理考核 results: loaded in under 5 s, idempotent."""

from __future__ import annotations

import random
import time

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.core import clock
from civicgrid.demo import evaluation as demo_evaluation
from civicgrid.evaluation.models import Assessment, Board
from tests.evaluation.conftest import June
from tests.factories import UserFactory
from tests.metrics.conftest import at

pytestmark = pytest.mark.django_db


def test_a_year_of_boards_and_assessments():
    w = June().build()
    street = w.grid.community.street
    UserFactory(username="dispatcher", role=Role.DISPATCHER, street=street)
    UserFactory(username="zhibanzhang", role=Role.SHIFT_LEADER, street=street)
    t = time.perf_counter()
    with clock.frozen(at(2026, 11, 26, 10, 0)):
        info = demo_evaluation.load_evaluation(street, random.Random(1))
    assert time.perf_counter() - t < 5
    assert info["months"] == 12 and info["boards"] == 48 == Board.objects.filter(street=street).count()
    assert Board.objects.filter(state="published").count() == info["published"] >= 44
    assert Assessment.objects.filter(street=street).count() == 12
    june_board = Board.objects.get(kind="grid_worker", month="2026-06-01")
    assert w.grid_worker.username in {r["key"] for r in june_board.rows + june_board.apart}
    assert demo_evaluation.load_evaluation(street, random.Random(1)) is None
