"""The 安全隐患 ledger through its services: a 网格员 inspects a shop with the phone checklist, two failed items
become hazards in the same submit; the desk 交办 them within their level's 整改期限; the department reports them
fixed with after-photos; the 网格员 复查 (one fails and goes back to 整改); the desk 销号. 挂牌督办 only for 重大."""

from __future__ import annotations

from datetime import datetime

import pytest

from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import AttachmentKind
from civicgrid.core import clock
from civicgrid.core.errors import IllegalTransition, PermissionDenied, ValidationFailed
from civicgrid.hazards import selectors, services
from civicgrid.hazards.models import Equipment, HazardDetail, Inspection
from civicgrid.hazards.services import Finding
from tests.cases.factories import photo

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return clock.aware(datetime(*args))


def inspect_shop(hw, *, major=False, actor=None):
    actor = actor or hw.grid_worker
    target = services.resolve_target(actor=actor, kind="unit", unit_id=hw.shop.pk)
    i = hw.items
    findings = [Finding(passed=True, item=it) for it in i[2:]]
    findings += [
        Finding(
            passed=False, item=i[0], hazard=True, level="general", note="灭火器过期", photos=[photo("a.png")]
        ),
        Finding(
            passed=False,
            item=i[1],
            hazard=True,
            level="major" if major else "serious",
            description="后厨液化气瓶与灶具未隔离",
        ),
    ]
    return services.record_inspection(actor=actor, target=target, checklist=hw.checklist, findings=findings)


def move(case, name, actor, **kw):
    from civicgrid.cases import services as case_services

    case.refresh_from_db()
    return case_services.perform(actor=actor, case=case, move=name, version=case.version, **kw)


def test_one_inspection_submit_records_the_checklist_and_creates_its_hazards(hw):
    inspection = inspect_shop(hw)
    assert inspection.results.count() == len(hw.items)
    assert inspection.results.filter(passed=False).count() == 2
    assert inspection.hazard_count == 2 and inspection.street_id == hw.community.street_id
    assert list(inspection.inspectors.all()) == [hw.grid_worker]
    fire, gas = inspection.new_hazards
    assert (fire.procedure, fire.state, fire.get_state_display()) == ("hazard", "found", "发现")
    assert fire.number and fire.grid == hw.grid
    d = fire.hazard_detail
    assert (d.level, d.category, d.target_unit, d.inspection) == (
        "general",
        hw.items[0].category,
        hw.shop,
        inspection,
    )
    assert d.responsible_unit == "示范小吃店" and d.responsible_person == "王老板"
    assert fire.description == "灭火器过期" and gas.description == "后厨液化气瓶与灶具未隔离"
    assert fire.attachments.count() == 1
    assert gas.hazard_detail.level == "serious"


def test_a_failed_item_not_marked_as_hazard_creates_none_and_a_clean_inspection_counts(hw):
    target = services.resolve_target(actor=hw.grid_worker, kind="building", building_id=hw.block.pk)
    findings = [Finding(passed=False, item=hw.items[0], note="已当场整改")] + [
        Finding(passed=True, item=it) for it in hw.items[1:]
    ]
    inspection = services.record_inspection(
        actor=hw.grid_worker, target=target, checklist=hw.checklist, findings=findings
    )
    assert inspection.hazard_count == 0 and not HazardDetail.objects.exists()
    assert Inspection.objects.count() == 1


def test_a_bad_hazard_rolls_back_the_whole_inspection(hw):
    target = services.resolve_target(actor=hw.grid_worker, kind="unit", unit_id=hw.shop.pk)
    findings = [
        Finding(passed=False, item=hw.items[0], hazard=True, level="general", note="x"),
        Finding(passed=False, item=hw.items[1], hazard=True, level="huge", note="y"),
    ]
    with pytest.raises(ValidationFailed) as exc:
        services.record_inspection(
            actor=hw.grid_worker, target=target, checklist=hw.checklist, findings=findings
        )
    assert exc.value.field == "items.1.level"
    assert not Inspection.objects.exists() and not HazardDetail.objects.exists()


def test_a_grid_worker_cannot_inspect_outside_their_grids(hw):
    from tests.factories import UnitFactory

    elsewhere = UnitFactory(grid=hw.other_grid, name="别处商户")
    with pytest.raises(ValidationFailed) as exc:
        services.resolve_target(actor=hw.grid_worker, kind="unit", unit_id=elsewhere.pk)
    assert exc.value.code == "hazard_target_not_found"
    # the 审计管理员 neither sees the shop nor records an inspection
    with pytest.raises(ValidationFailed):
        services.resolve_target(actor=hw.auditor, kind="unit", unit_id=hw.shop.pk)
    target = services.resolve_target(actor=hw.dispatcher, kind="unit", unit_id=hw.shop.pk)
    with pytest.raises(PermissionDenied):
        services.record_inspection(actor=hw.auditor, target=target, checklist=None, findings=[])


def test_the_life_cycle_with_a_failed_review_back_to_rectification(hw):
    with clock.frozen(at(2026, 6, 1, 9, 0)):  # Monday
        fire, _gas = inspect_shop(hw).new_hazards
        fire = move(fire, "assign_fix", hw.dispatcher, department=hw.dept, amount=10, unit="natural_days")
    assert (fire.state, fire.get_state_display(), fire.stage, fire.limit_amount) == (
        "fixing",
        "整改中",
        "rectify",
        10,
    )
    assert fire.department == hw.dept and fire.due_at is not None
    due = fire.due_at
    with clock.frozen(at(2026, 6, 5, 9, 0)):
        fire = move(
            fire,
            "report_fixed",
            hw.handler,
            note="已更换灭火器",
            attachments=[photo("after.png")],
            detail={"measures": "更换 4 具 4kg 干粉灭火器"},
        )
    assert (fire.state, fire.stage, fire.limit_amount, fire.limit_unit) == (
        "review",
        "review",
        3,
        "working_days",
    )
    d = HazardDetail.objects.get(case=fire)
    assert d.rectify_due_at == due and d.fixed_at == at(2026, 6, 5, 9, 0) and d.fixed_on_time
    assert fire.attachments.filter(kind=AttachmentKind.AFTER).count() == 1
    # the 网格员 of the grid reviews: not good enough, back to 整改中 with the 重新整改 limit
    with clock.frozen(at(2026, 6, 6, 10, 0)):
        fire = move(fire, "review_fail", hw.grid_worker, reason="灭火器未摆放到位")
    assert (fire.state, fire.stage, fire.limit_amount) == ("fixing", "rework", 7)
    with clock.frozen(at(2026, 6, 8, 10, 0)):
        fire = move(fire, "report_fixed", hw.handler, note="已摆放到位", detail={"measures": "定点摆放"})
        fire = move(fire, "review_pass", hw.community_staff)
    assert fire.state == "passed" and fire.stage == ""
    d.refresh_from_db()
    assert d.rectify_due_at == due and d.fixed_at == at(2026, 6, 8, 10, 0)  # measured against the first limit
    # only the desk 销号
    with pytest.raises(PermissionDenied):
        move(fire, "sign_off", hw.grid_worker)
    with clock.frozen(at(2026, 6, 9, 9, 0)):
        fire = move(fire, "sign_off", hw.dispatcher)
    assert (fire.state, fire.get_state_display(), fire.closed_at) == (
        "closed",
        "已销号",
        at(2026, 6, 9, 9, 0),
    )
    assert [e.move for e in fire.events.order_by("seq")] == [
        "create",
        "assign_fix",
        "report_fixed",
        "review_fail",
        "report_fixed",
        "review_pass",
        "sign_off",
    ]


@pytest.mark.parametrize(
    "level, amount, ok",
    [
        ("general", 30, True),
        ("general", 31, False),
        ("serious", 15, True),
        ("serious", 16, False),
        ("major", 7, True),
        ("major", 8, False),
    ],
)
def test_the_rectification_limit_is_bounded_by_the_level(hw, level, amount, ok):
    fire, _ = inspect_shop(hw).new_hazards
    HazardDetail.objects.filter(case=fire).update(level=level)
    if ok:
        c = move(fire, "assign_fix", hw.dispatcher, department=hw.dept, amount=amount, unit="natural_days")
        assert c.limit_amount == amount
        return
    with pytest.raises(ValidationFailed) as exc:
        move(fire, "assign_fix", hw.dispatcher, department=hw.dept, amount=amount, unit="natural_days")
    assert (exc.value.code, exc.value.field) == (CaseErrorCode.LIMIT_OUT_OF_BOUNDS, "amount")
    # beyond 30 the procedure's own bounds answer; within them the level's rule names the level
    assert {"general": "1 到 30", "serious": "较大隐患", "major": "重大隐患"}[level] in exc.value.message
    fire.refresh_from_db()
    assert fire.state == "found"


def test_list_supervision_only_for_a_major_hazard_and_only_once(hw):
    general, serious = inspect_shop(hw).new_hazards
    with pytest.raises(IllegalTransition) as exc:
        move(serious, "list_supervise", hw.dispatcher)
    assert "重大" in exc.value.message
    _g, major = inspect_shop(hw, major=True).new_hazards
    major = move(major, "list_supervise", hw.dispatcher, note="区安委办挂牌")
    d = HazardDetail.objects.get(case=major)
    assert d.supervised and d.supervised_at is not None and major.state == "found"
    assert major.events.order_by("-seq").first().move == "list_supervise"
    with pytest.raises(IllegalTransition):
        move(major, "list_supervise", hw.dispatcher)


def test_the_detail_cannot_be_used_to_change_level_or_supervision(hw):
    fire, _ = inspect_shop(hw).new_hazards
    fire = move(fire, "assign_fix", hw.dispatcher, department=hw.dept, amount=10, unit="natural_days")
    with pytest.raises(ValidationFailed) as exc:
        move(fire, "report_fixed", hw.handler, note="好了", detail={"measures": "x", "supervised": True})
    assert exc.value.code == CaseErrorCode.INVALID_INPUT


def test_void_needs_a_reason_and_closes_it(hw):
    fire, _ = inspect_shop(hw).new_hazards
    with pytest.raises(ValidationFailed):
        move(fire, "void", hw.dispatcher)
    fire = move(fire, "void", hw.dispatcher, reason="重复录入")
    assert fire.state == "void" and not fire.is_open


def test_the_department_sees_only_what_is_assigned_to_it(hw):
    fire, gas = inspect_shop(hw).new_hazards
    move(fire, "assign_fix", hw.dispatcher, department=hw.dept, amount=5, unit="natural_days")
    seen = set(selectors.visible_hazards(user=hw.handler).values_list("pk", flat=True))
    assert fire.pk in seen and gas.pk not in seen
    assert fire in case_selectors.inbox(user=hw.handler, tab="active")


def test_the_fire_register_is_kept_per_building(hw):
    reg = services.save_fire_register(
        actor=hw.grid_worker, building=hw.block, smoke_detectors=Equipment.MISSING, fire_lane=Equipment.FAULTY
    )
    assert reg.defects() == 2
    with pytest.raises(ValidationFailed):
        services.save_fire_register(actor=hw.grid_worker, building=hw.block, smoke_detectors="broken")


def test_co_inspectors_and_the_inspection_time(hw):
    target = services.resolve_target(actor=hw.dispatcher, kind="unit", unit_id=hw.shop.pk)
    findings = [Finding(passed=True, item=it) for it in hw.items]
    with clock.frozen(at(2026, 6, 10, 15, 0)):
        i = services.record_inspection(
            actor=hw.dispatcher,
            target=target,
            checklist=hw.checklist,
            findings=findings,
            inspectors=[hw.grid_worker, hw.community_staff],
            inspected_at=at(2026, 6, 9, 10, 0),  # entered the next day
        )
        assert set(i.inspectors.all()) == {hw.dispatcher, hw.grid_worker, hw.community_staff}
        assert i.inspected_at == at(2026, 6, 9, 10, 0)
        for when in (at(2026, 6, 11, 10, 0), at(2026, 4, 1, 10, 0)):  # tomorrow; beyond 30 days back
            with pytest.raises(ValidationFailed) as exc:
                services.record_inspection(
                    actor=hw.dispatcher,
                    target=target,
                    checklist=hw.checklist,
                    findings=findings,
                    inspected_at=when,
                )
            assert exc.value.field == "inspected_at"
        # a 网格员 cannot name people they do not see (another 网格员 elsewhere)
        mine = services.resolve_target(actor=hw.grid_worker, kind="unit", unit_id=hw.shop.pk)
        with pytest.raises(ValidationFailed) as exc:
            services.record_inspection(
                actor=hw.grid_worker,
                target=mine,
                checklist=hw.checklist,
                findings=findings,
                inspectors=[hw.other_worker],
            )
        assert exc.value.field == "inspectors"
