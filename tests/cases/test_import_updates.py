"""A changed import row refreshes its case through the engine: descriptive fields only while the workflow runs
the case, everything on a case the import wrote in its final state and nobody touched since."""

from __future__ import annotations

import pytest

from civicgrid.cases import services
from civicgrid.cases.models import CaseEvent, CaseState
from civicgrid.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def test_an_import_cannot_move_a_running_case(world):
    case = world.to_state("handling")
    update = services.ImportedCaseUpdate(case=case, changes={"state": CaseState.CLOSED}, note="重新导入")
    with pytest.raises(ValidationFailed, match="正在办理") as exc:
        services.update_imported_cases(actor=world.dispatcher, updates=[update])
    assert exc.value.field == "state"
    case.refresh_from_db()
    assert case.state == CaseState.HANDLING
    assert not CaseEvent.objects.filter(case=case, move="import_update").exists()


def test_descriptive_fields_of_a_running_case_are_updated_with_a_timeline_entry(world):
    case = world.to_state("handling")
    version = case.version
    update = services.ImportedCaseUpdate(
        case=case, changes={"description": "诉求内容已更新", "reporter_phone": "13900000000"}, note="重新导入"
    )
    services.update_imported_cases(actor=world.dispatcher, updates=[update])
    case.refresh_from_db()
    assert (case.description, case.reporter_phone, case.version) == (
        "诉求内容已更新",
        "13900000000",
        version + 1,
    )
    event = case.events.order_by("-seq").first()
    assert (event.move, event.from_state, event.to_state, event.note) == (
        "import_update",
        "handling",
        "handling",
        "重新导入",
    )
    assert event.data["channel"] == "import" and event.actor_id == world.dispatcher.pk


def test_relocate_case_moves_the_point_and_grid_with_one_entry(world):
    case = world.report()
    version = case.version
    lng, lat = 120.0, 30.0
    moved = services.relocate_case(
        actor=world.dispatcher, case=case, grid=world.grid2, lng=lng, lat=lat, note="人工定位"
    )
    assert (moved.grid_id, moved.community_id, moved.version) == (
        world.grid2.pk,
        world.grid2.community_id,
        version + 1,
    )
    event = moved.events.order_by("-seq").first()
    assert event.move == "locate" and event.data["grid"] == world.grid2.pk
