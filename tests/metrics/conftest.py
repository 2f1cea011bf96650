from __future__ import annotations

from datetime import datetime

import pytest

from civicgrid.core import clock
from tests.cases.factories import World, photo


def at(*args) -> datetime:
    return clock.aware(datetime(*args))


class Story(World):
    """The case world with a clock: every step happens at a given Asia/Shanghai time."""

    def report_at(self, when, **kw):
        with clock.frozen(at(*when)):
            return self.report(**kw)

    def move_at(self, case, when, move, **kw):
        args = {**self.default_args(move), **kw}
        with clock.frozen(at(*when)):
            return self.move(case, move, **args)

    def handled(self, case, day, *, sign=(9, 30), finish=(12, 0)):
        """立案 09:00, 派遣 09:10, 签收 and 处置完成 on ``day`` (y, m, d)."""
        case = self.move_at(case, (*day, 9, 0), "accept")
        case = self.move_at(case, (*day, 9, 10), "dispatch")
        case = self.move_at(case, (*day, *sign), "sign")
        return self.move_at(case, (*day, *finish), "finish")

    def closed(self, case, when, rating="satisfied"):
        case = self.move_at(case, when, "verify_pass")
        case = self.move_at(case, when, "close")
        return self.move_at(case, when, "rate", rating=rating) if rating else case


@pytest.fixture
def story(db):
    return Story()


__all__ = ["at", "photo"]
