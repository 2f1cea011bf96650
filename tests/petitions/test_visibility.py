"""Who sees a 信访, per role, everywhere a case shows: the case list and its search, the case page, the 信访
page, the case API (list and detail), the 信访 API, the Excel export, the map's case feed (the case API list),
Open311 (never public) and notifications. Only the 信访办, leaders and the case's 包案领导 see it; a department
only while the case is assigned to it; a 网格员 only with a 协查任务 on it; nobody else."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.petitions import services
from civicgrid.petitions.models import DeskMember
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET = "加装电梯协调不成反映至信访办"


def _text(response) -> str:
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    text = body.decode("utf-8", "replace")
    with contextlib.suppress(ValueError):
        text += json.dumps(json.loads(text), ensure_ascii=False)
    return text


def seen(client, user, case) -> dict[str, bool]:
    """Where ``user`` finds ``case``: True per channel."""
    client.force_login(user)
    n = case.number
    return {
        "case_list_search": SECRET in _text(client.get("/cases/", {"text": n})),
        "case_page": client.get(f"/cases/{case.pk}/").status_code == 200,
        "petition_page": client.get(f"/petitions/{case.pk}/").status_code == 200,
        "api_detail": client.get(f"/api/v1/cases/{case.pk}").status_code == 200,
        "api_list_map": n in _text(client.get("/api/v1/cases", {"q": n})),
        "api_petition": client.get(f"/api/v1/petitions/{case.pk}").status_code == 200,
        "export": n in _text(client.get("/cases/export.xlsx")),
    }


def assert_sees(client, user, case):
    got = seen(client, user, case)
    assert all(got.values()), got


def assert_blind(client, user, case):
    got = seen(client, user, case)
    assert not any(got.values()), got


@pytest.fixture
def petition(pw):
    return pw.register(summary=SECRET, grid=pw.grid)


def test_the_desk_sees_it(pw, petition, client):
    assert_sees(client, pw.desk, petition)
    assert_sees(client, pw.desk_chief, petition)


def test_the_command_centre_off_the_desk_does_not(pw, petition, client):
    assert_blind(client, pw.dispatcher, petition)
    assert_blind(client, pw.shift_leader, petition)
    DeskMember.objects.create(user=pw.dispatcher)  # put on the desk: now it does
    assert_sees(client, pw.dispatcher, petition)


def test_leaders_see_it(pw, petition, client):
    assert_sees(client, pw.leader, petition)


def test_the_case_lead_sees_it_others_of_his_role_do_not(pw, client):
    lead = UserFactory(role=Role.SHIFT_LEADER, full_name="包案副主任")  # a 值班长 not on the desk
    case = pw.register(summary=SECRET, lead=lead)
    assert_sees(client, lead, case)
    other = pw.register(summary=SECRET + "（另一件）")
    assert_blind(client, lead, other)


def test_department_handler_only_while_assigned(pw, petition, client):
    assert_blind(client, pw.handler, petition)
    petition = pw.pmove(petition, "notify_accept")
    petition = pw.pmove(petition, "assign_dept", department=pw.dept)
    got = seen(client, pw.handler, petition)
    assert got["case_page"] and got["petition_page"] and got["api_detail"] and got["case_list_search"]
    assert_blind(client, pw.handler2, petition)  # another department
    petition = pw.pmove(
        petition, "report_result", actor=pw.handler, note="已办", detail={"opinion": "已协调"}
    )
    pw.pmove(
        petition, "assign_dept", department=pw.dept2
    )  # handed on: the first department no longer sees it
    assert_blind(client, pw.handler, petition)
    assert seen(client, pw.handler2, petition)["case_page"]


def test_grid_worker_sees_none_unless_tasked(pw, petition, client):
    assert_blind(client, pw.grid_worker, petition)  # even though it lies in his grid
    services.assign_task(actor=pw.desk, case=petition, assignee=pw.grid_worker, text="上门走访")
    got = seen(client, pw.grid_worker, petition)
    assert got["case_page"] and got["petition_page"] and got["api_detail"]
    assert_blind(client, pw.other_worker, petition)


def test_community_staff_never(pw, petition, client):
    assert_blind(client, pw.community_staff, petition)


def test_system_admin_and_auditor_never(pw, petition, client):
    assert_blind(client, pw.sysadmin, petition)
    client.force_login(pw.sysadmin)
    assert client.get("/admin/petitions/").status_code in (200, 302)
    assert SECRET not in _text(client.get("/admin/petitions/"))
    assert_blind(client, pw.auditor, petition)


def test_the_ledger_pages_are_the_desks_and_the_leaders(pw, petition, client):
    for user, ok in [(pw.desk, True), (pw.leader, True), (pw.dispatcher, False), (pw.grid_worker, False),
                     (pw.handler, False), (pw.sysadmin, False)]:  # fmt: skip
        client.force_login(user)
        for url in ("/petitions/", "/petitions/figures/", "/petitions/receptions/", "/petitions/export.xlsx"):
            r = client.get(url)
            assert (r.status_code == 200) is ok, (user.role, url, r.status_code)
        assert (SECRET in _text(client.get("/api/v1/petitions"))) is ok


def test_open311_never_publishes_it(pw, petition, client):
    from civicgrid.open311 import selectors as o311

    assert not o311.public_cases(street=None).filter(pk=petition.pk).exists()
    assert not o311.public_cases(street=petition.street).filter(pk=petition.pk).exists()
    r = client.get("/open311/v2/requests.json", {"api_key": "x"})
    assert SECRET not in _text(r)
    r = client.get(f"/open311/v2/requests/{petition.number}.json")
    assert SECRET not in _text(r)
