"""Role scores from the timeline, the 三率 ranking over the metrics, the settings, the board workflow, and the
assessment import — on the hand-built June 2026 of conftest.June."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from civicgrid.core import importer
from civicgrid.core.errors import Conflict, IllegalTransition, PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog
from civicgrid.evaluation import selectors, services, workflow
from civicgrid.evaluation.models import Assessment, BoardKind, BoardState
from civicgrid.metrics import selectors as metrics
from tests.factories import StreetFactory

pytestmark = pytest.mark.django_db
JUNE = (date(2026, 6, 1), date(2026, 6, 30))


def by_key(rows):
    return {r["key"]: r for r in rows}


def test_grid_worker_scores_from_reports_and_checks(june):
    rows = by_key(selectors.grid_worker_scores(street=june.grid.community.street, start=JUNE[0], end=JUNE[1]))
    me = rows[june.grid_worker.username]
    # a, b, e decided (c undecided, d voided); a and e 立案 → 2/3; two checks, a's in time, e's a week late
    assert (me["reported"], me["valid"], me["valid_rate"]) == (3, 2, 66.7)
    assert (me["verified"], me["verified_on_time"], me["verify_rate"]) == (2, 1, 50.0)
    assert me["sample"] == 5
    # the other 网格员 did nothing: listed with no figure (not 0)
    other = rows[june.other_worker.username]
    assert (other["reported"], other["valid_rate"], other["verify_rate"]) == (0, None, None)


def test_an_empty_period_gives_no_figures(june):
    rows = selectors.grid_worker_scores(
        street=june.grid.community.street, start=date(2026, 3, 1), end=date(2026, 3, 31)
    )
    assert all(r["valid_rate"] is None and r["verify_rate"] is None for r in rows)
    assert (
        selectors.dispatcher_scores(
            street=june.grid.community.street, start=date(2026, 3, 1), end=date(2026, 3, 31)
        )
        == []
    )


def test_dispatcher_scores_on_time_and_accuracy(june):
    rows = by_key(selectors.dispatcher_scores(street=june.grid.community.street, start=JUNE[0], end=JUNE[1]))
    one = rows[june.dispatcher.username]
    assert (one["dispatched"], one["on_time_rate"], one["redone"], one["accurate_rate"]) == (
        1,
        100.0,
        0,
        100.0,
    )
    two = rows[june.dispatcher2.username]
    # 派遣 of e two working days after 立案 (late), then his own 改派 → 1 of his 2 派遣/改派 was undone
    assert (two["dispatched"], two["timed"], two["on_time_rate"]) == (2, 1, 0.0)
    assert (two["redone"], two["accurate_rate"]) == (1, 50.0)


def test_department_scores_are_the_metrics_figures(june):
    street = june.grid.community.street
    rows = by_key(selectors.department_scores(street=street, start=JUNE[0], end=JUNE[1]))
    groups = by_key(metrics.stats(user=None, start=JUNE[0], end=JUNE[1], by="department")["groups"])
    for code in (june.dept.code, june.dept2.code):
        assert rows[code]["on_time_rate"] == groups[code]["on_time_rate"]
        assert rows[code]["rework_rate"] == groups[code]["rework_rate"]
    assert rows[june.dept.code]["done"] == 1


def test_the_community_ranking_reads_the_metrics_and_lists_small_samples_apart(june):
    street = june.grid.community.street
    r = selectors.compute_ranking(BoardKind.COMMUNITY, start=JUNE[0], end=JUNE[1], street=street)
    assert r.rows == [] and r.red == [] and r.black == []  # 2 立案 < 5: listed apart
    (row,) = r.apart
    g = by_key(metrics.stats(user=None, start=JUNE[0], end=JUNE[1], by="community")["groups"])[row["key"]]
    assert (row["sample"], row["apart"]) == (g["accepted"], "too_few") == (2, "too_few")
    expected = round(
        (30 * g["response_rate"] + 35 * g["resolve_rate"] + 35 * g["satisfaction_rate"]) / 100, 1
    )
    assert row["score"] == expected
    # one case is enough once the 街道 says so
    services.save_settings(
        actor=june.shift_leader,
        street=street,
        values={"w_response": 20, "w_resolve": 40, "w_satisfaction": 40, "min_cases": 1, "board_size": 1},
    )
    r = selectors.compute_ranking(BoardKind.COMMUNITY, start=JUNE[0], end=JUNE[1], street=street)
    assert [x["rank"] for x in r.rows] == [1] and r.red == [row["key"]] and r.black == []
    assert r.rows[0]["score"] == round(
        (20 * g["response_rate"] + 40 * g["resolve_rate"] + 40 * g["satisfaction_rate"]) / 100, 1
    )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"w_response": 30, "w_resolve": 30, "w_satisfaction": 30}, "w_response"),  # sums to 90
        ({"w_response": 130, "w_resolve": -30, "w_satisfaction": 0}, "w_response"),
        ({"w_response": 30, "w_resolve": "三十五", "w_satisfaction": 35}, "w_resolve"),
        ({"w_response": 30, "w_resolve": 35, "w_satisfaction": 35, "min_cases": 0}, "min_cases"),
        ({"w_response": 30, "w_resolve": 35, "w_satisfaction": 35, "board_size": ""}, "board_size"),
    ],
)
def test_bad_settings_name_the_field(june, values, field):
    full = {"min_cases": 5, "board_size": 3, **values}
    with pytest.raises(ValidationFailed) as exc:
        services.save_settings(actor=june.leader, street=june.grid.community.street, values=full)
    assert exc.value.field == field


def test_only_the_shift_leader_leader_and_admin_change_the_weights(june):
    values = {"w_response": 30, "w_resolve": 35, "w_satisfaction": 35, "min_cases": 5, "board_size": 3}
    with pytest.raises(PermissionDenied):
        services.save_settings(actor=june.dispatcher, street=june.grid.community.street, values=values)
    services.save_settings(actor=june.leader, street=june.grid.community.street, values=values)
    assert AuditLog.objects.filter(action="evaluation.settings.save").count() == 1


def test_the_board_workflow_draft_review_publish_and_freeze(june):
    street = june.grid.community.street
    services.save_settings(
        actor=june.leader, street=street,
        values={"w_response": 30, "w_resolve": 35, "w_satisfaction": 35, "min_cases": 1, "board_size": 1},
    )  # fmt: skip
    board = services.draft_board(actor=june.dispatcher, kind=BoardKind.GRID_WORKER, month="2026-06")
    assert board.state == BoardState.DRAFT
    assert board.red == [june.grid_worker.username]  # the only 网格员 with a figure
    assert {r["key"] for r in board.apart} >= {june.other_worker.username}
    with pytest.raises(Conflict):
        services.draft_board(actor=june.dispatcher, kind=BoardKind.GRID_WORKER, month="2026-06")
    # the guard raises: nothing is published from a draft, a leader does not submit, a dispatcher cannot publish
    with pytest.raises(IllegalTransition):
        services.transition(actor=june.leader, board=board, move="publish")
    with pytest.raises(PermissionDenied):
        services.transition(actor=june.leader, board=board, move="submit")
    board = services.transition(actor=june.dispatcher, board=board, move="submit")
    with pytest.raises(PermissionDenied):
        services.transition(actor=june.dispatcher, board=board, move="publish")
    with pytest.raises(ValidationFailed) as exc:
        services.transition(actor=june.leader, board=board, move="return")
    assert exc.value.field == "note"
    board = services.transition(actor=june.leader, board=board, move="return", note="请核对网格员名单")
    assert board.state == BoardState.DRAFT and board.review_note == "请核对网格员名单"
    board = services.transition(actor=june.dispatcher, board=board, move="submit")
    with pytest.raises(Conflict):
        services.transition(actor=june.shift_leader, board=board, move="publish", version=1)
    board = services.transition(actor=june.shift_leader, board=board, move="publish", version=board.version)
    assert (
        board.state == BoardState.PUBLISHED and board.published_at and board.reviewed_by == june.shift_leader
    )
    frozen = list(board.rows)
    for move, who in (("redraft", june.dispatcher), ("return", june.leader), ("publish", june.leader)):
        with pytest.raises(IllegalTransition):
            services.transition(actor=who, board=board, move=move, note="x")
    board.refresh_from_db()
    assert board.rows == frozen
    actions = list(
        AuditLog.objects.filter(object_id=str(board.pk), action__startswith="evaluation.board")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "evaluation.board.draft", "evaluation.board.submit", "evaluation.board.return",
        "evaluation.board.submit", "evaluation.board.publish",
    ]  # fmt: skip


def test_the_workflow_table_is_pure():
    assert [m.name for m in workflow.allowed("draft", "dispatcher")] == ["redraft", "submit"]
    assert [m.name for m in workflow.allowed("review", "leader")] == ["return", "publish"]
    assert workflow.allowed("published", "shift_leader") == []
    with pytest.raises(IllegalTransition):
        workflow.check("draft", "dance", "leader")


def test_drafting_needs_the_desk_and_a_past_month(june):
    with pytest.raises(PermissionDenied):
        services.draft_board(actor=june.leader, kind=BoardKind.COMMUNITY, month="2026-06")
    with pytest.raises(ValidationFailed) as exc:
        services.draft_board(actor=june.dispatcher, kind=BoardKind.COMMUNITY, month="2099-01")
    assert exc.value.field == "month"
    with pytest.raises(ValidationFailed) as exc:
        services.draft_board(actor=june.dispatcher, kind=BoardKind.COMMUNITY, month="六月")
    assert exc.value.field == "month"
    with pytest.raises(ValidationFailed) as exc:
        services.draft_board(actor=june.dispatcher, kind="city", month="2026-06")
    assert exc.value.field == "kind"
    # a 街道 account does not draft the 区-level ranking of the 街道
    with pytest.raises(PermissionDenied):
        services.draft_board(actor=june.dispatcher, kind=BoardKind.STREET, month="2026-06")


def sheet(rows, header=("街道", "考核月份", "考核得分", "全区排名", "参评单位数")):
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    import io

    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("长效管理考核.xlsx", buf.getvalue())


ROWS = [
    ["示范街道", "2026-05", 92.5, 2, 12],
    ["示范街道", "2026年6月", "93.1", 1, 12],
    ["不存在街道", "2026-06", 90, 3, 12],
    ["示范街道", "六月", 90, 3, 12],
    ["示范街道", "2026-07", "九十", 3, 12],
    ["示范街道", "2026-08", 91, 13, 12],
    ["乙街道", "2026-06", 88, 5, 12],
]


@pytest.fixture
def run(settings, django_capture_on_commit_callbacks):
    settings.BACKGROUND_RUN_INLINE = True

    def go(actor, rows):
        job = importer.create_run(actor=actor, spec="evaluation.assessments", upload=sheet(rows))
        with django_capture_on_commit_callbacks(execute=True):
            importer.start_run(actor=actor, job=job)
        job.refresh_from_db()
        return job

    return go


def test_the_assessment_import_previews_names_bad_rows_and_is_idempotent(june, run):
    StreetFactory(code="330106002", name="乙街道")
    job = importer.create_run(actor=june.leader, spec="evaluation.assessments", upload=sheet(ROWS))
    assert job.mapping == {
        "street": "街道",
        "month": "考核月份",
        "score": "考核得分",
        "rank": "全区排名",
        "total": "参评单位数",
    }
    preview = {r.number: r for r in importer.preview_run(actor=june.leader, job=job)}
    assert preview[2].ok and preview[2].resolved["月份"] == "2026年05月"
    assert "找不到街道：不存在街道" in preview[4].row_problem
    assert not Assessment.objects.exists()
    job = run(june.leader, ROWS)
    assert (job.created_count, job.failed) == (2, 5)
    reasons = dict(job.errors.values_list("row_number", "reason"))
    assert "找不到街道" in reasons[4]
    assert "月份格式不正确" in reasons[5]
    assert "得分不是数字" in reasons[6]
    assert "排名 13 大于参评单位数 12" in reasons[7]
    assert "找不到街道：乙街道" in reasons[8]  # another 街道: reads as unknown
    june_row = Assessment.objects.get(month=date(2026, 6, 1))
    assert (june_row.score, june_row.rank, june_row.total, june_row.name) == (
        Decimal("93.10"),
        1,
        12,
        "城市长效管理考核",
    )
    again = run(june.leader, ROWS)
    assert (again.created_count, again.updated_count) == (0, 0)
    fixed = run(june.leader, [["示范街道", "2026-06", 94, 1, 12]])
    assert fixed.updated_count == 1 and Assessment.objects.get(month=date(2026, 6, 1)).score == Decimal(
        "94.00"
    )
    assert AuditLog.objects.filter(action="evaluation.assessment.import").count() == 3


def test_the_chart_puts_the_platform_figures_beside_the_imported_scores(june):
    street = june.grid.community.street
    services.save_assessment(
        actor=june.leader, street=street, month="2026-06", score="93.5", rank=2, total=12
    )
    data = selectors.assessment_chart(user=june.leader, year=2026)
    months = {m["month"]: m for m in data["months"]}
    june_figs = metrics.figures(
        metrics.rollup_counters(user=None, start=JUNE[0], end=JUNE[1], street_id=street.pk)[None]
    )
    assert months["2026-06"]["score"] == 93.5 and months["2026-06"]["rank"] == 2
    assert months["2026-06"]["response_rate"] == june_figs["response_rate"]
    assert months["2026-03"]["score"] is None and months["2026-03"]["composite"] is None  # empty month
    with pytest.raises(PermissionDenied):
        selectors.assessment_chart(user=june.community_staff, year=2026)
