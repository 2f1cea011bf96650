"""An Open311 request's timeline entry reads "Open311 接口" (the client's name beside it), not 网格员."""

from __future__ import annotations

import pytest

from civicgrid.open311.models import ServiceRequest

pytestmark = pytest.mark.django_db


def test_open311_entry_is_labelled_by_its_channel(client, place, submit):
    srid = submit()["service_request_id"]
    case = ServiceRequest.objects.get(service_request_id=srid).case
    client.force_login(place.dispatcher)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert (
        '<strong data-testid="event-actor">Open311 接口</strong> <span class="text-muted small">市民服务平台</span>'
        in html
    )
    timeline = html[html.index('data-testid="timeline"') :]
    assert "网格员" not in timeline
    event = client.get(f"/api/v1/cases/{case.pk}").json()["timeline"][0]
    assert event["channel"] == "open311" and event["actor_label"] == "Open311 接口"
