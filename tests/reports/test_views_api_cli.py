"""工作总结 on the pages, through the API and from the command line: who may draft, 街道 scoping (a 街道 account
never sees another 街道's reports; a 区 account drafts for either), bad input named by field, the downloads,
and `civicgrid report draft` writing .docx and PDF."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from docx import Document
from openpyxl import load_workbook

from civicgrid.accounts.roles import Role
from civicgrid.reports import services
from civicgrid.reports.models import Report, ReportVersion
from tests.accounts.test_tiers import Tiers
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

JUNE = {"period": "custom", "start": "2026-06-01", "end": "2026-06-30"}


@pytest.fixture
def tiers(db):
    return Tiers()


def doc_text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


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
def test_who_opens_the_pages(client, role, status):
    client.force_login(UserFactory(role=role))
    for url in ("/reports/", "/reports/templates/", "/reports/templates/default.docx"):
        assert client.get(url).status_code == status, url


def test_a_leader_drafts_on_the_page_and_downloads_word_and_figures(client, june):
    client.force_login(june.leader)
    response = client.post("/reports/", {**JUNE, "rounding": "truncate", "manual_plans": "一是……"})
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/{report.pk}/"
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert report.title in page and "满意率" in page and "第1版" in page
    v1 = report.versions.get(number=1).pk
    docx = client.get(f"/reports/versions/{v1}.docx")
    assert docx.status_code == 200 and docx["Content-Type"].startswith("application/vnd.openxml")
    body = doc_text(docx.content)
    assert "一是……" in body and "响应率66.6%" in body  # 2/3 truncated
    xlsx = load_workbook(io.BytesIO(client.get(f"/reports/versions/{v1}.xlsx").content))
    rows = list(xlsx.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("占位符", "数据项", "数值", "报告中写作")
    assert ("cases.received", "受理数", 6, "6件") in [r[:4] for r in rows]
    # 重新生成: a second version; the first stays as it was
    client.post(f"/reports/{report.pk}/", {"manual_plans": "二是……"})
    assert [v.number for v in ReportVersion.objects.filter(report=report).order_by("number")] == [1, 2]
    v2 = report.versions.get(number=2).pk
    assert "一是……" in doc_text(client.get(f"/reports/versions/{v1}.docx").content)
    assert "二是……" in doc_text(client.get(f"/reports/versions/{v2}.docx").content)


def test_bad_form_input_is_named_and_writes_nothing(client, june):
    client.force_login(june.leader)
    page = client.post("/reports/", {"period": "custom", "start": "2026-06-30", "end": "2026-06-01"})
    assert page.status_code == 200 and "统计截止日期早于起始日期" in page.content.decode()
    page = client.post("/reports/", {"period": "custom", "start": "yesterday", "end": "2026-06-01"})
    assert "统计起始日期不是日期" in page.content.decode()
    page = client.post("/reports/", {"period": "2099-m3"})
    assert "统计期选项有误" in page.content.decode()
    page = client.post("/reports/", {**JUNE, "template": "999999"})
    assert page.status_code == 200
    assert not Report.objects.exists()
    for url in ("/reports/999999/", "/reports/versions/999999.docx", "/reports/versions/99999999999.pdf"):
        assert client.get(url).status_code == 404


def test_a_street_account_never_sees_another_streets_reports(client, tiers):
    a_leader, b_leader = tiers.a.users[Role.LEADER], tiers.b.users[Role.LEADER]
    va = services.draft(actor=a_leader, street=tiers.a.street, start=date(2026, 6, 1), end=date(2026, 6, 30))
    client.force_login(b_leader)
    assert tiers.a.tag not in client.get("/reports/").content.decode()
    assert client.get(f"/reports/{va.report_id}/").status_code == 404
    assert client.get(f"/reports/versions/{va.pk}.docx").status_code == 404
    assert client.get(f"/api/v1/reports/versions/{va.pk}/figures").status_code in (401, 403, 404)
    page = client.post("/reports/", {**JUNE, "street": tiers.a.street.pk})
    assert "不在您的辖区" in page.content.decode()
    # a 区 account drafts for either 街道
    client.force_login(tiers.qu_leader)
    client.post("/reports/", {**JUNE, "street": tiers.b.street.pk})
    assert Report.objects.filter(street=tiers.b.street).count() == 2  # the fixture's own and this one


def test_the_api_drafts_lists_and_explains_every_figure(api_client, june):
    api = api_client.login(june.leader)
    created = api.post("/reports", {"start": "2026-06-01", "end": "2026-06-30", "rounding": "truncate"})
    assert created.status_code == 201, created.content
    body = created.json()
    first = body["versions"][0]
    assert first["number"] == 1 and first["docx_url"] == f"/reports/versions/{first['id']}.docx"
    figs = {f["key"]: f for f in api.get(f"/reports/versions/{first['id']}/figures").json()}
    assert figs["cases.response_rate"]["text"] == "66.6%" and "÷" in figs["cases.response_rate"]["formula"]
    again = api.post(f"/reports/{body['id']}/versions", {})
    assert [v["number"] for v in again.json()["versions"]] == [2, 1]
    assert len(api.get("/reports").json()) == 1
    bad = api.post("/reports", {"start": "2026-06-30", "end": "2026-06-01"})
    assert bad.status_code == 422 and bad.json()["field"] == "end"
    bad = api.post("/reports", {"start": "2026-06-01", "end": "2026-06-30", "manual": {"plans": ["a"]}})
    assert bad.status_code == 422
    bad = api.post("/reports", {"start": "2026-06-01", "end": "2026-06-30", "rounding": "banker"})
    assert bad.status_code == 422 and bad.json()["field"] == "rounding"
    assert api.get("/reports/999999").status_code == 404
    assert api_client.login(june.handler).get("/reports").status_code == 403


def test_the_command_line_drafts_word_and_names_bad_arguments(june, tmp_path, capsys):
    out = tmp_path / "总结.docx"
    street = june.community.street
    call_command("report", "draft", "--from", "2026-06-01", "--to", "2026-06-30", "--street", street.code,
                 "--rounding", "truncate", "--out", str(out))  # fmt: skip
    assert "第1版" in capsys.readouterr().out
    assert "响应率66.6%" in doc_text(out.read_bytes())
    assert (tmp_path / "总结.figures.xlsx").exists()
    assert Report.objects.get().created_by is None  # drafted by the command line, audited as such
    with pytest.raises(CommandError, match="--from"):
        call_command("report", "draft", "--from", "6月1日", "--to", "2026-06-30", "--out", str(out))
    with pytest.raises(CommandError, match="街道编码不存在"):
        call_command("report", "draft", "--from", "2026-06-01", "--to", "2026-06-30", "--street", "000",
                     "--out", str(out))  # fmt: skip
    with pytest.raises(CommandError, match=".docx 或 .pdf"):
        call_command("report", "draft", "--from", "2026-06-01", "--to", "2026-06-30", "--out", "x.txt")


@pytest.mark.skipif(
    not shutil.which("soffice") and os.environ.get("CIVICGRID_REQUIRE_OFFICE") != "1",
    reason="LibreOffice (soffice) is not installed on this machine (CI installs it and sets CIVICGRID_REQUIRE_OFFICE=1)",
)
def test_the_pdf_carries_the_reports_text(june, tmp_path):
    out = tmp_path / "report.pdf"
    call_command("report", "draft", "--from", "2026-06-01", "--to", "2026-06-30", "--out", str(out))
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())  # pdftotext splits runs of CJK and digits with spaces and line breaks
    street = june.community.street
    assert f"{street.name}2026年6月工作总结" in flat
    assert "指挥中心共受理各类工单6件" in flat and "附：数据来源说明" in flat
