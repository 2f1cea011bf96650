"""API tokens are remembered per app server, but a revoked token, a deactivated user or a changed role takes
effect at once on this server and within a second on every other one."""

from __future__ import annotations

import pytest

from civicgrid.accounts import services
from civicgrid.accounts.models import ApiToken, User
from civicgrid.accounts.roles import Role
from tests.factories import UserFactory, bump_on_another_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher_key():
    user = UserFactory(role=Role.DISPATCHER, full_name="王调度")
    token, key = services.issue_token(actor=user, user=user, name="热线对接")
    return user, token, key


def test_a_known_token_costs_no_query_after_the_first_request(dispatcher_key, django_assert_num_queries):
    user, _token, key = dispatcher_key
    assert services.authenticate_token(key) == user  # reads the token and writes last_used_at
    with django_assert_num_queries(0):
        again = services.authenticate_token(key)
    assert again == user and again.role == Role.DISPATCHER
    assert again is not services.authenticate_token(key)  # a fresh instance per request


def test_revoking_on_this_server_refuses_the_next_request(dispatcher_key, api_client):
    user, token, key = dispatcher_key
    assert api_client.token(key).get("/accounts/me").status_code == 200
    services.revoke_token(actor=user, token=token)
    assert api_client.token(key).get("/accounts/me").status_code == 401


def test_deactivating_the_user_refuses_the_token(dispatcher_key):
    user, _token, key = dispatcher_key
    assert services.authenticate_token(key) == user
    user.is_active = False
    user.save()
    assert services.authenticate_token(key) is None


def test_a_role_change_is_seen_by_the_next_request(dispatcher_key):
    user, _token, key = dispatcher_key
    assert services.authenticate_token(key).role == Role.DISPATCHER
    user.role = Role.LEADER
    user.save()
    assert services.authenticate_token(key).role == Role.LEADER


def test_a_revocation_on_another_server_is_seen_after_the_revision_check(dispatcher_key, monkeypatch):
    """Another server writes the database and bumps the revision; this one's copy is not told directly."""
    user, token, key = dispatcher_key
    assert services.authenticate_token(key) == user
    from civicgrid.core import clock

    ApiToken.objects.filter(pk=token.pk).update(revoked_at=clock.now())  # the other server's write …
    bump_on_another_server(services.AUTH_REVISION)  # … and its bump, which this process is not told of
    assert services.authenticate_token(key) == user  # still within this server's one-second check interval
    cache = services._token_cache
    monkeypatch.setattr(type(cache), "now", staticmethod(lambda: 10**9))  # a second later
    assert services.authenticate_token(key) is None


def test_an_entry_is_reread_after_its_max_age_even_without_a_bump(dispatcher_key, monkeypatch):
    user, _token, key = dispatcher_key
    assert services.authenticate_token(key) == user
    User.objects.filter(pk=user.pk).update(is_active=False)  # a write that sends no signal
    assert services.authenticate_token(key) == user
    import time as real_time

    later = real_time.monotonic() + services.TOKEN_CACHE_MAX_AGE + 1
    monkeypatch.setattr(services.time, "monotonic", lambda: later)
    assert services.authenticate_token(key) is None


def test_unknown_keys_are_not_remembered(dispatcher_key):
    for i in range(50):
        assert services.authenticate_token(f"cg_guess{i}") is None
    assert not any(k for k in services._token_cache.get() if k != ApiToken.hash_key(dispatcher_key[2]))


def test_last_used_is_written_at_most_once_a_minute(dispatcher_key, django_assert_num_queries):
    _user, token, key = dispatcher_key
    services.authenticate_token(key)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    with django_assert_num_queries(0):
        services.authenticate_token(key)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
