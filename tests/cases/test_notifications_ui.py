"""站内通知: a dispatch rings the department's bell; reading it opens the case; 待办 counts show in the menu."""

from __future__ import annotations

import re

import pytest

from civicgrid.cases import services
from civicgrid.cases.models import Notification

pytestmark = pytest.mark.django_db


def _badge(html: str, testid: str) -> int:
    m = re.search(rf'data-testid="{testid}">(\d+)<', html)
    return int(m.group(1)) if m else 0


def test_dispatch_rings_the_handlers_bell_and_reading_opens_the_case(
    client, world, django_capture_on_commit_callbacks
):
    case = world.to_state("accepted")
    with django_capture_on_commit_callbacks(execute=True):
        services.perform(
            actor=world.dispatcher, case=case, move="dispatch", version=case.version, department=world.dept
        )
    client.force_login(world.handler)
    home = client.get("/").content.decode()
    assert _badge(home, "unread-count") == 1
    assert _badge(home, "inbox-count") >= 1  # the dispatched case waits for 签收

    page = client.get("/cases/notifications/").content.decode()
    assert "新派遣" in page and "未读" in page
    note = Notification.objects.get(user=world.handler)
    resp = client.post(f"/cases/notifications/{note.pk}/read/")
    assert resp.status_code == 302 and resp["Location"] == f"/cases/{case.pk}/"
    assert _badge(client.get("/").content.decode(), "unread-count") == 0


def test_read_all_and_no_peeking_at_others_notifications(client, world, django_capture_on_commit_callbacks):
    case = world.to_state("accepted")
    with django_capture_on_commit_callbacks(execute=True):
        services.perform(
            actor=world.dispatcher, case=case, move="dispatch", version=case.version, department=world.dept
        )
    note = Notification.objects.get(user=world.handler)
    client.force_login(world.grid_worker)
    assert client.post(f"/cases/notifications/{note.pk}/read/").status_code == 404
    note.refresh_from_db()
    assert note.read_at is None
    client.force_login(world.handler)
    assert client.post("/cases/notifications/read/").status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None


def test_auditor_has_no_bell(client, world):
    from tests.factories import UserFactory

    client.force_login(UserFactory(role="audit_admin"))
    assert client.get("/cases/notifications/").status_code == 403
