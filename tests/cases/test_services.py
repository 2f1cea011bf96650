"""The case engine through its services: the closed loop, each move's inputs, timeline, audit, notifications."""

from __future__ import annotations

from datetime import datetime

import pytest

from civicgrid.cases import services, workflow
from civicgrid.cases.models import Attachment, Case, CaseEvent, ExtensionRequest, Notification
from civicgrid.cases.notifications import case_event_committed
from civicgrid.core import clock
from civicgrid.core.errors import (
    IllegalTransition,
    NotFound,
    PermissionDenied,
    StaleVersion,
    ValidationFailed,
)
from civicgrid.core.models import AuditLog
from tests.cases.factories import photo

pytestmark = pytest.mark.django_db(transaction=False)

T0 = datetime(2025, 3, 4, 9, 0)  # a Tuesday, Asia/Shanghai


def test_full_closed_loop(world, django_capture_on_commit_callbacks):
    sent = []

    def rec(sender, **kw):
        sent.append(kw["move"])

    case_event_committed.connect(rec)
    try:
        with clock.frozen(T0), django_capture_on_commit_callbacks(execute=True):
            c = world.report(reporter_phone="13812345678", reporter_name="张三")
            assert c.state == "reported" and c.number is None and c.version == 1
            assert c.grid == world.grid and c.community == world.community
            assert c.title.startswith(world.category.name)
            c = world.move(c, "accept")
            assert c.number == "C2025030400001" and c.stage == "dispatch" and c.light == "green"
            c = world.move(c, "dispatch")  # no department given: the category's default (城管中队)
            assert c.department == world.dept and c.stage == "handle"
            c = world.move(c, "sign", actor=world.handler)
            assert c.state == "handling"
            c = world.move(c, "finish", actor=world.handler, note="已清运完毕", attachments=[photo()])
            assert c.state == "handled" and c.stage == "verify" and c.handling_feedback == "已清运完毕"
            c = world.move(c, "verify_pass", actor=world.grid_worker)
            c = world.move(c, "close")
            assert c.state == "closed" and c.closed_at is not None and c.stage == "" and c.light == ""
            c = world.move(c, "rate", rating="satisfied")
            assert c.state == "rated" and c.rating == "satisfied"
    finally:
        case_event_committed.disconnect(rec)
    c.refresh_from_db()
    assert c.version == 8
    assert Notification.objects.filter(user=world.handler, case=c, kind="dispatched").count() == 1
    events = list(c.events.order_by("seq"))
    assert [e.move for e in events] == [
        "create",
        "accept",
        "dispatch",
        "sign",
        "finish",
        "verify_pass",
        "close",
        "rate",
    ]
    assert [e.seq for e in events] == list(range(1, 9))
    assert events[2].data["department"] == world.dept.pk
    assert events[2].clock["stage"] == "handle" and events[2].clock["light"] == "green"
    assert events[4].actor == world.handler and events[4].actor_role == "dept_handler"
    after = Attachment.objects.get(case=c)
    assert after.kind == "after" and after.event == events[4] and after.content_type == "image/png"
    actions = list(
        AuditLog.objects.filter(object_type="cases.case", object_id=str(c.pk)).values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == sorted(f"cases.case.{e.move}" for e in events)
    assert sent == [e.move for e in events]


def test_case_event_is_append_only(world):
    c = world.report()
    e = c.events.get()
    e.note = "篡改"
    with pytest.raises(PermissionError):
        e.save()
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(case=c).update(note="x")


def test_illegal_move_raises_and_changes_nothing(world):
    c = world.report()
    with pytest.raises(IllegalTransition):
        world.move(c, "dispatch", department=world.dept)
    c.refresh_from_db()
    assert c.state == "reported" and c.version == 1 and c.events.count() == 1


def test_role_forbidden(world):
    c = world.to_state("accepted")
    with pytest.raises(PermissionDenied):
        world.move(c, "dispatch", actor=world.leader, department=world.dept)
    # a department the case was reassigned away from no longer sees it, let alone acts on it
    c = world.to_state("dispatched")
    c = world.move(c, "reassign", department=world.dept2)
    with pytest.raises(NotFound):
        world.move(c, "sign", actor=world.handler)
    # one that sees it (it returned the case) may not act on it any more
    r = world.to_state("dispatched")
    r = world.move(r, "return", actor=world.handler, reason="非本部门职责")
    with pytest.raises(PermissionDenied):
        world.move(r, "dispatch", actor=world.handler, department=world.dept)
    c = world.move(c, "sign", actor=world.handler2)
    assert c.state == "handling"


def test_out_of_scope_actor_gets_not_found(world):
    c = world.to_state("handled")
    with pytest.raises(NotFound):
        world.move(c, "verify_pass", actor=world.other_worker)
    with pytest.raises(NotFound):
        world.move(c, "verify_pass", actor=world.auditor)


def test_stale_version(world):
    c = world.to_state("accepted")
    v = c.version
    services.perform(actor=world.dispatcher, case=c, move="dispatch", version=v, department=world.dept)
    with pytest.raises(StaleVersion) as exc:
        services.perform(actor=world.dispatcher2, case=c, move="dispatch", version=v, department=world.dept2)
    assert exc.value.status == 409 and exc.value.code == "stale_version"
    c.refresh_from_db()
    assert c.department == world.dept and c.version == v + 1


@pytest.mark.parametrize(
    "move,kwargs,field",
    [
        ("reject", {}, "reason"),
        ("suspend", {}, "reason"),
        ("merge", {}, "target_case"),
    ],
)
def test_reported_or_accepted_moves_name_missing_fields(world, move, kwargs, field):
    c = world.to_state("accepted" if move == "suspend" else "reported")
    with pytest.raises(ValidationFailed) as exc:
        world.move(c, move, **kwargs)
    assert exc.value.field == field and exc.value.status == 422


def test_accept_requires_category(world):
    c = world.report(category=None)
    with pytest.raises(ValidationFailed) as exc:
        world.move(c, "accept")
    assert exc.value.field == "category"
    c = world.move(c, "accept", category=world.category, priority="critical")
    assert c.category == world.category and c.priority == "critical"


def test_dispatch_without_any_department(world):
    world.category.default_department = None
    world.category.save()
    c = world.to_state("accepted")
    with pytest.raises(ValidationFailed) as exc:
        world.move(c, "dispatch")
    assert exc.value.field == "department"


def test_finish_requires_feedback_and_photo(world):
    c = world.to_state("handling")
    with pytest.raises(ValidationFailed) as exc:
        world.move(c, "finish", actor=world.handler, note="", attachments=[photo()])
    assert exc.value.field == "note"
    with pytest.raises(ValidationFailed) as exc:
        world.move(c, "finish", actor=world.handler, note="已处置")
    assert exc.value.field == "attachments"
    with pytest.raises(ValidationFailed) as exc:
        world.move(
            c, "finish", actor=world.handler, note="已处置", attachments=[("fake.jpg", b"not an image")]
        )
    assert exc.value.field == "attachments"
    c.refresh_from_db()
    assert c.state == "handling" and not Attachment.objects.exists()


def test_return_and_reassign(world, django_capture_on_commit_callbacks):
    c = world.to_state("dispatched")
    with pytest.raises(ValidationFailed):
        world.move(c, "return", actor=world.handler)
    with django_capture_on_commit_callbacks(execute=True):
        c = world.move(c, "return", actor=world.handler, reason="不属于本部门职责")
    assert c.state == "accepted" and c.department is None and c.returned and c.stage == "dispatch"
    assert Notification.objects.filter(user=world.dispatcher, kind="returned").exists()
    c = world.move(c, "dispatch", department=world.dept2)
    assert not c.returned and c.department == world.dept2
    with pytest.raises(ValidationFailed) as exc:
        world.move(c, "reassign", department=world.dept2)
    assert exc.value.field == "department"
    c = world.move(c, "reassign", department=world.dept)
    assert c.state == "dispatched" and c.department == world.dept
    assert set(c.past_departments.all()) == {world.dept, world.dept2}


def test_verify_fail_is_rework(world):
    c = world.to_state("handled")
    with pytest.raises(ValidationFailed):
        world.move(c, "verify_fail", actor=world.community_staff)
    c = world.move(c, "verify_fail", actor=world.community_staff, reason="垃圾仍未清运")
    assert c.state == "handling" and c.rework_count == 1 and c.stage == "handle"


def test_dissatisfied_rating_can_redo(world):
    c = world.to_state("closed")
    with pytest.raises(ValidationFailed) as exc:
        world.move(c, "rate", rating="excellent")
    assert exc.value.field == "rating"
    with pytest.raises(ValidationFailed) as exc:
        world.move(c, "rate", rating="satisfied", redo=True)
    assert exc.value.field == "redo"
    c = world.move(c, "rate", rating="dissatisfied", redo=True)
    assert c.state == "dispatched" and c.redo_count == 1 and c.department == world.dept
    assert c.closed_at is None and c.stage == "handle"
    c2 = world.to_state("closed")
    c2 = world.move(c2, "rate", rating="dissatisfied")
    assert c2.state == "rated"


def test_extension_flow(world, django_capture_on_commit_callbacks):
    c = world.to_state("handling")
    with pytest.raises(ValidationFailed) as exc:
        world.move(c, "request_extension", actor=world.handler, amount=2, unit="working_days", reason="x")
    assert exc.value.field == "unit"
    with pytest.raises(ValidationFailed) as exc:
        world.move(c, "request_extension", actor=world.handler, amount=0, unit="natural_hours", reason="x")
    assert exc.value.field == "amount"
    with django_capture_on_commit_callbacks(execute=True):
        c = world.move(
            c, "request_extension", actor=world.handler, amount=5, unit="natural_hours", reason="需协调"
        )
    assert Notification.objects.filter(user=world.shift_leader, kind="extension_request").count() == 1
    with pytest.raises(IllegalTransition):
        world.move(
            c, "request_extension", actor=world.handler, amount=5, unit="natural_hours", reason="再申请"
        )
    with pytest.raises(PermissionDenied):
        world.move(c, "approve_extension", actor=world.dispatcher)
    assert [m.name for m in workflow.allowed_moves(c, world.shift_leader)].count("approve_extension") == 1
    c = world.move(c, "deny_extension", actor=world.shift_leader, note="理由不充分")
    assert c.extension_amount == 0
    assert ExtensionRequest.objects.get(case=c).status == "denied"
    with pytest.raises(IllegalTransition):
        world.move(c, "approve_extension", actor=world.shift_leader)


def test_suspend_resume_void_merge_supervise(world, django_capture_on_commit_callbacks):
    c = world.to_state("handling")
    c = world.move(c, "suspend", reason="等待产权单位")
    assert c.state == "suspended" and c.suspended_from == "handling" and c.paused_since is not None
    c = world.move(c, "resume")
    assert c.state == "handling" and c.paused_since is None and c.suspended_from == ""
    with django_capture_on_commit_callbacks(execute=True):
        c = world.move(c, "supervise", actor=world.leader, note="请尽快处理")
    assert c.priority == "urgent" and c.supervise_count == 1 and c.state == "handling"
    assert Notification.objects.filter(user=world.handler, kind="supervise").exists()
    c = world.move(c, "supervise", actor=world.shift_leader, note="再督办")
    c = world.move(c, "supervise", actor=world.shift_leader, note="三督办")
    assert c.priority == "critical"
    with pytest.raises(ValidationFailed):
        world.move(c, "void", actor=world.shift_leader)
    c = world.move(c, "void", actor=world.shift_leader, reason="重复登记")
    assert c.state == "voided" and c.stage == ""

    target = world.report()
    dup = world.report()
    with pytest.raises(ValidationFailed):
        world.move(dup, "merge", target_case=dup)
    dup = world.move(dup, "merge", target_case=target)
    assert dup.state == "merged" and dup.duplicate_of == target
    with pytest.raises(ValidationFailed):
        world.move(world.report(), "merge", target_case=c)  # voided target


def test_grid_worker_files_minor_items(world):
    c = services.create_case(
        actor=world.grid_worker,
        source="grid_patrol",
        description="垃圾桶满溢",
        category=world.minor,
        grid=world.grid,
        auto_accept=True,
        attachments=[photo("before.png", (1, 2, 3))],
    )
    assert c.state == "accepted" and c.number
    assert c.attachments.get().kind == "before"
    with pytest.raises(PermissionDenied):
        services.create_case(
            actor=world.grid_worker,
            source="grid_patrol",
            description="需要立案的大事",
            category=world.category,
            grid=world.grid,
            auto_accept=True,
        )
    assert not Case.objects.filter(description="需要立案的大事").exists()  # rolled back entirely


def test_create_validation_names_fields(world):
    base = dict(actor=world.dispatcher, source="resident", description="描述")
    for kwargs, field in [
        ({"source": "pigeon"}, "source"),
        ({"description": "  "}, "description"),
        ({"lng": 120.1}, "lat"),
        ({"lng": 500.0, "lat": 30.0}, "lng"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            services.create_case(**{**base, **kwargs})
        assert exc.value.field == field
    world.category.is_enabled = False
    world.category.save()
    with pytest.raises(ValidationFailed) as exc:
        services.create_case(**base, category=world.category)
    assert exc.value.field == "category"
    for actor in (world.handler, world.sysadmin, world.auditor):
        with pytest.raises(PermissionDenied):
            services.create_case(**{**base, "actor": actor})


def test_create_locates_grid_from_point_and_address(world):
    from tests.factories import BuildingFactory

    # grid squares of 0.005° from (120.100, 30.250): col 1 is world.grid2
    c = services.create_case(
        actor=world.dispatcher, source="resident", description="井盖缺失", lng=120.1075, lat=30.2525
    )
    assert c.grid == world.grid2 and c.community == world.community
    BuildingFactory(grid=world.other_grid, address="幸福路8号", lng=120.126, lat=30.251)
    c = services.create_case(
        actor=world.dispatcher, source="resident", description="楼道堆物", address="幸福路8号"
    )
    assert c.grid == world.other_grid and c.lng == 120.126


def test_case_numbers_reset_daily(world):
    with clock.frozen(datetime(2025, 3, 4, 23, 59)):
        a = world.to_state("accepted")
        b = world.to_state("accepted")
    with clock.frozen(datetime(2025, 3, 5, 0, 1)):
        c = world.to_state("accepted")
    assert (a.number, b.number, c.number) == ("C2025030400001", "C2025030400002", "C2025030500001")


def test_case_number_uses_shanghai_date(world):
    from zoneinfo import ZoneInfo

    # 2025-03-04 17:30 UTC is already 03-05 01:30 in Shanghai
    with clock.frozen(datetime(2025, 3, 4, 17, 30, tzinfo=ZoneInfo("UTC"))):
        c = world.to_state("accepted")
    assert c.number.startswith("C20250305")


def test_idempotent_create(world):
    a = world.report(idempotency_key="abc-1")
    b = world.report(idempotency_key="abc-1", description="重试时内容不同也返回原案件")
    assert a.pk == b.pk and Case.objects.count() == 1
    other = world.report(actor=world.dispatcher2, idempotency_key="abc-1")
    assert other.pk != a.pk


def test_allowed_moves_for_ui(world):
    c = world.to_state("dispatched")
    assert [m.name for m in workflow.allowed_moves(c, world.handler)] == [
        "sign",
        "return",
        "request_extension",
    ]
    assert [m.name for m in workflow.allowed_moves(c, world.dispatcher)] == ["reassign", "suspend"]
    assert "void" in [m.name for m in workflow.allowed_moves(c, world.shift_leader)]
    assert workflow.allowed_moves(c, world.handler2) == []
    assert workflow.allowed_moves(c, world.auditor) == []


def test_attachment_uploaded_first_then_referenced(world):
    att = services.upload_attachment(actor=world.handler, file=photo(), kind="after")
    assert att.case is None and att.thumbnail
    c = world.to_state("handling")
    c = world.move(c, "finish", actor=world.handler, note="完成", attachments=[att])
    att.refresh_from_db()
    assert att.case == c and att.event.move == "finish"
    other = services.upload_attachment(actor=world.handler2, file=photo(color=(9, 9, 9)), kind="after")
    c2 = world.to_state("handling")
    with pytest.raises(ValidationFailed):
        world.move(c2, "finish", actor=world.handler, note="完成", attachments=[other])
