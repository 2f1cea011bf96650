"""督办 flows per role: one case (the engine's move + tracking), a department's overdue list, 销号 by hand and
automatically, notifications and webhooks on commit; warnings acknowledged with a note."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.cases import jobs
from civicgrid.cases.models import Case, Notification, NotificationKind
from civicgrid.core import clock
from civicgrid.core.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog
from civicgrid.notify.models import WebhookDelivery, WebhookEndpoint
from civicgrid.supervision import selectors, services
from civicgrid.supervision.models import (
    EarlyWarning,
    Supervision,
    SupervisionKind,
    SupervisionState,
    WarningState,
)
from tests.factories import StreetFactory, UserFactory


def _due(days=2):
    return (clock.to_local(clock.now()) + timedelta(days=days)).date().isoformat()


def _endpoint(events):
    return WebhookEndpoint.objects.create(
        name="指挥中心群", kind="wecom", url="https://example.invalid/hook", events=events
    )


def test_shift_leader_supervises_a_case_tracked_until_it_closes(world, django_capture_on_commit_callbacks):
    _endpoint(["supervise"])
    case = world.to_state("handling")
    with django_capture_on_commit_callbacks(execute=True):
        s = services.supervise_case(
            actor=world.shift_leader, case=case, note="今天下班前处理完毕", due_at=_due()
        )
    case.refresh_from_db()
    assert s.kind == SupervisionKind.CASE and s.state == SupervisionState.OPEN
    assert s.department_id == world.dept.pk and s.items.count() == 1
    assert case.supervise_count == 1 and case.priority == "urgent"  # the engine's move: 紧急程度 raised
    assert case.events.filter(move="supervise").get().pk == s.case_event_id
    assert Notification.objects.filter(
        user=world.handler, kind=NotificationKind.SUPERVISE, case=case
    ).exists()
    assert WebhookDelivery.objects.filter(event="supervise", case_id_ref=case.pk).count() == 1
    assert AuditLog.objects.filter(action="supervision.case", object_id=str(s.pk)).exists()
    assert Supervision.objects.count() == 1  # the engine event's receiver did not track it a second time
    with django_capture_on_commit_callbacks(execute=True):
        for move in ("finish", "verify_pass"):
            world.move(case, move, **world.default_args(move))
    s.refresh_from_db()
    assert s.state == SupervisionState.OPEN  # 处置完成/核查 are still open states
    with django_capture_on_commit_callbacks(execute=True):
        world.move(case, "close")
    s.refresh_from_db()
    assert s.state == SupervisionState.CLEARED and s.cleared_auto and s.cleared_at is not None
    assert AuditLog.objects.filter(action="supervision.auto_clear", object_id=str(s.pk)).exists()


@pytest.mark.parametrize("role", ["dispatcher", "handler", "grid_worker", "community_staff", "sysadmin"])
def test_only_shift_leaders_and_leaders_supervise(world, role):
    case = world.to_state("handling")
    with pytest.raises(PermissionDenied):
        services.supervise_case(actor=getattr(world, role), case=case, note="快办", due_at=_due())
    assert not Supervision.objects.exists()


def test_leader_supervises_and_bad_input_names_the_field(world):
    case = world.to_state("dispatched")
    with pytest.raises(ValidationFailed) as e:
        services.supervise_case(actor=world.leader, case=case, note="  ", due_at=_due())
    assert e.value.field == "note"
    for bad in ("2020-01-01", "明天", (clock.to_local(clock.now()) + timedelta(days=400)).date().isoformat()):
        with pytest.raises(ValidationFailed) as e:
            services.supervise_case(actor=world.leader, case=case, note="快办", due_at=bad)
        assert e.value.field == "due_at"
    s = services.supervise_case(actor=world.leader, case=case, note="快办", due_at=_due(1))
    assert clock.to_local(s.due_at).strftime("%H:%M") == "23:59"
    closed = world.to_state("closed")
    with pytest.raises(IllegalTransition):
        services.supervise_case(actor=world.leader, case=closed, note="快办", due_at=_due())


def test_another_streets_leader_cannot_supervise_or_see(world):
    other = UserFactory(role="leader", street=StreetFactory(code="330106099", name="西溪街道"))
    case = world.to_state("handling")
    with pytest.raises(NotFound):
        services.supervise_case(actor=other, case=case, note="快办", due_at=_due())
    s = services.supervise_case(actor=world.leader, case=case, note="快办", due_at=_due())
    assert not selectors.visible_supervisions(user=other).exists()
    assert list(selectors.visible_supervisions(user=world.handler)) == [s]  # its department sees it
    assert not selectors.visible_supervisions(user=world.handler2).exists()
    assert not selectors.visible_supervisions(user=world.grid_worker).exists()


def test_the_case_pages_plain_supervise_move_is_tracked_with_the_default_deadline(
    world, django_capture_on_commit_callbacks
):
    case = world.to_state("handling")
    with django_capture_on_commit_callbacks(execute=True):
        world.move(case, "supervise", actor=world.shift_leader, note="抓紧")
    s = Supervision.objects.get()
    assert s.note == "抓紧" and s.created_by == world.shift_leader
    assert s.due_at - s.created_at == timedelta(days=services.DEFAULT_DUE_DAYS)


def _red_cases(world, n):
    start = clock.now()
    cases = [world.to_state("handling") for _ in range(n)]
    jobs.refresh_lights(now=start + timedelta(hours=11))  # 处置 limit 10 natural hours: all red
    assert Case.objects.filter(pk__in=[c.pk for c in cases], light="red").count() == n
    return cases


def test_department_overdue_list_supervised_and_cleared_case_by_case(
    world, django_capture_on_commit_callbacks
):
    _endpoint(["supervise"])
    cases = _red_cases(world, 2)
    world.to_state("handling")  # not overdue: not in the list
    with django_capture_on_commit_callbacks(execute=True):
        s = services.supervise_department(
            actor=world.shift_leader, department=world.dept, note="本周内清零", due_at=_due(3)
        )
    assert s.kind == SupervisionKind.DEPARTMENT and sorted(
        s.items.values_list("case_id", flat=True)
    ) == sorted(c.pk for c in cases)
    told = Notification.objects.filter(
        user=world.handler, kind=NotificationKind.SUPERVISE, case__isnull=True
    ).get()
    assert "城管中队超期工单 2 件被督办" in told.text and "本周内清零" in told.text
    assert not Notification.objects.filter(user=world.handler2).exists()
    delivery = WebhookDelivery.objects.get(dedupe_key=f"supervision:{s.pk}")
    assert "城管中队超期工单 2 件" in delivery.payload["markdown"]["content"]
    assert Case.objects.get(pk=cases[0].pk).priority == "normal"  # a list 督办 raises no case's 紧急程度
    with django_capture_on_commit_callbacks(execute=True):
        world.move(cases[0], "finish", **world.default_args("finish"))  # leaves the department's red stage
    s.refresh_from_db()
    assert s.state == SupervisionState.OPEN and s.items.filter(cleared_at__isnull=True).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        world.move(cases[1], "finish", **world.default_args("finish"))
    s.refresh_from_db()
    assert s.state == SupervisionState.CLEARED and s.cleared_auto


def test_department_without_overdue_cases_is_refused(world):
    with pytest.raises(ValidationFailed) as e:
        services.supervise_department(actor=world.leader, department=world.dept2, note="快办", due_at=_due())
    assert e.value.field == "department"


def test_manual_clear_with_a_note_and_counts_per_department_and_month(world):
    a = services.supervise_case(
        actor=world.leader, case=world.to_state("handling"), note="一", due_at=_due(1)
    )
    b = services.supervise_case(
        actor=world.leader, case=world.to_state("handling"), note="二", due_at=_due(1)
    )
    services.supervise_case(actor=world.leader, case=world.to_state("handling"), note="三", due_at=_due(5))
    with pytest.raises(PermissionDenied):
        services.clear(actor=world.dispatcher, supervision=a, note="已办")
    with pytest.raises(ValidationFailed):
        services.clear(actor=world.shift_leader, supervision=a, note="")
    services.clear(actor=world.shift_leader, supervision=a, note="部门已说明情况")
    with pytest.raises(IllegalTransition):
        services.clear(actor=world.shift_leader, supervision=a, note="再次销号")
    later = clock.now() + timedelta(days=3)
    rows = selectors.counts(user=world.leader, now=later)
    month = clock.to_local(clock.now()).strftime("%Y-%m")
    assert [r.as_dict for r in rows] == [
        {
            "department_id": world.dept.pk,
            "department": "城管中队",
            "month": month,
            "total": 3,
            "cleared": 1,
            "overdue_open": 1,
        }
    ]
    a.refresh_from_db()
    assert b.past_due(later) and not a.past_due(later)


def test_warning_acknowledged_then_resolved_with_notes(world, django_capture_on_commit_callbacks):
    from tests.supervision.conftest import bulk_cases

    _endpoint(["warning"])
    bulk_cases(world, clock.to_local(clock.now()).date(), 3, address="示范路66号")
    with django_capture_on_commit_callbacks(execute=True):
        services.run_warnings(street=world.community.street)
    w = EarlyWarning.objects.get()
    assert Notification.objects.filter(user=world.dispatcher, kind=NotificationKind.WARNING).count() == 1
    assert Notification.objects.filter(user=world.shift_leader, kind=NotificationKind.WARNING).count() == 1
    assert not Notification.objects.filter(user=world.handler, kind=NotificationKind.WARNING).exists()
    assert WebhookDelivery.objects.filter(dedupe_key=f"warning:{w.pk}", event="warning").count() == 1
    with pytest.raises(PermissionDenied):
        services.handle_warning(actor=world.handler, warning=w, move="acknowledge", note="看到了")
    with pytest.raises(ValidationFailed) as e:
        services.handle_warning(actor=world.dispatcher, warning=w, move="acknowledge", note="")
    assert e.value.field == "note"
    w = services.handle_warning(actor=world.dispatcher, warning=w, move="acknowledge", note="已转社区核实")
    assert w.state == WarningState.ACKNOWLEDGED and w.handled_by == world.dispatcher
    with pytest.raises(IllegalTransition):
        services.handle_warning(actor=world.dispatcher, warning=w, move="acknowledge", note="再确认")
    w = services.handle_warning(
        actor=world.leader, warning=w, move="resolve", note="同一渗水问题，已合并处理"
    )
    assert w.state == WarningState.RESOLVED
    assert AuditLog.objects.filter(action="supervision.warning.resolve", object_id=str(w.pk)).exists()
