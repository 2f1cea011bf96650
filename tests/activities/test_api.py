"""The read-only API: the list scoped like the pages, the figures equal the selector's, bad input a 4xx naming the
field, no 5xx for any role."""

from __future__ import annotations

from datetime import date

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.activities import selectors

pytestmark = pytest.mark.django_db


def test_list_scoped_and_filtered(aw, client):
    client.force_login(aw.community_staff)
    rows = client.get("/api/v1/activities/items").json()
    assert [r["name"] for r in rows] == ["本社区议事会"] and rows[0]["kind_label"] == "议事"
    client.force_login(aw.dispatcher)
    rows = client.get("/api/v1/activities/items?kind=drill&start=2026-03-15&end=2026-03-15").json()
    assert [(r["name"], r["attendance"], r["community"]) for r in rows] == [("街道消防演练", 80, None)]
    resp = client.get("/api/v1/activities/items?kind=party")
    assert resp.status_code == 422 and "kind" in resp.content.decode()


def test_figures_equal_the_selector(aw, client):
    client.force_login(aw.leader)
    body = client.get("/api/v1/activities/figures?start=2026-01-01&end=2026-12-31").json()
    f = selectors.report_figures(user=aw.leader, start=date(2026, 1, 1), end=date(2026, 12, 31))
    assert body["total"]["attendance"] == f["activities_total"]["attendance"] == 310
    assert {r["kind"]: r["sessions"] for r in body["activities"]}["deliberation"] == 2
    resp = client.get("/api/v1/activities/figures?start=2026-12-31&end=2026-01-01")
    assert resp.status_code == 422
    assert client.get("/api/v1/activities/figures?start=x&end=2026-01-01").status_code == 422


@pytest.mark.parametrize("role", list(Role))
def test_no_5xx_for_any_role(aw, client, role):
    client.force_login(aw.by_role(role))
    for url in ("/api/v1/activities/items", "/api/v1/activities/figures?start=2026-01-01&end=2026-12-31"):
        code = client.get(url).status_code
        assert code == (403 if role in (Role.DEPT_HANDLER, Role.AUDIT_ADMIN) else 200), (role, url, code)
