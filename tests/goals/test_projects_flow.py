"""Milestones (planned vs actual, lateness, the Gantt's positions), a problem raised on a project becoming a 工单,
电梯加装 items and their stage counts, the 民生微实事 flow (a 街道 skipping and renaming steps), the "平台计算"
indicators fed by the metrics module, and the catalogue import — each on hand-built data with known answers."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal as D

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.cases.models import Case
from civicgrid.core import clock, importer
from civicgrid.core.errors import ValidationFailed
from civicgrid.goals import metrics, selectors, services, workflow
from civicgrid.goals.models import Actual, Indicator, MicroFlowStep, ProjectMilestone, Scorecard
from civicgrid.metrics.models import DailyRollup

pytestmark = pytest.mark.django_db

TODAY = datetime(2026, 10, 15, 10, 0, tzinfo=clock.SHANGHAI)


# --- pure rules -------------------------------------------------------------------------------------------


def test_milestone_states_on_known_dates():
    today = date(2026, 10, 15)
    s = metrics.milestone_state
    assert s(date(2026, 3, 1), date(2026, 2, 27), today).code == "done"
    assert s(date(2026, 3, 1), date(2026, 3, 11), today).label == "延期10天完成"
    assert s(date(2026, 10, 5), None, today).label == "逾期10天未完成"
    assert s(date(2026, 12, 1), None, today).code == "pending"
    assert s(None, None, today).label == "未定计划"  # a missing milestone
    assert s(None, date(2026, 1, 1), today).code == "done"
    axis = metrics.span([date(2026, 2, 10), None, date(2026, 11, 3)])
    assert axis == (date(2026, 2, 1), date(2026, 11, 30))
    assert metrics.position(date(2026, 2, 1), axis) == D("0.00")
    assert metrics.position(date(2026, 7, 2), axis) == D("49.83")  # day 151 of 303


def test_micro_flow_table_skips_disabled_steps_and_raises():
    assert workflow.apply("collect", "advance", workflow.FLOW) == "deliberate"
    assert workflow.apply("review", "advance", workflow.FLOW) == "closed"
    no_debate = [s for s in workflow.FLOW if s != "deliberate"]
    assert workflow.apply("collect", "advance", no_debate) == "decide"
    assert workflow.apply("accept", "advance", ["collect", "decide", "implement", "accept"]) == "closed"
    assert workflow.apply("deliberate", "drop", workflow.FLOW) == "dropped"
    with pytest.raises(workflow.TransitionError, match="「实施」阶段不能「不予采纳」"):
        workflow.apply("implement", "drop", workflow.FLOW)
    with pytest.raises(workflow.TransitionError):
        workflow.apply("closed", "advance", workflow.FLOW)
    with pytest.raises(workflow.TransitionError):
        workflow.apply("collect", "jump", workflow.FLOW)
    assert [workflow.is_decided(s) for s in ("deliberate", "decide", "review", "closed", "dropped")] == [
        False,
        True,
        True,
        True,
        False,
    ]
    with pytest.raises(workflow.TransitionError, match="已投用"):
        workflow.next_stage("in_use")


# --- milestones and the Gantt -----------------------------------------------------------------------------


def test_milestones_saved_with_lateness_and_on_the_gantt(gw):
    with clock.frozen(TODAY):
        services.save_milestones(
            actor=gw.leader,
            project=gw.plant,
            rows={
                "permit": {"planned": "2026-02-01", "actual": "2026-01-28"},
                "start": {"planned": "2026-03-01", "actual": "2026-03-21"},
                "ground": {"planned": "2026-06-30", "actual": None},
                "topped": {"planned": "2026-11-30"},
            },
        )
        lines = {m.kind: m for m in selectors.milestones_of(gw.plant)}
        assert [lines[k].state.code for k in ("permit", "start", "ground", "topped", "completed")] == [
            "done",
            "late_done",
            "overdue",
            "pending",
            "missing",
        ]
        assert lines["ground"].state.days_late == 107
        g = selectors.gantt(user=gw.leader, year=2026)
        assert g.axis == (date(2026, 1, 1), date(2026, 11, 30))
        row = next(r for r in g.rows if r.project == gw.plant)
        assert (row.late, row.missing) == (2, 2)  # 开工 late, 正负零 overdue; 竣工, 交付 without a plan
        assert [m.label for m in row.planned] == ["施工许可", "开工", "正负零", "主体结顶"]
        assert row.plan_bar[0] == metrics.position(date(2026, 2, 1), g.axis)
        # unfinished: the actual bar runs to today
        assert row.actual_bar[0] + row.actual_bar[1] == g.today
        assert other_street_never_on_gantt(gw)
        # a future actual date is refused, naming the field; clearing a 节点 removes it
        with pytest.raises(ValidationFailed) as exc:
            services.save_milestones(
                actor=gw.leader, project=gw.plant, rows={"ground": {"actual": "2026-12-01"}}
            )
        assert exc.value.field == "ground_actual"
        with pytest.raises(ValidationFailed, match="日期格式不正确"):
            services.save_milestones(actor=gw.leader, project=gw.plant, rows={"ground": {"planned": "6月"}})
        services.save_milestones(actor=gw.leader, project=gw.plant, rows={"topped": {"planned": ""}})
        assert set(ProjectMilestone.objects.filter(project=gw.plant).values_list("kind", flat=True)) == {
            "permit",
            "start",
            "ground",
        }


def other_street_never_on_gantt(gw) -> bool:
    ProjectMilestone.objects.create(project=gw.other_project, kind="start", planned=date(2026, 5, 1))
    return all(r.project != gw.other_project for r in selectors.gantt(user=gw.leader, year=2026).rows)


def test_a_problem_on_a_project_becomes_a_case(gw):
    issue = services.raise_issue(actor=gw.dispatcher, project=gw.plant, text="高压线迁改未完成，影响桩基施工")
    case = Case.objects.get(pk=issue.case_id)
    assert case.street_id == gw.street.pk
    assert case.description == "【重点项目问题】智能制造产业园：高压线迁改未完成，影响桩基施工"
    assert case.source_ref == f"重点项目#{gw.plant.pk}"
    with pytest.raises(ValidationFailed, match="请描述"):
        services.raise_issue(actor=gw.dispatcher, project=gw.plant, text="  ")


# --- 电梯加装 items ---------------------------------------------------------------------------------------


def test_elevator_items_drive_the_stage_counts(gw):
    for n, stage in enumerate(["in_use", "in_use", "pending", "building", "applied"]):
        services.add_stage_item(
            actor=gw.leader,
            project=gw.lift,
            name=f"翠苑一区{n + 1}幢",
            stage=stage,
            households=12,
            floor_area="1350.5",
        )
    gw.lift.refresh_from_db()
    assert metrics.stage_sentence("elevator", gw.lift.stages) == (
        "2台已投入使用，1台已完工待交付，1台正在施工，1台正在按程序申报"
    )
    assert (gw.lift.households, gw.lift.floor_area) == (60, D("6752.50"))
    item = gw.lift.stage_items.get(name="翠苑一区5幢")
    services.advance_stage_item(actor=gw.leader, item=item)
    gw.lift.refresh_from_db()
    assert (gw.lift.stage_building, gw.lift.stage_applied) == (2, 0)
    board = selectors.board(user=gw.leader, year=2026, month=9)
    block = next(c for c in board.categories if c.code == "elevator")
    assert block.stages == "2台已投入使用，1台已完工待交付，2台正在施工"
    with pytest.raises(ValidationFailed, match="已投用"):
        services.advance_stage_item(actor=gw.leader, item=gw.lift.stage_items.get(name="翠苑一区1幢"))
    with pytest.raises(ValidationFailed, match="只有电梯加装"):
        services.add_stage_item(actor=gw.leader, project=gw.plant, name="x")
    with pytest.raises(ValidationFailed, match="户数"):
        services.add_stage_item(actor=gw.leader, project=gw.lift, name="y", households="1.5")


# --- 民生微实事 -------------------------------------------------------------------------------------------


def test_micro_flow_counts_the_decided_items_and_follows_the_street_setting(gw):
    MicroFlowStep.objects.create(street=gw.street, step="deliberate", label="居民议事会", enabled=True)
    MicroFlowStep.objects.create(street=gw.street, step="review", enabled=False)  # this 街道 skips 评议
    items = [
        services.create_micro(
            actor=gw.leader, year=2026, name=f"微实事{n}", community="翠苑社区", budget="8.5"
        )
        for n in range(4)
    ]
    a, b, c, d = items
    for _ in range(2):
        a = services.move_micro(actor=gw.leader, item=a, move="advance")
    assert a.step == "decide"
    flow = selectors.micro_flow(street_id=gw.street.pk)
    assert flow.steps[1] == ("deliberate", "居民议事会")
    assert "review" not in flow.enabled
    for _ in range(4):  # 居民议事会, 确定, 实施, 验收
        b = services.move_micro(actor=gw.leader, item=b, move="advance")
    b = services.move_micro(actor=gw.leader, item=b, move="advance")  # 验收 → 办结 (评议 skipped)
    assert b.step == "closed"
    with pytest.raises(ValidationFailed, match="理由"):
        services.move_micro(actor=gw.leader, item=c, move="drop")
    c = services.move_micro(actor=gw.leader, item=c, move="drop", note="不属于微实事范围")
    assert [(lg.from_step, lg.to_step) for lg in c.log.all()] == [("collect", "dropped")]
    mb = selectors.micro_board(user=gw.leader, year=2026)
    assert mb.sentence == "确定2026年民生微实事项目2件"
    assert mb.counts == {"decide": 1, "closed": 1, "dropped": 1, "collect": 1}
    assert selectors.micro_board(user=gw.other_leader, year=2026).items == []
    with pytest.raises(ValidationFailed, match="同名"):
        services.create_micro(actor=gw.leader, year=2026, name="微实事0")


# --- platform-computed indicators -------------------------------------------------------------------------


def _rollup(street, day, **counters):
    DailyRollup.objects.create(day=day, street_id=street.pk, **counters)


def test_a_computed_indicator_takes_its_figure_from_the_metrics_module(gw):
    sat = Indicator.objects.create(
        scorecard=gw.card,
        seq=4,
        name="12345 热线满意率",
        unit="%",
        basis="ratio",
        target_growth=D(95),
        source="computed",
        metric="satisfaction_rate",
    )
    done = Indicator.objects.create(
        scorecard=gw.card,
        seq=5,
        name="办结工单",
        unit="件",
        source="computed",
        metric="done",
        target_total=D(100),
    )
    _rollup(gw.street, date(2026, 1, 5), rated=40, rated_satisfied=30, rated_basic=8, done=10)
    _rollup(gw.street, date(2026, 9, 30), rated=60, rated_satisfied=50, rated_basic=6, done=20)
    _rollup(gw.street, date(2026, 10, 2), rated=100, rated_satisfied=0, done=50)  # after September
    _rollup(gw.other, date(2026, 3, 1), rated=100, rated_satisfied=0, done=99)  # another 街道
    _rollup(gw.street, date(2025, 6, 1), done=24)  # last year's same period
    from civicgrid.metrics import services as metric_services

    metric_services.rebuild_cube()  # the coarse level the 街道-wide figures read, from the rows above
    with clock.frozen(TODAY):
        row = services.recompute_indicator(actor=gw.leader, indicator=sat, month=9)
        assert row.ytd_total == D("94.00")  # (38 + 56) / 100
        assert row.source == "computed" and "满意率" in row.note
        row = services.recompute_indicator(actor=gw.leader, indicator=done, month=9)
        assert (row.ytd_total, row.prior_ytd, row.ytd_growth) == (D(30), D(24), D("25.00"))
        # the daily job: September (last month) and October so far
        assert services.recompute_due() == 4
        assert Actual.objects.get(indicator=done, month=10).ytd_total == D(80)
    line = next(x for x in selectors.summary(scorecard=gw.card, month=9).lines if x.indicator == sat)
    assert line.status.light == "yellow"  # 94 vs 95 within 5 points
    assert selectors.metric_of(sat).formula.startswith("期内办结的工单中")
    with pytest.raises(ValidationFailed, match="不是“平台计算”"):
        services.recompute_indicator(actor=gw.leader, indicator=gw.gdp, month=9)


# --- the catalogue import ---------------------------------------------------------------------------------

CATALOGUE_HEAD = [
    "序号",
    "指标名称",
    "单位",
    "口径",
    "目标总量",
    "目标增幅",
    "责任科室",
    "分管领导",
    "方向",
    "权重",
    "街道",
    "年度",
    "平台指标",
]
CATALOGUE = [
    [1, "地区生产总值", "亿元", "总量", 130, 6.5, "经济发展办", "王主任", "越高越好", 5, "甲街道", 2027, ""],
    [2, "较大安全事故", "起", "总量", 0, None, "应急管理办", "陈委员", "越低越好", 3, "甲街道", 2027, ""],
    [3, "12345 满意率", "%", "比率", None, 95, "指挥室", "陈委员", "", 3, "甲街道", 2027, "满意率"],
    [4, "坏口径", "", "随便", None, None, "", "", "", "", "甲街道", 2027, ""],
    [5, "乙的指标", "", "总量", 1, None, "", "", "", "", "乙街道", 2027, ""],
    [6, "坏方向", "", "", 1, None, "", "", "向上", "", "甲街道", 2027, ""],
]


def _sheet(rows) -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2027年考核指标目录"])
    ws.append(CATALOGUE_HEAD)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("目录.xlsx", buf.getvalue())


def _run(actor, rows, capture):
    job = importer.create_run(actor=actor, spec="goals.catalogue", upload=_sheet(rows))
    with capture(execute=True):
        importer.start_run(actor=actor, job=job)
    job.refresh_from_db()
    return job


def test_the_catalogue_imports_with_row_errors_and_is_idempotent(
    gw, settings, django_capture_on_commit_callbacks
):
    settings.BACKGROUND_RUN_INLINE = True
    job = importer.create_run(actor=gw.leader, spec="goals.catalogue", upload=_sheet(CATALOGUE))
    assert job.mapping["target_total"] == "目标总量" and job.mapping["higher"] == "方向"
    preview = {r.number: r for r in importer.preview_run(actor=gw.leader, job=job)}
    assert "口径应为" in str(preview[6].cells) + preview[6].row_problem
    job = _run(gw.leader, CATALOGUE, django_capture_on_commit_callbacks)
    card = Scorecard.objects.get(street=gw.street, year=2027)
    got = {i.seq: i for i in card.indicators.all()}
    assert set(got) == {1, 2, 3}
    assert (got[1].target_total, got[1].target_growth, got[1].weight) == (D(130), D("6.5"), D(5))
    assert got[2].higher_is_better is False and got[2].target_total == 0
    assert (got[3].basis, got[3].source, got[3].metric) == ("ratio", "computed", "satisfaction_rate")
    assert not Scorecard.objects.filter(street=gw.other, year=2027).exists()  # 乙街道: not in the tier
    assert job.failed == 3
    again = _run(gw.leader, CATALOGUE[:3], django_capture_on_commit_callbacks)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    fixed = [list(CATALOGUE[0]), *CATALOGUE[1:3]]
    fixed[0][4] = 131
    third = _run(gw.leader, fixed, django_capture_on_commit_callbacks)
    assert third.updated_count == 1
    assert Indicator.objects.get(scorecard=card, seq=1).target_total == D(131)


def test_the_admin_refuses_a_computed_indicator_without_a_known_metric(gw, client):
    from tests.factories import UserFactory

    admin_user = UserFactory(role="system_admin", street=gw.street, is_staff=True)
    client.force_login(admin_user)
    url = f"/admin/goals/indicator/{gw.gdp.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = {
        "scorecard": gw.card.pk,
        "seq": 1,
        "name": "地区生产总值",
        "basis": "total",
        "weight": "1",
        "source": "computed",
        "metric": "gdp",
        "forecast_mode": "auto",
        "higher_is_better": "on",
        "actuals-TOTAL_FORMS": "0",
        "actuals-INITIAL_FORMS": "0",
    }
    r = client.post(url, data)
    assert r.status_code == 200 and "须选择统计模块中的指标" in r.content.decode()
    r = client.post(url, {**data, "metric": "satisfaction_rate"})
    assert r.status_code == 302
    gw.gdp.refresh_from_db()
    assert gw.gdp.metric == "satisfaction_rate"


def test_the_catalogue_reads_a_merged_two_row_header(gw, settings, django_capture_on_commit_callbacks):
    """The 区's layout: a title, then 目标任务 merged over 总量 / 增幅 (序号, 指标名称 … merged down two rows)."""
    settings.BACKGROUND_RUN_INLINE = True
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2027年高质量发展绩效评价考核指标"])
    ws.append(["序号", "指标名称", "单位", "口径", "目标任务", None, "责任科室", "街道", "年度"])
    ws.append([None, None, None, None, "总量", "增幅", None, None, None])
    ws.append([1, "地区生产总值", "亿元", "总量", 130, 6.5, "经济发展办", "甲街道", 2027])
    ws.append([2, "固定资产投资", "亿元", "总量", 42.5, 8, "经济发展办", "甲街道", 2027])
    ws.merge_cells("A1:I1")
    ws.merge_cells("E2:F2")
    for col in "ABCDGHI":
        ws.merge_cells(f"{col}2:{col}3")
    buf = io.BytesIO()
    wb.save(buf)
    upload = SimpleUploadedFile("目录.xlsx", buf.getvalue())
    job = importer.create_run(actor=gw.leader, spec="goals.catalogue", upload=upload)
    assert job.header_row == 2
    assert job.headers[4:6] == ["目标任务总量", "目标任务增幅"]
    assert job.mapping["target_total"] == "目标任务总量" and job.mapping["target_growth"] == "目标任务增幅"
    preview = importer.preview_run(actor=gw.leader, job=job)
    assert [r.number for r in preview] == [4, 5]  # the 总量/增幅 row is header, not data
    with django_capture_on_commit_callbacks(execute=True):
        importer.start_run(actor=gw.leader, job=job)
    job.refresh_from_db()
    assert (job.created_count, job.failed) == (2, 0)
    got = {i.seq: i for i in Scorecard.objects.get(street=gw.street, year=2027).indicators.all()}
    assert (got[1].target_total, got[1].target_growth) == (D(130), D("6.5"))
    assert (got[2].target_total, got[2].target_growth) == (D("42.5"), D(8))


def test_a_data_row_is_never_taken_for_a_sub_header():
    head = ["序号", "指标名称", "目标任务", "", "备注"]
    assert importer.combine_two_row_header(head, ["", "", "总量", "增幅", ""]) == [
        "序号",
        "指标名称",
        "目标任务总量",
        "目标任务增幅",
        "备注",
    ]
    assert importer.combine_two_row_header(head, ["1", "地区生产总值", "130", "6.5", "好"]) is None
    assert importer.combine_two_row_header(head, [1, None, "总量", "增幅", None]) is None  # a number: data
    assert importer.combine_two_row_header(head, ["", "", "", "", "说明"]) is None  # not under a group
    assert importer.combine_two_row_header(["标题"], ["", "总量"]) is None  # a title above
