"""Outbound webhooks against a real local HTTP server: enqueue on committed case events, send, retry, sign."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from civicgrid.cases import jobs
from civicgrid.cases.models import CaseState
from civicgrid.core import clock
from civicgrid.core.models import AuditLog
from civicgrid.notify import sender, services
from civicgrid.notify.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def endpoint(url, *, kind="wecom", events=("dispatch",), **kw) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(name=f"{kind} 群", kind=kind, url=url, events=list(events), **kw)


def dispatched(world, capture):
    """A case driven to 已派遣 with on-commit callbacks (the signal) executed."""
    with capture(execute=True):
        case = world.to_state("dispatched")
    return case


def test_dispatch_is_enqueued_and_sent_in_wecom_format(world, robot, django_capture_on_commit_callbacks):
    ep = endpoint(robot.url(query="key=abc"))
    case = dispatched(world, django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get(endpoint=ep)
    assert delivery.status == DeliveryStatus.PENDING and delivery.event == "dispatch"
    assert delivery.case_number == case.number and delivery.case_id_ref == case.pk

    result = sender.deliver_due()
    assert result == {"sent": 1, "retry": 0, "failed": 0}
    assert len(robot.requests) == 1
    req = robot.requests[0]
    assert req["query"] == {"key": "abc"} and req["content_type"].startswith("application/json")
    body = req["body"]
    assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"content"}
    content = body["markdown"]["content"]
    assert f"【新派遣】案件 {case.number}" in content
    assert "城管中队" in content and world.dispatcher.full_name not in content

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1 and delivery.sent_at is not None
    # nothing left: a second run sends nothing and the robot hears nothing more
    assert sender.deliver_due() == {"sent": 0, "retry": 0, "failed": 0}
    assert len(robot.requests) == 1


def test_server_error_is_retried_with_backoff_then_sent(world, robot, django_capture_on_commit_callbacks):
    endpoint(robot.url())
    dispatched(world, django_capture_on_commit_callbacks)
    robot.script = [(500, "internal error", 0)]
    t0 = clock.now()

    assert sender.deliver_due(t0) == {"sent": 0, "retry": 1, "failed": 0}
    d = WebhookDelivery.objects.get()
    assert d.status == DeliveryStatus.PENDING and d.attempts == 1
    assert "HTTP 500" in d.last_error
    assert d.next_attempt_at == t0 + timedelta(minutes=1)

    # not due yet: nothing is sent
    assert sender.deliver_due(t0 + timedelta(seconds=30)) == {"sent": 0, "retry": 0, "failed": 0}
    assert len(robot.requests) == 1

    assert sender.deliver_due(t0 + timedelta(minutes=1, seconds=1))["sent"] == 1
    d.refresh_from_db()
    assert d.status == DeliveryStatus.SENT and d.attempts == 2 and d.last_error == ""
    assert len(robot.requests) == 2 and robot.requests[0]["body"] == robot.requests[1]["body"]


def test_backoff_doubles_and_gives_up_after_six_attempts(world, robot, django_capture_on_commit_callbacks):
    endpoint(robot.url())
    dispatched(world, django_capture_on_commit_callbacks)
    robot.default = (503, "busy", 0)
    now = clock.now()
    gaps = []
    for attempt in range(1, 7):
        sender.deliver_due(now)
        d = WebhookDelivery.objects.get()
        assert d.attempts == attempt
        if attempt < 6:
            gaps.append(d.next_attempt_at - now)
            now = d.next_attempt_at
    assert gaps == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    assert d.status == DeliveryStatus.FAILED and d.next_attempt_at is None and "HTTP 503" in d.last_error
    assert len(robot.requests) == 6
    assert sender.deliver_due(now + timedelta(days=1)) == {"sent": 0, "retry": 0, "failed": 0}


def test_robot_refusal_in_body_counts_as_failure(world, robot, django_capture_on_commit_callbacks):
    endpoint(robot.url())
    dispatched(world, django_capture_on_commit_callbacks)
    robot.script = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"}, 0)]
    assert sender.deliver_due()["retry"] == 1
    assert "errcode=93000" in WebhookDelivery.objects.get().last_error


def test_timeout_is_a_retry_and_does_not_hang(world, robot, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(sender, "TIMEOUT_SECONDS", 0.5)
    endpoint(robot.url())
    dispatched(world, django_capture_on_commit_callbacks)
    robot.script = [(200, {"errcode": 0}, 2.0)]
    started = time.monotonic()
    assert sender.deliver_due() == {"sent": 0, "retry": 1, "failed": 0}
    assert time.monotonic() - started < 1.8
    d = WebhookDelivery.objects.get()
    assert d.status == DeliveryStatus.PENDING and "超时" in d.last_error


def test_default_timeout_is_five_seconds():
    assert sender.TIMEOUT_SECONDS == 5
    assert sender.MAX_ATTEMPTS == 6


def test_dingtalk_markdown_and_signature(world, robot, django_capture_on_commit_callbacks):
    secret = "SEC0123456789abcdef"

    def verify(req):
        ts = req["query"].get("timestamp", "")
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        fresh = ts.isdigit() and abs(int(ts) - time.time() * 1000) < 60 * 60 * 1000
        if req["query"].get("sign") != expected or not fresh:
            return (200, {"errcode": 310000, "errmsg": "sign not match"}, 0)
        return (200, {"errcode": 0, "errmsg": "ok"}, 0)

    robot.check = verify
    ep = endpoint(robot.url(query="access_token=tok"), kind="dingtalk", secret=secret)
    case = dispatched(world, django_capture_on_commit_callbacks)
    assert sender.deliver_due()["sent"] == 1
    req = robot.requests[0]
    assert req["query"]["access_token"] == "tok"
    body = req["body"]
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == f"【新派遣】案件 {case.number}"
    assert case.number in body["markdown"]["text"]

    # a wrong secret is refused by the robot and recorded as a failed attempt
    WebhookDelivery.objects.all().delete()
    ep.secret = "SECwrong"
    ep.save()
    services.enqueue("dispatch", case, dedupe_key="again")
    assert sender.deliver_due()["retry"] == 1
    assert "sign not match" in WebhookDelivery.objects.get().last_error


def test_signature_matches_dingtalk_documentation_example():
    # DingTalk's docs: sign = urlEncode(base64(HmacSHA256(secret, timestamp + "\n" + secret)))
    secret, ts = "SECabc", 1700000000000
    raw = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    from urllib.parse import quote_plus

    assert sender.dingtalk_sign(secret, ts) == quote_plus(base64.b64encode(raw).decode())
    url = sender.signed_url("https://oapi.dingtalk.com/robot/send?access_token=x", secret, ts)
    assert url.startswith("https://oapi.dingtalk.com/robot/send?access_token=x&timestamp=1700000000000&sign=")


def test_case_move_succeeds_while_the_webhook_server_is_down(
    world, dead_url, django_capture_on_commit_callbacks
):
    endpoint(dead_url, events=("dispatch", "supervise"))
    with django_capture_on_commit_callbacks(execute=True):
        case = world.to_state("accepted")
        case = world.move(case, "dispatch", department=world.dept)
    assert case.state == CaseState.DISPATCHED
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED
    assert sender.deliver_due() == {"sent": 0, "retry": 1, "failed": 0}
    d = WebhookDelivery.objects.get()
    assert d.status == DeliveryStatus.PENDING and "无法连接" in d.last_error
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED  # the case never depends on the robot


def test_a_crash_while_enqueueing_never_breaks_the_move(
    world, robot, django_capture_on_commit_callbacks, monkeypatch
):
    endpoint(robot.url())

    def boom(*a, **kw):
        raise RuntimeError("renderer bug")

    monkeypatch.setattr(services, "render_payload", boom)
    with django_capture_on_commit_callbacks(execute=True):
        case = world.to_state("dispatched")
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED
    assert not WebhookDelivery.objects.exists()


def test_supervise_and_department_filter(world, robot, django_capture_on_commit_callbacks):
    mine = endpoint(robot.url("/mine"), events=("supervise",), department=world.dept)
    other = endpoint(robot.url("/other"), events=("supervise", "dispatch"), department=world.dept2)
    case = dispatched(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        world.move(case, "supervise", actor=world.shift_leader, note="请今天下班前处理完毕")
    assert not WebhookDelivery.objects.filter(endpoint=other).exists()
    d = WebhookDelivery.objects.get(endpoint=mine)
    assert d.event == "supervise"
    sender.deliver_due()
    assert [r["path"] for r in robot.requests] == ["/mine"]
    content = robot.requests[0]["body"]["markdown"]["content"]
    assert "【督办】" in content and "请今天下班前处理完毕" in content


def test_inactive_or_uninterested_endpoints_get_nothing(world, robot, django_capture_on_commit_callbacks):
    endpoint(robot.url(), is_active=False)
    endpoint(robot.url(), events=("light_red",))
    dispatched(world, django_capture_on_commit_callbacks)
    assert not WebhookDelivery.objects.exists()


def test_endpoint_deactivated_after_enqueue_fails_without_posting(
    world, robot, django_capture_on_commit_callbacks
):
    ep = endpoint(robot.url())
    dispatched(world, django_capture_on_commit_callbacks)
    WebhookEndpoint.objects.filter(pk=ep.pk).update(is_active=False)
    assert sender.deliver_due() == {"sent": 0, "retry": 0, "failed": 1}
    assert robot.requests == []
    assert WebhookDelivery.objects.get().last_error == "接收端已停用"


def test_light_red_is_sent_once_per_stage(world, robot, django_capture_on_commit_callbacks):
    ep = endpoint(robot.url(), kind="dingtalk", events=("light_yellow", "light_red"))
    start = clock.aware(datetime(2025, 3, 4, 9, 0))
    WebhookEndpoint.objects.filter(pk=ep.pk).update(created_at=start - timedelta(days=1))
    with clock.frozen(start), django_capture_on_commit_callbacks(execute=True):
        case = world.to_state("accepted")  # dispatch limit: 2 natural hours
    later = start + timedelta(hours=3)
    with clock.frozen(later), django_capture_on_commit_callbacks(execute=True):
        counts = jobs.refresh_lights(now=later)
    assert counts["red"] == 1 and counts["notified"] == 1

    # the light job's signal enqueued one delivery; running the job again adds none
    with clock.frozen(later + timedelta(minutes=5)), django_capture_on_commit_callbacks(execute=True):
        assert jobs.refresh_lights(now=later + timedelta(minutes=5))["notified"] == 0
    with clock.frozen(later):
        d = WebhookDelivery.objects.get()
        assert d.event == "light_red"
        assert sender.deliver_due(later)["sent"] == 1
    text = robot.requests[0]["body"]["markdown"]["text"]
    assert f"【红灯超时】案件 {case.number}" in text


def test_signal_light_move_is_understood():
    assert services.event_for_move("light", {}, "red") == "light_red"
    assert services.event_for_move("light_yellow", {}) == "light_yellow"
    assert services.event_for_move("reassign", {}) == "dispatch"
    assert services.event_for_move("rate", {"redo": True}) == "dispatch"
    assert services.event_for_move("rate", {}) is None
    assert services.event_for_move("sign", {}) is None


def test_send_webhooks_command_and_job_hook(world, robot, django_capture_on_commit_callbacks):
    endpoint(robot.url())
    dispatched(world, django_capture_on_commit_callbacks)
    out = StringIO()
    call_command("send_webhooks", stdout=out)
    assert "已发送 1" in out.getvalue()
    assert len(robot.requests) == 1
    # the case engine's periodic job table runs the sender too
    assert "send_webhooks" in jobs.JOBS


def _staff(role):
    from tests.factories import UserFactory

    return UserFactory(role=role, is_staff=True)


def test_admin_save_is_audited_without_credentials(client, db):
    client.force_login(_staff("system_admin"))
    resp = client.post(
        "/admin/notify/webhookendpoint/add/",
        {
            "name": "城管群",
            "kind": "dingtalk",
            "url": "https://oapi.dingtalk.com/robot/send?access_token=SUPERSECRETTOKEN",
            "secret": "SECtopsecretvalue",
            "events": ["dispatch", "light_red"],
            "is_active": "on",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    ep = WebhookEndpoint.objects.get()
    assert ep.events == ["dispatch", "light_red"] and ep.secret == "SECtopsecretvalue"
    row = AuditLog.objects.get(action="admin.create", object_type="notify.webhookendpoint")
    dumped = str(row.after)
    assert "SUPERSECRETTOKEN" not in dumped and "SECtopsecretvalue" not in dumped
    assert row.after["url"] == "https://oapi.dingtalk.com/robot/send?access_token=***"


def test_admin_is_for_the_system_admin_only(client, db):
    client.force_login(_staff("dispatcher"))
    assert client.get("/admin/notify/webhookendpoint/").status_code == 403
    client.force_login(_staff("system_admin"))
    assert client.get("/admin/notify/webhookendpoint/").status_code == 200
    assert client.get("/admin/notify/webhookdelivery/").status_code == 200
