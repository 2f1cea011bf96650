"""api_keys: hashed storage, issue/revoke (service, command, admin), the demo key, audit rows."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from django.core.management import call_command

from civicgrid.accounts.roles import Role
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog
from civicgrid.open311 import services
from civicgrid.open311.models import Open311Key
from tests.factories import StreetFactory, UserFactory


def _db_text(model) -> str:
    return json.dumps(list(model.objects.values()), default=str, ensure_ascii=False)


def test_only_the_hash_of_a_key_is_stored(place):
    key = Open311Key.objects.get(pk=place.key.pk)
    assert key.key_hash == hashlib.sha256(place.plain.encode()).hexdigest()
    assert key.key_prefix == place.plain[:10] and len(place.plain) > 30
    assert place.plain not in _db_text(Open311Key)
    assert place.plain not in _db_text(AuditLog)
    row = AuditLog.objects.get(action="open311.key.issue", object_id=str(key.pk))
    assert row.after["jurisdiction"] == place.street.code
    assert "key_hash" not in json.dumps(row.after)


def test_authenticate_checks_the_hash_and_revocation(place):
    assert services.authenticate(place.plain).pk == place.key.pk
    assert Open311Key.objects.get(pk=place.key.pk).last_used_at is not None
    assert services.authenticate(place.plain + "x") is None
    assert services.authenticate("") is None
    assert services.authenticate(place.key.key_hash) is None  # the stored hash is not a key

    services.revoke_key(actor=place.sysadmin, key=place.key)
    assert services.authenticate(place.plain) is None
    key = Open311Key.objects.get(pk=place.key.pk)
    assert key.revoked_at is not None
    assert not key.service_user.is_active
    assert AuditLog.objects.filter(action="open311.key.revoke", object_id=str(key.pk)).exists()
    with pytest.raises(ValidationFailed):
        services.revoke_key(actor=place.sysadmin, key=key)


def test_only_a_system_admin_manages_keys(place):
    with pytest.raises(PermissionDenied):
        services.issue_key(actor=place.dispatcher, name="x", street=place.street)
    with pytest.raises(PermissionDenied):
        services.revoke_key(actor=place.dispatcher, key=place.key)
    with pytest.raises(ValidationFailed):
        services.issue_key(actor=place.sysadmin, name="  ", street=place.street)
    key, plain = services.issue_key(actor=place.sysadmin, name="巡查 App", street=place.street)
    assert key.created_by == place.sysadmin and services.authenticate(plain) == key
    # the key's own case-engine account is not a person and cannot log in with anything known
    assert key.service_user.role == Role.GRID_WORKER and not key.service_user.grids.exists()


def test_ensure_demo_key_is_idempotent(db):
    street = StreetFactory()
    first = services.ensure_demo_key(street=street)
    second = services.ensure_demo_key(street=street)
    assert first.pk == second.pk
    assert Open311Key.objects.filter(key_hash=Open311Key.hash_key("demo-open311-key")).count() == 1
    assert services.authenticate("demo-open311-key").pk == first.pk
    assert first.jurisdiction == street
    assert "demo-open311-key" not in _db_text(Open311Key)
    assert AuditLog.objects.filter(action="open311.key.demo").count() == 1


def test_management_command_create_list_revoke(place):
    out = io.StringIO()
    call_command("open311_key", "create", "--name", "命令行测试", "--street", place.street.code, stdout=out)
    lines = out.getvalue().strip().splitlines()
    plain = lines[-1].strip()
    key = services.authenticate(plain)
    assert key is not None and key.name == "命令行测试" and key.jurisdiction == place.street

    out = io.StringIO()
    call_command("open311_key", "list", stdout=out)
    listing = out.getvalue()
    assert key.key_prefix in listing and plain not in listing and "命令行测试" in listing

    out = io.StringIO()
    call_command("open311_key", "revoke", str(key.pk), stdout=out)
    assert "已吊销" in out.getvalue()
    assert services.authenticate(plain) is None


def test_admin_issues_a_key_and_shows_it_once(client, place):
    admin_user = UserFactory(role=Role.SYSTEM_ADMIN, is_staff=True)
    client.force_login(admin_user)
    response = client.post(
        "/admin/open311/open311key/add/",
        {"name": "后台发放", "jurisdiction": place.street.pk},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    plain = next(m.split("：", 1)[1] for m in shown if "api_key" in m)
    key = services.authenticate(plain)
    assert key is not None and key.name == "后台发放" and key.created_by == admin_user
    assert plain not in _db_text(Open311Key)
    # the key page shows the prefix only
    page = client.get(f"/admin/open311/open311key/{key.pk}/change/")
    assert page.status_code == 200
    assert key.key_prefix in page.content.decode() and plain not in page.content.decode()

    response = client.post(
        "/admin/open311/open311key/",
        {"action": "revoke_selected", "_selected_action": [key.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert services.authenticate(plain) is None


def test_admin_is_for_system_admins_only(client, place):
    client.force_login(UserFactory(role=Role.DISPATCHER, is_staff=True))
    assert client.get("/admin/open311/open311key/").status_code in (302, 403)
