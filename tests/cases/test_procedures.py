"""A second 办理程序 runs on the same engine with no view code of its own (tests/procedure_app.py: 测试整改).

A 隐患 is found; the command centre 交办 it to a department with a 整改期限 it chooses (1–30 自然日); the department
starts, then reports it fixed with its 整改措施 (a field of the procedure's detail record); the command centre
signs it off (复查销号) within a fixed 3 自然日 review stage. The 网格员 of the grid never sees these cases.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured

from civicgrid.accounts.roles import Role
from civicgrid.cases import metrics, procedures, selectors, services, workflow
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import Case, DeadlineUnit, Light
from civicgrid.core import clock
from civicgrid.core.auditlabels import action_label
from civicgrid.core.errors import IllegalTransition, PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog
from tests.procedure_app import CODE, PROCEDURE, RectifyDetail

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return clock.aware(datetime(*args))


def found(world, **kw) -> Case:
    return services.create_case(
        actor=world.dispatcher,
        source="grid_patrol",
        description="消防通道被杂物堵塞",
        category=world.category,
        grid=world.grid,
        address="示范路2号",
        procedure=CODE,
        **kw,
    )


def move(case, name, actor, **kw) -> Case:
    case.refresh_from_db()
    return services.perform(actor=actor, case=case, move=name, version=case.version, **kw)


def assigned(world, days=10) -> Case:
    c = found(world)
    return move(c, "assign_fix", world.dispatcher, department=world.dept, amount=days, unit="natural_days")


# --- the table ------------------------------------------------------------------------------------


def test_a_new_case_starts_in_the_procedures_initial_state_with_a_number(world):
    c = found(world)
    assert (c.procedure, c.state, c.get_state_display()) == (CODE, "found", "发现隐患")
    assert c.number and c.number.startswith("C")
    assert c.get_procedure_display() == "测试整改程序"
    assert world.report().procedure == procedures.DEFAULT_CODE  # the standard loop stays the default


def test_the_guard_raises_409_for_the_state_and_403_for_the_role():
    with pytest.raises(IllegalTransition) as illegal:
        PROCEDURE.check("found", "sign_off", Role.DISPATCHER)
    assert illegal.value.code == CaseErrorCode.ILLEGAL_TRANSITION and illegal.value.status == 409
    assert "发现隐患" in illegal.value.message  # the procedure's own state label
    with pytest.raises(PermissionDenied) as role:
        PROCEDURE.check("found", "assign_fix", Role.GRID_WORKER)
    assert role.value.code == CaseErrorCode.ROLE_NOT_ALLOWED and role.value.status == 403
    with pytest.raises(PermissionDenied) as cond:
        PROCEDURE.check("assigned", "start_fix", Role.DEPT_HANDLER, workflow.Facts(own_department=False))
    assert cond.value.code == CaseErrorCode.OUT_OF_JURISDICTION
    with pytest.raises(IllegalTransition) as unknown:
        PROCEDURE.check("found", "dispatch", Role.DISPATCHER)  # a standard move is not in this table
    assert unknown.value.code == CaseErrorCode.UNKNOWN_MOVE
    assert PROCEDURE.check("assigned", "start_fix", Role.DEPT_HANDLER, workflow.Facts(own_department=True))


def test_a_standard_move_on_a_test_case_is_refused_and_nothing_changes(world):
    c = found(world)
    with pytest.raises(IllegalTransition) as exc:
        move(c, "accept", world.dispatcher)
    assert exc.value.code == CaseErrorCode.UNKNOWN_MOVE
    c.refresh_from_db()
    assert (c.state, c.version) == ("found", 1)


def test_the_registry_refuses_a_broken_table():
    broken = procedures.Procedure(
        code="broken",
        label="坏程序",
        states=(procedures.StateDef("a", "甲"),),
        initial="a",
        moves=(workflow.define_move("go", "走", ["a"], "nowhere", {Role.DISPATCHER: None}),),
    )
    with pytest.raises(ImproperlyConfigured, match="unknown target"):
        procedures.register(broken)
    reuse = procedures.Procedure(
        code="broken",
        label="坏程序",
        states=(procedures.StateDef("a", "甲"),),
        initial="a",
        moves=(
            workflow.define_move("sign", "签收", ["a"], "a", {Role.DISPATCHER: None}, fields=("rating",)),
        ),
    )
    with pytest.raises(ImproperlyConfigured, match="rename it"):
        procedures.register(reuse)
    # the standard one, the 安全隐患 and 矛盾纠纷 apps' (civicgrid.hazards, civicgrid.disputes) and this test's
    assert [p.code for p in procedures.all_procedures()] == [
        procedures.DEFAULT_CODE,
        "hazard",
        "dispute",
        "enforcement",
        "opinion",
        "petition",
        CODE,
    ]


# --- the whole story, with its deadlines -----------------------------------------------------------------


def test_the_story_with_a_chosen_and_a_fixed_natural_days_stage(world):
    with clock.frozen(at(2026, 9, 24, 10, 0)):  # Thursday
        c = assigned(world, days=3)
    # 整改期限 chosen at 交办: Thu 09-24 + 3 自然日 → Sun 09-27 (a rest day) → Mon 09-28 24:00
    assert (c.state, c.stage, c.limit_amount, c.limit_unit) == ("assigned", "rectify", 3, "natural_days")
    assert c.due_at == at(2026, 9, 29, 0, 0) and c.light == Light.GREEN
    assert c.department == world.dept
    with clock.frozen(at(2026, 9, 25, 9, 0)):
        c = move(c, "start_fix", world.handler)
    with clock.frozen(at(2026, 9, 30, 10, 0)):
        c = move(
            c, "report_fixed", world.handler, note="已清理通道", detail={"measures": "清运杂物，设置禁停标志"}
        )
    # 复查时限 is the procedure's fixed 3 自然日: Wed 09-30 + 3 → Sat 10-03 (国庆) → Thu 10-08 24:00
    assert (c.state, c.stage, c.limit_amount, c.limit_unit) == ("fixed", "review", 3, "natural_days")
    assert c.due_at == at(2026, 10, 9, 0, 0)
    assert c.handling_feedback == "已清理通道"  # the move's handler ran
    assert RectifyDetail.objects.get(case=c).measures == "清运杂物，设置禁停标志"
    with clock.frozen(at(2026, 10, 8, 9, 0)):
        c = move(c, "sign_off", world.dispatcher)
    assert (c.state, c.stage, c.due_at, c.closed_at) == ("signed_off", "", None, at(2026, 10, 8, 9, 0))
    events = list(c.events.order_by("seq"))
    assert [e.move for e in events] == ["create", "assign_fix", "start_fix", "report_fixed", "sign_off"]
    assert events[1].data["limit"] == {"amount": 3, "unit": "natural_days"}
    assert events[3].data["detail"] == {"measures": "清运杂物，设置禁停标志"}
    assert workflow.timeline_labels(events, PROCEDURE)[1:] == [
        "交办整改",
        "开始整改",
        "报告整改完成",
        "复查销号",
    ]
    # each move wrote its audit row, named in the audit log's own words
    last = AuditLog.objects.filter(object_id=str(c.pk)).order_by("-pk").first()
    assert (last.action, action_label(last.action)) == ("cases.case.sign_off", "工单：复查销号")


@pytest.mark.parametrize(
    "amount, unit, field",
    [(31, "natural_days", "amount"), (0, "natural_days", "amount"), (5, "working_days", "unit")],
)
def test_a_chosen_limit_outside_the_bounds_is_refused_naming_the_field(world, amount, unit, field):
    c = found(world)
    with pytest.raises(ValidationFailed) as exc:
        move(c, "assign_fix", world.dispatcher, department=world.dept, amount=amount, unit=unit)
    assert (exc.value.code, exc.value.field) == (CaseErrorCode.LIMIT_OUT_OF_BOUNDS, field)
    c.refresh_from_db()
    assert c.state == "found" and c.stage == ""


def test_a_missing_detail_field_is_refused_and_nothing_is_written(world):
    c = move(assigned(world), "start_fix", world.handler)
    with pytest.raises(ValidationFailed) as exc:
        move(c, "report_fixed", world.handler, note="已清理")
    assert (exc.value.code, exc.value.field) == (CaseErrorCode.DETAIL_REQUIRED, "measures")
    assert "整改措施" in exc.value.message
    with pytest.raises(ValidationFailed) as blank:
        move(c, "report_fixed", world.handler, note="已清理", detail={"measures": "  "})
    assert blank.value.code == CaseErrorCode.DETAIL_REQUIRED
    with pytest.raises(ValidationFailed) as bad:
        move(
            c, "report_fixed", world.handler, note="已清理", detail={"measures": "x", "hazard_level": "huge"}
        )
    assert (bad.value.code, bad.value.field) == (CaseErrorCode.INVALID_INPUT, "hazard_level")
    c.refresh_from_db()
    assert c.state == "fixing" and not RectifyDetail.objects.filter(case=c).exists()


def test_a_required_input_is_refused_by_the_engine(world):
    c = found(world)
    with pytest.raises(ValidationFailed) as exc:
        move(c, "assign_fix", world.dispatcher, amount=5, unit="natural_days")
    assert (exc.value.code, exc.value.field) == (CaseErrorCode.FIELD_REQUIRED, "department")


# --- visibility, groups, metrics ----------------------------------------------------------------------


def test_the_grid_worker_of_the_grid_does_not_see_it_the_command_centre_does(world, api_client):
    c = found(world)
    standard = world.report()
    worker_sees = set(selectors.visible_cases(user=world.grid_worker).values_list("pk", flat=True))
    assert standard.pk in worker_sees and c.pk not in worker_sees
    assert api_client.login(world.grid_worker).get(f"/cases/{c.pk}").status_code == 404
    assert c.pk in set(selectors.visible_cases(user=world.dispatcher).values_list("pk", flat=True))
    assert selectors.get_case(user=world.leader, pk=c.pk) == c
    # the department sees it once it is theirs (jurisdiction still applies on top of the rule)
    assert not selectors.visible_cases(user=world.handler).filter(pk=c.pk).exists()
    move(c, "assign_fix", world.dispatcher, department=world.dept, amount=5, unit="natural_days")
    assert selectors.visible_cases(user=world.handler).filter(pk=c.pk).exists()
    assert not selectors.visible_cases(user=world.handler2).filter(pk=c.pk).exists()


def test_state_groups_metrics_inbox_and_filters_count_it(world):
    def open_cases():
        fam = next(metrics.families())
        return sum(s.value for s in fam.samples)

    base = open_cases()
    c = assigned(world)
    assert c.is_open and open_cases() == base + 1
    assert selectors.filter_cases(user=world.dispatcher, status="assigned").get() == c
    assert c in selectors.inbox(user=world.handler, tab="active")  # the department has a move to make
    assert c not in selectors.inbox(user=world.handler2, tab="active")
    c = move(c, "drop", world.shift_leader, reason="重复上报")
    assert not c.is_open and open_cases() == base
    assert "signed_off" in procedures.states_in("done") and "dropped" not in procedures.states_in("done")
    assert Case.objects.filter(procedures.group_q("closed"), pk=c.pk).exists()
    assert not selectors.inbox(user=world.shift_leader, tab="all").filter(pk=c.pk).exists()
    with pytest.raises(ValidationFailed) as exc:
        selectors.filter_cases(user=world.dispatcher, status="nonsense")
    assert exc.value.code == CaseErrorCode.INVALID_FILTER


# --- generated API and forms ----------------------------------------------------------------------


def test_allowed_moves_and_the_generated_endpoint(world, api_client):
    c = found(world)
    api_client.login(world.shift_leader)
    body = api_client.get(f"/cases/{c.pk}").json()
    assert body["procedure"] == CODE and body["state_label"] == "发现隐患"
    moves = {m["name"]: m for m in body["allowed_moves"]}
    assert list(moves) == ["assign_fix", "drop"]
    assert moves["assign_fix"]["path"] == "assign-fix"
    assert moves["assign_fix"]["fields"] == ["department", "note", "amount", "unit"]
    r = api_client.post(
        f"/cases/{c.pk}/assign-fix",
        {"version": 1, "department": world.dept.pk, "amount": 31, "unit": "natural_days"},
    )
    assert (
        r.status_code == 422 and r.json()["code"] == "limit_out_of_bounds" and r.json()["field"] == "amount"
    )
    r = api_client.post(
        f"/cases/{c.pk}/assign-fix",
        {"version": 1, "department": world.dept.pk, "amount": 7, "unit": "natural_days", "note": "限期整改"},
    )
    assert r.status_code == 200, r.json()
    assert (r.json()["state"], r.json()["stage"], r.json()["limit_amount"]) == ("assigned", "rectify", 7)
    # 409: not from this state; 403: not this role
    r = api_client.post(f"/cases/{c.pk}/sign-off", {"version": 2})
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    r = api_client.post(f"/cases/{c.pk}/start-fix", {"version": 2})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    api_client.login(world.handler)
    assert api_client.post(f"/cases/{c.pk}/start-fix", {"version": 2}).status_code == 200
    r = api_client.post(f"/cases/{c.pk}/report-fixed", {"version": 3, "note": "已清理"})
    assert r.status_code == 422 and (r.json()["code"], r.json()["field"]) == ("detail_required", "measures")
    r = api_client.post(
        f"/cases/{c.pk}/report-fixed", {"version": 3, "note": "已清理", "measures": "清运杂物"}
    )
    assert r.status_code == 200 and r.json()["state"] == "fixed"
    assert r.json()["timeline"][-1]["move_label"] == "报告整改完成"


def test_openapi_shows_a_typed_body_per_generated_move(api_client, world):
    schema = api_client.login(world.dispatcher).get("/openapi.json").json()
    op = schema["paths"]["/api/v1/cases/{case_id}/assign-fix"]["post"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    props = schema["components"]["schemas"][ref]["properties"]
    assert {"version", "department", "note", "amount", "unit"} <= set(props)
    assert schema["components"]["schemas"][ref]["required"] == ["version"]
    op = schema["paths"]["/api/v1/cases/{case_id}/report-fixed"]["post"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"note", "measures"} <= set(schema["components"]["schemas"][ref]["properties"])
    # the standard endpoints keep their published bodies
    op = schema["paths"]["/api/v1/cases/{case_id}/dispatch"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/DispatchIn")


def test_get_procedures_describes_states_moves_stages_and_fields(api_client, world):
    body = api_client.login(world.dispatcher).get("/procedures").json()
    by_code = {p["code"]: p for p in body}
    assert set(by_code) == {"standard", "hazard", "dispute", "enforcement", "opinion", "petition", CODE}
    std = by_code["standard"]
    assert [m["name"] for m in std["moves"]] == list(workflow.MOVES)
    assert std["groups"]["done"] == ["closed", "rated"] and std["restricted"] is False
    test = by_code[CODE]
    stages = {s["code"]: s for s in test["stages"]}
    assert stages["rectify"]["rule"] == "chosen"
    assert stages["rectify"]["chosen"] == {
        "move": "assign_fix",
        "minimum": 1,
        "maximum": 30,
        "unit": "natural_days",
    }
    assert (stages["review"]["rule"], stages["review"]["amount"], stages["review"]["unit"]) == (
        "fixed",
        3,
        "natural_days",
    )
    report = next(m for m in test["moves"] if m["name"] == "report_fixed")
    assert report["detail_fields"] == ["measures"] and report["required"] == ["note"]
    assert test["detail_fields"] == ["hazard_level", "measures"] and test["restricted"] is True
    assert api_client.login(world.auditor).get("/procedures").status_code == 403


def test_the_web_form_is_generated_and_works(world, client):
    c = found(world)
    client.force_login(world.dispatcher)
    page = client.get(f"/cases/{c.pk}/").content.decode()
    assert 'data-testid="action-assign_fix"' in page and "测试整改程序" in page
    assert 'name="assign_fix-amount"' in page and 'name="assign_fix-department"' in page
    assert "1–30 个自然日" in page
    form = {
        "move": "assign_fix",
        "assign_fix-version": c.version,
        "assign_fix-department": world.dept.pk,
        "assign_fix-amount": 45,
        "assign_fix-unit": DeadlineUnit.NATURAL_DAYS,
    }
    r = client.post(f"/cases/{c.pk}/", form)
    assert r.status_code == 422 and "时限须在 1 到 30 个自然日之间" in r.content.decode()
    r = client.post(f"/cases/{c.pk}/", {**form, "assign_fix-amount": 14})
    assert r.status_code == 302
    c.refresh_from_db()
    assert (c.state, c.limit_amount, c.department_id) == ("assigned", 14, world.dept.pk)
    # the department's form for 报告整改完成 asks for the detail field; a blank one is refused on the form
    move(c, "start_fix", world.handler)
    client.force_login(world.handler)
    page = client.get(f"/cases/{c.pk}/").content.decode()
    assert 'name="report_fixed-measures"' in page
    c.refresh_from_db()
    r = client.post(
        f"/cases/{c.pk}/",
        {"move": "report_fixed", "report_fixed-version": c.version, "report_fixed-note": "好了"},
    )
    assert r.status_code == 422
    r = client.post(
        f"/cases/{c.pk}/",
        {
            "move": "report_fixed",
            "report_fixed-version": c.version,
            "report_fixed-note": "好了",
            "report_fixed-measures": "清运杂物",
        },
    )
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.state == "fixed" and c.rectify_detail.measures == "清运杂物"
