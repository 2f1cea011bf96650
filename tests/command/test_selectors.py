"""指挥中心 figures on hand-built data (the June 2026 story of tests/metrics/test_figures.py): the leader view's
headline reads the rollup under its filters and agrees with metrics.selectors.stats; empty periods, division by
zero, cases crossing period edges; the period picker; bad parameters name their field."""

from __future__ import annotations

from datetime import date

import pytest
from django.http import QueryDict

from civicgrid.command import selectors
from civicgrid.core import clock
from civicgrid.metrics import ledgers
from civicgrid.metrics import selectors as metric_selectors
from civicgrid.metrics.errors import BadQuery
from tests.metrics.conftest import at

pytestmark = pytest.mark.django_db


def params(**kw) -> QueryDict:
    q = QueryDict(mutable=True)
    for k, v in kw.items():
        q[k] = v
    return q


def filters(user, **kw):
    with clock.frozen(at(2026, 7, 15, 10, 0)):
        return selectors.parse_filters(user=user, params=params(**kw))


def test_the_headline_is_the_metrics_modules_figures(june):
    f = filters(june.dispatcher, period="custom", **{"from": "2026-06-01", "to": "2026-06-30"})
    head = selectors.headline(user=june.dispatcher, f=f)
    reference = metric_selectors.stats(user=june.dispatcher, start=date(2026, 6, 1), end=date(2026, 6, 30))
    assert head["totals"] == reference["totals"]
    assert head["mom"] == reference["change"]["mom"] and head["yoy"] == reference["change"]["yoy"]
    t = head["totals"]
    assert (t["received"], t["accepted"], t["done"], t["on_time_rate"], t["proactive_rate"]) == (
        6,
        3,
        2,
        100.0,
        16.7,
    )
    cards = {c["name"]: c for c in selectors.headline_cards(user=june.dispatcher, f=f, head=head)}
    assert list(cards) == [m for m, _, _ in selectors.HEADLINE]
    assert cards["received"]["value"] == 6 and cards["satisfaction_rate"]["value"] == 50.0
    assert (
        "metric=received" in cards["received"]["url"] and "date_from=2026-06-01" in cards["received"]["url"]
    )
    assert "source=grid_patrol" in cards["proactive_rate"]["url"]


def test_cases_crossing_the_month_edge_count_by_each_timestamp(june):
    july = filters(june.dispatcher, period="month", month="2026-07")
    assert (july.start, july.end) == (date(2026, 7, 1), date(2026, 7, 15))  # this month: up to today
    t = selectors.headline(user=june.dispatcher, f=july)["totals"]
    assert (t["received"], t["accepted"], t["done"]) == (0, 1, 1)  # c6 立案 07-01 00:10, c2 办结 07-01
    edge = filters(june.dispatcher, period="custom", **{"from": "2026-06-30", "to": "2026-07-01"})
    t = selectors.headline(user=june.dispatcher, f=edge)["totals"]
    assert (t["received"], t["accepted"], t["done"]) == (1, 1, 1)


def test_an_empty_period_has_zeros_and_no_rates(june):
    f = filters(june.dispatcher, period="months", year="2025", n="3")
    assert (f.start, f.end) == (date(2025, 1, 1), date(2025, 3, 31))
    head = selectors.headline(user=june.dispatcher, f=f)
    t = head["totals"]
    assert t["received"] == t["done"] == 0
    assert t["on_time_rate"] is None and t["satisfaction_rate"] is None and t["proactive_rate"] is None
    assert head["mom"]["received"] is None and head["yoy"]["on_time_rate"] is None  # 0 before: no % change
    for by in selectors.GROUPS:
        assert selectors.group_rows(user=june.dispatcher, f=f, by=by) == []
    trend = selectors.trend(user=june.dispatcher, f=f, start=f.start, end=f.end)
    assert trend["unit"] == "月" and trend["labels"] == ["2025-01", "2025-02", "2025-03"]
    assert trend["received"] == [0, 0, 0]


def test_filters_narrow_the_figures_and_the_groups_add_up(june):
    june_all = filters(june.dispatcher, period="custom", **{"from": "2026-06-01", "to": "2026-06-30"})
    rows = selectors.group_rows(user=june.dispatcher, f=june_all, by="source")
    assert sum(r["received"] for r in rows) == 6
    grid = next(r for r in rows if r["key"] == "grid_patrol")
    assert grid["received"] == 1 and "source=grid_patrol" in grid["received_url"]
    only_grid = filters(
        june.dispatcher, period="custom", source="grid_patrol", **{"from": "2026-06-01", "to": "2026-06-30"}
    )
    t = selectors.headline(user=june.dispatcher, f=only_grid)["totals"]
    assert (t["received"], t["proactive_rate"]) == (1, 100.0)
    community = filters(
        june.dispatcher,
        period="custom",
        community=june.community.code,
        **{"from": "2026-06-01", "to": "2026-06-30"},
    )
    by_community = {
        r["label"]: r["received"]
        for r in selectors.group_rows(user=june.dispatcher, f=june_all, by="community")
    }
    assert (
        selectors.headline(user=june.dispatcher, f=community)["totals"]["received"]
        == by_community[june.community.name]
    )
    fam = june.category.parent or june.category
    family = filters(
        june.dispatcher, period="custom", category=str(fam.pk), **{"from": "2026-06-01", "to": "2026-06-30"}
    )
    assert selectors.headline(user=june.dispatcher, f=family)["totals"]["received"] >= 1


def test_the_period_picker():
    today = date(2026, 8, 20)

    def bounds(**kw):
        return selectors.period_bounds(params(**kw), today)[1:3]

    assert bounds() == (date(2026, 8, 1), today)  # 本月
    assert bounds(period="quarter") == (date(2026, 7, 1), date(2026, 9, 30))
    assert bounds(period="quarter", year="2026") == (
        date(2026, 7, 1),
        date(2026, 9, 30),
    )  # the form sends the year
    assert bounds(period="quarter", year="2025", q="4") == (date(2025, 10, 1), date(2025, 12, 31))
    assert bounds(period="quarter", year="2025") == (date(2025, 1, 1), date(2025, 3, 31))
    assert bounds(period="months", n="2") == (date(2026, 1, 1), date(2026, 2, 28))
    assert bounds(period="months", year="2024", n="2") == (date(2024, 1, 1), date(2024, 2, 29))
    assert bounds(period="ytd") == (date(2026, 1, 1), today)
    assert bounds(period="year", year="2025") == (date(2025, 1, 1), date(2025, 12, 31))
    assert bounds(period="month", month="2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert bounds(period="custom", **{"from": "2026-03-05", "to": "2026-03-09"}) == (
        date(2026, 3, 5),
        date(2026, 3, 9),
    )


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"period": "decade"}, "period"),
        ({"period": "custom"}, "from"),
        ({"period": "custom", "from": "2026-13-01"}, "from"),
        ({"period": "custom", "from": "2026-06-02", "to": "2026-06-01"}, "from"),
        ({"period": "custom", "from": "2026-06-01", "to": "yesterday"}, "to"),
        ({"period": "months", "n": "13"}, "n"),
        ({"period": "months", "n": "x"}, "n"),
        ({"period": "quarter", "q": "5"}, "q"),
        ({"period": "year", "year": "1900"}, "year"),
        ({"period": "month", "month": "2026/06"}, "month"),
        ({"community": "nowhere"}, "community"),
        ({"department": "abc"}, "department"),
        ({"department": "999999"}, "department"),
        ({"category": "999999"}, "category"),
        ({"source": "pigeon"}, "source"),
        ({"street": "000"}, "street"),
    ],
)
def test_bad_parameters_name_their_field(story, kw, field):
    with pytest.raises(BadQuery) as exc:
        filters(story.dispatcher, **kw)
    assert exc.value.field == field


def test_lights_and_overdue_are_the_open_cases_now(story):
    s = story
    with clock.frozen(at(2026, 7, 1, 9, 0)):
        a = s.report()
    a = s.move_at(a, (2026, 7, 1, 9, 5), "accept")
    a = s.move_at(a, (2026, 7, 1, 9, 10), "dispatch")
    b = s.report_at((2026, 7, 1, 9, 20))
    type(a).objects.filter(pk=a.pk).update(light="red", due_at=at(2026, 7, 1, 11, 10))
    with clock.frozen(at(2026, 7, 1, 15, 10)):
        f = selectors.parse_filters(user=s.dispatcher, params=params())
        lights = {r["light"]: r["n"] for r in selectors.lights(user=s.dispatcher, f=f)}
        rows = selectors.overdue(user=s.dispatcher, f=f)
    assert lights["red"] == 1 and sum(lights.values()) == 2
    assert [r["number"] for r in rows] == [a.number] and rows[0]["overdue_hours"] == 4.0
    assert b.number not in [r["number"] for r in rows]


def test_ledgers_register_their_summaries(story):
    codes = [p.code for p in ledgers.providers()]
    assert codes == [
        "hazards", "disputes", "petitions", "enforcement", "supervision", "opinion", "gridwork", "registers", "estates",
        "activities",
    ]  # fmt: skip
    with clock.frozen(at(2026, 7, 1, 9, 0)):
        out = ledgers.summaries(user=story.dispatcher, start=date(2026, 7, 1), end=date(2026, 7, 1))
    # a dispatcher is not on the 信访 desk: that ledger is left out
    assert [s["code"] for s in out] == [
        "hazards", "disputes", "enforcement", "supervision", "opinion", "gridwork", "registers", "estates",
        "activities",
    ]  # fmt: skip
    first = out[0]["figures"][0]
    assert (first["label"], first["value"], first["unit"], first["key"]) == (
        "期内登记",
        0,
        "件",
        "registered",
    )
    assert first["formula"]  # the work report's appendix lists it


def test_only_street_wide_staff_reach_the_command_figures(story):
    from civicgrid.core.errors import PermissionDenied

    for user in (story.dispatcher, story.shift_leader, story.leader, story.sysadmin):
        selectors.require_access(user)
    for user in (story.handler, story.grid_worker, story.community_staff, story.auditor):
        with pytest.raises(PermissionDenied):
            selectors.require_access(user)


def _warning(street, title, *, hour, state="pending", rule="surge"):
    from civicgrid.supervision.models import EarlyWarning

    return EarlyWarning.objects.create(
        street=street,
        rule=rule,
        subject_key=title,
        day=date(2026, 7, 1),
        title=title,
        message=f"{title}：今日 9 件，期望 2.1 件",
        state=state,
        created_at=at(2026, 7, 1, hour, 0),
    )


def test_the_screens_list_the_open_warnings_the_user_may_see(db):
    from civicgrid.accounts.roles import Role
    from civicgrid.supervision.models import EarlyWarning
    from tests.accounts.test_tiers import Tiers

    tiers = Tiers()
    EarlyWarning.objects.all().delete()  # the tier cases raise a 重复地址 warning of their own: start clean
    a, b = tiers.a, tiers.b
    old = _warning(a.street, "甲社区 市容环境", hour=8)
    new = _warning(a.street, "甲路 12 号", hour=10, rule="repeat_address")
    _warning(a.street, "已处置的一条", hour=11, state="resolved")
    other = _warning(b.street, "乙社区 噪声扰民", hour=9)

    out = selectors.alerts(user=a.users[Role.DISPATCHER])
    assert out["registered"] and out["total"] == 2 and out["url"] == "/supervision/warnings/"
    assert [i["title"] for i in out["items"]] == [new.title, old.title]  # newest first, 已处置 left out
    first = out["items"][0]
    assert (first["tag"], first["level"], first["at"]) == ("重复地址", "warning", "2026-07-01 10:00")
    assert first["url"] == f"/supervision/warnings/{new.pk}/" and first["message"].startswith("甲路 12 号")
    # the other 街道 sees only its own
    assert [i["title"] for i in selectors.alerts(user=b.users[Role.DISPATCHER])["items"]] == [other.title]
    # the 区 sees both, and narrows to one 街道
    assert selectors.alerts(user=tiers.qu_leader)["total"] == 3
    assert selectors.alerts(user=tiers.qu_leader, street=b.street)["total"] == 1
    assert len(selectors.alerts(user=tiers.qu_leader, limit=1)["items"]) == 1


def test_no_alert_source_registered_means_an_empty_panel(story):
    saved = ledgers.alert_providers()
    try:
        for p in saved:
            ledgers.unregister_alerts(p.code)
        out = selectors.alerts(user=story.dispatcher)
    finally:
        for p in saved:
            ledgers.register_alerts(p.code, p.label, p.fn, url=p.url, order=p.order)
    assert out == {"registered": False, "total": 0, "url": "", "items": []}
    # a user the provider gives nothing (None) gets the empty list, not an error
    assert ledgers.alerts(user=story.grid_worker) == []
