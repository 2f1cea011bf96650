"""The login lockout is keyed on account + client IP: one user's typos do not lock out a whole NAT, and one
address cannot lock everybody's account. Behind the proxy the forwarded client address is what counts."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

WRONG = "wrong-Password1"


def login(username: str, password: str, *, ip: str, forwarded: str | None = None) -> int:
    extra = {"REMOTE_ADDR": ip}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return (
        Client().post("/accounts/login/", {"username": username, "password": password}, **extra).status_code
    )


def test_lock_applies_to_that_account_from_that_address_only():
    zhang, li = UserFactory(username="zhang"), UserFactory(username="li")
    for _ in range(5):
        login("zhang", WRONG, ip="100.64.1.1")
    assert login("zhang", PASSWORD, ip="100.64.1.1") == 429
    # a colleague behind the same NAT address signs in
    assert login(li.username, PASSWORD, ip="100.64.1.1") == 302
    # zhang from the office network signs in
    assert login(zhang.username, PASSWORD, ip="100.64.9.9") == 302


def test_one_address_cannot_lock_other_accounts():
    victim = UserFactory(username="wangwu")
    for name in ("a", "b", "c", "d", "e", "f"):
        login(name, WRONG, ip="198.51.100.66")
    for _ in range(4):
        login("wangwu", WRONG, ip="198.51.100.66")
    assert login(victim.username, PASSWORD, ip="203.0.113.5") == 302


def test_lockout_page_is_chinese():
    UserFactory(username="zhao")
    for _ in range(5):
        login("zhao", WRONG, ip="100.64.2.2")
    resp = Client().post(
        "/accounts/login/", {"username": "zhao", "password": PASSWORD}, REMOTE_ADDR="100.64.2.2"
    )
    html = resp.content.decode()
    assert resp.status_code == 429 and "已临时锁定" in html and "Account locked" not in html


def test_behind_the_proxy_residents_addresses_are_told_apart(settings):
    settings.CIVICGRID_TRUST_X_FORWARDED_FOR = "127.0.0.1"
    UserFactory(username="sun")
    for _ in range(5):
        login("sun", WRONG, ip="127.0.0.1", forwarded="203.0.113.20")
    assert login("sun", PASSWORD, ip="127.0.0.1", forwarded="203.0.113.20") == 429
    # the same account from another client through the same proxy is not locked
    assert login("sun", PASSWORD, ip="127.0.0.1", forwarded="203.0.113.21") == 302
