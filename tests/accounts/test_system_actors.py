"""System actors: the accounts that 随手拍, Open311 keys and imports act through are not people. They are not
listed with the users, cannot sign in, and the audit log names their channel."""

from __future__ import annotations

import pytest

from civicgrid.accounts import selectors, services
from civicgrid.accounts.models import ApiToken, SystemChannel, User
from civicgrid.accounts.roles import Role
from civicgrid.core.errors import ValidationFailed
from civicgrid.core.models import AuditLog
from civicgrid.intake import resident
from civicgrid.open311 import services as open311_services
from tests.factories import PASSWORD, StreetFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def system_actors(db):
    street = StreetFactory()
    key, _ = open311_services.issue_key(actor=None, name="市民服务平台", street=street)
    return {"resident": resident.intake_actor(), "open311": key.service_user}


def test_system_actors_are_marked_with_their_channel(system_actors):
    intake, client_account = system_actors["resident"], system_actors["open311"]
    assert intake.is_system and intake.system_channel == SystemChannel.RESIDENT
    assert client_account.is_system and client_account.system_channel == SystemChannel.OPEN311
    assert intake.system_label == "系统（居民随手拍）"
    assert client_account.system_label == "系统（Open311：市民服务平台）"
    assert not intake.has_usable_password() and not client_account.has_usable_password()


def test_admin_user_list_shows_people_only(client, system_actors):
    admin = UserFactory(role=Role.SYSTEM_ADMIN, is_staff=True, username="sysadmin")
    UserFactory(role=Role.DISPATCHER, username="dispatcher1")
    client.force_login(admin)
    html = client.get("/admin/accounts/user/").content.decode()
    assert "dispatcher1" in html and "sysadmin" in html
    for account in system_actors.values():
        assert account.username not in html and account.full_name not in html
    for account in system_actors.values():
        assert client.get(f"/admin/accounts/user/{account.pk}/change/").status_code in (302, 404)


def test_user_selectors_list_people_only(system_actors):
    leader = UserFactory(role=Role.LEADER)
    listed = set(selectors.visible_users(user=leader).values_list("username", flat=True))
    assert leader.username in listed
    assert not listed & {a.username for a in system_actors.values()}
    with pytest.raises(Exception, match="不存在或无权查看"):
        selectors.get_user(user=leader, pk=system_actors["resident"].pk)


def test_system_actor_never_signs_in(client, system_actors):
    account = system_actors["open311"]
    # even with a password forced onto the row behind the software's back
    account.set_password(PASSWORD)
    User.objects.filter(pk=account.pk).update(password=account.password)
    resp = client.post("/accounts/login/", {"username": account.username, "password": PASSWORD})
    assert resp.status_code == 200 and "_auth_user_id" not in client.session
    assert not AuditLog.objects.filter(action="auth.login", actor_id=account.pk).exists()


def test_system_actor_gets_no_password_or_token(system_actors):
    admin = UserFactory(role=Role.SYSTEM_ADMIN)
    account = system_actors["resident"]
    with pytest.raises(ValidationFailed, match="系统账号"):
        services.set_password(actor=admin, user=account, password="Another-Pass-2026")
    with pytest.raises(ValidationFailed, match="系统账号"):
        services.issue_token(actor=admin, user=account, name="脚本")
    # a token that exists anyway (written before the account became a system actor) is refused
    key = ApiToken.new_key()
    ApiToken.objects.create(user=account, name="旧令牌", key_prefix=key[:10], key_hash=ApiToken.hash_key(key))
    assert services.authenticate_token(key) is None


def test_system_actors_stay_out_of_notifications(system_actors):
    from civicgrid.cases.notifications import users_with_roles

    UserFactory(role=Role.COMMUNITY_STAFF)
    assert system_actors["resident"] not in users_with_roles(Role.COMMUNITY_STAFF)


def test_admin_user_pickers_offer_people_only(client, system_actors):
    admin = UserFactory(role=Role.SYSTEM_ADMIN, is_staff=True)
    person = UserFactory(role=Role.DISPATCHER)
    client.force_login(admin)
    html = client.get("/admin/intake/importmapping/add/").content.decode()  # its 创建人 picker
    assert f'<option value="{person.pk}">' in html
    for account in system_actors.values():
        assert f'<option value="{account.pk}"' not in html
