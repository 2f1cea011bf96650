"""Excel import of a 街道's existing 隐患台账 through core's importer (spec ``hazards.ledger``).

The story: the 指挥中心 of a 街道 has kept its 隐患台账 in Excel (序号, 检查日期, 单位名称, 地址, 隐患类别, 隐患描述,
隐患等级, 整改期限, 整改责任人, 整改情况, 销号日期, 所属社区). It uploads the sheet; the rows become hazards in the state the
sheet gives — 已销号 ones closed on their 销号日期, open ones 整改中 with their 整改期限 running from the 检查日期 —
linked to the unit or building the name or address names, else a named street point. Bad rows are refused with
the row and the column; importing the same sheet again, or next month's version of it, creates nothing twice; a
另一街道 user cannot import into this 街道.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.cases.models import Case
from civicgrid.core import clock, importer
from civicgrid.core.models import ImportRun, ImportStatus
from civicgrid.hazards import imports as hazard_imports
from civicgrid.hazards import metrics
from civicgrid.hazards.models import HazardDetail
from tests.factories import CommunityFactory, GridFactory, StreetFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

SPEC = hazard_imports.SPEC_NAME
HEADER = [
    "序号",
    "检查日期",
    "检查对象/单位名称",
    "地址",
    "隐患类别",
    "隐患描述",
    "隐患等级",
    "整改期限",
    "整改责任人",
    "交办部门",
    "整改情况/状态",
    "销号日期",
    "所属社区",
]


@pytest.fixture(autouse=True)
def inline_runs(settings, tmp_path):
    settings.BACKGROUND_RUN_INLINE = True
    settings.DATA_DIR = tmp_path


def ago(days: int):
    return clock.local_now().date() - timedelta(days=days)


def local_midnight(day):
    return datetime.combine(day, time(0), tzinfo=clock.SHANGHAI)


def seven_day_start():
    """A 检查日期 about three weeks back whose 7th 自然日 is a working day, so that a 7-day 整改期限 ends on that day
    at 24:00 whatever today's date (ending on a rest day, it runs on to the next working day: tests/cases)."""
    import chinese_calendar

    return next(
        ago(back) for back in range(20, 40) if chinese_calendar.is_workday(ago(back) + timedelta(days=7))
    )


def sheet(rows, *, name="隐患台账.xlsx") -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["示范街道安全隐患排查整治台账"])
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    buf = BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue())


def ledger_rows(hw):
    c = hw.community.name
    return [
        [
            1,
            ago(60),
            "示范小吃店",
            "",
            "消防设施",
            "灭火器过期",
            "一般",
            ago(40),
            "王老板",
            "",
            "已销号",
            ago(50),
            c,
        ],
        [
            2,
            seven_day_start().isoformat(),
            "示范小区1幢",
            "",
            "电动车",
            "楼道内充电",
            "较大",
            "7天",
            "李四",
            "城管中队",
            "整改中",
            "",
            c,
        ],
        [
            3,
            ago(3),
            "老街早餐摊",
            "老街5号",
            "燃气/液化气",
            "液化气瓶无减压阀",
            "一般隐患",
            "",
            "",
            "",
            "未整改",
            "",
            c,
        ],
        [
            4,
            ago(10),
            "示范小吃店",
            "",
            "三合一",
            "阁楼住人",
            "重大",
            5,
            "王老板",
            "城管中队",
            "已整改",
            "",
            c,
        ],
    ]


def run_import(actor, upload, *, capture):
    job = importer.create_run(actor=actor, spec=SPEC, upload=upload)
    with capture(execute=True):
        importer.start_run(actor=actor, job=job)
    job.refresh_from_db()
    return job


def test_the_ledger_rows_become_hazards_in_their_states_with_their_dates(
    hw, django_capture_on_commit_callbacks
):
    job = run_import(hw.dispatcher, sheet(ledger_rows(hw)), capture=django_capture_on_commit_callbacks)
    assert job.status == ImportStatus.DONE, job.error
    assert (job.processed, job.created_count, job.failed) == (4, 4, 0)
    by_desc = {d.case.description: d for d in HazardDetail.objects.select_related("case")}

    closed = by_desc["灭火器过期"]
    assert closed.case.procedure == "hazard" and closed.case.state == "closed"
    assert closed.case.created_at == local_midnight(ago(60))  # 发现 on the 检查日期, not now
    assert closed.case.closed_at == local_midnight(ago(50))
    assert closed.target_unit == hw.shop and closed.target_kind == "unit"
    assert closed.rectify_due_at == local_midnight(ago(39))  # the 整改期限's 24:00
    assert closed.fixed_on_time is True and closed.responsible_person == "王老板"
    assert closed.case.street_id == hw.shop.grid.community.street_id and closed.case.grid == hw.grid

    fixing = by_desc["楼道内充电"]
    assert fixing.case.state == "fixing" and fixing.target_building == hw.block
    assert fixing.case.department == hw.dept and fixing.case.stage == "rectify"
    start = seven_day_start()
    assert fixing.case.clock_started_at == local_midnight(start)
    # 7 自然日 from the 检查日期: the start day is not counted, day 7 ends at 24:00
    assert fixing.case.due_at == local_midnight(start + timedelta(days=8))
    assert fixing.case.light == "red" and fixing.case.is_overdue  # overdue already: red at once

    point = by_desc["液化气瓶无减压阀"]
    assert point.case.state == "found" and point.target_kind == "point"
    assert point.target_name == "老街早餐摊" and point.case.address == "老街5号"
    assert point.case.community == hw.community and point.level == "general"

    review = by_desc["阁楼住人"]
    assert review.case.state == "review" and review.case.stage == "review" and review.level == "major"
    assert review.case.created_at == local_midnight(ago(10))

    # the timeline says where they came from; the figures count them by their own dates
    event = closed.case.events.get()
    assert event.move == "import" and event.note == "隐患台账导入"
    figures = metrics.figures(user=hw.dispatcher, start=ago(70), end=ago(45))
    assert (figures.found, figures.closed, figures.closed_on_time) == (1, 1, 1)


def test_bad_rows_are_refused_naming_row_and_column(hw, django_capture_on_commit_callbacks):
    c = hw.community.name
    rows = [
        [1, ago(5), "甲店", "", "不存在的类别", "描述1", "一般", "", "", "", "", "", c],
        [2, ago(5), "乙店", "", "消防设施", "描述2", "特别重大", "", "", "", "", "", c],
        [3, "2026-13-40", "丙店", "", "消防设施", "描述3", "一般", "", "", "", "", "", c],
        [4, ago(20), "丁店", "", "消防设施", "描述4", "重大", ago(5), "", "城管中队", "整改中", "", c],
        [5, ago(5), "戊店", "", "消防设施", "描述5", "一般", "", "", "", "", "", "火星社区"],
        [6, ago(5), "己店", "", "消防设施", "描述6", "一般", "", "", "", "已销号", "", c],
        [7, ago(5), "庚店", "", "消防设施", "描述7", "一般", "", "", "", "", "", c],
    ]
    job = importer.create_run(actor=hw.dispatcher, spec=SPEC, upload=sheet(rows))
    preview = {r.number: r for r in importer.preview_run(actor=hw.dispatcher, job=job)}
    problems = {
        n: r.row_problem or "；".join(c["problem"] for c in r.cells if c["problem"])
        for n, r in preview.items()
    }
    assert "隐患类别" in problems[3] and "不存在的类别" in problems[3]
    assert "隐患等级应为" in problems[4] and "特别重大" in problems[4]
    assert "检查日期" in problems[5] and "2026-13-40" in problems[5]
    assert "整改期限" in problems[6] and "1–7 个自然日" in problems[6] and "15 天" in problems[6]
    assert "所属社区" in problems[7] and "火星社区" in problems[7]
    assert "销号日期" in problems[8]
    assert preview[9].ok and preview[9].resolved["检查对象"].startswith("街面点位")
    with django_capture_on_commit_callbacks(execute=True):
        importer.start_run(actor=hw.dispatcher, job=job)
    job.refresh_from_db()
    assert (job.created_count, job.failed) == (1, 6)
    rejected = dict(job.errors.values_list("row_number", "reason"))
    assert set(rejected) == {3, 4, 5, 6, 7, 8} and "整改期限" in rejected[6]
    assert "所属社区" in rejected[7] and "隐患类别" in rejected[3]
    assert list(Case.objects.values_list("description", flat=True)) == ["描述7"]


def test_the_same_sheet_or_its_next_version_imports_nothing_twice(hw, django_capture_on_commit_callbacks):
    rows = ledger_rows(hw)
    first = run_import(hw.dispatcher, sheet(rows), capture=django_capture_on_commit_callbacks)
    again = run_import(hw.dispatcher, sheet(rows), capture=django_capture_on_commit_callbacks)
    assert (first.created_count, again.created_count, again.unchanged_count) == (4, 0, 4)
    # next month: renumbered, the 整改中 one now 销号, another spelling of a name's spaces, and one new row
    later = [list(r) for r in rows]
    for r in later:
        r[0] += 10
    later[1][10], later[1][11] = "已销号", ago(1)
    later[2][2] = "老街 早餐摊"
    later.append(
        [
            15,
            ago(2),
            "示范小吃店",
            "",
            "电动车",
            "电动车停放堵塞通道",
            "一般",
            "",
            "",
            "",
            "",
            "",
            hw.community.name,
        ]
    )
    third = run_import(
        hw.dispatcher, sheet(later, name="隐患台账（新）.xlsx"), capture=django_capture_on_commit_callbacks
    )
    assert (third.created_count, third.unchanged_count, third.failed) == (1, 4, 0)
    assert HazardDetail.objects.count() == 5 and Case.objects.count() == 5
    # the platform's own 办理 is what counts from the import on: the 整改中 hazard was not changed by the sheet
    assert HazardDetail.objects.get(case__description="楼道内充电").case.state == "fixing"
    key = HazardDetail.objects.get(case__description="灭火器过期").import_key
    assert key.startswith(f"{hw.shop.grid.community.street_id}:{ago(60):%Y%m%d}:")


def test_the_import_is_scoped_to_the_importers_street(hw, django_capture_on_commit_callbacks):
    other_street = StreetFactory(name="另一街道", code="other")
    other_community = CommunityFactory(street=other_street, name="另一社区")
    other_grid = GridFactory(community=other_community, col=9)
    UnitFactory(grid=other_grid, name="示范小吃店", address="别处1号")  # the same name in another 街道
    outsider = UserFactory(role="dispatcher", street=other_street)
    rows = ledger_rows(hw)
    job = importer.create_run(actor=outsider, spec=SPEC, upload=sheet(rows))
    preview = {r.number: r for r in importer.preview_run(actor=outsider, job=job)}
    assert all("所属社区" in preview[n].row_problem for n in (3, 4, 5, 6))
    # without the 所属社区 column it matches only its own 街道's unit
    bare = [r[:12] + [""] for r in rows[:1]]
    job = run_import(outsider, sheet(bare), capture=django_capture_on_commit_callbacks)
    assert job.created_count == 1
    d = HazardDetail.objects.get()
    assert d.case.street_id == other_street.pk and d.target_unit.grid == other_grid
    # the first 街道's view does not see it; a grid worker may not import at all
    assert not Case.objects.restrict(hw.dispatcher, "view").filter(pk=d.case_id).exists()
    assert SPEC not in [s.name for s in importer.importable_specs(user=hw.grid_worker)]
    assert SPEC in [s.name for s in importer.importable_specs(user=hw.dispatcher)]
    assert ImportRun.objects.filter(spec=SPEC).count() == 2


def test_the_desk_runs_the_import_through_the_wizard_pages(hw, client, django_capture_on_commit_callbacks):
    client.force_login(hw.dispatcher)
    ledger = client.get("/hazards/").content.decode()
    assert 'data-testid="hazard-import-link"' in ledger and f"/imports/{SPEC}/new/" in ledger
    assert "安全隐患台账" in client.get("/imports/").content.decode()
    rows = ledger_rows(hw) + [[5, ago(2), "甲店", "", "消防设施", "描述", "重大", "30天", "", "", "", "", ""]]
    response = client.post(f"/imports/{SPEC}/new/", {"file": sheet(rows)})
    assert response.status_code == 302
    job = ImportRun.objects.get(pk=int(response.url.rstrip("/").rsplit("/", 1)[1]))
    assert job.header_row == 2  # the title row above the header is skipped
    assert job.mapping["target_name"] == "检查对象/单位名称" and job.mapping["status"] == "整改情况/状态"
    page = client.get(f"/imports/runs/{job.pk}/").content.decode()
    assert 'data-testid="preview-ok">4<' in page and 'data-testid="preview-bad">1<' in page
    assert "第 7 行" in page and "整改期限：重大隐患的整改期限须在检查日期后 1–7 个自然日内" in page
    assert "导入后状态" in page and "已销号" in page and ">较大<" in page  # cells as written, not codes
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/imports/runs/{job.pk}/start/").status_code == 302
    job.refresh_from_db()
    assert (job.created_count, job.failed) == (4, 1)
    assert client.get(f"/exports/imports/{job.pk}/errors/").status_code == 200
    ledger = client.get("/hazards/").content.decode()
    assert all(text in ledger for text in ("灭火器过期", "楼道内充电", "液化气瓶无减压阀", "阁楼住人"))
    template = openpyxl.load_workbook(BytesIO(client.get(f"/imports/{SPEC}/template.xlsx").content))
    notes = "\n".join(str(c.value) for row in template["填写说明"].iter_rows() for c in row if c.value)
    assert "同一检查日期" in notes and "不会重复建档" in notes

    client.force_login(hw.grid_worker)  # a 网格员 records inspections, but does not import ledgers
    assert client.get(f"/imports/{SPEC}/new/").status_code == 403
    assert 'data-testid="hazard-import-link"' not in client.get("/hazards/").content.decode()
