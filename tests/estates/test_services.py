"""出租房, 楼宇/企业 and 专项排查 through the services, per role: who may write where, findings becoming cases or
隐患 in one step, 清退, and the figures (楼宇注册率, 排查覆盖率) on hand-built data with known answers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from civicgrid.cases.models import Case
from civicgrid.core import clock
from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog
from civicgrid.estates import metrics, selectors, services
from civicgrid.estates.models import (
    CampaignTarget,
    EnterpriseProfile,
    RentalInspection,
    RentalStatus,
    TargetResult,
)
from civicgrid.hazards.models import HazardDetail
from civicgrid.registers import crypto
from tests.estates.conftest import uscc
from tests.factories import UnitFactory

pytestmark = pytest.mark.django_db


# --- scoping and masking per role -----------------------------------------------------------------------------


def test_each_role_sees_its_own_patch(ew):
    def seen(user):
        return set(selectors.visible_rentals(user=user).values_list("room", flat=True))

    assert seen(ew.grid_worker) == {"501"}  # own grid
    assert seen(ew.other_worker) == {"101"}
    assert seen(ew.community_staff) == {"501"}  # own 社区
    assert seen(ew.other_staff) == {"101"}
    assert seen(ew.leader) == seen(ew.dispatcher) == {"501", "101"}  # street-wide
    assert seen(ew.handler) == seen(ew.auditor) == set()
    assert selectors.visible_targets(user=ew.grid_worker).count() == 2
    assert selectors.visible_targets(user=ew.other_staff).count() == 1
    assert selectors.visible_campaigns(user=ew.other_worker).count() == 1  # the campaign is the 街道's
    with pytest.raises(NotFound):
        selectors.get_rental(user=ew.other_worker, pk=ew.rental.pk)


def test_landlord_phone_is_encrypted_and_masked_and_the_name_masked_for_desk_roles(ew):
    r = ew.rental
    assert r.landlord_phone_masked == "139****5678" and "13912345678" not in r.landlord_phone_cipher
    assert crypto.decrypt(r.landlord_phone_cipher) == "13912345678"
    assert selectors.shown_name(ew.grid_worker, r.landlord_name) == "陈建国"
    assert selectors.shown_name(ew.dispatcher, r.landlord_name) == "陈**"
    trail = repr(list(AuditLog.objects.filter(action="estates.rental.save").values_list("after", flat=True)))
    assert "13912345678" not in trail and "139****5678" in trail


def test_writes_outside_the_patch_are_refused(ew):
    with pytest.raises(ValidationFailed) as exc:
        services.save_rental(
            actor=ew.grid_worker, building_id=ew.other_block.pk, room="1", landlord_name="某", tenants=1
        )
    assert exc.value.field == "building"
    with pytest.raises(PermissionDenied):
        services.save_rental(actor=ew.dispatcher, building_id=ew.block.pk, room="2", landlord_name="某")
    with pytest.raises(ValidationFailed) as exc:  # the same room twice
        services.save_rental(actor=ew.grid_worker, building_id=ew.block.pk, room="501", landlord_name="某")
    assert exc.value.field == "room"
    with pytest.raises(NotFound):
        services.inspect_rental(actor=ew.grid_worker, rental=ew.other_rental, result="ok")
    with pytest.raises(PermissionDenied):
        services.create_campaign(
            actor=ew.community_staff, code="X1", name="x", kind="gas", starts_on=date(2026, 1, 1),
            ends_on=date(2026, 2, 1),
        )  # fmt: skip


# --- 出租房: inspection → case / 隐患, 清退 ------------------------------------------------------------------


def test_inspection_findings_become_a_case_or_a_hazard_once(ew):
    i = services.inspect_rental(
        actor=ew.grid_worker, rental=ew.rental, result="rectify", findings="楼道内电动车充电",
        to="case", idempotency_key="k1",
    )  # fmt: skip
    assert i.case.source == "grid_patrol" and "楼道内电动车充电" in i.case.description
    assert i.case.grid == ew.grid
    again = services.inspect_rental(
        actor=ew.grid_worker, rental=ew.rental, result="rectify", findings="楼道内电动车充电",
        to="case", idempotency_key="k1",
    )  # fmt: skip
    assert again.pk == i.pk and Case.objects.count() == 1
    h = services.inspect_rental(
        actor=ew.grid_worker, rental=ew.rental, result="serious", findings="私拉电线，群租隔断", to="hazard",
        hazard_level="serious",
    )  # fmt: skip
    detail = HazardDetail.objects.get(case=h.case)
    assert detail.level == "serious" and detail.target_building == ew.block
    assert RentalInspection.objects.filter(rental=ew.rental).count() == 2
    with pytest.raises(ValidationFailed) as exc:
        services.inspect_rental(actor=ew.grid_worker, rental=ew.rental, result="rectify", to="case")
    assert exc.value.field == "findings"
    with pytest.raises(ValidationFailed) as exc:
        services.inspect_rental(
            actor=ew.grid_worker, rental=ew.rental, result="ok",
            inspected_on=clock.local_now().date() + timedelta(days=1),
        )  # fmt: skip
    assert exc.value.field == "inspected_on"


def test_clear_a_rental_once_with_a_reason(ew):
    with pytest.raises(ValidationFailed) as exc:
        services.clear_rental(actor=ew.grid_worker, rental=ew.rental, reason=" ")
    assert exc.value.field == "reason"
    r = services.clear_rental(actor=ew.grid_worker, rental=ew.rental, reason="群租整治清退")
    assert r.status == RentalStatus.CLEARED and r.cleared_on == clock.local_now().date()
    with pytest.raises(ValidationFailed):
        services.clear_rental(actor=ew.grid_worker, rental=r, reason="again")
    assert AuditLog.objects.filter(action="estates.rental.clear").count() == 1


# --- 楼宇/企业 ------------------------------------------------------------------------------------------------


def test_registration_rate_per_building_and_street(ew):
    ents = EnterpriseProfile.objects.all()
    reg = metrics.registration(ents, as_of=date(2026, 3, 1))
    # 4 profiles, one moved out on 2025-06-30: 3 occupants, all 3 registered here
    assert reg[ew.tower.pk] == {"occupants": 3, "registered_here": 3, "rate": 100.0}
    # on 2025-03-01 the fourth (registered elsewhere) was still in: 3 / 4
    assert metrics.registration(ents, as_of=date(2025, 3, 1))[ew.tower.pk]["rate"] == 75.0
    # one more occupant, registered elsewhere: 3 / 4 = 75 %
    u = UnitFactory(grid=ew.grid, building=ew.tower, kind="enterprise", name="外地注册公司")
    services.save_enterprise(actor=ew.grid_worker, unit_id=u.pk, registered_here=False)
    street = metrics.street_registration(EnterpriseProfile.objects.all(), as_of=date(2026, 3, 1))
    assert street[ew.street.pk]["rate"] == 75.0 and street[ew.street.pk]["occupants"] == 4
    # a building that is not 重点 does not count in the 街道 figure
    services.save_building_profile(actor=ew.community_staff, building_id=ew.tower.pk, is_key=False)
    assert metrics.street_registration(EnterpriseProfile.objects.all()) == {}


def test_registration_rate_of_nothing_is_none():
    assert metrics.registration(EnterpriseProfile.objects.none())["total"] == {
        "occupants": 0,
        "registered_here": 0,
        "rate": None,
    }
    assert metrics.REGISTRATION_RATE.value({"registered_here": 0, "occupants": 0}) is None


def test_enterprise_checks_and_visit_demand_to_case(ew):
    with pytest.raises(ValidationFailed) as exc:
        services.save_enterprise(
            actor=ew.community_staff, unit_id=ew.units[0].pk, credit_code="91330106MA2000001X"
        )
    assert exc.value.field == "credit_code"
    loose = UnitFactory(grid=ew.grid, building=None)
    with pytest.raises(ValidationFailed) as exc:
        services.save_enterprise(actor=ew.community_staff, unit_id=loose.pk)
    assert exc.value.field == "unit"
    with pytest.raises(ValidationFailed) as exc:
        services.save_enterprise(actor=ew.community_staff, unit_id=ew.units[0].pk, vacant_area="abc")
    assert exc.value.field == "vacant_area"
    v = services.visit_enterprise(
        actor=ew.grid_worker,
        enterprise=ew.enterprises[0],
        notes="了解经营情况",
        demand="门前道路破损，货车进出困难",
    )
    assert v.case is not None and "门前道路破损" in v.case.description and v.case.source == "grid_patrol"
    quiet = services.visit_enterprise(actor=ew.grid_worker, enterprise=ew.enterprises[1], notes="经营正常")
    assert quiet.case is None
    with pytest.raises(ValidationFailed):
        services.visit_enterprise(actor=ew.grid_worker, enterprise=ew.enterprises[1])
    assert uscc("91330106MA2000001") and services.uscc_problem(ew.enterprises[0].credit_code) is None


# --- 专项排查 -----------------------------------------------------------------------------------------------


def test_results_coverage_and_finding_to_case(ew):
    t1, t2, t3 = ew.targets
    services.record_result(actor=ew.grid_worker, target=t1, result="checked")
    t2 = services.record_result(
        actor=ew.grid_worker, target=t2, result="problem", note="软管老化", finding="燃气软管老化需更换"
    )
    assert t2.case is not None and "燃气安全排查发现：燃气软管老化需更换" in t2.case.description
    case_id = t2.case_id
    t2 = services.record_result(
        actor=ew.grid_worker, target=t2, result="problem", finding="燃气软管老化需更换"
    )
    assert t2.case_id == case_id and Case.objects.count() == 1  # a resubmit files nothing twice
    with pytest.raises(ValidationFailed) as exc:
        services.record_result(actor=ew.other_worker, target=t3, result="unreachable")
    assert exc.value.field == "note"
    with pytest.raises(ValidationFailed) as exc:
        services.record_result(actor=ew.other_worker, target=t3, result="checked", finding="x")
    assert exc.value.field == "finding"
    with pytest.raises(NotFound):
        services.record_result(actor=ew.grid_worker, target=t3, result="checked")
    services.record_result(actor=ew.other_worker, target=t3, result="unreachable", note="长期无人")
    rows = metrics.coverage(CampaignTarget.objects.all(), by="community")
    total = rows[-1]
    assert (total["targets"], total["reached"], total["attempted"]) == (3, 2, 3)
    assert total["coverage"] == 66.7 and total["done"] == 100.0
    by_label = {r["label"]: r for r in rows[:-1]}
    assert by_label[ew.community.name]["coverage"] == 100.0
    assert by_label[ew.other_grid.community.name]["coverage"] == 0.0
    by_worker = {r["key"]: r for r in metrics.coverage(CampaignTarget.objects.all(), by="worker")[:-1]}
    assert by_worker[ew.grid_worker.pk]["targets"] == 2 and by_worker[ew.other_worker.pk]["reached"] == 0
    grids = metrics.coverage(CampaignTarget.objects.all(), by="grid")
    assert [r["targets"] for r in grids] == [1, 2, 3]


def test_coverage_of_no_targets(ew):
    assert metrics.coverage(CampaignTarget.objects.none(), by="grid") == [
        {
            "key": None,
            "label": "合计",
            "targets": 0,
            "reached": 0,
            "attempted": 0,
            "coverage": None,
            "done": None,
        }
    ]
    with pytest.raises(ValueError):
        metrics.coverage(CampaignTarget.objects.none(), by="nonsense")


def test_target_result_states(ew):
    assert ew.targets[0].result == TargetResult.PENDING
    with pytest.raises(ValidationFailed):
        services.record_result(actor=ew.grid_worker, target=ew.targets[0], result="pending")
