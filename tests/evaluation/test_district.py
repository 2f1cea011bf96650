"""The 区 level: the 区指挥中心 ranks the 街道 of its 区 (its own weights), drafts and publishes the 区 board; a 街道
account sees that board only once published, and never another 街道's boards."""

from __future__ import annotations

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.evaluation import selectors, services
from civicgrid.evaluation.models import BoardKind
from civicgrid.places.models import District
from tests.factories import StreetFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def qu(db):
    a = StreetFactory(code="330106001", name="甲街道")
    b = StreetFactory(code="330106002", name="乙街道")
    district = District.objects.get(code="330106")
    return {
        "a": a,
        "b": b,
        "district": district,
        "qu_desk": UserFactory(role=Role.DISPATCHER, street=None, district=district),
        "qu_leader": UserFactory(role=Role.LEADER, street=None, district=district),
        "a_desk": UserFactory(role=Role.DISPATCHER, street=a),
        "a_leader": UserFactory(role=Role.LEADER, street=a),
        "b_desk": UserFactory(role=Role.DISPATCHER, street=b),
        "b_worker": UserFactory(role=Role.GRID_WORKER, street=b),
    }


def test_the_district_board_of_the_streets(qu, client):
    values = {"w_response": 40, "w_resolve": 30, "w_satisfaction": 30, "min_cases": 1, "board_size": 1}
    with pytest.raises(PermissionDenied):  # a 街道 leader does not set the 区's weights
        services.save_settings(actor=qu["a_leader"], district=qu["district"], values=values)
    services.save_settings(actor=qu["qu_leader"], district=qu["district"], values=values)
    assert selectors.settings_for(district=qu["district"]).w_response == 40
    assert selectors.settings_for(street=qu["a"]).w_response == 30  # the 街道's own (default)

    board = services.draft_board(actor=qu["qu_desk"], kind=BoardKind.STREET, month="2026-06")
    assert board.district == qu["district"] and board.street is None and board.weights["w_response"] == 40
    # an empty month: nobody ranked, no list
    assert (board.rows, board.red, board.black) == ([], [], [])
    assert not selectors.visible_boards(user=qu["a_desk"]).filter(pk=board.pk).exists()  # a draft
    services.transition(actor=qu["qu_desk"], board=board, move="submit")
    services.transition(actor=qu["qu_leader"], board=board, move="publish")
    for who in ("a_desk", "b_worker", "qu_desk"):
        assert selectors.visible_boards(user=qu[who]).filter(pk=board.pk).exists(), who
    with pytest.raises(PermissionDenied):  # a 街道 account never sees the other 街道's live figures
        selectors.ranking(user=qu["a_desk"], kind=BoardKind.STREET, start=board.month, end=board.month)
    assert selectors.ranking(
        user=qu["qu_leader"], kind=BoardKind.STREET, start=board.month, end=board.month
    ).owner
    client.force_login(qu["b_worker"])
    assert client.get(f"/api/v1/evaluation/boards/{board.pk}").json()["owner"] == "西湖区"


def test_a_street_board_stays_in_its_street(qu, client):
    board = services.draft_board(actor=qu["a_desk"], kind=BoardKind.COMMUNITY, month="2026-06")
    services.transition(actor=qu["a_desk"], board=board, move="submit")
    services.transition(actor=qu["a_leader"], board=board, move="publish")
    assert not selectors.visible_boards(user=qu["b_desk"]).filter(pk=board.pk).exists()
    client.force_login(qu["b_worker"])
    assert client.get(f"/api/v1/evaluation/boards/{board.pk}").status_code == 404
    assert client.get(f"/evaluation/boards/{board.pk}/board.docx").status_code == 404
    # the 区 desk drafts a 街道 board for a 街道 it names, and sees both 街道's boards
    b_board = services.draft_board(
        actor=qu["qu_desk"], kind=BoardKind.GRID, month="2026-06", street_code="330106002"
    )
    assert b_board.street == qu["b"]
    assert set(selectors.visible_boards(user=qu["qu_desk"]).values_list("pk", flat=True)) == {
        board.pk,
        b_board.pk,
    }
    with pytest.raises(ValidationFailed) as exc:
        services.draft_board(
            actor=qu["a_desk"], kind=BoardKind.GRID, month="2026-06", street_code="330106002"
        )
    assert exc.value.field == "street"
