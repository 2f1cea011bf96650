"""After pluggable procedures: the rest of the product follows the case's procedure, not the standard lists.

A client chooses the procedure when it creates a case (and a procedure says who may create its cases); Open311
and the resident tracking page show a sensible public status for a case of another procedure (open/closed from
its state groups, the label from the procedure); an extension request stores any procedure's stage code; the
bulk history engine refuses another procedure; the case and the account show their 街道.
"""

from __future__ import annotations

import dataclasses
import re
from types import SimpleNamespace

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.cases import procedures, services
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.history import HistoryEngine
from civicgrid.cases.models import Case, DeadlineUnit, ExtensionRequest
from civicgrid.cases.selectors import public_text
from civicgrid.core import clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.intake import resident
from civicgrid.open311 import selectors as o311
from tests.factories import UserFactory
from tests.procedure_app import CODE, PROCEDURE

pytestmark = pytest.mark.django_db

OPEN_CODE = "rectify_public"  # the test procedure without its visibility rule: its cases may be public
DESK_CODE = "rectify_desk"  # only the command centre's 值班员 may create its cases


@pytest.fixture
def extra_procedures():
    procedures.register(dataclasses.replace(PROCEDURE, code=OPEN_CODE, visibility=None))
    procedures.register(
        dataclasses.replace(PROCEDURE, code=DESK_CODE, create_roles=frozenset({Role.DISPATCHER}))
    )
    yield
    procedures.unregister(OPEN_CODE)
    procedures.unregister(DESK_CODE)


def publish(category) -> None:
    for c in (category.parent, category):  # 对外公开, its 大类 too
        c.is_public = True
        c.save(update_fields=["is_public"])


def body(world, **kw) -> dict:
    return {
        "source": "grid_patrol",
        "description": "消防通道被杂物堵塞",
        "category": world.category.pk,
        "grid": world.grid.pk,
        "address": "示范路2号",
        **kw,
    }


def create(world, code: str, actor=None) -> Case:
    return services.create_case(
        actor=actor or world.dispatcher,
        source="grid_patrol",
        description="消防通道被杂物堵塞",
        category=world.category,
        grid=world.grid,
        address="示范路2号",
        procedure=code,
    )


def move(case, name, actor, **kw) -> Case:
    case.refresh_from_db()
    return services.perform(actor=actor, case=case, move=name, version=case.version, **kw)


# --- 3. choosing the procedure at create -----------------------------------------------------------


def test_the_api_creates_a_case_of_the_chosen_procedure_and_standard_by_default(world, api_client):
    api_client.login(world.dispatcher)
    r = api_client.post("/cases", body(world, procedure=CODE))
    assert r.status_code == 201, r.content
    got = r.json()
    assert (got["procedure"], got["state"], got["state_label"]) == (CODE, "found", "发现隐患")
    assert Case.objects.get(pk=got["id"]).procedure == CODE
    r = api_client.post("/cases", body(world))
    assert r.status_code == 201 and (r.json()["procedure"], r.json()["state"]) == ("standard", "reported")


def test_an_unknown_procedure_is_422_and_nothing_is_written(world, api_client):
    before = Case.objects.count()
    r = api_client.login(world.dispatcher).post("/cases", body(world, procedure="no_such"))
    assert r.status_code == 422
    assert (r.json()["code"], r.json()["field"]) == ("unknown_procedure", "procedure")
    assert Case.objects.count() == before


def test_a_procedure_decides_who_may_create_its_cases(world, api_client, extra_procedures):
    # 测试整改 declares nobody: whoever may create standard cases may create its cases, an auditor may not
    assert procedures.get(CODE).create_roles is None
    r = api_client.login(world.auditor).post("/cases", body(world, procedure=CODE, grid=None, category=None))
    assert r.status_code == 403 and r.json()["code"] == CaseErrorCode.ROLE_NOT_ALLOWED
    # only the 值班员 may create 「rectify_desk」 cases: the 值班长 is refused with 403 forbidden, nothing written
    before = Case.objects.count()
    r = api_client.login(world.shift_leader).post("/cases", body(world, procedure=DESK_CODE))
    assert r.status_code == 403 and r.json()["code"] == CaseErrorCode.ROLE_NOT_ALLOWED
    assert Case.objects.count() == before
    with pytest.raises(PermissionDenied):
        create(world, DESK_CODE, actor=world.shift_leader)
    r = api_client.login(world.dispatcher).post("/cases", body(world, procedure=DESK_CODE))
    assert r.status_code == 201 and r.json()["procedure"] == DESK_CODE
    # and /api/v1/procedures says so
    described = {p["code"]: p for p in api_client.get("/procedures").json()}
    assert described[DESK_CODE]["create_roles"] == [Role.DISPATCHER]
    assert described["standard"]["create_roles"] is None


# --- 1. Open311 and the resident tracking page ------------------------------------------------------


def test_open311_shows_a_case_of_another_procedure_open_then_closed_with_its_label(world, extra_procedures):
    publish(world.category)
    street = world.grid.community.street
    case = create(world, OPEN_CODE)
    text = public_text()
    out = o311.request_dict(case, text=text)
    assert (out["status"], out["status_notes"]) == ("open", "发现隐患")
    assert case in o311.find_requests(street=street, statuses=["open"])
    assert case not in o311.find_requests(street=street, statuses=["closed"])

    case = move(case, "drop", world.shift_leader, reason="重复上报")  # 已撤销: closed in its procedure
    out = o311.request_dict(case, text=text)
    assert (out["status"], out["status_notes"]) == ("closed", "已撤销")
    assert out["expected_datetime"] is None and out["service_notice"] is None
    assert case in o311.find_requests(street=street, statuses=["closed"])
    assert case not in o311.find_requests(street=street, statuses=["open"])
    updates = o311.public_updates(street=street, start=case.created_at, end=clock.now())
    mine = [o311.update_dict(u, text=text) for u in updates if u.case.pk == case.pk]
    assert [(u["status"], u["description"]) for u in mine] == [("open", "发现隐患"), ("closed", "已撤销")]


def test_a_procedure_that_restricts_who_sees_its_cases_is_never_public(world):
    publish(world.category)
    case = create(world, CODE)  # 测试整改 has a visibility rule (only the command centre …)
    assert case not in o311.find_requests(street=None)
    assert o311.get_request(street=None, service_request_id=case.number) is None


def test_the_tracking_page_shows_the_procedures_label_and_its_done_group(world):
    case = create(world, CODE)
    assert resident.public_state(case) == ("发现隐患", "secondary")
    assert [s["label"] for s in resident._steps(case) if s.get("current")] == ["已受理"]
    case = move(case, "assign_fix", world.dispatcher, department=world.dept, amount=5, unit="natural_days")
    case = move(case, "start_fix", world.handler)
    case = move(case, "report_fixed", world.handler, note="已清理", detail={"measures": "清走杂物"})
    assert resident.public_state(case) == ("已整改待复查", "primary")
    assert not any(s["done"] for s in resident._steps(case) if s["label"] == "已办结")
    case = move(case, "sign_off", world.dispatcher)  # 已销号: its done group
    assert resident.public_state(case) == ("已销号", "success")
    last = resident._steps(case)[-1]
    assert (last["label"], last["done"], last["at"]) == ("已办结", True, case.closed_at)
    replies = resident._replies(case, public_text())
    assert [(r["title"], r["text"]) for r in replies] == [("处理结果", "已清理")]


def test_a_dropped_case_of_another_procedure_ends_with_its_label(world):
    case = move(create(world, CODE), "drop", world.shift_leader, reason="重复上报")
    steps = resident._steps(case)
    assert steps[-1]["label"] == "已撤销" and steps[-1].get("end")
    assert "已办结" not in [s["label"] for s in steps]


def test_the_standard_wording_is_unchanged(world):
    case = world.to_state("rejected")
    assert resident.public_state(case) == ("不予受理", "dark")
    assert resident._steps(case)[-1]["label"] == "不予受理"
    case = world.to_state("verified")
    assert resident.public_state(case) == ("核查通过，即将办结", "primary")
    assert case.state in resident.result_states(case)


# --- 2. an extension request stores any procedure's stage -------------------------------------------


def test_an_extension_request_stores_another_procedures_stage(world):
    case = move(
        create(world, CODE),
        "assign_fix",
        world.dispatcher,
        department=world.dept,
        amount=5,
        unit="natural_days",
    )
    ext = ExtensionRequest(
        case=case,
        stage=case.stage,
        amount=2,
        unit=DeadlineUnit.NATURAL_DAYS,
        reason="材料未到",
        requested_by=world.handler,
    )
    ext.full_clean()
    ext.save()
    ext.refresh_from_db()
    assert (ext.stage, ext.get_stage_display()) == ("rectify", "整改期限")
    standard = world.to_state("dispatched")
    assert ExtensionRequest(case=standard, stage="handle").get_stage_display() == "处置时限"


# --- 4. the bulk history engine is standard-only --------------------------------------------------


def test_the_history_engine_refuses_another_procedure(world):
    engine = HistoryEngine()
    spec = SimpleNamespace(procedure=CODE)
    with pytest.raises(ValidationFailed) as exc:
        engine.create(spec, clock.now(), auto_accept=False)
    assert exc.value.field == "procedure" and "标准流程" in str(exc.value)
    assert engine.sims == []


def test_bulk_import_refuses_a_played_case_of_another_procedure(world):
    engine = HistoryEngine()
    engine.sims.append(SimpleNamespace(case=Case(procedure=CODE, state="found")))
    before = Case.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.bulk_import_history(actor=world.sysadmin, engine=engine, photos=[])
    assert exc.value.field == "procedure"
    assert Case.objects.count() == before


# --- 5. the 街道 of a case and of an account --------------------------------------------------------


def test_the_api_shows_the_cases_street_in_detail_and_list(world, api_client):
    case = world.report()
    street = world.grid.community.street
    api_client.login(world.dispatcher)
    assert api_client.get(f"/cases/{case.pk}").json()["street"] == {
        "id": street.pk,
        "name": street.name,
        "code": street.code,
    }
    items = api_client.get("/cases").json()["items"]
    assert [i["street"]["name"] for i in items if i["id"] == case.pk] == [street.name]
    # the answer to a create names it too (from the per-process street cards), renamed at once
    assert api_client.post("/cases", body(world)).json()["street"]["name"] == street.name
    street.name = "更名街道"
    street.save()
    assert api_client.post("/cases", body(world)).json()["street"]["name"] == "更名街道"


def test_me_shows_the_street_and_district_of_the_account(world, api_client):
    street = world.grid.community.street
    me = api_client.login(world.dispatcher).get("/accounts/me").json()
    assert (me["street"], me["district"], me["tier_label"]) == (
        street.name,
        street.district.name,
        street.name,
    )
    qu = UserFactory(role=Role.LEADER, street=None, district=street.district)
    me = api_client.login(qu).get("/accounts/me").json()
    assert (me["street"], me["district"]) == (None, street.district.name)
    assert me["tier_label"] == f"{street.district.name}（区级）"


def test_the_case_page_shows_its_street_and_the_district_to_a_district_account(world, client):
    case = world.report()
    street = world.grid.community.street
    client.force_login(world.dispatcher)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'data-testid="case-street">{street.name}</dd>' in page
    client.force_login(UserFactory(role=Role.LEADER, street=None, district=street.district))
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'data-testid="case-street">{street.district.name} · {street.name}</dd>' in page


def test_the_new_case_form_offers_the_procedures_the_user_may_create(world, client, extra_procedures):
    client.force_login(world.shift_leader)
    html = client.get("/cases/new/").content.decode()
    assert 'name="procedure"' in html and f'value="{CODE}"' in html and 'value="standard"' in html
    assert f'value="{DESK_CODE}"' not in html  # only the 值班员 may create those
    r = client.post(
        "/cases/new/",
        {
            "procedure": CODE,
            "category": world.category.pk,
            "description": "楼道堆放杂物",
            "address": "示范路3号",
            "source": "hotline_12345",
            "idempotency_key": "form-procedure-1",
        },
    )
    case = Case.objects.get(description="楼道堆放杂物")
    assert r.status_code == 302 and r["Location"] == f"/cases/{case.pk}/"
    assert (case.procedure, case.state) == (CODE, "found")
    # the 值班员 is offered the desk-only procedure as well
    client.force_login(world.dispatcher)
    assert f'value="{DESK_CODE}"' in client.get("/cases/new/").content.decode()


def test_the_list_filter_offers_and_finds_another_procedures_state(world, client):
    case = create(world, CODE)
    standard = world.report()
    client.force_login(world.dispatcher)
    html = client.get("/cases/").content.decode()
    # (the 安全隐患 procedure names the same state value 发现: one option carries both labels)
    option = re.search(r'<option value="found">([^<]*)</option>', html)
    assert option and set(option.group(1).split("／")) == {"发现隐患", "发现"}
    html = client.get("/cases/?status=found").content.decode()
    assert case.display_number in html and standard.display_number not in html
