"""Which address is the client's: REMOTE_ADDR, or — behind our own reverse proxy — X-Forwarded-For read from
the right (CIVICGRID_TRUST_X_FORWARDED_FOR)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from civicgrid.core.middleware import client_ip


def ip(remote: str, forwarded: str | None = None) -> str | None:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **extra))


def test_without_the_setting_the_header_is_ignored(settings):
    settings.CIVICGRID_TRUST_X_FORWARDED_FOR = ""
    assert ip("203.0.113.9", "1.1.1.1") == "203.0.113.9"


def test_one_proxy_takes_the_right_most_entry_not_the_clients_claim(settings):
    settings.CIVICGRID_TRUST_X_FORWARDED_FOR = "1"
    # the client sent "X-Forwarded-For: 1.1.1.1"; nginx appended the address that connected to it
    assert ip("127.0.0.1", "1.1.1.1, 203.0.113.9") == "203.0.113.9"
    assert ip("127.0.0.1") == "127.0.0.1"


def test_listed_proxies_are_skipped_from_the_right(settings):
    settings.CIVICGRID_TRUST_X_FORWARDED_FOR = "10.0.0.0/8, 192.168.1.5"
    assert ip("10.0.0.2", "6.6.6.6, 203.0.113.9, 192.168.1.5") == "203.0.113.9"
    # a request that did not come through our proxies: its header is not believed
    assert ip("198.51.100.1", "203.0.113.9") == "198.51.100.1"
    # garbage where our proxy writes: fall back to the peer
    assert ip("10.0.0.2", "not-an-ip") == "10.0.0.2"
    # IPv6 is normalised
    assert ip("10.0.0.2", "2001:DB8:0:0::1") == "2001:db8::1"


def test_a_bad_setting_is_reported_in_chinese(settings):
    settings.CIVICGRID_TRUST_X_FORWARDED_FOR = "10.0.0.0/8,nonsense"
    with pytest.raises(ImproperlyConfigured, match="CIVICGRID_TRUST_X_FORWARDED_FOR"):
        ip("10.0.0.2", "203.0.113.9")


@pytest.mark.django_db
def test_the_audit_log_records_the_forwarded_client(client, settings):
    from civicgrid.core.models import AuditLog
    from tests.factories import PASSWORD, UserFactory

    settings.CIVICGRID_TRUST_X_FORWARDED_FOR = "1"
    user = UserFactory()
    client.post(
        "/accounts/login/",
        {"username": user.username, "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert AuditLog.objects.get(action="auth.login").ip == "203.0.113.9"
