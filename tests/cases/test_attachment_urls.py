"""The API's attachment ``url`` / ``thumbnail_url`` work: the file for whoever may see the case (session or bearer
token), 404 for anyone else, 401 anonymously; with object storage, a redirect to a short-lived presigned URL."""

from __future__ import annotations

import pytest
from django.core.files.storage import InMemoryStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from civicgrid.accounts.services import issue_token
from tests.cases.factories import png_bytes

pytestmark = pytest.mark.django_db


class PresignedStorage(InMemoryStorage):
    """Stands in for django-storages' S3Storage: not on local disk; url() signs (parameters, expire)."""

    def url(self, name, parameters=None, expire=None, http_method=None):
        ctype = (parameters or {}).get("ResponseContentType", "")
        return f"https://s3.example.test/bucket/{name}?X-Amz-Expires={expire}&response-content-type={ctype}"


def _report_with_photo(api, world, data: bytes) -> dict:
    up = api.c.post("/api/v1/cases/attachments", {"file": SimpleUploadedFile("p.png", data, "image/png")})
    assert up.status_code == 201, up.content
    assert up.json()["url"] == f"/api/v1/cases/attachments/{up.json()['id']}/file"
    r = api.post(
        "/cases",
        {
            "source": "grid_patrol",
            "description": "井盖缺失",
            "grid": world.grid.pk,
            "attachment_ids": [up.json()["id"]],
        },
    )
    assert r.status_code == 201, r.content
    return r.json()["attachments"][0]


def test_the_returned_url_serves_the_photo_to_those_who_may_see_the_case(api_client, world):
    data = png_bytes(color=(1, 2, 3))
    att = _report_with_photo(api_client.login(world.grid_worker), world, data)

    r = api_client.c.get(att["url"])
    assert r.status_code == 200
    assert r["Content-Type"] == "image/png" and b"".join(r.streaming_content) == data
    thumb = api_client.c.get(att["thumbnail_url"])
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert b"".join(thumb.streaming_content)[:2] == b"\xff\xd8"

    # a dispatcher's bearer token (a machine client) reads it too
    _t, key = issue_token(actor=None, user=world.dispatcher, name="sync")
    assert Client().get(att["url"], HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200

    # out of scope: 404, as for an unknown id
    for outsider in (world.other_worker, world.handler2, world.other_staff):
        other = Client()
        other.force_login(outsider)
        assert other.get(att["url"]).status_code == 404
        assert other.get(att["thumbnail_url"]).status_code == 404
    # anonymous: 401
    assert Client().get(att["url"]).status_code == 401
    assert Client().get(att["url"], HTTP_AUTHORIZATION="Bearer cg_nope").status_code == 401


def test_an_unattached_upload_is_only_its_uploaders(api_client, world):
    api = api_client.login(world.grid_worker)
    up = api.c.post(
        "/api/v1/cases/attachments", {"file": SimpleUploadedFile("p.png", png_bytes(), "image/png")}
    )
    url = up.json()["url"]
    assert api.c.get(url).status_code == 200
    other = Client()
    other.force_login(world.dispatcher)
    assert other.get(url).status_code == 404
    assert other.get("/api/v1/cases/attachments/999999/file").status_code == 404


def test_object_storage_redirects_to_a_presigned_url(api_client, world, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.cases.test_attachment_urls.PresignedStorage"},
    }
    att = _report_with_photo(api_client.login(world.grid_worker), world, png_bytes())
    r = api_client.c.get(att["url"])
    assert r.status_code == 302
    assert r["Location"].startswith("https://s3.example.test/bucket/cases/")
    assert "X-Amz-Expires=300" in r["Location"] and "response-content-type=image/png" in r["Location"]
    assert r["Cache-Control"] == "private, no-store"
    # the web pages' <img> stay on this origin: same scope check, the bytes streamed through
    web = api_client.c.get(f"/cases/photos/{att['id']}/")
    assert web.status_code == 200 and web["Content-Type"] == "image/png"
    outsider = Client()
    outsider.force_login(world.other_worker)
    assert outsider.get(att["url"]).status_code == 404
