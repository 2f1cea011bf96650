"""综合执法案件 through the case engine: 登记 hands the case to the 执法队 with the 立案审查 clock counted from 发现;
简易程序 closes in one step within 第51条's caps; 一般程序 立案 → 告知 → 决定 → 执行 → 结案 with the 90 日 clock and
its approved extension; 不予立案 / 撤案 / 移送; visibility (no 网格员); the figures' dates on the detail record."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.models import Case
from civicgrid.core import clock
from civicgrid.core.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from civicgrid.enforcement.models import EnforcementDetail

pytestmark = pytest.mark.django_db


def test_registering_hands_the_case_to_the_team_with_the_filing_clock_from_discovery(ew):
    now = clock.now()
    case = ew.register(discovered_at=now - timedelta(days=4))
    assert case.procedure == "enforcement" and case.state == "pending" and case.number
    assert case.department == ew.dept and case.stage == "file"
    # 15 日 from 发现, 4 of them used already: 11 自然日 left (the 立案审查 limit is chosen at 受理)
    assert case.limit_amount == 11 and case.limit_unit == "natural_days"
    d = EnforcementDetail.objects.get(case=case)
    assert d.party_name == "李某" and d.violation_type.code == "street_vending" and d.accepted_at is None
    assert [e.move for e in case.events.order_by("seq")] == ["create", "receive"]


def test_register_refuses_bad_input_naming_the_field(ew):
    with pytest.raises(ValidationFailed) as e:
        ew.register(party="  ")
    assert e.value.field == "party_name"
    with pytest.raises(ValidationFailed) as e:
        ew.register(contact="not a phone")
    assert e.value.field == "party_contact"
    with pytest.raises(ValidationFailed) as e:
        ew.register(discovered_at=clock.now() + timedelta(days=2))
    assert e.value.field == "discovered_at"
    with pytest.raises(ValidationFailed) as e:
        ew.register(department=None)
    assert e.value.field == "department"
    with pytest.raises(PermissionDenied):
        ew.register(actor=ew.grid_worker)
    with pytest.raises(PermissionDenied):
        ew.register(actor=ew.handler)
    assert not Case.objects.filter(procedure="enforcement").exists()  # nothing half-written


def test_the_generic_case_form_and_api_refuse_enforcement_cases(ew, client):
    client.force_login(ew.dispatcher)
    r = client.post(
        "/api/v1/cases",
        data={"procedure": "enforcement", "source": "dispatcher", "description": "x", "grid": ew.grid.pk},
        content_type="application/json",
    )
    assert r.status_code == 422 and r.json()["field"] == "procedure"
    assert "/enforcement/new/" in r.json()["detail"]


def test_summary_procedure_closes_in_one_step_within_the_caps(ew):
    case = ew.simple_case(fine="150")
    assert case.state == "closed" and case.stage == ""
    d = EnforcementDetail.objects.get(case=case)
    assert d.procedure_kind == "simple" and d.fine_amount == Decimal("150.00")
    assert d.accepted_at == d.decided_at == d.executed_at == d.concluded_at == case.closed_at
    # a person may be fined at most 200 元 on the spot, a unit 3000 元
    case2 = ew.register()
    with pytest.raises(ValidationFailed) as e:
        ew.act(
            case2,
            "summary_penalty",
            detail={
                "violation_type": ew.types["street_vending"].pk,
                "legal_basis": "x",
                "penalty": "罚款",
                "decision_no": "当场1",
                "fine_amount": "201",
            },
        )
    assert e.value.field == "fine_amount"
    case2.refresh_from_db()
    assert case2.state == "pending"
    unit = ew.register(party="某商店", kind="unit")
    unit = ew.act(
        unit,
        "summary_penalty",
        detail={"violation_type": ew.types["outdoor_ad"].pk, "legal_basis": "x", "penalty": "罚款",
                "decision_no": "当场2", "fine_amount": "3000"},
    )  # fmt: skip
    assert unit.state == "closed"


def test_summary_procedure_requires_its_record(ew):
    case = ew.register()
    with pytest.raises(ValidationFailed) as e:
        ew.act(case, "summary_penalty", detail={"violation_type": ew.types["noise"].pk})
    assert e.value.field in ("legal_basis", "penalty", "decision_no")


def test_general_procedure_life_cycle_with_the_decision_clock(ew):
    start = clock.now() - timedelta(days=20)
    case = ew.general_case(at=start, fine="20000", area="35.5", sites=2)
    assert case.state == "closed"
    d = EnforcementDetail.objects.get(case=case)
    assert d.procedure_kind == "general" and d.accepted_at == start + timedelta(hours=2)
    assert d.decided_at == start + timedelta(days=2) and d.demolished_area == Decimal("35.50")
    assert d.demolished_sites == 2 and d.rights_response == "statement"
    moves = [e.move for e in case.events.order_by("seq")]
    assert moves == ["create", "receive", "file_case", "notify_rights", "decide", "execute", "close_case"]
    assert d.concluded_at == case.closed_at == start + timedelta(days=4)


def test_filing_starts_the_90_day_clock_and_the_head_extends_it(ew):
    case = ew.register()
    case = ew.act(case, "file_case", detail={"violation_type": ew.types["illegal_building"].pk})
    assert case.stage == "decide" and case.limit_amount == 90 and case.limit_unit == "natural_days"
    due = case.due_at
    # only the 负责人 (值班长) approves an extension; at most 30 日 in total
    with pytest.raises(PermissionDenied):
        ew.act(case, "extend", amount=10, reason="案情复杂")
    case = ew.act(case, "extend", actor=ew.shift_leader, amount=20, reason="案情复杂，需鉴定")
    assert case.due_at == due + timedelta(days=20)
    with pytest.raises(ValidationFailed) as e:
        ew.act(case, "extend", actor=ew.shift_leader, amount=11, reason="再延")
    assert e.value.field == "amount"
    case = ew.act(case, "extend", actor=ew.shift_leader, amount=10, reason="再延")
    assert EnforcementDetail.objects.get(case=case).extended_days == 30


def test_not_filed_withdrawn_and_transferred_end_the_case(ew):
    a = ew.act(ew.register(), "not_file", reason="违法事实不成立")
    assert a.state == "not_filed" and a.closed_at
    b = ew.act(ew.register(), "file_case", detail={"violation_type": ew.types["noise"].pk})
    b = ew.act(b, "withdraw", reason="当事人已死亡")
    assert b.state == "withdrawn"
    c = ew.register()
    with pytest.raises(ValidationFailed) as e:
        ew.act(c, "transfer", reason="涉嫌犯罪")
    assert e.value.field == "transferred_to"
    c = ew.act(c, "transfer", reason="涉嫌犯罪", detail={"transferred_to": "区公安分局"})
    assert c.state == "transferred"
    for case in (a, b, c):
        assert EnforcementDetail.objects.get(case=case).concluded_at is not None
    with pytest.raises(IllegalTransition):
        ew.act(a, "file_case", detail={"violation_type": ew.types["noise"].pk})


def test_only_the_desk_leaders_and_the_assigned_department_see_enforcement_cases(ew):
    case = ew.register()
    for user in (ew.dispatcher, ew.shift_leader, ew.leader, ew.handler):
        assert case_selectors.visible_cases(user=user).filter(pk=case.pk).exists(), user.role
    for user in (ew.grid_worker, ew.community_staff, ew.handler2):
        assert not case_selectors.visible_cases(user=user).filter(pk=case.pk).exists(), user.role
    with pytest.raises(NotFound):
        ew.act(case, "file_case", actor=ew.handler2, detail={"violation_type": ew.types["noise"].pk})


def test_a_source_case_must_be_visible_and_of_another_procedure(ew):
    source = ew.report()
    case = ew.register(source_case=source)
    assert EnforcementDetail.objects.get(case=case).source_case == source
    with pytest.raises(ValidationFailed) as e:
        ew.register(source_case=case)
    assert e.value.field == "source_case"


def test_the_limits_are_configurable_per_stage(ew, settings):
    from civicgrid.enforcement import workflow

    def stages(proc):
        return {s.code: s for s in proc.stages}

    default = stages(workflow.build())
    assert default["decide"].amount == 90 and default["execute"].amount == 15
    assert default["file"].chosen.maximum == 15
    settings.CIVICGRID_ENFORCEMENT_LIMITS = {"decide_days": 60, "file_days": 7, "simple_fine_person": 50}
    local = stages(workflow.build())
    assert local["decide"].amount == 60 and local["file"].chosen.maximum == 7
    # the caps of 简易程序 are read when the move is made
    case = ew.register()
    with pytest.raises(ValidationFailed) as e:
        ew.act(
            case,
            "summary_penalty",
            detail={"legal_basis": "x", "penalty": "罚款", "decision_no": "当场9", "fine_amount": "60"},
        )
    assert "50 元" in e.value.message
