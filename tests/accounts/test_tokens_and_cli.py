"""Machine tokens for the API, the createadmin command, and production settings safety."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from civicgrid.accounts import services
from civicgrid.accounts.models import ApiToken, User
from civicgrid.accounts.roles import Role
from civicgrid.core import clock
from civicgrid.core.models import AuditLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_token_authenticates_the_api_and_only_its_hash_is_stored(api_client):
    user = UserFactory(role=Role.DISPATCHER, full_name="王调度")
    token, key = services.issue_token(actor=user, user=user, name="热线对接")
    assert key.startswith("cg_") and key not in token.key_hash
    assert not ApiToken.objects.filter(key_hash=key).exists()
    me = api_client.token(key).get("/accounts/me").json()
    assert me["username"] == user.username and me["role"] == Role.DISPATCHER
    assert me["role_label"] == "指挥中心受理员/派遣员"


def test_revoked_expired_and_unknown_tokens_are_refused(api_client):
    user = UserFactory(role=Role.DISPATCHER)
    token, key = services.issue_token(actor=user, user=user, name="旧系统")
    services.revoke_token(actor=user, token=token)
    resp = api_client.token(key).get("/accounts/me")
    assert resp.status_code == 401
    assert resp.json()["detail"] == "未登录或令牌无效"
    assert api_client.token("cg_nonsense").get("/accounts/me").status_code == 401
    _, key2 = services.issue_token(
        actor=user, user=user, name="临时", expires_at=clock.now() - timedelta(minutes=1)
    )
    assert api_client.token(key2).get("/accounts/me").status_code == 401
    assert AuditLog.objects.filter(action="accounts.token.revoke").exists()


def test_api_without_credentials_is_401(api_client):
    assert api_client.get("/accounts/me").status_code == 401


def test_session_api_writes_need_csrf(client):
    from django.test import Client

    user = UserFactory(role=Role.DISPATCHER)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.get("/api/v1/accounts/me").status_code == 200


def test_openapi_docs_are_served_offline(client):
    user = UserFactory(role=Role.DISPATCHER)
    client.force_login(user)
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"].startswith("CivicGrid")
    html = client.get("/api/v1/docs").content.decode()
    assert "swagger" in html.lower()
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


def test_createadmin_command_creates_a_system_admin():
    call_command("createadmin", username="root1", password="Root-Passw0rd!")
    user = User.objects.get(username="root1")
    assert user.role == Role.SYSTEM_ADMIN and user.is_staff and user.is_superuser
    assert AuditLog.objects.filter(action="accounts.user.create", object_id=str(user.pk)).exists()


def test_createadmin_refuses_weak_password_with_reason():
    with pytest.raises(CommandError, match="password"):
        call_command("createadmin", username="root2", password="short")
    assert not User.objects.filter(username="root2").exists()


def _settings_import(env_extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICGRID_")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-c", "import civicgrid.settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_the_default_secret(tmp_path):
    proc = _settings_import({"CIVICGRID_ENV": "production", "CIVICGRID_DATA_DIR": str(tmp_path)})
    assert proc.returncode != 0
    assert "CIVICGRID_SECRET_KEY" in proc.stderr


def test_production_starts_with_a_real_secret(tmp_path):
    proc = _settings_import(
        {"CIVICGRID_ENV": "production", "CIVICGRID_SECRET_KEY": "x" * 50, "CIVICGRID_DATA_DIR": str(tmp_path)}
    )
    assert proc.returncode == 0, proc.stderr


def test_attachments_can_go_to_s3_compatible_storage(tmp_path):
    code = "import json, civicgrid.settings as s; print(json.dumps(s.STORAGES['default']))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICGRID_")}
    env.update(
        {
            "CIVICGRID_DATA_DIR": str(tmp_path),
            "CIVICGRID_S3_BUCKET": "grid-photos",
            "CIVICGRID_S3_ENDPOINT": "http://127.0.0.1:9000",
        }
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    import json

    storage = json.loads(proc.stdout)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "grid-photos"
    assert storage["OPTIONS"]["endpoint_url"] == "http://127.0.0.1:9000"
    assert storage["OPTIONS"]["default_acl"] == "private"


def test_cli_passes_other_words_to_django():
    proc = subprocess.run(
        [sys.executable, "-m", "civicgrid.cli", "check"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CIVICGRID_DATA_DIR": os.environ.get("CIVICGRID_DATA_DIR", "/tmp/cg-cli-test")},
    )
    assert proc.returncode == 0, proc.stderr
    assert "no issues" in proc.stdout
