"""Signing in: argon2, password policy, lockout after 5 failures, idle timeout, audit of sign-ins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher

from civicgrid.accounts import services
from civicgrid.accounts.roles import Role
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

GOOD = "Grid-Worker-2026"


def test_new_accounts_are_hashed_with_argon2(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = services.create_user(actor=None, username="zhangsan", password=GOOD, role=Role.DISPATCHER)
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password(GOOD)


def test_production_configuration_prefers_argon2():
    # the test run puts a fast hasher first; the configured production order starts with argon2
    from civicgrid import settings as s

    assert "Argon2PasswordHasher" in s.PASSWORD_HASHERS[-2]
    assert settings.PASSWORD_HASHERS[1].endswith("Argon2PasswordHasher")


@pytest.mark.parametrize(
    "password, reason",
    [
        ("Ab1!", "至少包含 10 个字符"),
        ("abcdefghijk", "至少 3 类"),
        ("abcdefghij12", "至少 3 类"),
    ],
)
def test_password_policy_rejects_weak_passwords(password, reason):
    with pytest.raises(ValidationFailed) as exc:
        services.create_user(actor=None, username="lisi", password=password, role=Role.DISPATCHER)
    assert exc.value.field == "password"
    assert reason in exc.value.message
    from civicgrid.accounts.models import User

    assert not User.objects.filter(username="lisi").exists()


def test_password_with_three_classes_is_accepted():
    user = services.create_user(actor=None, username="wangwu", password="abcdefgh12!!", role=Role.LEADER)
    assert user.pk


def test_only_system_admin_creates_accounts(make_user):
    dispatcher = make_user(Role.DISPATCHER)
    with pytest.raises(PermissionDenied):
        services.create_user(actor=dispatcher, username="x1", password=GOOD, role=Role.DISPATCHER)


def test_dept_handler_needs_department():
    with pytest.raises(ValidationFailed) as exc:
        services.create_user(actor=None, username="h1", password=GOOD, role=Role.DEPT_HANDLER)
    assert exc.value.field == "department"


def test_login_page_signs_in_and_audits(client):
    user = UserFactory(role=Role.DISPATCHER)
    resp = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert resp.status_code == 302
    assert AuditLog.objects.filter(action="auth.login", actor=user).exists()
    page = client.get("/")
    assert page.status_code == 200
    assert "指挥中心受理员/派遣员" in page.content.decode()


def test_five_failures_lock_the_account_for_fifteen_minutes(client):
    user = UserFactory(role=Role.DISPATCHER)
    for _ in range(4):
        resp = client.post("/accounts/login/", {"username": user.username, "password": "wrong-Password1"})
        assert resp.status_code == 200
        assert "账号或密码错误" in resp.content.decode()
    resp = client.post("/accounts/login/", {"username": user.username, "password": "wrong-Password1"})
    assert resp.status_code == 429
    assert "已临时锁定" in resp.content.decode()
    # even the right password is refused while locked
    resp = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert resp.status_code == 429
    assert AuditLog.objects.filter(action="auth.login_failed").count() >= 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME


def test_lockout_expires_after_cooloff(client):
    from axes.models import AccessAttempt

    user = UserFactory(role=Role.DISPATCHER)
    for _ in range(5):
        client.post("/accounts/login/", {"username": user.username, "password": "wrong-Password1"})
    assert (
        client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 429
    )
    # 16 minutes later the attempts have cooled off
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.first().attempt_time - timedelta(minutes=16)
    )
    resp = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert resp.status_code == 302


def test_session_idles_out_after_thirty_minutes():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_session_expires_after_thirty_idle_minutes(client):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    user = UserFactory(role=Role.DISPATCHER)
    client.force_login(user)
    assert client.get("/").status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    # each request pushes the expiry to 30 minutes after it
    remaining = session.expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)
    # 31 idle minutes later the session is gone
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(minutes=1))
    resp = client.get("/")
    assert resp.status_code == 302 and resp.url.startswith("/accounts/login/")


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/")
    assert resp.status_code == 302
    assert resp.url.startswith("/accounts/login/")


def test_deactivated_user_cannot_sign_in(client):
    user = UserFactory(role=Role.DISPATCHER)
    services.deactivate_user(actor=None, user=user, reason="离职")
    resp = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert resp.status_code == 200
    assert "_auth_user_id" not in client.session
