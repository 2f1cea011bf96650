from __future__ import annotations

import pytest

from civicgrid.registers import crypto, defaults, services
from civicgrid.registers.models import PersonTag
from tests.cases.factories import World
from tests.factories import BuildingFactory


def id_number(seq: int, birth: str = "19500101") -> str:
    """A valid (check digit) generated ID number: 330106 + birth date + 3-digit sequence."""
    return crypto.with_check_digit(f"330106{birth}{seq:03d}")


class RegWorld(World):
    """The cases' small 街道 plus a 楼栋 with one 户: 王阿婆 (独居高龄, a 重点人员) and a 流动人口 tenant; a person
    in another community's grid."""

    def __init__(self):
        defaults.ensure()
        super().__init__()
        self.block = BuildingFactory(
            grid=self.grid, kind="block", name="示范小区1幢", address="示范路10号1幢"
        )
        self.other_block = BuildingFactory(
            grid=self.other_grid, kind="block", name="外区2幢", address="外路2号"
        )
        self.tag = {t.code: t for t in PersonTag.objects.all()}
        self.household = services.create_household(
            actor=self.grid_worker, building_id=self.block.pk, room="302"
        )
        self.granny = services.create_person(
            actor=self.grid_worker,
            data=services.PersonInput(
                name="王阿婆",
                id_number=id_number(1),
                residence="huji",
                household=self.household,
                relation="户主",
                phone="13812345678",
                tags=("duju",),
            ),
        )
        self.tenant = services.create_person(
            actor=self.grid_worker,
            data=services.PersonInput(
                name="李流动", id_number=id_number(2, "19900505"), residence="floating", grid_id=self.grid.pk
            ),
        )
        self.outsider = services.create_person(
            actor=self.other_worker,
            data=services.PersonInput(
                name="赵外格", id_number=id_number(3), residence="huji", grid_id=self.other_grid.pk
            ),
        )


@pytest.fixture
def rw(db) -> RegWorld:
    return RegWorld()
