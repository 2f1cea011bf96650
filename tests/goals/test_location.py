"""重点项目 on the map: the project's point (set by a click or typed; audited; bad input names the field), who may
set it, and the board's map data (the year's located projects, lagging or on track)."""

from __future__ import annotations

import json

import pytest

from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog
from civicgrid.goals import services
from civicgrid.goals.models import Project


def test_set_location_is_audited_and_can_be_cleared(gw):
    p = services.set_location(actor=gw.leader, project=gw.plant, lng="120.123456789", lat=30.28)
    assert (p.lng, p.lat) == (120.123457, 30.28)
    log = AuditLog.objects.filter(action="goals.project.location").latest("pk")
    assert log.before == {"lng": None, "lat": None} and log.after == {"lng": 120.123457, "lat": 30.28}
    p = services.set_location(actor=gw.leader, project=gw.plant, lng="", lat=" ")
    assert (p.lng, p.lat) == (None, None)
    assert AuditLog.objects.filter(action="goals.project.location").count() == 2


@pytest.mark.parametrize(
    ("lng", "lat", "field", "words"),
    [
        ("181", "30", "lng", "经度应在 -180–180"),
        ("120", "-91", "lat", "纬度应在 -90–90"),
        ("东经120", "30", "lng", "经度不是数字"),
        ("120", "nan", "lat", "纬度应在"),
        ("120", "", "lat", "须同时填写"),
        ("", "30", "lng", "须同时填写"),
    ],
)
def test_bad_coordinates_name_the_field(gw, lng, lat, field, words):
    with pytest.raises(ValidationFailed) as exc:
        services.set_location(actor=gw.leader, project=gw.plant, lng=lng, lat=lat)
    assert exc.value.field == field and words in exc.value.message
    assert Project.objects.get(pk=gw.plant.pk).lng is None


def test_only_the_street_desks_set_a_location(gw):
    with pytest.raises(PermissionDenied):
        services.set_location(actor=gw.worker, project=gw.plant, lng=120, lat=30)
    with pytest.raises(NotFound):
        services.set_location(actor=gw.other_leader, project=gw.plant, lng=120, lat=30)
    assert Project.objects.get(pk=gw.plant.pk).lng is None


def test_the_project_page_sets_the_point(gw, client):
    url = f"/goals/projects/{gw.plant.pk}/"
    client.force_login(gw.leader)
    html = client.get(url).content.decode()
    assert "未标注位置" in html and 'id="location-form"' in html and 'src="/static/js/goals-map.js"' in html
    r = client.post(url, {"action": "location", "lng": "120.15", "lat": "30.27"})
    assert r.status_code == 302
    html = client.get(url).content.decode()
    assert "经度 120.15，纬度 30.27" in html and 'data-lng="120.15"' in html
    r = client.post(url, {"action": "location", "lng": "120.15", "lat": "300"})
    assert r.status_code == 400 and 'data-testid="location-error">纬度应在 -90–90' in r.content.decode()
    assert Project.objects.get(pk=gw.plant.pk).lat == 30.27
    # another 街道's leader: not found; a grid worker: no 目标考核 at all
    client.force_login(gw.other_leader)
    assert client.post(url, {"action": "location", "lng": "1", "lat": "1"}).status_code == 404
    client.force_login(gw.worker)
    assert client.post(url, {"action": "location", "lng": "1", "lat": "1"}).status_code == 403
    assert Project.objects.get(pk=gw.plant.pk).lng == 120.15


def test_the_board_map_holds_the_located_projects(gw, client):
    services.set_location(actor=gw.leader, project=gw.plant, lng=120.15, lat=30.27)
    services.set_location(actor=gw.leader, project=gw.lab, lng=120.16, lat=30.28)
    client.force_login(gw.leader)
    r = client.get("/goals/projects/", {"year": 2026, "month": 9})
    html = r.content.decode()
    start = html.index('<script id="goals-points" type="application/json">') + len(
        '<script id="goals-points" type="application/json">'
    )
    points = json.loads(html[start : html.index("</script>", start)])
    got = {p["name"]: (p["lng"], p["lat"], p["lagging"], p["rate"], p["url"]) for p in points}
    assert got == {
        "智能制造产业园": (120.15, 30.27, False, 108.5, f"/goals/projects/{gw.plant.pk}/"),
        "研发中心": (120.16, 30.28, True, 25.0, f"/goals/projects/{gw.lab.pk}/"),
    }
    assert 'data-testid="unlocated">1 个项目未标注位置' in html
