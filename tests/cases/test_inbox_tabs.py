"""待办 in two tabs: 待办 (active work, urgent first, grouped, paginated) and 回访 (closed cases awaiting the
follow-up rating, with its count); the menu's 待办 count counts active work only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.cases import services
from civicgrid.cases.services import HistoricalCase
from civicgrid.core import clock

pytestmark = pytest.mark.django_db


def _closed_awaiting_followup(world, n: int):
    now = clock.now()
    rows = [
        HistoricalCase(
            source_ref=f"H{i}",
            description="已办结待回访",
            category_id=world.category.pk,
            created_at=now - timedelta(days=3),
            closed_at=now - timedelta(days=1),
        )
        for i in range(n)
    ]
    return services.import_closed_cases(
        actor=world.dispatcher, rows=rows, source="hotline_12345", batch_note="t"
    )


@pytest.fixture
def desk(world):
    """The issue's dispatcher: a few active cases and many closed ones awaiting 回访."""
    closed = _closed_awaiting_followup(world, 25)
    reported = world.to_state("reported")
    accepted = world.to_state("accepted")
    returned = world.move(world.to_state("dispatched"), "return", actor=world.handler, reason="非本部门职责")
    verified = world.to_state("verified")
    return {"closed": closed, "active": [reported, returned, accepted, verified]}


def _ids(html: str) -> list[int]:
    import re

    return [int(x) for x in re.findall(r'data-testid="inbox-item" data-case="(\d+)"', html)]


def test_default_tab_shows_active_work_only_urgent_first_with_groups(world, client, desk):
    client.force_login(world.dispatcher)
    html = client.get("/cases/inbox/").content.decode()
    assert _ids(html) == [c.pk for c in desk["active"]]  # reported, returned, accepted, verified
    assert 'data-testid="count-total">4<' in html
    assert 'data-testid="tab-followup-count">25<' in html
    groups = html.count('data-testid="inbox-group"')
    assert groups == 4
    for label in ("上报待受理", "被退回待改派", "立案待派遣", "核查通过待结案"):
        assert label in html
    assert "已结案待回访" not in html.split('data-testid="inbox-tabs"')[1]
    # the menu counts active work, 回访 apart
    assert 'title="进行中的待办" data-testid="inbox-count">4<' in html
    assert 'title="已结案待回访" data-testid="followup-count">回访 25<' in html


def test_followup_tab_is_paginated_through_htmx(world, client, desk):
    client.force_login(world.dispatcher)
    first = client.get("/cases/inbox/?tab=followup", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="inbox-list"' in first and "<html" not in first  # just the list, swapped in place
    page1 = _ids(first)
    assert len(page1) == 20 and set(page1) <= {c.pk for c in desk["closed"]}
    assert "第 1/2 页" in first and 'hx-get="/cases/inbox/?tab=followup&page=2"' in first
    page2 = _ids(client.get("/cases/inbox/?tab=followup&page=2", HTTP_HX_REQUEST="true").content.decode())
    assert len(page2) == 5 and not set(page1) & set(page2)


def test_active_tab_paginates_keeping_urgent_first(world, client, desk):
    extra = [world.to_state("accepted") for _ in range(20)]
    client.force_login(world.dispatcher)
    page1 = _ids(client.get("/cases/inbox/").content.decode())
    page2 = _ids(client.get("/cases/inbox/?page=2").content.decode())
    assert len(page1) == 20 and len(page2) == 4
    assert page1[:2] == [desk["active"][0].pk, desk["active"][1].pk]  # new report, then the returned case
    assert page2[-1] == desk["active"][3].pk  # 核查通过待结案 after all the 立案待派遣
    assert {c.pk for c in extra} <= set(page1 + page2)


def test_api_inbox_tabs(world, api_client, desk):
    api = api_client.login(world.dispatcher)
    assert api.get("/cases/inbox", tab="active").json()["total"] == 4
    assert api.get("/cases/inbox", tab="followup").json()["total"] == 25
    assert api.get("/cases/inbox").json()["total"] == 29
    r = api.get("/cases/inbox", tab="nonsense")
    assert r.status_code == 422 and r.json()["field"] == "tab"


def test_handler_inbox_has_no_followup(world, client):
    case = world.to_state("dispatched")
    client.force_login(world.handler)
    html = client.get("/cases/inbox/?tab=bogus").content.decode()
    assert _ids(html) == [case.pk] and 'data-testid="tab-followup-count">0<' in html
