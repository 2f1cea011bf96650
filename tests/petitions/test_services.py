"""The 信访 ledger through its services and the case engine: the desk registers a 信访, gives the 受理告知 within
15 日, hands it to a department, replies and closes it within 60 日 (one extension of up to 30 日 with the 值班长's
approval); the 信访人 may ask for 复查 within 30 日 of the reply, then 复核. Every limit is in 自然日, counted the
民法典 way: a last day that falls in a rest (weekend, 国庆, 春节) moves to the first day after it."""

from __future__ import annotations

from datetime import date

import pytest

from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.jobs import refresh_lights
from civicgrid.cases.models import Notification
from civicgrid.core import clock
from civicgrid.core.errors import IllegalTransition, PermissionDenied, ValidationFailed
from civicgrid.petitions import services
from civicgrid.petitions.errors import PetitionErrorCode
from civicgrid.petitions.models import PetitionDetail, PetitionTask
from tests.petitions.conftest import at

pytestmark = pytest.mark.django_db


def test_registration_starts_the_15_day_notice_clock_which_skips_the_national_day_holiday(pw):
    # 2026-09-16 + 15 日 = 10月1日, inside the 国庆 rest (10月1日–7日): the period ends 10月8日 24:00
    with clock.frozen(at(2026, 9, 16, 10, 0)):
        case = pw.register(form="letter", lead=pw.lead)
    assert (case.procedure, case.state, case.source) == ("petition", "registered", "petition")
    assert case.stage == "notice" and case.limit_unit == "natural_days" and case.limit_amount == 15
    assert case.due_at == at(2026, 10, 9, 0, 0)
    d = case.petition_detail
    assert d.registered_at == at(2026, 9, 16, 10, 0) and d.lead == pw.lead and d.form == "letter"


def test_a_last_day_on_a_weekend_moves_to_monday(pw):
    with clock.frozen(at(2026, 11, 6, 9, 0)):  # Friday + 15 = Saturday 11月21日 → Monday 11月23日 24:00
        case = pw.register()
    assert case.due_at == at(2026, 11, 24, 0, 0)


def test_the_60_day_limit_runs_from_the_notice_and_skips_the_spring_festival(pw):
    with clock.frozen(at(2025, 12, 20, 9, 0)):
        case = pw.register()
    with clock.frozen(at(2025, 12, 22, 10, 0)):  # + 60 日 = 2026年2月20日, inside 春节 (2月15日–23日)
        case = pw.pmove(case, "notify_accept")
    assert (case.state, case.stage, case.limit_amount) == ("accepted", "handle", 60)
    assert case.due_at == at(2026, 2, 25, 0, 0)  # 2月24日 24:00
    assert case.petition_detail.accepted_at == at(2025, 12, 22, 10, 0)


def test_full_life_cycle_on_time_with_department_and_reply(pw):
    with clock.frozen(at(2026, 9, 16, 10, 0)):
        case = pw.register()
    with clock.frozen(at(2026, 9, 20, 10, 0)):
        case = pw.pmove(case, "notify_accept", note="已电话告知受理")
    assert case.due_at == at(2026, 11, 20, 0, 0)  # 9月20日 + 60 = 11月19日 (Thursday) 24:00
    with clock.frozen(at(2026, 9, 21, 9, 0)):
        case = pw.pmove(case, "assign_dept", department=pw.dept)
    assert case.state == "assigned" and case.department == pw.dept
    with pytest.raises(ValidationFailed) as e:  # the department's result needs its 办理情况
        pw.pmove(case, "report_result", actor=pw.handler, note="已协调")
    assert e.value.field == "opinion"
    with clock.frozen(at(2026, 10, 10, 9, 0)):
        case = pw.pmove(
            case, "report_result", actor=pw.handler, note="已协调", detail={"opinion": "召开业主协商会两次"}
        )
    assert case.state == "accepted"
    with clock.frozen(at(2026, 10, 12, 9, 0)):
        case = pw.pmove(case, "reply", detail={"reply": "支持加装，按程序公示"})
    with clock.frozen(at(2026, 10, 12, 10, 0)):
        case = pw.pmove(case, "close")
    d = PetitionDetail.objects.get(case=case)
    assert case.state == "closed" and case.stage == "" and case.closed_at == at(2026, 10, 12, 10, 0)
    assert d.done_at == at(2026, 10, 12, 10, 0) and d.handle_due_at == at(2026, 11, 20, 0, 0)
    assert d.done_on_time is True and d.opinion == "召开业主协商会两次" and d.reply == "支持加装，按程序公示"


def test_decline_instead_of_accept(pw):
    case = pw.register()
    with pytest.raises(ValidationFailed):
        pw.pmove(case, "decline")
    case = pw.pmove(case, "decline", reason="属于诉讼途径解决的事项，已告知")
    assert case.state == "declined" and case.stage == "" and case.petition_detail.accepted_at is None


def test_one_extension_of_at_most_30_days_approved_by_the_desk_chief(pw, django_capture_on_commit_callbacks):
    with clock.frozen(at(2026, 9, 16, 10, 0)):
        case = pw.register()
    with clock.frozen(at(2026, 9, 20, 10, 0)):
        case = pw.pmove(case, "notify_accept")
        with pytest.raises(ValidationFailed) as e:
            pw.pmove(case, "request_extension", amount=31, reason="情况复杂")
        assert e.value.code == CaseErrorCode.LIMIT_OUT_OF_BOUNDS
        with pytest.raises(PermissionDenied):  # a 受理员 cannot approve
            pw.pmove(case, "request_extension", actor=pw.desk_chief, amount=30, reason="情况复杂")
        with django_capture_on_commit_callbacks(execute=True):
            case = pw.pmove(case, "request_extension", amount=30, reason="涉及多部门，需联合调查")
        with pytest.raises(IllegalTransition):
            pw.pmove(case, "request_extension", amount=10, reason="再延")
        with pytest.raises(PermissionDenied):
            pw.pmove(case, "approve_extension")
        case = pw.pmove(case, "approve_extension", actor=pw.desk_chief, note="同意延期 30 日")
    # 9月20日 + 90 = 12月19日 (Saturday) → Monday 12月21日 24:00
    assert case.due_at == at(2026, 12, 22, 0, 0) and case.extension_amount == 30
    assert case.petition_detail.extension_days == 30
    with clock.frozen(at(2026, 9, 21, 10, 0)), pytest.raises(ValidationFailed) as e:
        pw.pmove(case, "request_extension", amount=5, reason="还要延")
    assert e.value.code == PetitionErrorCode.EXTENSION_INVALID
    # the extension request was heard only by the desk's 值班长, not the command centre's
    told = set(Notification.objects.filter(kind="extension_request").values_list("user_id", flat=True))
    assert told == {pw.desk_chief.pk}


def _closed(pw):
    replied = at(2026, 3, 2, 10, 0)
    with clock.frozen(at(2026, 3, 1, 9, 0)):
        case = pw.register()
        case = pw.pmove(case, "notify_accept")
    with clock.frozen(replied):
        case = pw.pmove(case, "reply", detail={"reply": "答复意见"})
        return pw.pmove(case, "close")


def test_review_must_be_asked_within_30_days_of_the_reply_then_recheck(pw):
    case = _closed(pw)
    # 3月2日 + 30 = 4月1日 24:00; on 4月2日 it is too late
    with (
        clock.frozen(at(2026, 4, 2, 9, 0)),
        pytest.raises(ValidationFailed, match="复查申请须在 30 日内提出"),
    ):
        pw.pmove(case, "request_review", reason="对答复不满意")
    with clock.frozen(at(2026, 4, 1, 20, 0)):
        with pytest.raises(ValidationFailed, match="须先经复查"):
            pw.pmove(case, "request_recheck", reason="不服")
        case = pw.pmove(case, "request_review", reason="对答复不满意")
    assert (case.state, case.stage, case.closed_at) == ("review", "review", None)
    # 4月1日 + 30 = 5月1日, inside the 劳动节 rest (5月1日–5日): 复查意见 due 5月6日 24:00
    assert case.due_at == at(2026, 5, 7, 0, 0)
    d = PetitionDetail.objects.get(case=case)
    assert d.reopen_count == 1 and d.done_at is not None  # the first 办结 stays the counted one
    with clock.frozen(at(2026, 4, 20, 9, 0)):
        case = pw.pmove(case, "review_done", note="维持原处理意见")
    with clock.frozen(at(2026, 4, 25, 9, 0)):
        case = pw.pmove(case, "request_recheck", reason="仍不服")
        assert case.state == "recheck" and case.stage == "recheck"
        case = pw.pmove(case, "recheck_done", note="复核维持")
        with pytest.raises(ValidationFailed, match="不能再次复核"):
            pw.pmove(case, "request_recheck", reason="再次")
    assert PetitionDetail.objects.get(case=case).reopen_count == 2


def test_lights_and_reminders_reach_only_those_who_may_see_the_petition(
    pw, django_capture_on_commit_callbacks
):
    with clock.frozen(at(2026, 9, 16, 10, 0)):
        case = pw.register()
    with django_capture_on_commit_callbacks(execute=True):
        counts = refresh_lights(at(2026, 10, 9, 1, 0))
    case.refresh_from_db()
    assert counts["red"] >= 1 and case.light == "red" and case.is_overdue
    told = set(Notification.objects.filter(case=case, kind="red").values_list("user_id", flat=True))
    assert told == {pw.desk.pk, pw.desk_chief.pk}  # not the rest of the command centre


def test_leader_supervises_and_the_desk_is_told(pw, django_capture_on_commit_callbacks):
    case = pw.register()
    with django_capture_on_commit_callbacks(execute=True):
        case = pw.pmove(case, "supervise", actor=pw.leader, note="请加快办理")
    assert case.supervise_count == 1
    told = set(Notification.objects.filter(case=case, kind="supervise").values_list("user_id", flat=True))
    assert told == {pw.desk.pk, pw.desk_chief.pk}


def test_only_the_desk_registers_and_bad_input_names_its_field(pw):
    with pytest.raises(PermissionDenied) as e:
        pw.register(actor=pw.dispatcher)  # command centre, not on the 信访 desk
    assert e.value.code == PetitionErrorCode.NOT_DESK
    with pytest.raises(ValidationFailed) as e:
        pw.register(kind="leapfrog")
    assert e.value.field == "leap_level"
    with pytest.raises(ValidationFailed) as e:
        pw.register(is_group=True, headcount=3)
    assert e.value.field == "headcount"
    with pytest.raises(ValidationFailed) as e:
        pw.register(kind="repeat")
    assert e.value.field == "earlier"
    with pytest.raises(ValidationFailed) as e:
        pw.register(lead=pw.grid_worker)
    assert e.value.field == "lead"
    with pytest.raises(ValidationFailed) as e:
        pw.register(summary="  ")
    assert e.value.field == "summary"
    assert not PetitionDetail.objects.exists()


def test_group_visit_and_repeat_link(pw):
    first = pw.register()
    group = pw.register(is_group=True, headcount=12, kind="repeat", earlier=[first])
    d = group.petition_detail
    assert d.is_group and d.headcount == 12 and list(d.earlier.all()) == [first]


def test_task_lets_one_grid_worker_see_the_petition(pw):
    case = pw.register()
    with pytest.raises(ValidationFailed):
        services.assign_task(
            actor=pw.desk, case=case, assignee=pw.other_worker, text="走访"
        )  # not their grid
    task = services.assign_task(actor=pw.desk, case=case, assignee=pw.grid_worker, text="上门走访核实")
    with pytest.raises(PermissionDenied):
        services.finish_task(actor=pw.desk, task=task, result="x")
    services.finish_task(actor=pw.grid_worker, task=task, result="已走访，情绪稳定")
    assert PetitionTask.objects.get().done_at is not None


def test_backlog_is_open_past_its_limit_and_its_resolution_is_recorded(pw):
    with clock.frozen(at(2026, 9, 16, 10, 0)):
        case = pw.register()
        fresh = pw.register()
    with clock.frozen(at(2026, 10, 20, 9, 0)):
        with pytest.raises(ValidationFailed) as e:
            services.resolve_backlog(
                actor=pw.desk, case=fresh, resolved_on=date(2026, 10, 21), method="settled"
            )
        assert e.value.field == "resolved_on"  # a future day is refused first
        d = services.resolve_backlog(
            actor=pw.desk, case=case, resolved_on=date(2026, 10, 19), method="explained", note="政策解释到位"
        )
        assert d.resolved_at == date(2026, 10, 19) and d.resolve_method == "explained"
        with pytest.raises(ValidationFailed):
            services.resolve_backlog(
                actor=pw.desk, case=case, resolved_on=date(2026, 10, 19), method="settled"
            )
    with clock.frozen(at(2026, 9, 20, 9, 0)):
        new = pw.register()
        with pytest.raises(ValidationFailed) as e:
            services.resolve_backlog(actor=pw.desk, case=new, resolved_on=date(2026, 9, 20), method="settled")
        assert e.value.code == PetitionErrorCode.NOT_BACKLOG


def test_reception_register(pw):
    case = pw.register()
    r = services.record_reception(
        actor=pw.desk,
        received_on=clock.local_now().date(),
        people=3,
        topic="加装电梯",
        leader=pw.lead,
        petition=case,
    )
    assert r.street_id == case.street_id and r.people == 3
    with pytest.raises(ValidationFailed) as e:
        services.record_reception(actor=pw.desk, received_on=clock.local_now().date(), people=0, topic="x")
    assert e.value.field == "people"
    with pytest.raises(PermissionDenied):
        services.record_reception(actor=pw.leader, received_on=clock.local_now().date(), people=1, topic="x")
