"""三权分立 in the web admin: the 系统管理员 cannot take over the 审计管理员's account, and every admin write is
in the audit log (passwords never are)."""

from __future__ import annotations

import io

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.test import Client

from civicgrid.accounts import services
from civicgrid.accounts.models import User
from civicgrid.accounts.roles import Role
from civicgrid.core.adminsite import AuditedAdmin
from civicgrid.core.errors import PermissionDenied
from civicgrid.core.models import AuditLog
from tests.factories import PASSWORD, GridFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Taken-Over-2026!"


@pytest.fixture
def sysadmin(client):
    """A 系统管理员 as ``civicgrid createadmin`` makes one (staff and superuser), signed in to /admin/."""
    user = UserFactory(role=Role.SYSTEM_ADMIN, is_staff=True, is_superuser=True, username="sysadmin")
    client.force_login(user)
    return user


@pytest.fixture
def auditor(db):
    return UserFactory(role=Role.AUDIT_ADMIN, is_staff=True, username="shenji")


def _change_form(user: User, **override) -> dict:
    data = {
        "username": user.username,
        "full_name": user.full_name,
        "phone": user.phone,
        "email": user.email,
        "role": user.role,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(override)
    return {k: v for k, v in data.items() if v != ""}


def test_sysadmin_cannot_set_the_auditors_password_in_admin(client, sysadmin, auditor):
    resp = client.post(
        f"/admin/accounts/user/{auditor.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "set_usable_password": "true"},
    )
    assert resp.status_code == 403
    auditor.refresh_from_db()
    assert auditor.check_password(PASSWORD) and not auditor.check_password(NEW_PASSWORD)
    # and so cannot sign in as the auditor to read (or look at) the trail
    assert (
        Client().post("/accounts/login/", {"username": "shenji", "password": NEW_PASSWORD}).status_code == 200
    )


def test_sysadmin_sees_the_auditor_read_only_and_cannot_change_role_or_deactivate(client, sysadmin, auditor):
    page = client.get(f"/admin/accounts/user/{auditor.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and f"/admin/accounts/user/{auditor.pk}/password/" not in html
    resp = client.post(
        f"/admin/accounts/user/{auditor.pk}/change/",
        _change_form(auditor, role=Role.DISPATCHER, is_active=""),
    )
    assert resp.status_code == 403
    auditor.refresh_from_db()
    assert auditor.role == Role.AUDIT_ADMIN and auditor.is_active


def test_sysadmin_cannot_create_an_auditor_or_promote_anyone(client, sysadmin):
    resp = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "fake_auditor",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "usable_password": "true",
            "role": Role.AUDIT_ADMIN,
            "full_name": "冒充审计",
        },
    )
    assert resp.status_code == 200 and "选择一个有效的选项" in resp.content.decode()
    assert not User.objects.filter(username="fake_auditor").exists()

    dispatcher = UserFactory(role=Role.DISPATCHER)
    resp = client.post(
        f"/admin/accounts/user/{dispatcher.pk}/change/", _change_form(dispatcher, role="audit_admin")
    )
    assert resp.status_code == 200 and "选择一个有效的选项" in resp.content.decode()
    dispatcher.refresh_from_db()
    assert dispatcher.role == Role.DISPATCHER
    # nor promote themself
    resp = client.post(
        f"/admin/accounts/user/{sysadmin.pk}/change/", _change_form(sysadmin, role="audit_admin")
    )
    sysadmin.refresh_from_db()
    assert sysadmin.role == Role.SYSTEM_ADMIN


def test_services_refuse_the_sysadmin_too(sysadmin, auditor):
    with pytest.raises(PermissionDenied):
        services.set_password(actor=sysadmin, user=auditor, password=NEW_PASSWORD)
    with pytest.raises(PermissionDenied):
        services.deactivate_user(actor=sysadmin, user=auditor, reason="离职")
    with pytest.raises(PermissionDenied):
        services.create_user(actor=sysadmin, username="aud2", password=NEW_PASSWORD, role=Role.AUDIT_ADMIN)
    with pytest.raises(PermissionDenied):
        services.issue_token(actor=sysadmin, user=auditor, name="冒用")
    # the auditor may change their own password
    services.set_password(actor=auditor, user=auditor, password=NEW_PASSWORD)


def test_setting_a_users_password_in_admin_is_audited_without_the_password(client, sysadmin):
    worker = UserFactory(role=Role.GRID_WORKER)
    resp = client.post(
        f"/admin/accounts/user/{worker.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "set_usable_password": "true"},
    )
    assert resp.status_code == 302
    worker.refresh_from_db()
    assert worker.check_password(NEW_PASSWORD)
    row = AuditLog.objects.get(action="admin.set_password", object_id=str(worker.pk))
    assert row.actor == sysadmin and row.note == "设置密码"
    stored = f"{row.before} {row.after} {row.note}"
    assert NEW_PASSWORD not in stored and worker.password not in stored


def test_changing_ones_own_password_in_admin_is_audited(client, auditor):
    client.force_login(auditor)
    resp = client.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert resp.status_code == 302
    row = AuditLog.objects.get(action="auth.password_change")
    assert row.actor == auditor and NEW_PASSWORD not in str(row.after)


def test_grid_assignment_in_the_user_admin_is_audited(client, sysadmin):
    g1, g2 = GridFactory(), GridFactory()
    worker = UserFactory(role=Role.GRID_WORKER, grids=[g1])
    resp = client.post(
        f"/admin/accounts/user/{worker.pk}/change/", _change_form(worker, grids=[str(g1.pk), str(g2.pk)])
    )
    assert resp.status_code == 302, resp.content.decode()[:3000]
    row = AuditLog.objects.get(action="admin.update_related", object_id=str(worker.pk))
    assert row.before == {"grids": [str(g1.pk)]}
    assert row.after == {"grids": sorted([str(g1.pk), str(g2.pk)])}


def test_every_registered_admin_is_audited():
    unaudited = [m._meta.label for m, ma in admin.site._registry.items() if not isinstance(ma, AuditedAdmin)]
    assert unaudited == []


def test_unlocking_an_account_in_the_axes_admin_is_audited(client, sysadmin):
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.create(
        username="zhangsan",
        ip_address="10.0.0.9",
        user_agent="x",
        failures_since_start=5,
        post_data="",
        get_data="",
    )
    resp = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 302
    row = AuditLog.objects.get(action="admin.delete", object_type="axes.accessattempt")
    assert row.actor == sysadmin and row.before["username"] == "zhangsan"


def test_list_actions_are_audited(client, sysadmin):
    from civicgrid.notify.models import WebhookDelivery, WebhookEndpoint

    ep = WebhookEndpoint.objects.create(
        name="城管群",
        kind="wecom",
        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEY",
        events=["dispatch"],
    )
    d = WebhookDelivery.objects.create(endpoint=ep, event="dispatch", payload={}, status="failed")
    resp = client.post(
        "/admin/notify/webhookdelivery/",
        {"action": "retry_now", "_selected_action": [str(d.pk)], "index": "0"},
    )
    assert resp.status_code == 302
    row = AuditLog.objects.get(action="admin.action")
    assert row.after["action"] == "retry_now" and row.after["ids"] == [str(d.pk)]
    assert row.object_type == "notify.webhookdelivery" and row.actor == sysadmin


def test_cli_manages_auditors_and_is_audited(monkeypatch):
    monkeypatch.setenv("CIVICGRID_AUDITOR_PASSWORD", "Audit-Only-2026!")
    call_command("auditor", "create", "--username", "shenji2", stdout=io.StringIO())
    user = User.objects.get(username="shenji2")
    assert user.role == Role.AUDIT_ADMIN and user.is_staff and user.check_password("Audit-Only-2026!")
    created = AuditLog.objects.get(action="accounts.user.create", object_id=str(user.pk))
    assert created.actor_username.startswith("cli:") and "password" not in created.after

    monkeypatch.setenv("CIVICGRID_AUDITOR_PASSWORD", NEW_PASSWORD)
    call_command("auditor", "set-password", "shenji2", stdout=io.StringIO())
    call_command("auditor", "deactivate", "shenji2", "--reason", "调岗", stdout=io.StringIO())
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and not user.is_active
    actions = set(AuditLog.objects.filter(object_id=str(user.pk)).values_list("action", flat=True))
    assert {"accounts.user.set_password", "accounts.user.deactivate"} <= actions

    dispatcher = UserFactory(role=Role.DISPATCHER)
    with pytest.raises(CommandError, match="不是审计管理员"):
        call_command("auditor", "set-password", dispatcher.username)


def test_a_token_cannot_be_handed_to_another_account_in_admin(client, sysadmin, auditor):
    token, _key = services.issue_token(actor=sysadmin, user=sysadmin, name="我的令牌")
    resp = client.post(
        f"/admin/accounts/apitoken/{token.pk}/change/", {"user": str(auditor.pk), "name": "我的令牌"}
    )
    assert resp.status_code == 302
    token.refresh_from_db()
    assert token.user_id == sysadmin.pk
