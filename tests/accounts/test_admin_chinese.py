"""The admin speaks Chinese: no English left over from Django's admin, its user forms or django-axes."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from civicgrid.accounts.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# strings that used to show in English (Django 5.2 and django-axes ship no Chinese for them)
LEFTOVERS = (
    "Model name",
    "Add link",
    "Change or view list link",
    "Access attempts",
    "Access failures",
    "Access logs",
    "Axes",
    "Groups",
    "After you",
    "If disabled",
    "Whether the user",
    "Attempt Time",
    "Locked Out",
    "User Agent",
    "Failed Logins",
    "access attempt",
    "Account locked",
)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def admin_client():
    c = Client()
    c.force_login(UserFactory(role=Role.SYSTEM_ADMIN, is_staff=True, is_superuser=True))
    return c


def test_admin_pages_have_no_english_leftovers(admin_client):
    from axes.models import AccessAttempt

    worker = UserFactory(role=Role.GRID_WORKER)
    AccessAttempt.objects.create(
        username="zhang", ip_address="10.0.0.1", user_agent="x", failures_since_start=3
    )
    pages = {
        "/admin/": "系统管理",
        f"/admin/accounts/user/{worker.pk}/change/": "角色与辖区",
        "/admin/accounts/user/add/": "账号",
        f"/admin/accounts/user/{worker.pk}/password/": "密码",
        "/admin/axes/accessattempt/": "登录失败记录",
        f"/admin/axes/accessattempt/{AccessAttempt.objects.get().pk}/change/": "失败次数",
    }
    for url, chinese in pages.items():
        resp = admin_client.get(url)
        assert resp.status_code == 200, url
        text = visible_text(resp.content.decode())
        assert chinese in text, url
        found = [word for word in LEFTOVERS if word in text]
        assert found == [], f"{url}: {found}"


def test_admin_index_names_the_lockout_section_in_chinese(admin_client):
    text = visible_text(admin_client.get("/admin/").content.decode())
    assert "登录锁定" in text and "登录失败记录" in text


def test_field_labels_in_our_admin_pages_are_chinese(admin_client):
    from civicgrid.accounts import services
    from civicgrid.core import clock
    from civicgrid.core.models import JobLock
    from tests.factories import GridFactory

    grid = GridFactory()
    token, _ = services.issue_token(actor=None, user=UserFactory(), name="热线对接")
    JobLock.objects.create(name="deadline_lights", owner="web1:123", locked_until=clock.now())
    pages = {
        f"/admin/places/grid/{grid.pk}/change/": ("外接矩形", ("min lng", "max lat")),
        f"/admin/accounts/apitoken/{token.pk}/change/": ("密钥哈希", ("key hash",)),
        "/admin/core/joblock/": ("锁定至", ("locked until", "last run at", "Owner")),
    }
    for url, (chinese, english) in pages.items():
        resp = admin_client.get(url)
        assert resp.status_code == 200, url
        text = visible_text(resp.content.decode())
        assert chinese in text, url
        assert [w for w in english if w.lower() in text.lower()] == [], url
