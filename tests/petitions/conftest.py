from __future__ import annotations

from datetime import datetime

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.core import clock
from civicgrid.petitions import services
from civicgrid.petitions.models import DeskMember
from tests.cases.factories import World
from tests.factories import UserFactory


def at(*args) -> datetime:
    return clock.aware(datetime(*args))


class PetitionWorld(World):
    """The cases' small 街道 plus a 信访办 (a 受理员 and a 值班长 on the desk) and a second leader for 包案."""

    def __init__(self):
        super().__init__()
        self.desk = UserFactory(role=Role.DISPATCHER, full_name="信访办小李")
        self.desk_chief = UserFactory(role=Role.SHIFT_LEADER, full_name="信访办主任")
        DeskMember.objects.create(user=self.desk)
        DeskMember.objects.create(user=self.desk_chief)
        self.lead = UserFactory(role=Role.LEADER, full_name="包案王书记")

    def register(self, *, actor=None, **kw) -> object:
        data = services.Registration(
            form=kw.pop("form", "visit"),
            summary=kw.pop("summary", "小区加装电梯意见不一，要求协调"),
            petitioner_name=kw.pop("petitioner_name", "张三丰"),
            petitioner_phone=kw.pop("petitioner_phone", "13812345678"),
            petitioner_id_number=kw.pop("petitioner_id_number", "330106198001011234"),
            grid=kw.pop("grid", self.grid),
            **kw,
        )
        return services.register_petition(actor=actor or self.desk, data=data)

    def pmove(self, case, name, actor=None, **kw):
        return services.move(actor=actor or self.desk, case=case, name=name, **kw)


@pytest.fixture
def pw(db) -> PetitionWorld:
    return PetitionWorld()
