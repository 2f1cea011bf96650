"""指挥中心 screens per role: who may open them, 街道/区 scoping (the tier fixture of tests/accounts/test_tiers.py),
400 naming the field for any bad parameter, every headline number opening the case list that counts it (same
filters, same number), the Excel of the tables and the Word 简报."""

from __future__ import annotations

import io
import json
import re
from html import unescape

import pytest
from docx import Document
from openpyxl import load_workbook

from civicgrid.accounts.roles import Role
from civicgrid.core import clock
from tests.accounts.test_tiers import Tiers
from tests.factories import UserFactory
from tests.metrics.conftest import at

pytestmark = pytest.mark.django_db

JUNE = "period=custom&from=2026-06-01&to=2026-06-30"
URLS = [
    "/command/",
    "/command/screen/",
    "/command/screen/data.json",
    "/command/figures.xlsx",
    "/command/brief.docx",
]


@pytest.fixture
def tiers(db):
    return Tiers()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.DISPATCHER, 200),
        (Role.SHIFT_LEADER, 200),
        (Role.LEADER, 200),
        (Role.SYSTEM_ADMIN, 200),
        (Role.DEPT_HANDLER, 403),
        (Role.COMMUNITY_STAFF, 403),
        (Role.GRID_WORKER, 403),
        (Role.AUDIT_ADMIN, 403),
    ],
)
def test_only_street_wide_staff_open_the_screens(client, role, status):
    client.force_login(UserFactory(role=role))
    for url in URLS:
        assert client.get(url).status_code == status, url


def test_anonymous_users_are_sent_to_log_in(client):
    for url in URLS:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=custom&from=2026-02-30", "from"),
        ("period=custom&from=2026-06-01&to=nope", "to"),
        ("period=weekly", "period"),
        ("period=months&n=0", "n"),
        ("year=abc&period=year", "year"),
        ("month=June&period=month", "month"),
        ("community=%3Cscript%3E", "community"),
        ("department=-1", "department"),
        ("category=x", "category"),
        ("source=nobody", "source"),
        ("street=999999999", "street"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(client, query, field):
    client.force_login(UserFactory(role=Role.LEADER))
    for url in ("/command/", "/command/figures.xlsx", "/command/brief.docx"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400, url
        assert f"<code>{field}</code>" in response.content.decode()
    if field == "street":
        response = client.get(f"/command/screen/data.json?{query}")
        assert response.status_code == 400 and response.json()["field"] == "street"
    for refresh in ("5", "abc", "99999"):
        response = client.get(f"/command/screen/?refresh={refresh}")
        assert response.status_code == 400 and "<code>refresh</code>" in response.content.decode()


def _value(html: str, name: str) -> str:
    return re.search(rf'data-testid="value-{name}">([^<]*)<', html).group(1)


def _href(html: str, name: str) -> str:
    return unescape(re.search(rf'href="([^"]+)" data-testid="card-{name}"', html).group(1))


def _list_total(client, href: str) -> int:
    """The number of cases the case list shows (its export has one row per case under the header)."""
    export = href.replace("/cases/?", "/cases/export.xlsx?")
    response = client.get(export)
    assert response.status_code == 200, export
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return sum(1 for row in ws.iter_rows(min_row=2, values_only=True) if row[0])


def test_every_headline_number_opens_its_list_with_the_same_count(client, june):
    client.force_login(june.leader)
    with clock.frozen(at(2026, 7, 15, 10, 0)):
        html = client.get(f"/command/?{JUNE}").content.decode()
    assert (_value(html, "received"), _value(html, "accepted"), _value(html, "done")) == ("6", "3", "2")
    assert _value(html, "on_time_rate") == "100.0%" and _value(html, "satisfaction_rate") == "50.0%"
    for name, n in (
        ("received", 6),
        ("accepted", 3),
        ("done", 2),
        ("proactive_rate", 1),
        ("response_rate", 3),
    ):
        href = _href(html, name)
        assert client.get(href).status_code == 200
        assert _list_total(client, href) == n, name
    # a filter on the view carries to the list
    with clock.frozen(at(2026, 7, 15, 10, 0)):
        html = client.get(f"/command/?{JUNE}&source=grid_patrol").content.decode()
    assert _value(html, "received") == "1" and _value(html, "proactive_rate") == "100.0%"
    assert _list_total(client, _href(html, "received")) == 1


def test_an_empty_period_shows_dashes_not_errors(client, june):
    client.force_login(june.dispatcher)
    html = client.get("/command/?period=year&year=2024").content.decode()
    assert _value(html, "received") == "0" and _value(html, "on_time_rate") == "—"
    assert "本期无数据" in html


def test_the_brief_is_a_one_page_word_document_with_the_headline(client, june):
    client.force_login(june.leader)
    with clock.frozen(at(2026, 7, 15, 10, 0)):
        response = client.get("/command/brief.docx?period=month&month=2026-06")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml"
    )
    doc = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "工作简报（2026年6月）" in text and "2026-06-01 至 2026-06-30" in text
    assert "本期受理 6 件，立案 3 件，办结 2 件" in text and "满意率 50.0%" in text
    figures = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in doc.tables[0].rows[1:]}
    assert figures["受理数"][0] == "6" and figures["按期办结率"][0] == "100.0%"
    assert len(doc.tables[0].rows) == 1 + 8  # header + the eight headline figures
    assert "{%" not in text and all("{{" not in c.text for t in doc.tables for r in t.rows for c in r.cells)


def test_the_tables_export_to_excel(client, june):
    client.force_login(june.leader)
    response = client.get(f"/command/figures.xlsx?{JUNE}")
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["主要指标", "分社区", "分处置部门", "分分类大类", "分来源"]
    rows = {r[0]: r[1] for r in wb["主要指标"].iter_rows(min_row=3, values_only=True)}
    assert rows["受理数"] == 6 and rows["满意率"] == 50.0
    assert sum(r[1] for r in wb["分来源"].iter_rows(min_row=2, values_only=True)) == 6


def test_the_screen_data_counts_today_and_links_every_number(client, story):
    s = story
    a = s.report_at((2026, 7, 1, 9, 0), actor=s.grid_worker, source="grid_patrol")
    s.report_at((2026, 7, 1, 9, 30))
    s.report_at((2026, 6, 30, 9, 30))
    type(a).objects.filter(pk=a.pk).update(light="red")
    from civicgrid.metrics import services

    services.refresh()
    client.force_login(s.dispatcher)
    with clock.frozen(at(2026, 7, 1, 15, 0)):
        d = client.get("/command/screen/data.json").json()
    assert d["today"] == "2026-07-01"
    assert (d["headline"]["received_today"], d["headline"]["open"], d["headline"]["overdue"]) == (2, 3, 1)
    assert {r["source"]: r["n"] for r in d["intake"]} == {"grid_patrol": 1, "hotline_12345": 1}
    assert sum(d["trend"]["received"]) == 3 and len(d["trend"]["labels"]) == 30
    heat = {f["properties"]["name"]: f["properties"]["received"] for f in d["grids"]["features"]}
    assert heat[s.grid.name] == 3 and d["grids"]["max"] == 3
    assert [r["number"] for r in d["overdue"]] == [a.number]
    assert [x["code"] for x in d["ledgers"]][0] == "hazards"
    # the numbers open their lists
    for href, n in ((d["headline"]["received_today_url"], 2), (d["headline"]["open_url"], 3)):
        assert _list_total(client, href) == n
    grid_url = next(
        f["properties"]["url"] for f in d["grids"]["features"] if f["properties"]["name"] == s.grid.name
    )
    assert _list_total(client, grid_url) == 3


def test_a_street_sees_its_street_and_the_district_sees_both(client, tiers):
    a, b = tiers.a, tiers.b
    client.force_login(a.users[Role.DISPATCHER])
    html = client.get("/command/").content.decode()
    data = json.dumps(client.get("/command/screen/data.json").json(), ensure_ascii=False)
    for text in (html, data):
        assert b.community.name not in text and b.dept.name not in text and b.grid.name not in text
    assert a.grid.name in data
    # another 街道 cannot be asked for
    assert client.get(f"/command/?street={b.street.code}").status_code == 400
    assert client.get(f"/command/screen/data.json?street={b.street.code}").status_code == 400
    client.force_login(tiers.qu_leader)
    data = client.get("/command/screen/data.json").json()
    names = {f["properties"]["name"] for f in data["grids"]["features"]}
    assert {a.grid.name, b.grid.name} <= names
    narrowed = client.get(f"/command/screen/data.json?street={b.street.code}").json()
    assert {f["properties"]["name"] for f in narrowed["grids"]["features"]} == {b.grid.name}
    # the ledger totals narrow too: what 乙街道's own leader sees, not the whole 区's
    whole = {x["code"]: x["figures"] for x in data["ledgers"]}
    client.force_login(b.users[Role.LEADER])
    own = client.get("/command/screen/data.json").json()["ledgers"]
    assert narrowed["ledgers"] == own
    hazards = {f["key"]: f["value"] for f in next(x["figures"] for x in own if x["code"] == "hazards")}
    whole_hazards = {f["key"]: f["value"] for f in whole["hazards"]}
    assert 0 < hazards["registered"] < whole_hazards["registered"]
    client.force_login(tiers.qu_leader)
    html = client.get(f"/command/?street={a.street.code}").content.decode()
    assert 'data-testid="command-filters"' in html and b.street.name in html  # the picker lists both


def test_the_case_api_takes_the_same_list_filters(client, june):
    client.force_login(june.dispatcher)
    base = "/api/v1/cases?date_from=2026-06-01&date_to=2026-06-30&limit=50"
    assert client.get(f"{base}&metric=received").json()["total"] == 6
    assert client.get(f"{base}&metric=accepted").json()["total"] == 3
    assert client.get(f"{base}&metric=done").json()["total"] == 2
    assert client.get(f"{base}&metric=done&community={june.community.pk}").json()["total"] == 2
    from civicgrid.cases import procedures
    from civicgrid.cases.models import Case

    not_closed = sorted(Case.objects.exclude(procedures.group_q("closed")).values_list("pk", flat=True))
    assert len(not_closed) >= 2  # c5 上报, c6 立案 …
    listed = client.get("/api/v1/cases?open_only=true&limit=50").json()["items"]
    assert sorted(c["id"] for c in listed) == not_closed
    assert client.get(f"{base}&metric=closed").status_code in (400, 422)


def test_the_screen_data_and_the_leader_view_carry_the_open_warnings(client, tiers):
    from datetime import date

    from civicgrid.supervision.models import EarlyWarning

    EarlyWarning.objects.all().delete()  # the tier cases raise a 重复地址 warning of their own: start clean
    a, b = tiers.a, tiers.b
    w = EarlyWarning.objects.create(
        street=a.street, rule="surge", subject_key="x", day=date(2026, 7, 1), title="甲社区 市容环境",
        message="今日 9 件，期望 2.1 件", created_at=at(2026, 7, 1, 9, 0),
    )  # fmt: skip
    EarlyWarning.objects.create(
        street=b.street, rule="surge", subject_key="y", day=date(2026, 7, 1), title="乙社区 噪声扰民",
        message="今日 7 件", created_at=at(2026, 7, 1, 9, 0),
    )  # fmt: skip
    client.force_login(a.users[Role.DISPATCHER])
    d = client.get("/command/screen/data.json").json()["alerts"]
    assert (d["registered"], d["total"], d["url"]) == (True, 1, "/supervision/warnings/")
    assert [(i["tag"], i["title"], i["url"]) for i in d["items"]] == [
        ("突增预警", w.title, f"/supervision/warnings/{w.pk}/")
    ]
    html = client.get("/command/").content.decode()
    assert 'data-testid="command-alerts"' in html and w.title in html and "乙社区 噪声扰民" not in html
    assert re.search(r'data-testid="alerts-total">1<', html)
    client.force_login(b.users[Role.DISPATCHER])
    assert [i["title"] for i in client.get("/command/screen/data.json").json()["alerts"]["items"]] == [
        "乙社区 噪声扰民"
    ]
