"""A 工作总结 of a whole 区: 西湖区 holds 甲街道 and 乙街道 (tests/accounts/test_tiers.py, each with a case and a row in
every ledger). The 区领导 drafts the 区's report: its figures are the 区's (the metrics module over both 街道, the
sum of what each 街道's leaders see), with a per-街道 comparison table; a ledger whose provider holds per 街道 only
is left out. Only the 区 level drafts and sees 区 reports — on the page, through the API and from the command
line, each refusal naming its field. The built-in template's 台账汇总 table carries the ledger figures, and ledger
rates follow the report's 截尾/四舍五入 rule."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from docx import Document

from civicgrid.accounts.roles import Role
from civicgrid.core import clock, zhnum
from civicgrid.core.errors import ValidationFailed
from civicgrid.metrics import ledgers, registry
from civicgrid.metrics import selectors as metric_selectors
from civicgrid.places.models import District
from civicgrid.reports import figures, selectors, services
from civicgrid.reports.models import Report, ReportTemplate
from tests.accounts.test_tiers import Tiers
from tests.factories import StreetFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiers(db):
    return Tiers()


def this_year() -> tuple[date, date]:
    today = clock.local_now().date()
    return date(today.year, 1, 1), today


def tables_of(docx: bytes) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in t.rows] for t in Document(io.BytesIO(docx)).tables]


def table_headed(docx: bytes, header: list[str]) -> list[list[str]]:
    found = [t for t in tables_of(docx) if t and t[0] == header]
    assert len(found) == 1, [t[0] for t in tables_of(docx)]
    return found[0][1:]


def ledger_values(user, start, end) -> dict[tuple[str, str], int | float | None]:
    return {
        (s["code"], f["key"]): f["value"]
        for s in ledgers.summaries(user=user, start=start, end=end)
        for f in s["figures"]
    }


def test_the_district_report_sums_its_streets_and_compares_them(tiers):
    start, end = this_year()
    a_leader, b_leader = tiers.a.users[Role.LEADER], tiers.b.users[Role.LEADER]
    version = services.draft(actor=tiers.qu_leader, district=tiers.district, start=start, end=end)
    report, snap = version.report, version.snapshot
    assert (report.street, report.district, snap["scope"]) == (None, tiers.district, "district")
    assert report.title.startswith(tiers.district.name) and report.title.endswith("工作总结")
    v = snap["values"]

    # the case figures: the 区 account's own statistics (no 街道 given), i.e. both 街道 added up
    qu = metric_selectors.stats(user=tiers.qu_leader, start=start, end=end)["totals"]
    per_street = [
        metric_selectors.stats(user=u, start=start, end=end)["totals"] for u in (a_leader, b_leader)
    ]
    for name in ("received", "accepted", "dispatched", "done"):
        assert v[f"cases.{name}"]["value"] == qu[name] == sum(t[name] for t in per_street), name
    assert all(t["received"] for t in per_street)  # both 街道 have cases
    # the 来源构成 chart's groups: the 区's 受理 by source, adding up to its total
    sources = {k: x["value"] for k, x in v.items() if k.startswith("cases.sources.")}
    assert sources and sum(sources.values()) == qu["received"]

    # the per-街道 table: the metrics module grouped by 街道, every 街道 of the 区
    groups = {
        g["key"]: g
        for g in metric_selectors.stats(user=tiers.qu_leader, start=start, end=end, by="street")["groups"]
    }
    rows = snap["tables"]["streets"]
    assert [r["name"] for r in rows] == ["甲街道", "乙街道"]
    for r in rows:
        g = groups[r["code"]]
        assert (r["received"], r["done"]) == (f"{g['received']}件", f"{g['done']}件")
        c = registry.with_derived({k: n for k, n in g.items() if type(n) is int})
        for rate in ("on_time_rate", "satisfaction_rate"):
            m = registry.get(rate)
            assert r[rate] == (zhnum.rate(c[m.numerator], c[m.denominator]) or "—")
        assert v[f"by_street.{r['code']}.received"]["source"] == "metrics.registry:received（按街道）"
    body = table_headed(bytes(version.docx), ["街道", "受理", "办结", "按期办结率", "满意率"])
    assert [row[:3] for row in body] == [[r["name"], r["received"], r["done"]] for r in rows]

    # each ledger: the sum of the two 街道 (every provider scopes by the reader's tier)
    a, b = ledger_values(a_leader, start, end), ledger_values(b_leader, start, end)
    assert v["ledgers.hazards.registered"]["value"] == a["hazards", "registered"] + b["hazards", "registered"]
    assert v["ledgers.hazards.registered"]["value"] >= 2
    for (code, key), value in a.items():
        if isinstance(value, int) and f"ledgers.{code}.{key}" in v:
            assert v[f"ledgers.{code}.{key}"]["value"] == value + b[code, key], (code, key)
    assert "goals.indicators" not in v  # 目标考核 is kept per 街道: not in a 区 report


def test_a_ledger_that_holds_per_street_only_is_left_out_of_the_district_report(tiers):
    start, end = this_year()

    def street_only(*, user, start, end):
        return [ledgers.Figure("网格长例会", 3, "次", key="meetings")]

    ledgers.register("street_only", "网格长例会", street_only, district=False)
    try:
        street_report = services.draft(actor=tiers.qu_leader, street=tiers.a.street, start=start, end=end)
        district_report = services.draft(actor=tiers.qu_leader, district=tiers.district, start=start, end=end)
    finally:
        ledgers.unregister("street_only")
    assert street_report.snapshot["values"]["ledgers.street_only.meetings"]["text"] == "3次"
    assert not any(k.startswith("ledgers.street_only") for k in district_report.snapshot["values"])
    assert "网格长例会" not in str(district_report.snapshot["tables"])
    assert "ledgers.hazards.registered" in district_report.snapshot["values"]  # the others are summed


def test_a_district_account_drafting_one_streets_report_counts_that_street_only(tiers):
    start, end = this_year()
    a_leader = tiers.a.users[Role.LEADER]
    by_qu = services.draft(actor=tiers.qu_leader, street=tiers.a.street, start=start, end=end).snapshot
    by_a = services.draft(actor=a_leader, street=tiers.a.street, start=start, end=end).snapshot
    assert (
        by_qu["values"]["ledgers.hazards.registered"]["value"]
        == ledger_values(a_leader, start, end)["hazards", "registered"]
    )
    assert {k: x["value"] for k, x in by_qu["values"].items()} == {
        k: x["value"] for k, x in by_a["values"].items()
    }


def test_only_the_district_level_drafts_a_district_report(tiers):
    start, end = this_year()
    for user in (
        tiers.a.users[Role.LEADER],
        tiers.a.users[Role.DISPATCHER],
        tiers.b.users[Role.SYSTEM_ADMIN],
    ):
        with pytest.raises(ValidationFailed) as e:
            services.draft(actor=user, district=tiers.district, start=start, end=end)
        assert e.value.field == "district"
    other = StreetFactory(code="330108001", name="滨江某街道", division_code="330108").district
    with pytest.raises(ValidationFailed) as e:  # a 区 account drafts for its own 区 only
        services.draft(actor=tiers.qu_dispatcher, district=other, start=start, end=end)
    assert e.value.field == "district"
    with pytest.raises(ValidationFailed) as e:
        services.draft(
            actor=tiers.qu_leader, street=tiers.a.street, district=tiers.district, start=start, end=end
        )
    assert e.value.field == "district"
    with pytest.raises(ValidationFailed) as e:
        services.draft(actor=tiers.qu_leader, district=tiers.district, tpl=tiers.a.report_template,
                       start=start, end=end)  # fmt: skip
    assert e.value.field == "template"
    assert not Report.objects.filter(district__isnull=False).exists()
    # the platform-level 系统管理员 drafts for any 区, counting that 区 only
    admin = UserFactory(role=Role.SYSTEM_ADMIN, street=None, district=None)
    assert set(selectors.districts(user=admin)) == {tiers.district, other}
    version = services.draft(actor=admin, district=tiers.district, start=start, end=end)
    qu = metric_selectors.stats(user=tiers.qu_leader, start=start, end=end)["totals"]
    assert version.snapshot["values"]["cases.received"]["value"] == qu["received"]


def test_a_report_belongs_to_a_street_or_a_district_never_both_nor_neither(tiers):
    now = clock.now()
    for street, district in ((tiers.a.street, tiers.district), (None, None)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Report.objects.create(street=street, district=district, start=date(2026, 1, 1),
                                  end=date(2026, 1, 31), created_at=now)  # fmt: skip


def test_street_accounts_never_see_district_reports_and_the_district_sees_all(client, tiers):
    start, end = this_year()
    version = services.draft(actor=tiers.qu_leader, district=tiers.district, start=start, end=end)
    report = version.report
    for side in (tiers.a, tiers.b):
        for role in (Role.LEADER, Role.DISPATCHER, Role.SYSTEM_ADMIN):
            user = side.users[role]
            assert report not in selectors.visible_reports(user=user)
            client.force_login(user)
            assert report.title not in client.get("/reports/").content.decode()
            assert client.get(f"/reports/{report.pk}/").status_code == 404
            assert client.get(f"/reports/versions/{version.pk}.docx").status_code == 404
            assert client.get(f"/api/v1/reports/{report.pk}").status_code == 404
            assert report.title not in client.get("/api/v1/reports").content.decode()
        # …nor the other 街道's reports
        other = tiers.b if side is tiers.a else tiers.a
        assert other.report not in selectors.visible_reports(user=side.users[Role.LEADER])
        assert client.get(f"/reports/{other.report.pk}/").status_code == 404
    for user in (tiers.qu_leader, tiers.qu_dispatcher):
        client.force_login(user)
        listing = client.get("/reports/").content.decode()
        assert report.title in listing
        assert client.get(f"/reports/{report.pk}/").status_code == 200
        assert client.get(f"/reports/{tiers.a.report.pk}/").status_code == 200
        assert client.get(f"/reports/{tiers.b.report.pk}/").status_code == 200
    # a 区 account of another 区 sees neither
    other = StreetFactory(code="330108001", name="滨江某街道", division_code="330108").district
    stranger = UserFactory(role=Role.LEADER, street=None, district=other)
    assert not selectors.visible_reports(user=stranger).exists()


def test_the_page_offers_the_district_to_district_accounts_only(client, tiers):
    start, end = this_year()
    form = {"period": "custom", "start": start.isoformat(), "end": end.isoformat()}
    client.force_login(tiers.a.users[Role.LEADER])
    assert 'name="scope"' not in client.get("/reports/").content.decode()
    page = client.post("/reports/", {**form, "scope": f"district:{tiers.district.pk}"})
    assert page.status_code == 200 and "只有区级账号可以起草本区的全区工作总结" in page.content.decode()
    client.force_login(tiers.qu_dispatcher)
    assert f"全区：{tiers.district.name}" in client.get("/reports/").content.decode()
    response = client.post("/reports/", {**form, "scope": f"district:{tiers.district.pk}"})
    report = Report.objects.get(district=tiers.district)
    assert response.status_code == 302 and response["Location"] == f"/reports/{report.pk}/"
    client.post(f"/reports/{report.pk}/", {"manual_plans": "二是……"})  # 重新生成 stays a 区 report
    assert report.versions.count() == 2 and report.versions.get(number=2).snapshot["scope"] == "district"
    page = client.post("/reports/", {**form, "scope": "district:999999"})
    assert "只有区级账号" in page.content.decode()


def test_the_api_drafts_a_district_report_and_names_bad_fields(api_client, tiers):
    start, end = this_year()
    period = {"start": start.isoformat(), "end": end.isoformat()}
    api = api_client.login(tiers.qu_leader)
    created = api.post("/reports", {**period, "district": tiers.district.pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["district"], body["street"]) == (tiers.district.code, None)
    again = api.post(f"/reports/{body['id']}/versions", {})
    assert [v["number"] for v in again.json()["versions"]] == [2, 1]
    bad = api.post("/reports", {**period, "district": tiers.district.pk, "street": tiers.a.street.pk})
    assert bad.status_code == 422 and bad.json()["field"] == "district"
    bad = api.post(
        "/reports", {**period, "district": tiers.district.pk, "template": tiers.a.report_template.pk}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "template"
    bad = api.post("/reports", {**period, "district": "西湖"})
    assert bad.status_code == 422
    street_api = api_client.login(tiers.a.users[Role.LEADER])
    bad = street_api.post("/reports", {**period, "district": tiers.district.pk})
    assert bad.status_code == 422 and bad.json()["field"] == "district"
    assert street_api.get(f"/reports/{body['id']}").status_code == 404
    street = street_api.post("/reports", period).json()
    assert (street["street"], street["district"]) == (tiers.a.street.code, None)


def test_the_command_line_drafts_a_district_report(tiers, tmp_path, capsys, client):
    start, end = this_year()
    out = tmp_path / "全区.docx"
    args = ["report", "draft", "--from", start.isoformat(), "--to", end.isoformat()]
    call_command(*args, "--district", tiers.district.code, "--out", str(out))
    report = Report.objects.get(district=tiers.district)
    assert f"{report.title}（第1版" in capsys.readouterr().out
    text = "\n".join(p.text for p in Document(io.BytesIO(out.read_bytes())).paragraphs)
    assert report.title in text and "各街道受理、办结情况如下" in text
    client.force_login(tiers.qu_leader)  # the page names the command line's version "系统"
    page = client.get(f"/reports/{report.pk}/")
    assert page.status_code == 200 and "系统" in page.content.decode()
    with pytest.raises(CommandError, match="--street 与 --district 只能给一个"):
        call_command(
            *args, "--district", tiers.district.code, "--street", tiers.a.street.code, "--out", str(out)
        )
    with pytest.raises(CommandError, match="行政区划代码不存在"):
        call_command(*args, "--district", "999999", "--out", str(out))
    with pytest.raises(CommandError, match="该区没有在用的模板"):
        call_command(*args, "--district", tiers.district.code, "--template", "x", "--out", str(out))
    with pytest.raises(CommandError, match="区级账号"):  # --as a 街道 account
        call_command(*args, "--district", tiers.district.code, "--as", tiers.a.users[Role.LEADER].username,
                     "--out", str(out))  # fmt: skip
    assert District.objects.filter(code=tiers.district.code).exists()


# --- 台账汇总 and ledger rates ------------------------------------------------------------------------------


def test_the_built_in_template_lists_every_ledger_figure_in_a_table(tiers):
    start, end = this_year()
    leader = tiers.a.users[Role.LEADER]
    version = services.draft(actor=leader, street=tiers.a.street, start=start, end=end)
    rows = table_headed(bytes(version.docx), ["台账", "指标", "数值"])
    expected = []
    for s in ledgers.summaries(user=leader, start=start, end=end):
        if not any(f["value"] for f in s["figures"]):
            continue  # nothing recorded: the ledger is not in the report
        for f in s["figures"]:
            if f["value"] is None:
                continue
            if f["unit"] == "%" and f["denominator"]:
                text = zhnum.rate(f["numerator"], f["denominator"])
            else:
                text = f"{f['value']}{f['unit']}"
            expected.append([s["label"], f["label"], text])
    assert rows == expected
    assert ["安全隐患", "期内登记", "1件"] in rows  # 甲街道's one hazard
    assert len({r[0] for r in rows}) >= 5  # 隐患, 纠纷, 执法, 巡查, 活动 … each with data


def test_ledger_rates_follow_the_reports_rounding_rule(june):
    """2 of 3 注销 on time: 66.666…% — 四舍五入 66.7%, 截尾 66.6% (the provider's own figure is 66.7)."""

    def provider(*, user, start, end):
        return [
            ledgers.Figure("流动人口注销", 3, "人", key="cancelled"),
            ledgers.Figure("注销及时率", 66.7, "%", key="rate", numerator=2, denominator=3),
            ledgers.Figure("楼宇注册率", 50.0, "%", key="plain"),  # no parts given: as the provider wrote it
        ]

    ledgers.register("rounding_probe", "流动人口", provider)
    try:
        street = june.community.street
        got = {
            rounding: figures.collect(
                user=june.leader,
                street=street,
                start=date(2026, 6, 1),
                end=date(2026, 6, 30),
                rounding=rounding,
            ).values  # fmt: skip
            for rounding in (zhnum.HALF_UP, zhnum.TRUNCATE)
        }
    finally:
        ledgers.unregister("rounding_probe")
    assert got[zhnum.HALF_UP]["ledgers.rounding_probe.rate"]["text"] == "66.7%"
    assert got[zhnum.TRUNCATE]["ledgers.rounding_probe.rate"]["text"] == "66.6%"
    assert "（2 ÷ 3）" in got[zhnum.TRUNCATE]["ledgers.rounding_probe.rate"]["formula"]
    assert got[zhnum.TRUNCATE]["ledgers.rounding_probe.plain"]["text"] == "50.0%"


def test_the_registers_and_estates_rates_carry_their_parts(tiers):
    start, end = this_year()
    by_key = {
        (s["code"], f["key"]): f
        for s in ledgers.summaries(user=tiers.a.users[Role.LEADER], start=start, end=end)
        for f in s["figures"]
    }
    reg = by_key["estates", "registration_rate"]
    assert reg["denominator"] == by_key["estates", "occupants"]["value"]
    assert reg["numerator"] is not None and reg["numerator"] <= reg["denominator"]
    cancel = by_key["registers", "cancel_on_time_rate"]
    assert cancel["denominator"] == by_key["registers", "cancelled"]["value"]


def test_a_district_keeps_templates_of_its_own_for_its_whole_district_reports(client, tiers):
    start, end = this_year()
    mine = Document()
    mine.add_paragraph("{{ street }}{{ period }}全区受理{{ cases.received }}。")
    mine.add_paragraph("{%p for r in streets_table %}")
    mine.add_paragraph("{{ r.name }}{{ r.received }}")
    mine.add_paragraph("{%p endfor %}")
    buf = io.BytesIO()
    mine.save(buf)
    content = buf.getvalue()
    with pytest.raises(ValidationFailed) as e:  # a 街道 account keeps no 区 template
        services.upload_template(actor=tiers.a.users[Role.LEADER], district=tiers.district, name="区简版",
                                 content=content)  # fmt: skip
    assert e.value.field == "district"
    tpl = services.upload_template(
        actor=tiers.qu_leader, district=tiers.district, name="区简版", content=content
    )
    assert (tpl.street, tpl.district) == (None, tiers.district)
    version = services.draft(actor=tiers.qu_leader, district=tiers.district, tpl=tpl, start=start, end=end)
    v = version.snapshot["values"]
    lines = [p.text for p in Document(io.BytesIO(bytes(version.docx))).paragraphs]
    assert (
        lines[0]
        == f"{tiers.district.name}{version.snapshot['period']}全区受理{v['cases.received']['text']}。"
    )
    assert lines[1:] == [f"{r['name']}{r['received']}" for r in version.snapshot["tables"]["streets"]]
    with pytest.raises(ValidationFailed) as e:  # …and a 街道 report cannot use it
        services.draft(actor=tiers.qu_leader, street=tiers.a.street, tpl=tpl, start=start, end=end)
    assert e.value.field == "template"
    # the 区 level sees it on the pages; a 街道 account does not
    client.force_login(tiers.qu_dispatcher)
    assert "区简版（全区）" in client.get("/reports/").content.decode()
    assert "区简版" in client.get("/reports/templates/").content.decode()
    client.force_login(tiers.a.users[Role.LEADER])
    assert "区简版" not in client.get("/reports/templates/").content.decode()
    assert tpl not in selectors.visible_templates(user=tiers.b.users[Role.SYSTEM_ADMIN])
    response = client.post(
        "/reports/",
        {"period": "custom", "start": start.isoformat(), "end": end.isoformat(), "template": tpl.pk},
    )
    assert (
        response.status_code == 200 and not Report.objects.filter(template=tpl, street__isnull=False).exists()
    )
    # uploaded on the page as the 区's
    client.force_login(tiers.qu_leader)
    upload = io.BytesIO(content)
    upload.name = "区模板.docx"
    response = client.post(
        "/reports/templates/", {"scope": f"district:{tiers.district.pk}", "name": "区二版", "file": upload}
    )
    assert response.status_code == 302
    assert ReportTemplate.objects.get(name="区二版").district == tiers.district
