"""What a load balancer, a monitoring system and an operator reading logs get from a running CivicGrid."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import OperationalError

from civicgrid.cases.models import Case
from civicgrid.core import heartbeat, observability
from civicgrid.core.models import Heartbeat
from tests.cases.factories import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduler_on(settings):
    settings.CIVICGRID = {**settings.CIVICGRID, "SCHEDULER_ENABLED": True}


def test_readyz_is_ok_on_a_migrated_database(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    assert "job_runner" not in body["checks"]  # no scheduler in this process, none expected


def test_readyz_names_an_unapplied_migration(client):
    MigrationRecorder.Migration.objects.filter(app="core", name="0013_heartbeat").delete()
    r = client.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["failed"] == ["migrations"]
    assert "core.0013_heartbeat" in body["checks"]["migrations"]["unapplied"]
    assert "civicgrid migrate" in body["checks"]["migrations"]["error"]


def test_readyz_fails_when_the_database_is_unreachable(client, monkeypatch):
    def down(self, *a, **kw):
        raise OperationalError("connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", down)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["failed"] == ["database"]
    assert "数据库无法连接" in r.json()["checks"]["database"]["error"]


def test_readyz_needs_a_fresh_job_runner_heartbeat_when_the_scheduler_runs(client, scheduler_on):
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["failed"] == ["job_runner"]
    assert r.json()["checks"]["job_runner"]["error"] == "定时任务从未运行"

    from civicgrid.cases.jobs import run_all

    run_all()  # one round of the periodic jobs beats
    assert client.get("/readyz").status_code == 200

    Heartbeat.objects.filter(name=heartbeat.JOB_RUNNER).update(
        beat_at=datetime.now(UTC) - timedelta(minutes=10)
    )
    r = client.get("/readyz")
    assert r.status_code == 503 and "没有心跳" in r.json()["checks"]["job_runner"]["error"]


def test_a_separate_job_runner_can_be_required(client, monkeypatch):
    monkeypatch.setenv("CIVICGRID_EXPECT_JOB_RUNNER", "1")
    assert client.get("/readyz").json()["failed"] == ["job_runner"]


def test_metrics_from_loopback_show_requests_cases_by_light_and_queues(client):
    world = World()
    red = world.to_state("dispatched")
    Case.objects.filter(pk=red.pk).update(light="red")
    world.to_state("accepted")
    client.get("/healthz")
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/plain")
    text = r.content.decode()
    assert 'civicgrid_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'civicgrid_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"' in text
    assert 'civicgrid_open_cases{light="red"} 1.0' in text
    assert "civicgrid_import_job_lag_seconds 0.0" in text
    assert 'civicgrid_webhook_deliveries{status="pending"}' in text
    assert "civicgrid_job_runner_heartbeat_age_seconds -1.0" in text
    assert "civicgrid_db_scrape_ok 1.0" in text


def test_metrics_are_refused_through_the_proxy_or_from_outside_without_the_token(client, monkeypatch):
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    monkeypatch.setenv("CIVICGRID_METRICS_TOKEN", "s3cret-token-for-prometheus-abcdef")
    assert (
        client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong").status_code
        == 403
    )
    ok = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token-for-prometheus-abcdef"
    )
    assert ok.status_code == 200


def test_json_logs_carry_request_id_user_path_status_and_duration(client, monkeypatch, make_user):
    monkeypatch.setenv("CIVICGRID_LOG_FORMAT", "json")
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(observability.JsonFormatter())
    handler.addFilter(observability.ContextFilter())
    logger = logging.getLogger("civicgrid.request")
    logger.addHandler(handler)
    try:
        user = make_user("dispatcher")
        client.force_login(user)
        r = client.get("/cases/", HTTP_X_REQUEST_ID="nginx-req-0123456789")
    finally:
        logger.removeHandler(handler)
    assert r["X-Request-ID"] == "nginx-req-0123456789"
    entry = json.loads(lines[-1])
    assert entry["logger"] == "civicgrid.request" and entry["level"] == "INFO"
    assert entry["request_id"] == "nginx-req-0123456789"
    assert entry["user_id"] == user.pk
    assert entry["path"] == "/cases/" and entry["status"] == 200 and entry["method"] == "GET"
    assert entry["duration_ms"] >= 0 and "T" in entry["time"]
    assert "GET /cases/ 200" in entry["message"]
    # an API client authenticated by token is named too
    from civicgrid.accounts.services import issue_token

    api_user = make_user("dispatcher")
    _, key = issue_token(actor=None, user=api_user, name="监控测试")
    client.logout()
    logger.addHandler(handler)
    try:
        r = client.get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {key}")
    finally:
        logger.removeHandler(handler)
    assert r.status_code == 200
    entry = json.loads(lines[-1])
    assert entry["user_id"] == api_user.pk and entry["route"] == "/api/v1/cases"
    # a request id a client makes up that is not sane is replaced
    r = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert r["X-Request-ID"] != "bad id\nwith newline" and len(r["X-Request-ID"]) == 32
