"""The API description (/api/v1/docs, /api/v1/openapi.json) is for the API's users only: logged in, or a bearer
token (a test tool fetches openapi.json with a staff token)."""

from __future__ import annotations

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.accounts.services import issue_token, revoke_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_get_the_login_page_or_401(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/") and "next=/api/v1/docs" in r["Location"]
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 401
    assert r.json() == {"code": "unauthorized", "detail": "未登录或令牌无效"}
    assert "paths" not in r.content.decode()


def test_logged_in_staff_read_the_docs(client):
    client.force_login(UserFactory(role=Role.DEPT_HANDLER))
    assert client.get("/api/v1/docs").status_code == 200
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/cases" in spec["paths"]


def test_a_bearer_token_reads_the_description(client):
    user = UserFactory(role=Role.DISPATCHER)
    token, key = issue_token(actor=None, user=user, name="schemathesis")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    r = client.get("/api/v1/openapi.json", **auth)
    assert r.status_code == 200 and "/api/v1/cases" in r.json()["paths"]
    assert client.get("/api/v1/docs", **auth).status_code == 200

    for bad in ("Bearer cg_not-a-token", "Bearer "):
        assert client.get("/api/v1/openapi.json", HTTP_AUTHORIZATION=bad).status_code == 401
        assert client.get("/api/v1/docs", HTTP_AUTHORIZATION=bad).status_code == 401
    revoke_token(actor=None, token=token)
    assert client.get("/api/v1/openapi.json", **auth).status_code == 401


def test_a_deactivated_session_user_is_anonymous(client):
    user = UserFactory(role=Role.DISPATCHER)
    client.force_login(user)
    user.is_active = False
    user.save()
    assert client.get("/api/v1/openapi.json").status_code == 401
