"""The pages per role (list with filters and totals, forms, Excel) and the imports through /imports/ (row errors
naming the row and field, idempotent rerun)."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.accounts.roles import Role
from civicgrid.activities.models import Activity, EmergencyPlan, TimeBankEntry, Volunteer
from civicgrid.core.models import ImportLedger, ImportRun, ImportRunError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def inline_runs(settings, tmp_path):
    settings.BACKGROUND_RUN_INLINE = True
    settings.DATA_DIR = tmp_path


def _xlsx(header, rows) -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("台账.xlsx", buf.getvalue())


def _run(client, spec, header, rows, capture) -> tuple[ImportRun, str]:
    resp = client.post(f"/imports/{spec}/new/", {"file": _xlsx(header, rows)})
    assert resp.status_code == 302, resp.content.decode()[:500]
    run = ImportRun.objects.get(pk=int(resp.url.rstrip("/").rsplit("/", 1)[1]))
    preview = client.get(f"/imports/runs/{run.pk}/").content.decode()
    with capture(execute=True):
        assert client.post(f"/imports/runs/{run.pk}/start/").status_code == 302
    run.refresh_from_db()
    return run, preview


def _sheet(response) -> list[list]:
    wb = openpyxl.load_workbook(BytesIO(b"".join(response.streaming_content)))
    return [list(r) for r in wb.active.iter_rows(values_only=True)]


@pytest.mark.parametrize("role", list(Role))
def test_pages_per_role(aw, client, role):
    user = aw.by_role(role)
    client.force_login(user)
    urls = ["/activities/", "/activities/plans/", "/activities/volunteers/", f"/activities/{aw.own.pk}/"]
    codes = [client.get(u).status_code for u in urls]
    if role in (Role.DEPT_HANDLER, Role.AUDIT_ADMIN):
        assert codes == [403, 403, 403, 403]
        return
    assert codes == [200, 200, 200, 200]
    listing = client.get("/activities/").content.decode()
    assert "本社区议事会" in listing
    assert ("外社区文艺汇演" in listing) is (role not in (Role.GRID_WORKER, Role.COMMUNITY_STAFF))
    writer = role in (Role.COMMUNITY_STAFF, Role.LEADER, Role.SYSTEM_ADMIN)
    assert ('data-testid="activity-new"' in listing) is writer
    assert client.get("/activities/new/").status_code == (200 if writer else 403)
    detail = client.get(f"/activities/{aw.own.pk}/").content.decode()
    assert ('data-testid="activity-form"' in detail) is writer
    if role == Role.COMMUNITY_STAFF:  # another 社区's activity: not found
        assert client.get(f"/activities/{aw.other.pk}/").status_code == 404


def test_list_filters_totals_and_export(aw, client):
    client.force_login(aw.leader)
    page = client.get("/activities/?kind=drill").content.decode()
    assert 'data-testid="total-attendance">80<' in page and "本社区议事会" not in page
    page = client.get(f"/activities/?community={aw.community.pk}").content.decode()
    assert 'data-testid="total-sessions">2<' in page and 'data-testid="total-households">12<' in page
    assert 'data-testid="total-count">0<' in client.get("/activities/?start=2026-03-16").content.decode()
    assert (
        'data-testid="total-count">3<'
        in client.get("/activities/?start=2026-03-15&end=2026-03-15").content.decode()
    )
    assert client.get("/activities/?start=bad&kind=x&community=abc").status_code == 200
    rows = _sheet(client.get("/activities/export.xlsx?kind=drill"))
    assert rows[0][:4] == ("日期", "活动名称", "地点", "类型") or rows[0][:4] == [
        "日期",
        "活动名称",
        "地点",
        "类型",
    ]
    assert [r[1] for r in rows[1:]] == ["街道消防演练"]


def test_form_creates_and_names_the_bad_field(aw, client):
    client.force_login(aw.community_staff)
    post = {"name": "垃圾分类宣传", "kind": "publicity", "date": "2026-04-01", "place": "活动室", "sessions": "1",
            "attendance": "45", "households": "30", "materials": "200"}  # fmt: skip
    resp = client.post("/activities/new/", post | {"end_date": "2026-03-01"})
    assert resp.status_code == 200 and 'data-field="end_date"' in resp.content.decode()
    resp = client.post("/activities/new/", post)
    a = Activity.objects.get(name="垃圾分类宣传")
    assert resp.status_code == 302 and a.community == aw.community and a.materials == 200
    assert client.post(f"/activities/{a.pk}/delete/").status_code == 302
    assert not Activity.objects.filter(pk=a.pk).exists()
    # another 社区's row: 404 on edit and delete
    assert client.post(f"/activities/{aw.other.pk}/", post).status_code == 404
    assert client.post(f"/activities/{aw.other.pk}/delete/").status_code == 404


def test_plan_and_volunteer_pages(aw, client):
    client.force_login(aw.leader)
    resp = client.post("/activities/plans/new/", {"name": "防汛预案", "level": "special", "issued_on": "2024-01-01",
                                                  "review_months": "12"})  # fmt: skip
    assert resp.status_code == 302
    page = client.get("/activities/plans/").content.decode()
    assert "防汛预案" in page and "2025-01-01" in page and 'data-testid="plan-overdue">1<' in page
    assert client.post("/activities/plans/new/", {"name": "x", "level": "community", "issued_on": "2024-01-01"}
                       ).content.decode().count('data-field="community"') == 1  # fmt: skip
    assert _sheet(client.get("/activities/plans/export.xlsx"))[1][-1] == "是"
    resp = client.post(
        "/activities/volunteers/new/", {"name": "赵志愿", "phone": "13812345678", "is_active": "1"}
    )
    v = Volunteer.objects.get(name="赵志愿")
    assert resp.status_code == 302 and v.community is None
    client.post(
        f"/activities/volunteers/{v.pk}/entries/", {"date": "2026-05-01", "kind": "earn", "hours": "4"}
    )
    resp = client.post(
        f"/activities/volunteers/{v.pk}/entries/", {"date": "2026-05-02", "kind": "spend", "hours": "5"}
    )
    assert resp.status_code == 400 and 'data-field="hours"' in resp.content.decode()
    page = client.get("/activities/volunteers/").content.decode()
    assert "138****5678" in page and "13812345678" not in page
    assert _sheet(client.get("/activities/volunteers/export.xlsx"))[1][1:2] in (
        ("138****5678",),
        ["138****5678"],
    )
    assert TimeBankEntry.objects.filter(volunteer=v).count() == 1


ACTIVITY_HEADER = [
    "活动日期",
    "名称",
    "活动地点",
    "活动类型",
    "所属社区",
    "场次",
    "参与人次",
    "覆盖户数",
    "发放资料",
]


def test_activity_import_row_errors_and_idempotent(aw, client, django_capture_on_commit_callbacks):
    client.force_login(aw.leader)
    c, other = aw.community.name, aw.other_community.name
    rows = [
        ["2026-05-04", "青年志愿服务日", "社区广场", "志愿服务", c, 1, 60, 0, 0],
        ["2026/5/12", "防灾减灾演练", "小学操场", "演练", "", 2, 300, 0, 500],
        ["2026-05-20", "共建签约", "街道会议室", "共建", other, 1, 20, 0, 0],
        ["2026-05-21", "未知类型", "某地", "聚餐", c, 1, 10, 0, 0],  # bad kind
        ["2026-05-22", "负人次", "某地", "文体", c, 1, -5, 0, 0],  # negative
        ["2026-05-23", "错社区", "某地", "文体", "不存在社区", 1, 5, 0, 0],  # unknown 社区
        ["2999-01-01", "未来活动", "某地", "文体", c, 1, 5, 0, 0],  # future
    ]
    run, preview = _run(
        client, "activities.activities", ACTIVITY_HEADER, rows, django_capture_on_commit_callbacks
    )
    assert "类型应为" in preview and "人次不能小于 0" in preview
    assert (run.created_count, run.failed) == (3, 4)
    errors = list(ImportRunError.objects.filter(job=run).order_by("pk").values_list("row_number", "reason"))
    by_row = dict(errors)
    assert "社区：「不存在社区」不存在或不在您的辖区" in by_row[7] and "日期：日期不得晚于今天" in by_row[8]
    assert Activity.objects.get(name="防灾减灾演练").date == date(2026, 5, 12)
    assert Activity.objects.get(name="防灾减灾演练").community is None
    again, _ = _run(
        client, "activities.activities", ACTIVITY_HEADER, rows[:3], django_capture_on_commit_callbacks
    )
    assert (again.created_count, again.updated_count) == (0, 0)
    rows[0][6] = 80  # a changed row updates its activity
    third, _ = _run(
        client, "activities.activities", ACTIVITY_HEADER, rows[:1], django_capture_on_commit_callbacks
    )
    assert third.updated_count == 1 and Activity.objects.get(name="青年志愿服务日").attendance == 80


def test_staff_imports_into_own_community_only(aw, client, django_capture_on_commit_callbacks):
    client.force_login(aw.community_staff)
    rows = [["2026-06-01", "本社区宣传", "活动室", "宣讲/宣传", "", 1, 10, 5, 50],
            ["2026-06-02", "越界活动", "外社区", "文体", aw.other_community.name, 1, 10, 0, 0]]  # fmt: skip
    run, _ = _run(client, "activities.activities", ACTIVITY_HEADER, rows, django_capture_on_commit_callbacks)
    assert (run.created_count, run.failed) == (1, 1)
    assert Activity.objects.get(name="本社区宣传").community == aw.community
    client.force_login(aw.grid_worker)
    assert (
        client.post("/imports/activities.activities/new/", {"file": _xlsx(ACTIVITY_HEADER, [])}).status_code
        == 403
    )


def test_plan_and_volunteer_imports(aw, client, django_capture_on_commit_callbacks):
    client.force_login(aw.leader)
    header = ["预案名称", "级别", "印发日期", "复核日期", "复核周期", "牵头部门", "社区"]
    rows = [["街道突发事件总体应急预案", "总体", "2023-03-01", "2026-03-01", "", "应急办", ""],
            ["社区防汛预案", "社区", "2024-05-01", "", 6, "社区", aw.community.name],
            ["无社区的社区预案", "社区预案", "2024-05-01", "", "", "", ""]]  # fmt: skip
    run, _ = _run(client, "activities.plans", header, rows, django_capture_on_commit_callbacks)
    assert (run.created_count, run.failed) == (2, 1)
    assert "社区：社区预案须选择社区" in ImportRunError.objects.get(job=run).reason
    assert EmergencyPlan.objects.get(name="社区防汛预案").review_months == 6
    header = ["志愿者姓名", "手机", "所属社区", "特长", "注册日期"]
    rows = [["孙丽", "13700001111", aw.community.name, "理发", "2025-03-01"],
            ["周强", "12", aw.community.name, "", ""]]  # fmt: skip
    run, preview = _run(client, "activities.volunteers", header, rows, django_capture_on_commit_callbacks)
    assert (run.created_count, run.failed) == (1, 1) and "联系电话：联系电话应为 7–12 位数字" in preview
    assert "13700001111" not in repr(list(ImportLedger.objects.values_list("key", flat=True)))
    again, _ = _run(client, "activities.volunteers", header, rows[:1], django_capture_on_commit_callbacks)
    assert (again.created_count, again.updated_count) == (0, 0)
