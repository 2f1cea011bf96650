"""The 人员台账 import through /imports/ (mapping, preview, row errors naming the column, idempotent by the ID
number's keyed hash; the clear number never stored in the ledger or the error report) and the figures on
hand-built data with known answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.core import clock
from civicgrid.core.models import AuditLog, ImportLedger, ImportRun, ImportRunError, ImportStatus
from civicgrid.registers import crypto, metrics, services
from civicgrid.registers.models import Person, Visit
from tests.factories import StreetFactory, UserFactory
from tests.registers.conftest import id_number

pytestmark = pytest.mark.django_db

HEADER = ["序号", "姓名", "公民身份号码", "户籍/常住/流动", "所属网格", "楼栋", "室号", "手机", "人员标签"]


@pytest.fixture(autouse=True)
def inline_runs(settings, tmp_path):
    settings.BACKGROUND_RUN_INLINE = True
    settings.DATA_DIR = tmp_path


def _xlsx(rows) -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["示范社区人员花名册"])
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    buf = BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("人员花名册.xlsx", buf.getvalue())


def _run(client, rows, django_capture_on_commit_callbacks) -> ImportRun:
    resp = client.post("/imports/registers.persons/new/", {"file": _xlsx(rows)})
    assert resp.status_code == 302, resp.content.decode()[:500]
    run = ImportRun.objects.get(pk=int(resp.url.rstrip("/").rsplit("/", 1)[1]))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/imports/runs/{run.pk}/start/").status_code == 302
    run.refresh_from_db()
    return run


def test_import_preview_errors_and_idempotent_rerun(rw, client, django_capture_on_commit_callbacks):
    client.force_login(rw.community_staff)
    g = rw.grid.code
    rows = [
        [1, "张三", id_number(101), "户籍", g, "示范小区1幢", "401", "13900000001", "低保、残疾"],
        [2, "李四", id_number(102), "流动人口", g, "", "", "", ""],
        [3, "王五", "330106195001011230", "常住", g, "", "", "", ""],  # bad check digit
        [4, "赵六", id_number(104), "常住", g, "", "", "", "外星人"],  # unknown tag
        [5, "钱七", id_number(105), "常住", rw.other_grid.code, "", "", "", ""],  # not the staff's 社区
        [
            6,
            "王阿婆",
            id_number(1),
            "户籍",
            g,
            "示范小区1幢",
            "302",
            "13812345678",
            "独居高龄",
        ],  # existing: update
    ]
    resp = client.post("/imports/registers.persons/new/", {"file": _xlsx(rows)})
    run = ImportRun.objects.get(pk=int(resp.url.rstrip("/").rsplit("/", 1)[1]))
    page = client.get(f"/imports/runs/{run.pk}/").content.decode()
    assert (
        '<option value="公民身份号码" selected>' in page
        and '<option value="户籍/常住/流动" selected>' in page
    )
    assert "身份证号：身份证号校验位不正确" in page and "标签：未知标签 外星人" in page
    # (the header-row chooser of the core wizard echoes the uploader's own rows; the row errors mask the number)
    assert "身份证号校验位不正确（3301**********1230）" in page
    assert not Person.objects.filter(name="张三").exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/runs/{run.pk}/start/")
    run.refresh_from_db()
    # (the ledger counts a key it has not seen as created; 王阿婆 is updated in place, not duplicated)
    assert (run.created_count, run.failed) == (3, 3)
    assert Person.objects.filter(id_hash=rw.granny.id_hash).count() == 1
    errors = list(
        ImportRunError.objects.filter(job=run).order_by("row_number").values_list("reason", flat=True)
    )
    assert any("网格编码" in e and "不在您的辖区" in e for e in errors)
    zhang = Person.objects.get(name="张三")
    assert zhang.household.room == "401" and {t.code for t in zhang.tags.all()} == {"dibao", "canji"}
    assert crypto.decrypt(zhang.id_cipher) == id_number(101) and zhang.phone_masked == "139****0001"
    assert Person.objects.get(name="李四").floating_status == "registered"
    # the ledger and the trail keep only the keyed hash / masked forms
    stored = (
        repr(list(ImportLedger.objects.values_list("key", flat=True)))
        + repr(list(AuditLog.objects.values_list("before", "after")))
        + repr(errors)
    )
    assert "330106195001011230" not in stored
    assert id_number(101) not in stored and crypto.search_hash(id_number(101)) in stored
    # the same file again changes nothing
    again = _run(client, rows, django_capture_on_commit_callbacks)
    assert (again.created_count, again.updated_count) == (0, 0) and again.status == ImportStatus.PARTIAL
    assert Person.objects.count() == 5  # 3 of the world + 张三 + 李四


def test_a_grid_worker_and_a_dispatcher_cannot_import(rw, client):
    for user in (rw.grid_worker, rw.dispatcher):
        client.force_login(user)
        assert client.get("/imports/registers.persons/new/").status_code == 403


def _at(day, hour=10):
    return datetime.combine(day, datetime.min.time(), tzinfo=clock.SHANGHAI).replace(hour=hour)


def test_figures_on_hand_built_data(rw):
    """Known answers: 2 visits (one covering 2 people) → 3 人次; 采集 counts the 网格员's creates and updates only;
    of 2 重点人员 at the end date 1 is on time; of 2 注销 1 within 7 days of leaving."""
    today = clock.local_now().date()
    start, end = today - timedelta(days=10), today
    worker = rw.grid_worker
    # 重点人员 2: 张特困 (特困, 30 days) registered 40 days ago, never visited → overdue
    zhang = services.create_person(
        actor=worker,
        data=services.PersonInput(
            name="张特困", id_number=id_number(20), residence="huji", household=rw.household, tags=("tekun",)
        ),
    )
    Person.objects.filter(pk__in=[zhang.pk, rw.granny.pk]).update(created_at=clock.now() - timedelta(days=40))
    # visits: the household (王阿婆 + the tenant met) 3 days ago, a building visit 5 days ago (nobody on the register)
    v1 = services.record_visit(
        actor=worker, target_kind="household", target_id=rw.household.pk, method="home",
        person_ids=[rw.granny.pk], visited_at=clock.now() - timedelta(days=3),
    )  # fmt: skip
    services.record_visit(actor=worker, target_kind="building", target_id=rw.block.pk, method="door",
                          visited_at=clock.now() - timedelta(days=5))  # fmt: skip
    v1.persons.add(rw.tenant)  # (2 people covered; the tenant is no 重点人员)
    Visit.objects.filter(pk=v1.pk).update(visited_at=_at(today - timedelta(days=3)))
    # a visit before the period does not count
    old = services.record_visit(actor=worker, target_kind="person", target_id=rw.granny.pk, method="phone")
    Visit.objects.filter(pk=old.pk).update(visited_at=_at(start - timedelta(days=1)))
    # 采集: the 网格员 updates 王阿婆 once (+1) and a 社区工作人员 updates her (not counted)
    services.update_person(actor=worker, person=rw.granny, phone="13700000000")
    services.update_person(actor=rw.community_staff, person=rw.granny, phone="13700000001")
    # 流动人口: two cancelled in the period, one 3 days after leaving, one 9 days after
    services.move_floating(actor=worker, person=rw.tenant, move="list")
    services.move_floating(
        actor=worker,
        person=rw.tenant,
        move="cancel",
        on=today - timedelta(days=1),
        left_on=today - timedelta(days=4),
    )
    late = services.create_person(
        actor=worker,
        data=services.PersonInput(
            name="周流动", id_number=id_number(21), residence="floating", grid_id=rw.grid.pk
        ),
    )
    services.move_floating(actor=worker, person=late, move="list")
    services.move_floating(
        actor=worker, person=late, move="cancel", on=today, left_on=today - timedelta(days=9)
    )

    fig = metrics.figures(user=rw.leader, start=start, end=end)
    assert (fig.visit_count, fig.visit_person_times) == (2, 3)
    # the grid worker's creates (household, 王阿婆, 李流动, 张特困, 周流动) + update of 王阿婆 + 4 floating moves
    # (the other worker's 赵外格 also counts for the leader: same 街道)
    assert fig.collected == 5 + 1 + 4 + 1
    assert metrics.figures(user=worker, start=start, end=end).collected == 10
    assert (fig.key_persons, fig.key_on_time, fig.key_on_time_rate) == (2, 1, 50.0)
    assert (fig.cancelled, fig.cancelled_on_time, fig.cancel_on_time_rate) == (2, 1, 50.0)
    # the other community's grid worker sees only their own world
    other = metrics.figures(user=rw.other_worker, start=start, end=end)
    assert (other.visit_count, other.collected, other.key_persons) == (0, 1, 0)
    # an empty period has no rates (not 0 %, not 100 %)
    empty = metrics.figures(
        user=UserFactory(role="leader", street=StreetFactory(code="330106099")), start=start, end=end
    )
    assert empty.key_on_time_rate is None and empty.cancel_on_time_rate is None
