"""The 矛盾纠纷 services and the ``dispute`` procedure: 登记 with parties (all or nothing), the source rules
(警调衔接 needs 派出所 and 警情号, a 12345/网格 dispute links its case), 受理 with the 调解期限 chosen within 1–30
自然日, sessions, the outcomes and their guards (409 / 403), 履行 and 回访, 结案."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from civicgrid.cases.models import Case
from civicgrid.core import clock
from civicgrid.core.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog
from civicgrid.disputes.models import DisputeDetail, MediationSession, Party
from civicgrid.disputes.services import PartyIn
from tests.cases.factories import photo

pytestmark = pytest.mark.django_db


def test_registering_a_dispute_writes_the_case_its_record_and_parties(dw):
    case = dw.register(amount="12,500.5")
    assert case.procedure == "dispute" and case.state == "registered" and case.number
    d = DisputeDetail.objects.get(case=case)
    assert d.source == "application" and d.dispute_type.name == "邻里" and str(d.amount) == "12500.50"
    assert d.received_on == clock.local_now().date() and d.outcome == ""
    assert [(p.role, p.name) for p in d.parties.all()] == [("applicant", "张建国"), ("respondent", "李秀英")]
    assert case.community_id == dw.community.pk
    assert AuditLog.objects.filter(action="disputes.dispute.create", object_id=str(case.pk)).exists()


def test_a_police_transfer_needs_the_station_and_the_incident_number(dw):
    with pytest.raises(ValidationFailed) as e:
        dw.register(source="police", police_station="示范派出所")
    assert e.value.field == "police_ref" and e.value.code == "dispute_police_ref_required"
    assert not Case.objects.filter(procedure="dispute").exists()
    case = dw.register(source="police", police_station="示范派出所", police_ref="JQ20261101001")
    d = case.dispute_detail
    assert (d.police_station, d.police_ref, case.source_ref) == (
        "示范派出所",
        "JQ20261101001",
        "JQ20261101001",
    )


def test_a_grid_case_dispute_links_the_case_it_came_from(dw):
    origin = dw.report(description="邻居装修噪音扰民")
    with pytest.raises(ValidationFailed) as e:
        dw.register(source="case")
    assert e.value.field == "linked_case"
    case = dw.register(source="case", linked_case=origin)
    assert case.dispute_detail.linked_case == origin and case.source == "hotline_12345"


@pytest.mark.parametrize(
    "parties, field",
    [
        ([], "parties"),
        ([PartyIn("respondent", "李秀英")], "parties"),
        ([PartyIn("applicant", "张建国", "abc")], "parties.0.phone"),
        ([PartyIn("applicant", "", "13812345678")], "parties.0.name"),
        ([PartyIn("boss", "张建国")], "parties.0.role"),
    ],
)
def test_bad_parties_are_refused_naming_the_field_and_nothing_is_written(dw, parties, field):
    with pytest.raises(ValidationFailed) as e:
        dw.register(parties=parties)
    assert e.value.field == field
    assert not Case.objects.filter(procedure="dispute").exists() and not Party.objects.exists()


def test_bad_amount_type_and_org_are_refused(dw):
    from civicgrid.disputes.models import MediationOrg
    from tests.factories import StreetFactory

    with pytest.raises(ValidationFailed) as e:
        dw.register(amount="一万")
    assert e.value.field == "amount"
    with pytest.raises(ValidationFailed) as e:
        dw.register(amount="-5")
    assert e.value.field == "amount"
    foreign = MediationOrg.objects.create(
        name="外街道调委会", street=StreetFactory(code="330106099", name="邻街道")
    )
    with pytest.raises(ValidationFailed) as e:
        dw.register(org=foreign)
    assert e.value.field == "org"
    dw.types["family"].is_active = False
    dw.types["family"].save()
    with pytest.raises(ValidationFailed) as e:
        dw.register(type_code="family")
    assert e.value.field == "dispute_type"


def test_who_may_register(dw):
    for actor in (dw.grid_worker, dw.handler, dw.leader):
        with pytest.raises(PermissionDenied):
            dw.register(actor=actor)
    assert dw.register(actor=dw.community_staff).community_id == dw.community.pk
    with pytest.raises(PermissionDenied):  # another community's grid is outside the 社区工作人员's patch
        dw.register(actor=dw.community_staff, grid=dw.other_grid)


def test_the_whole_life_success_fulfilment_revisit_closed(dw):
    case = dw.register()
    case = dw.move(case, "admit", amount=20, unit="natural_days", note="当场受理")
    assert case.state == "mediating" and case.stage == "mediate" and case.limit_amount == 20
    start = clock.to_local(case.events.get(move="admit").at).date()
    # 自然日: counted from the next day, due at the end of the 20th (a 工作日 later when that is a holiday)
    assert clock.to_local(case.due_at).date() >= start + timedelta(days=21)
    dw.session(case)
    case = dw.move(case, "settle", detail={"agreement_terms": "李秀英赔偿 3000 元，11 月 30 日前付清"})
    d = DisputeDetail.objects.get(case=case)
    assert case.state == "agreed" and d.outcome == "success" and d.ended_on == clock.local_now().date()
    assert d.agreement_no == f"调协字〔{d.ended_on.year}〕{case.number}"
    assert case.stage == "followup" and case.limit_amount == 30  # 回访时限
    case = dw.move(case, "upload_agreement", attachments=[photo("signed.png")])
    assert case.attachments.count() == 1 and case.state == "agreed"
    case = dw.move(case, "record_fulfilment", detail={"fulfilment": "partial"})
    assert DisputeDetail.objects.get(case=case).fulfilment == "partial"
    case = dw.move(case, "revisit", detail={"fulfilment": "full", "followup_result": "已付清，双方满意"})
    d.refresh_from_db()
    assert case.state == "visited" and d.followup_on == clock.local_now().date() and d.fulfilment == "full"
    case = dw.move(case, "conclude", note="结案归档")
    assert case.state == "closed" and case.closed_at is not None


def test_the_mediation_limit_is_chosen_within_one_to_thirty_natural_days(dw):
    case = dw.register()
    with pytest.raises(ValidationFailed) as e:
        dw.move(case, "admit", amount=45, unit="natural_days")
    assert e.value.code == "limit_out_of_bounds" and e.value.field == "amount"
    with pytest.raises(ValidationFailed) as e:
        dw.move(case, "admit", amount=10, unit="working_days")
    assert e.value.field == "unit"
    case.refresh_from_db()
    assert case.state == "registered"


def test_an_outcome_needs_a_recorded_session_409(dw):
    case = dw.move(dw.register(), "admit", amount=30, unit="natural_days")
    with pytest.raises(IllegalTransition) as e:
        dw.move(case, "settle", detail={"agreement_terms": "赔偿"})
    assert e.value.status == 409 and e.value.code == "dispute_session_required"
    with pytest.raises(IllegalTransition):
        dw.move(case, "settle_fail", reason="差距大")
    case.refresh_from_db()
    assert case.state == "mediating" and case.dispute_detail.outcome == ""


def test_moves_from_the_wrong_state_are_409_and_the_wrong_role_403(dw):
    case = dw.register()
    with pytest.raises(IllegalTransition):
        dw.move(case, "revisit", detail={"fulfilment": "full", "followup_result": "好"})
    with pytest.raises(IllegalTransition):  # no session outside 调解中
        dw.session(case)
    with pytest.raises(PermissionDenied):
        dw.move(case, "admit", dw.grid_worker, amount=30, unit="natural_days")
    with pytest.raises(NotFound):  # another community's 社区工作人员 does not even see it
        dw.move(case, "admit", dw.other_staff, amount=30, unit="natural_days")
    case = dw.move(case, "admit", dw.community_staff, amount=30, unit="natural_days")
    with pytest.raises(PermissionDenied):
        dw.session(case, actor=dw.other_staff)
    with pytest.raises(PermissionDenied):  # a 网格员 sees the dispute in their grid but does not mediate
        dw.session(case, actor=dw.grid_worker)
    assert case.state == "mediating"


def test_failure_closes_and_termination_ends_it(dw):
    failed = dw.mediate(outcome="settle_fail")
    assert failed.state == "failed" and failed.dispute_detail.outcome == "failed"
    assert dw.move(failed, "conclude").state == "closed"
    stopped = dw.move(dw.register(), "terminate", reason="申请人撤回申请")
    assert stopped.state == "terminated" and stopped.dispute_detail.outcome == "terminated"
    assert stopped.closed_at is not None


def test_sessions_are_dated_between_intake_and_today(dw):
    case = dw.move(dw.register(), "admit", amount=30, unit="natural_days")
    today = clock.local_now().date()
    for bad in (today + timedelta(days=1), today - timedelta(days=1)):
        with pytest.raises(ValidationFailed) as e:
            dw.session(case, held_on=bad)
        assert e.value.field == "held_on"
    with pytest.raises(ValidationFailed) as e:
        dw.session(case, mediators="  ")
    assert e.value.field == "mediators"
    assert not MediationSession.objects.exists()


def test_a_party_added_later_and_not_after_the_outcome(dw):
    from civicgrid.disputes import services

    case = dw.register()
    services.add_party(actor=dw.dispatcher, case=case, party=PartyIn("third", "物业公司", "0571-88886666"))
    assert case.dispute_detail.parties.count() == 3
    done = dw.mediate()
    with pytest.raises(IllegalTransition):
        services.add_party(actor=dw.dispatcher, case=done, party=PartyIn("third", "王五"))


def test_the_case_remembers_the_dates_when_the_clock_was_frozen(dw):
    at = datetime(2026, 3, 2, 9, 0, tzinfo=clock.SHANGHAI)
    with clock.frozen(at):
        case = dw.register(received_on=at.date())
        case = dw.move(case, "admit", amount=30, unit="natural_days")
    assert case.dispute_detail.received_on == at.date()
    # 30 自然日 from the day after 3月2日: the end of 4月1日 (a Wednesday)
    assert clock.to_local(case.due_at) == datetime(2026, 4, 2, 0, 0, tzinfo=clock.SHANGHAI)
