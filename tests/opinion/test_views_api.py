"""The 舆情 screens and API: the form (the link is validated), the printable record, the ledger Excel (上级 report
layout with a totals row), the figures, the API, and the import of an existing ledger (row errors, idempotent)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.core.models import ImportRun, ImportStatus
from civicgrid.opinion.models import OpinionDetail

pytestmark = pytest.mark.django_db


def test_the_desk_registers_a_post_and_prints_its_record(ow, client):
    client.force_login(ow.dispatcher)
    data = {"platform": "video", "media_name": "抖音@示范街坊", "title": "视频称示范路井盖缺失",
            "url": "https://www.douyin.com/video/7300000000000000000", "content": "网友拍摄井盖缺失"}  # fmt: skip
    r = client.post("/opinion/new/", {**data, "url": "javascript:alert(1)"})
    assert r.status_code == 422 and "http:// 或 https://" in r.content.decode()
    assert not OpinionDetail.objects.exists()
    r = client.post("/opinion/new/", data)
    assert r.status_code == 302
    d = OpinionDetail.objects.get()
    page = client.get(r["Location"]).content.decode()
    assert (
        "舆情处置登记表" in page and 'rel="noopener noreferrer nofollow"' in page and "data-cg-print" in page
    )
    assert d.case.number in client.get("/opinion/").content.decode()


def test_roles_without_the_ledger_are_refused(ow, client):
    case = ow.register()
    for user in (ow.grid_worker, ow.community_staff):
        client.force_login(user)
        assert client.get("/opinion/").status_code == 403
        assert client.get(f"/opinion/{case.pk}/").status_code == 403
    client.force_login(ow.handler2)
    assert client.get(f"/opinion/{case.pk}/").status_code == 404


def test_export_has_a_totals_row(ow, client):
    ow.full(level="major")
    ow.register()
    client.force_login(ow.dispatcher)
    r = client.get("/opinion/export.xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0][:4] == ["序号", "编号", "原台账编号", "舆情标题/内容"] and len(rows) == 4
    assert rows[3][0] == "合计" and rows[3][1] == "2 条" and rows[3][9] == "一般 0 / 较大 0 / 重大 1"
    assert rows[3][17] == "办结 1（50.0%）"


def test_figures_page_and_api(ow, client):
    ow.full(level="general")
    ow.register()
    client.force_login(ow.dispatcher)
    page = client.get("/opinion/figures/").content.decode()
    assert 'data-testid="fig-collected">2<' in page and 'data-testid="fig-rate">50.0%<' in page
    body = client.get("/api/v1/opinion/figures").json()
    assert body["collected"] == 2 and body["conclude_rate"] == 50.0


def test_api_register_list_read_and_moves(ow, client):
    client.force_login(ow.dispatcher)
    r = client.post(
        "/api/v1/opinion/items",
        data={"platform": "wechat", "media_name": "示范发布", "title": "公众号文章反映停车难"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    item = r.json()
    assert item["state"] == "collected"
    bad = client.post(
        "/api/v1/opinion/items",
        data={"platform": "wechat", "media_name": "x", "title": "t", "url": "not a url"},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["field"] == "url"
    version = client.get(f"/api/v1/cases/{item['id']}").json()["version"]
    r = client.post(f"/api/v1/cases/{item['id']}/assess",
                    data={"version": version, "level": "general", "assessment": "一般民生诉求"},
                    content_type="application/json")  # fmt: skip
    assert r.status_code == 200, r.content
    assert client.get(f"/api/v1/opinion/items/{item['id']}").json()["level"] == "general"
    assert [i["id"] for i in client.get("/api/v1/opinion/items?level=general").json()] == [item["id"]]
    client.force_login(ow.grid_worker)
    assert client.get(f"/api/v1/opinion/items/{item['id']}").status_code == 404


HEADER = ["序号", "标题", "平台", "媒体", "原文链接", "发布时间", "监测时间", "舆情等级", "责任单位", "处置情况",
          "回应内容", "回应时间", "办结时间"]  # fmt: skip
ROWS = [
    ["YQ-1", "网帖反映某小区垃圾清运不及时", "微博", "@本地热点", "https://weibo.com/1/2", "2026-03-01 08:00",
     "2026-03-01 09:00", "一般", "城管中队", "已督促物业清运", "已清运完毕", "2026-03-02", "2026-03-03"],
    ["YQ-2", "短视频称某路段积水", "抖音", "抖音@路人", "", "", "2026-03-05", "较大", "", "", "", "", ""],
    ["YQ-3", "坏链接", "微博", "@x", "htp:/bad", "", "2026-03-06", "", "", "", "", "", ""],
    ["YQ-4", "没有部门却办结", "微博", "@y", "", "", "2026-03-07", "一般", "", "", "", "", "2026-03-08"],
]  # fmt: skip


def _sheet(rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("舆情台账.xlsx", buf.getvalue())


def _run(client, upload, capture) -> ImportRun:
    r = client.post("/imports/opinion.cases/new/", {"file": upload})
    assert r.status_code == 302, r.content.decode()[:300]
    run = ImportRun.objects.get(pk=int(r.url.rstrip("/").rsplit("/", 1)[1]))
    page = client.get(f"/imports/runs/{run.pk}/").content.decode()
    assert "链接" in page and "已办结的舆情须有责任部门" in page
    with capture(execute=True):
        client.post(f"/imports/runs/{run.pk}/start/")
    run.refresh_from_db()
    return run


def test_import_rejects_bad_rows_and_is_idempotent(
    ow, client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.BACKGROUND_RUN_INLINE = True
    settings.DATA_DIR = tmp_path
    ow.dept.street = ow.grid.community.street
    ow.dept.save()
    client.force_login(ow.dispatcher)
    run = _run(client, _sheet(ROWS), django_capture_on_commit_callbacks)
    assert run.status == ImportStatus.PARTIAL and (run.created_count, run.failed) == (2, 2)
    one = OpinionDetail.objects.select_related("case").get(external_ref="YQ-1")
    assert one.case.state == "closed" and one.level == "general" and one.case.department == ow.dept
    assert one.concluded_at.date().isoformat() in ("2026-03-02", "2026-03-03")
    two = OpinionDetail.objects.select_related("case").get(external_ref="YQ-2")
    assert two.case.state == "assessed" and two.level == "serious" and two.platform == "video"
    again = _run(client, _sheet(ROWS), django_capture_on_commit_callbacks)
    assert (again.created_count, again.unchanged_count) == (0, 2)
    assert OpinionDetail.objects.count() == 2
