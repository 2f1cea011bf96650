"""巡访打卡 API and screens: the phone's batch upload is idempotent (a retried batch stores nothing twice), bad input
is answered 422 naming the field, nobody writes to another worker's patrol; the check-in form turns a finding into
a case in one tap; the leader reads the patrols, the track, the figures and the 考核表 in Excel."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from civicgrid.cases.models import Case
from civicgrid.core import clock
from civicgrid.gridwork.models import Patrol, PointCheck, TrackPoint
from tests.gridwork.conftest import OUTSIDE, inside

pytestmark = pytest.mark.django_db

API = "/api/v1/gridwork"


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def fixes(n, start, *, prefix="fix", where=None):
    return [
        {
            "id": f"{prefix}-{i:06d}",
            "t": (start + timedelta(seconds=30 * i)).isoformat(),
            "lng": (where or inside(0))[0],
            "lat": (where or inside(0))[1],
            "acc": 8,
        }
        for i in range(n)
    ]


def test_start_upload_twice_and_stop_store_every_fix_once(pw, client):
    client.force_login(pw.grid_worker)
    t0 = clock.now() - timedelta(minutes=10)
    r = post(client, f"{API}/patrols/start", {"client_id": "phone-patrol-0001", "started_at": t0.isoformat()})
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    assert post(client, f"{API}/patrols/start", {"client_id": "phone-patrol-0001"}).json()["id"] == pid
    batch = fixes(10, t0)
    first = post(client, f"{API}/patrols/{pid}/points", {"points": batch})
    assert first.status_code == 200 and (first.json()["accepted"], first.json()["duplicates"]) == (10, 0)
    # the answer was lost on a bad network: the phone sends the same batch again, plus new fixes outside
    again = post(
        client,
        f"{API}/patrols/{pid}/points",
        {"points": batch + fixes(5, t0 + timedelta(minutes=5), prefix="more", where=OUTSIDE)},
    )
    body = again.json()
    assert (body["accepted"], body["duplicates"], body["inside"]) == (5, 10, 0)
    assert TrackPoint.objects.filter(patrol_id=pid).count() == 15
    assert body["patrol"]["point_count"] == 15
    # ten fixes 30 s apart inside (9 intervals + the one to the first outside fix), four intervals outside
    assert (body["patrol"]["tracked_s"], body["patrol"]["inside_s"]) == (420, 300)
    stop = post(client, f"{API}/patrols/{pid}/stop", {})
    assert stop.status_code == 200 and stop.json()["ended_at"] is not None
    assert post(client, f"{API}/patrols/{pid}/stop", {}).json()["ended_at"] == stop.json()["ended_at"]
    listed = client.get(f"{API}/patrols").json()
    assert [p["id"] for p in listed] == [pid]
    track = client.get(f"{API}/patrols/{pid}/track").json()
    assert len(track["points"]) == 15 and track["points"][0]["inside"] and not track["points"][-1]["inside"]


def test_bad_input_is_422_naming_the_field_and_other_peoples_patrols_are_404(pw, client):
    client.force_login(pw.grid_worker)
    pid = post(client, f"{API}/patrols/start", {"client_id": "phone-patrol-0002"}).json()["id"]
    r = post(
        client,
        f"{API}/patrols/{pid}/points",
        {"points": [{"id": "abcdefgh", "t": "yesterday", "lng": 1, "lat": 2}]},
    )
    assert r.status_code == 422
    old = fixes(1, clock.now() - timedelta(days=9))
    r = post(client, f"{API}/patrols/{pid}/points", {"points": old})
    assert r.status_code == 422 and r.json()["field"] == "points.0.t"
    r = post(client, f"{API}/patrols/{pid}/points", {"points": fixes(501, clock.now())})
    assert r.status_code == 422
    assert not TrackPoint.objects.exists()
    client.force_login(pw.worker2)
    assert post(client, f"{API}/patrols/{pid}/points", {"points": fixes(1, clock.now())}).status_code == 404
    assert post(client, f"{API}/patrols/{pid}/stop", {}).status_code == 404
    assert client.get(f"{API}/patrols/{pid}/track").status_code == 404
    client.force_login(pw.handler)  # 处置部门: no 巡访打卡 at all
    assert post(client, f"{API}/patrols/start", {"client_id": "phone-patrol-0003"}).status_code == 403
    client.force_login(pw.dispatcher)  # sees, but does not patrol
    assert post(client, f"{API}/patrols/start", {"client_id": "phone-patrol-0004"}).status_code == 403
    assert client.get(f"{API}/patrols/{pid}/track").status_code == 200
    assert not Patrol.objects.exclude(pk=pid).exists()


def test_check_in_through_the_api_with_a_finding_filed_as_a_case(pw, client):
    client.force_login(pw.grid_worker)
    body = {
        "client_id": "api-check-00001",
        "point": pw.river.pk,
        "lng": pw.river.lng,
        "lat": pw.river.lat,
        "score": 75,
        "findings": "河面漂浮垃圾约5平方米",
        "report": True,
    }
    r = post(client, f"{API}/checks", body)
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["valid"] and out["inside"] and out["case"] is not None
    case = Case.objects.get(pk=out["case"])
    assert case.source == "grid_patrol" and case.state == "reported"  # no category: the desk 立案s it
    assert post(client, f"{API}/checks", body).status_code == 200  # the retry: the same check-in
    assert PointCheck.objects.count() == 1 and Case.objects.count() == 1
    r = post(client, f"{API}/checks", {**body, "client_id": "api-check-00002", "point": pw.far_point.pk})
    assert r.status_code == 404
    points = client.get(f"{API}/points").json()
    assert {p["name"] for p in points} == {"示范河东岸", "示范农贸市场", "古桥（文物）"}


def test_the_phone_page_and_the_check_in_form(pw, client):
    client.force_login(pw.grid_worker)
    page = client.get("/gridwork/").content.decode()
    assert 'data-testid="gw-start"' in page and "示范农贸市场" in page and "别社区垃圾房" not in page
    assert "<script>" not in page  # CSP: the logic is in static/js/gridwork.js
    form = client.get(f"/gridwork/points/{pw.market.pk}/check/").content.decode()
    assert "打卡并上报问题" in form and pw.minor.name in form
    r = client.post(
        f"/gridwork/points/{pw.market.pk}/check/",
        {
            "client_id": "form-check-0001",
            "lng": pw.market.lng,
            "lat": pw.market.lat,
            "score": "90",
            "findings": "摊位占道经营",
            "action": "report",
            "category": pw.minor.pk,
        },
    )
    assert r.status_code == 302 and r["Location"] == "/gridwork/"
    c = PointCheck.objects.get()
    assert c.valid and c.score == 90 and c.case.source == "grid_patrol" and c.case.state == "accepted"
    page = client.get("/gridwork/").content.decode()
    assert "已上报工单" in page
    r = client.post(
        f"/gridwork/points/{pw.market.pk}/check/", {"client_id": "form-check-0002", "action": "report"}
    )
    assert r.status_code == 422 and "请描述发现的问题" in r.content.decode()
    assert client.get(f"/gridwork/points/{pw.far_point.pk}/check/").status_code == 404


def test_the_leader_reads_patrols_replay_figures_and_the_scoring_sheet(pw, client):
    patrol = pw.walk(pw.grid_worker, clock.now() - timedelta(hours=1), [inside(0)] * 8 + [inside(1)] * 4)
    client.force_login(pw.leader)
    assert "张三" in client.get("/gridwork/patrols/").content.decode()
    assert client.get("/gridwork/").status_code == 302  # not a grid worker: to 巡查记录
    page = client.get(f"/gridwork/patrols/{patrol.pk}/").content.decode()
    assert "轨迹回放" in page and "72.7%" in page  # 8 of 11 intervals inside
    data = client.get(f"/gridwork/patrols/{patrol.pk}/track.json").json()
    assert len(data["points"]) == 12
    for by in ("worker", "grid", "community"):
        assert client.get(f"/gridwork/figures/?by={by}").status_code == 200
    assert "张三" in client.get("/gridwork/figures/?by=worker").content.decode()
    api = client.get(f"{API}/figures?by=grid").json()
    assert {r["name"] for r in api["rows"]} >= {pw.grid.name, pw.grid2.name}
    assert client.get(f"{API}/figures?month=2099-01").status_code == 422
    assert client.get(f"{API}/figures?month=garbage").status_code == 422
    assert client.get("/gridwork/figures/?month=garbage&by=nonsense").status_code == 200
    assert "考核得分" in client.get("/gridwork/scores/").content.decode()
    r = client.get("/gridwork/scores.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    rows = list(ws.values)
    assert rows[0][0] == "网格员" and rows[0][-1] == "考核得分"
    names = [row[0] for row in rows[1:]]
    assert "张三" in names and "李四" in names
    assert client.get("/gridwork/points/").status_code == 200


def test_who_sees_which_patrols(pw, client):
    mine = pw.walk(pw.grid_worker, clock.now() - timedelta(hours=2), [inside(0)] * 3)
    other = pw.walk(pw.other_worker, clock.now() - timedelta(hours=1), [inside(5)] * 3)
    for user, seen in [
        (pw.grid_worker, {mine.pk}),
        (pw.community_staff, {mine.pk}),
        (pw.other_staff, {other.pk}),
        (pw.dispatcher, {mine.pk, other.pk}),
        (pw.handler, None),
        (pw.auditor, None),
    ]:
        client.force_login(user)
        r = client.get(f"{API}/patrols")
        if seen is None:
            assert r.status_code in (401, 403)
            assert client.get("/gridwork/patrols/").status_code == 403
        else:
            assert {p["id"] for p in r.json()} == seen, user.role
    client.force_login(pw.community_staff)
    assert client.get(f"/gridwork/patrols/{other.pk}/").status_code == 404
