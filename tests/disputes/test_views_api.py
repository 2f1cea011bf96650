"""The 矛盾纠纷 screens and API: the desk's 登记 form, the detail page with the procedure's generated forms, 当事人
masked for everyone but the 调解 desk (page, API, Excel), the 协议书, the ledger's Excel in the report layout, the
figures, and the generated case endpoints with their 409 / 403 guards."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from civicgrid.cases.models import Case
from civicgrid.disputes import agreement
from civicgrid.disputes.models import DisputeDetail, MediationSession
from tests.cases.factories import photo

pytestmark = pytest.mark.django_db


def form_data(dw, **extra):
    data = {
        "source": "police",
        "police_station": "示范派出所",
        "police_ref": "JQ202611260015",
        "dispute_type": dw.types["neighbour"].pk,
        "org": dw.studio.pk,
        "grid": dw.grid.pk,
        "address": "示范路1号3单元",
        "amount": "3000",
        "description": "楼上漏水致楼下天花板受损，派出所出警后移交调解",
        "party0_name": "张建国",
        "party0_phone": "13812345678",
        "party1_name": "李秀英",
        "party1_phone": "13987654321",
        "idempotency_key": uuid.uuid4().hex,
    }
    data.update(extra)
    return data


def test_the_desk_registers_a_police_transfer_and_mediates_it_on_the_detail_page(dw, client):
    client.force_login(dw.dispatcher)
    page = client.get("/disputes/new/").content.decode()
    assert "警情号" in page and "老娘舅工作室" in page and dw.grid.name in page
    r = client.post("/disputes/new/", form_data(dw))
    assert r.status_code == 302, r.content.decode()[:800]
    case = Case.objects.get(procedure="dispute")
    assert r["Location"] == f"/disputes/{case.pk}/"
    page = client.get(r["Location"]).content.decode()
    assert "张建国" in page and "13812345678" in page and "JQ202611260015" in page
    assert 'data-testid="action-admit"' in page and 'data-testid="action-terminate"' in page
    # 受理 through the generated form: the 调解期限 in 自然日 within 1–30
    r = client.post(f"/disputes/{case.pk}/", {"move": "admit", "admit-version": 1, "admit-amount": 31,
                                              "admit-unit": "natural_days"})  # fmt: skip
    assert r.status_code == 422 and "1 到 30" in r.content.decode()
    r = client.post(f"/disputes/{case.pk}/", {"move": "admit", "admit-version": 1, "admit-amount": 15,
                                              "admit-unit": "natural_days"})  # fmt: skip
    assert r.status_code == 302
    # 调解成功 before any session: refused (409), nothing changes
    r = client.post(f"/disputes/{case.pk}/", {"move": "settle", "settle-version": 2,
                                              "settle-agreement_terms": "赔偿 3000 元"})  # fmt: skip
    assert r.status_code == 409 and "请先登记至少一次调解记录" in r.content.decode()
    r = client.post(
        f"/disputes/{case.pk}/sessions/", {"held_on": "2000-01-01", "mediators": "王调解", "notes": "x"}
    )
    assert r.status_code == 422 and "调解日期须在受理日期与今天之间" in r.content.decode()
    today = DisputeDetail.objects.get(case=case).received_on.isoformat()
    r = client.post(
        f"/disputes/{case.pk}/sessions/", {"held_on": today, "mediators": "王调解", "notes": "面对面调解"}
    )
    assert r.status_code == 302 and MediationSession.objects.count() == 1
    r = client.post(f"/disputes/{case.pk}/", {"move": "settle", "settle-version": 2,
                                              "settle-agreement_terms": "李秀英赔偿张建国 3000 元"})  # fmt: skip
    assert r.status_code == 302
    page = client.get(f"/disputes/{case.pk}/").content.decode()
    assert "调解成功" in page and 'data-testid="agreement-docx"' in page
    # the 协议书: the template filled in, parties in full
    r = client.get(f"/disputes/{case.pk}/agreement.docx")
    assert r.status_code == 200 and "wordprocessingml" in r["Content-Type"]
    text = agreement.text_of(r.content)
    assert "人民调解协议书" in text and "申请人：张建国，联系电话 13812345678" in text
    assert "李秀英赔偿张建国 3000 元" in text and "王调解" in text and "老娘舅工作室" in text
    assert "{{" not in text
    from civicgrid.core.models import AuditLog

    assert AuditLog.objects.filter(action="disputes.agreement.generate", object_id=str(case.pk)).exists()
    # the signed scan through the attachment mechanism, then 回访 and 结案
    r = client.post(f"/disputes/{case.pk}/", {"move": "upload_agreement", "upload_agreement-version": 3,
                    "upload_agreement-attachments": SimpleUploadedFile("signed.png", photo()[1], "image/png")})  # fmt: skip
    assert r.status_code == 302 and case.attachments.count() == 1
    r = client.post(f"/disputes/{case.pk}/", {"move": "revisit", "revisit-version": 4, "revisit-fulfilment": "full",
                                              "revisit-followup_result": "已履行完毕"})  # fmt: skip
    assert r.status_code == 302
    r = client.post(f"/disputes/{case.pk}/", {"move": "conclude", "conclude-version": 5})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == "closed"
    page = client.get(f"/disputes/{case.pk}/").content.decode()
    assert "已结案" in page and 'data-testid="agreement-scans"' in page and "disputes.css" in page


def test_the_form_answers_bad_input_with_422_naming_the_field_and_keeps_nothing(dw, client):
    client.force_login(dw.dispatcher)
    r = client.post("/disputes/new/", form_data(dw, police_ref=""))
    assert r.status_code == 422 and "警调衔接须填写移交派出所和警情号" in r.content.decode()
    r = client.post("/disputes/new/", form_data(dw, party0_phone="not-a-phone!"))
    assert r.status_code == 422 and "联系电话格式不正确" in r.content.decode()
    r = client.post("/disputes/new/", form_data(dw, source="case", linked_number="C2099"))
    assert r.status_code == 422 and "找不到该编号的工单" in r.content.decode()
    r = client.post("/disputes/new/", form_data(dw, amount="很多"))
    assert r.status_code == 422 and "涉及金额必须是数字" in r.content.decode()
    assert not Case.objects.filter(procedure="dispute").exists()


@pytest.mark.parametrize("role", ["grid_worker", "dept_handler", "leader", "system_admin"])
def test_only_the_mediators_register(dw, client, role):
    from civicgrid.accounts.roles import Role

    client.force_login(dw.by_role(Role(role)))
    assert client.get("/disputes/new/").status_code == 403
    assert client.post("/disputes/new/", form_data(dw)).status_code == 403


def test_parties_are_masked_except_for_the_mediator_desk(dw, client, api_client):
    case = dw.mediate()
    # the desk sees them in full, on the page, in the API and in the Excel
    client.force_login(dw.dispatcher)
    assert "张建国" in client.get("/disputes/").content.decode()
    assert "13812345678" in client.get(f"/disputes/{case.pk}/").content.decode()
    # the leader, the 网格员 and the 社区调委会 see them masked everywhere
    for user in (dw.leader, dw.grid_worker, dw.community_staff):
        client.force_login(user)
        for url in ("/disputes/", f"/disputes/{case.pk}/"):
            html = client.get(url).content.decode()
            assert "张**" in html and "张建国" not in html and "13812345678" not in html, (user.role, url)
        wb = load_workbook(io.BytesIO(b"".join(client.get("/disputes/export.xlsx").streaming_content)))
        cells = " ".join(str(c.value) for row in wb.active.iter_rows() for c in row)
        assert "张建国" not in cells and "138****5678" in cells
        assert client.get(f"/disputes/{case.pk}/agreement.docx").status_code == 403
        body = api_client.login(user).get(f"/disputes/{case.pk}").json()
        assert body["parties"][0]["name"] == "张**" and body["parties"][0]["masked"] is True
        assert body["parties"][0]["phone"] == "138****5678"
    body = api_client.login(dw.dispatcher).get(f"/disputes/{case.pk}").json()
    assert body["parties"][0]["name"] == "张建国" and body["parties"][0]["phone"] == "13812345678"


def test_the_excel_is_the_report_layout_with_a_totals_row(dw, client):
    dw.mediate(amount="1000")
    dw.mediate(
        outcome="settle_fail", source="police", police_station="示范派出所", police_ref="JQ1", amount="500.5"
    )
    dw.register()
    client.force_login(dw.dispatcher)
    r = client.get("/disputes/export.xlsx")
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(b"".join(r.streaming_content))).active.iter_rows(values_only=True))
    head = rows[0]
    assert head[:6] == ("编号", "受理日期", "纠纷来源", "移交派出所", "警情号", "纠纷类型")
    assert "调解结果" in head and "协议书编号" in head and "回访日期" in head
    assert len(rows) == 1 + 3 + 1
    totals = dict(zip(head, rows[-1], strict=True))
    assert totals["编号"] == "合计 3 件" and totals["纠纷来源"] == "警调衔接 1"
    assert totals["调解结果"] == "成功 1/2" and totals["调解终结日期"] == "成功率 50.0%"
    assert float(totals["涉及金额（元）"]) == 1500.5  # the third one has no amount


def test_the_ledger_filters(dw, client):
    a = dw.mediate(source="police", police_station="示范派出所", police_ref="JQ777")
    b = dw.register(type_code="labour", org=dw.community_org)
    client.force_login(dw.dispatcher)

    def numbers(query):
        html = client.get(f"/disputes/?{query}").content.decode()
        return {c.number for c in (a, b) if c.number in html}

    assert numbers("") == {a.number, b.number}
    assert numbers("source=police") == {a.number}
    assert numbers("type=labour") == {b.number}
    assert numbers(f"org={dw.community_org.pk}") == {b.number}
    assert numbers("state=agreed") == {a.number}
    assert numbers("q=JQ777") == {a.number}
    assert numbers("org=abc&state=nonsense&source=x") == {a.number, b.number} - {a.number, b.number}


def test_figures_page_and_api(dw, client, api_client):
    dw.mediate()
    dw.mediate(outcome="terminate")
    client.force_login(dw.leader)
    html = client.get("/disputes/figures/").content.decode()
    assert 'data-testid="fig-received">2<' in html and 'data-testid="fig-rate">50.0%<' in html
    body = api_client.login(dw.leader).get("/disputes/figures").json()
    assert (body["received"], body["success"], body["terminated"], body["success_rate"]) == (2, 1, 1, 50.0)
    r = api_client.get("/disputes/figures", start="2026-05-01", end="2026-01-01")
    assert r.status_code == 422
    assert client.get("/disputes/figures/?start=garbage&end=2026-13-45").status_code == 200


def test_the_api_registers_and_the_generated_endpoints_drive_the_dispute(dw, api_client):
    api = api_client.login(dw.dispatcher)
    body = {
        "source": "police",
        "dispute_type": dw.types["labour"].pk,
        "org": dw.street_org.pk,
        "grid": dw.grid.pk,
        "description": "拖欠工资 2 个月",
        "amount": "8000",
        "police_station": "示范派出所",
        "parties": [{"role": "applicant", "name": "赵六", "phone": "13700001111"}],
    }
    r = api.post("/disputes", body)
    assert r.status_code == 422 and r.json()["field"] == "police_ref"
    r = api.post("/disputes", {**body, "police_ref": "JQ9"})
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["state"] == "registered" and r.json()["parties"][0]["name"] == "赵六"
    # the procedure's generated endpoints
    moves = {m["name"] for m in api.get(f"/cases/{pk}").json()["allowed_moves"]}
    assert moves == {"admit", "terminate"}
    r = api_client.login(dw.grid_worker).post(
        f"/cases/{pk}/admit", {"version": 1, "amount": 30, "unit": "natural_days"}
    )
    assert r.status_code == 403
    api = api_client.login(dw.dispatcher)
    r = api.post(f"/cases/{pk}/admit", {"version": 1, "amount": 30, "unit": "natural_days"})
    assert r.status_code == 200 and r.json()["state_label"] == "调解中"
    r = api.post(f"/cases/{pk}/settle", {"version": 2, "agreement_terms": "分两期支付"})
    assert r.status_code == 409 and r.json()["code"] == "dispute_session_required"
    r = api.post(f"/disputes/{pk}/sessions", {"held_on": "2099-01-01", "mediators": "王", "notes": "x"})
    assert r.status_code == 422 and r.json()["field"] == "held_on"
    today = DisputeDetail.objects.get(case_id=pk).received_on.isoformat()
    r = api.post(
        f"/disputes/{pk}/sessions", {"held_on": today, "mediators": "王调解", "notes": "约谈用人单位"}
    )
    assert r.status_code == 201
    r = api.post(
        f"/disputes/{pk}/parties", {"role": "respondent", "name": "某建筑公司", "phone": "0571-88886666"}
    )
    assert r.status_code == 201
    r = api.post(f"/cases/{pk}/settle", {"version": 2})
    assert r.status_code == 422 and r.json()["field"] == "agreement_terms"
    r = api.post(f"/cases/{pk}/settle", {"version": 2, "agreement_terms": "分两期支付"})
    assert r.status_code == 200 and r.json()["state_label"] == "调解成功"
    r = api.post(f"/cases/{pk}/conclude", {"version": 3})
    assert r.status_code == 409
    d = api.get(f"/disputes/{pk}").json()
    assert d["outcome"] == "success" and len(d["sessions"]) == 1 and len(d["parties"]) == 2
    listing = api.get("/disputes", source="police").json()
    assert [x["id"] for x in listing] == [pk]
    assert api.get("/disputes", source="nonsense").status_code == 422
    assert api.get("/disputes/999999").status_code == 404
    # the generic “新建工单” cannot file a dispute
    r = api.post("/cases", {"procedure": "dispute", "description": "x", "source": "other"})
    assert r.status_code in (403, 422)


def test_strangers_get_404_and_the_auditor_403(dw, client, api_client):
    case = dw.mediate()
    client.force_login(dw.other_staff)
    assert client.get(f"/disputes/{case.pk}/").status_code == 404
    assert client.get(f"/disputes/{case.pk}/agreement.docx").status_code == 404
    assert client.post(f"/disputes/{case.pk}/sessions/", {}).status_code == 404
    client.force_login(dw.auditor)
    assert client.get("/disputes/").status_code == 403
    assert api_client.login(dw.auditor).get("/disputes").status_code == 403


def test_the_generic_case_page_does_not_show_the_agreement_that_names_the_parties(dw, client):
    """协议内容 names the parties in full; the generic case page masks nothing, so it leaves that text to the 纠纷
    page (which masks it for those without 人民调解权限)."""
    case = dw.mediate()
    client.force_login(dw.dispatcher)
    assert "李秀英赔偿张建国维修费 3000 元" not in client.get(f"/cases/{case.pk}/").content.decode()
    assert "李秀英赔偿张建国维修费 3000 元" in client.get(f"/disputes/{case.pk}/").content.decode()
