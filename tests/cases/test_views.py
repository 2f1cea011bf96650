"""The case web screens (Django test client): rendering per role, scope, action buttons, forms, 409, export."""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from civicgrid.accounts.roles import Role
from civicgrid.cases import workflow
from civicgrid.cases.exports import HEADERS
from civicgrid.cases.models import Case, CaseEvent, CaseState
from civicgrid.core import clock
from tests.cases.factories import png_bytes
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, STEP

pytestmark = pytest.mark.django_db

BUSINESS = [r for r in Role if r != Role.AUDIT_ADMIN]


def login(client, user):
    client.force_login(user)
    return client


def moves_on_page(html: str) -> set[str]:
    return set(re.findall(r'<details class="cg-action" data-move="([a-z_]+)"', html))


def state_on_page(html: str) -> str:
    m = re.search(r'data-testid="state" data-state="([a-z_]+)"', html)
    return m.group(1) if m else ""


def post_move(client, case, move, version=None, files=None, **fields):
    data = {"move": move, f"{move}-version": case.version if version is None else version}
    data.update({f"{move}-{k}": v for k, v in fields.items()})
    for k, v in (files or {}).items():
        data[f"{move}-{k}"] = v
    return client.post(f"/cases/{case.pk}/", data)


def upload(name="after.png", color=(10, 120, 10)):
    return SimpleUploadedFile(name, png_bytes(color), content_type="image/png")


# --- rendering and scope --------------------------------------------------------------------------


@pytest.mark.parametrize("role", BUSINESS)
def test_inbox_list_and_detail_render_for_each_business_role(client, world, role):
    case = world.to_state("dispatched")
    user = world.by_role(role)
    login(client, user)
    r = client.get("/cases/inbox/")
    assert r.status_code == 200
    assert "我的待办" in r.content.decode()
    r = client.get("/cases/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="case-table"' in html
    # every role of the World sees this case (dept handler: its department; grid worker/community: its grid)
    assert case.number in html
    r = client.get(f"/cases/{case.pk}/")
    assert r.status_code == 200
    assert case.number in r.content.decode()
    assert state_on_page(r.content.decode()) == "dispatched"


def test_audit_admin_cannot_open_case_screens(client, world):
    case = world.to_state("accepted")
    login(client, world.auditor)
    for url in ["/cases/inbox/", "/cases/", f"/cases/{case.pk}/", "/cases/new/", "/cases/export.xlsx"]:
        assert client.get(url).status_code == 403, url
    nav = client.get("/").content.decode()
    assert "工单列表" not in nav


def test_anonymous_is_sent_to_login(client, world):
    r = client.get("/cases/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


@pytest.mark.parametrize("who", ["other_worker", "other_staff", "handler2"])
def test_out_of_scope_case_is_404(client, world, who):
    case = world.to_state("dispatched", description="带照片的工单", attachments=[("a.png", png_bytes())])
    photo = case.attachments.get()
    login(client, getattr(world, who))
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert client.get(f"/cases/photos/{photo.pk}/").status_code == 404
    assert client.get(f"/cases/photos/{photo.pk}/thumb/").status_code == 404
    assert post_move(client, case, "sign").status_code == 404
    assert case.number not in client.get("/cases/").content.decode()
    assert client.get("/cases/999999/").status_code == 404


def test_nav_entries_by_role(client, world):
    html = login(client, world.dispatcher).get("/cases/inbox/").content.decode()
    assert "待办" in html and "工单列表" in html and "新建工单" in html
    html = login(client, world.handler).get("/cases/inbox/").content.decode()
    assert "工单列表" in html and 'data-testid="nav-new-case"' not in html
    assert client.get("/cases/new/").status_code == 403


def test_create_page_renders_for_creators_with_grouped_categories(client, world):
    html = login(client, world.dispatcher).get("/cases/new/").content.decode()
    assert "<optgroup" in html and world.category.name in html
    assert 'name="idempotency_key"' in html and 'name="lng"' in html and 'name="lat"' in html
    assert 'name="source"' in html  # the command centre chooses the source
    html = login(client, world.grid_worker).get("/cases/new/").content.decode()
    assert 'name="source"' not in html
    assert "现场立案" in html


# --- buttons --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state,role",
    [
        ("reported", Role.DISPATCHER),
        ("reported", Role.SHIFT_LEADER),
        ("reported", Role.LEADER),
        ("accepted", Role.DISPATCHER),
        ("dispatched", Role.DEPT_HANDLER),
        ("dispatched", Role.GRID_WORKER),
        ("handling", Role.DEPT_HANDLER),
        ("handling", Role.LEADER),
        ("handled", Role.GRID_WORKER),
        ("handled", Role.COMMUNITY_STAFF),
        ("verified", Role.DISPATCHER),
        ("closed", Role.DISPATCHER),
        ("rated", Role.DISPATCHER),
    ],
)
def test_buttons_are_exactly_the_allowed_moves(client, world, state, role):
    case = world.to_state(state)
    user = world.by_role(role)
    html = login(client, user).get(f"/cases/{case.pk}/").content.decode()
    expected = {m.name for m in workflow.allowed_moves(Case.objects.get(pk=case.pk), user)}
    assert moves_on_page(html) == expected
    if not expected:
        assert 'data-testid="no-actions"' in html


def test_button_examples(client, world):
    reported = world.to_state("reported")
    html = login(client, world.dispatcher).get(f"/cases/{reported.pk}/").content.decode()
    assert {"accept", "reject"} <= moves_on_page(html)
    assert "sign" not in moves_on_page(html)
    html = login(client, world.handler).get(f"/cases/{reported.pk}/").content.decode()
    assert moves_on_page(html) == set()
    dispatched = world.to_state("dispatched")
    html = login(client, world.handler).get(f"/cases/{dispatched.pk}/").content.decode()
    assert {"sign", "return", "request_extension"} <= moves_on_page(html)
    assert "dispatch" not in moves_on_page(html)


def test_each_action_form_has_its_fields_and_the_version(client, world):
    case = world.to_state("accepted")
    html = login(client, world.dispatcher).get(f"/cases/{case.pk}/").content.decode()
    assert f'name="dispatch-version" value="{case.version}"' in html
    assert 'name="dispatch-department"' in html and "城管中队" in html
    assert 'name="suspend-reason"' in html
    assert 'name="merge-target_number"' in html
    handling = world.to_state("handling")
    html = login(client, world.handler).get(f"/cases/{handling.pk}/").content.decode()
    assert 'name="finish-note"' in html and 'name="finish-attachments"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'name="request_extension-amount"' in html and 'name="request_extension-unit"' in html
    closed = world.to_state("closed")
    html = login(client, world.dispatcher).get(f"/cases/{closed.pk}/").content.decode()
    for label in ("满意", "基本满意", "不满意"):
        assert f">{label}</label>" in html


def test_dissatisfied_rating_can_send_the_case_back_for_redo(client, world):
    case = world.to_state("closed")
    login(client, world.dispatcher)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'name="rate-redo"' in html and "退回处置部门重办" in html
    # 重办 only goes with 不满意
    r = post_move(client, case, "rate", rating="satisfied", redo="on")
    assert r.status_code == 422 and "只有评价为“不满意”时才能重办" in r.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    r = post_move(client, case, "rate", rating="dissatisfied", redo="on", note="垃圾又堆起来了")
    assert r.status_code == 302, r.content.decode()[:1500]
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED and case.rating == "dissatisfied" and case.redo_count == 1


# --- moves through the forms ----------------------------------------------------------------------


def test_full_story_through_the_forms(client, world):
    case = world.to_state("reported")
    login(client, world.dispatcher)
    r = post_move(client, case, "accept")
    assert r.status_code == 302 and r["Location"] == f"/cases/{case.pk}/"
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED and case.number
    r = post_move(client, case, "dispatch", department=world.dept.pk, note="请尽快处理")
    assert r.status_code == 302
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "已派遣" in page and state_on_page(page) == "dispatched"
    case.refresh_from_db()
    assert case.department == world.dept

    login(client, world.handler)
    assert post_move(client, case, "sign").status_code == 302
    case.refresh_from_db()
    r = post_move(client, case, "finish", note="已清理完毕", files={"attachments": upload()})
    assert r.status_code == 302, r.content.decode()[:2000]
    case.refresh_from_db()
    assert case.state == CaseState.HANDLED
    after = case.attachments.get(kind="after")
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f"/cases/photos/{after.pk}/thumb/" in page
    thumb = client.get(f"/cases/photos/{after.pk}/thumb/")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert b"".join(thumb.streaming_content)[:2] == b"\xff\xd8"

    login(client, world.grid_worker)
    assert post_move(client, case, "verify_pass", note="现场已恢复").status_code == 302
    login(client, world.dispatcher)
    case.refresh_from_db()
    assert post_move(client, case, "close").status_code == 302
    case.refresh_from_db()
    assert post_move(client, case, "rate", rating="satisfied").status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.RATED and case.rating == "satisfied"

    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert page.count('data-testid="event"') == CaseEvent.objects.filter(case=case).count() == 8
    for label in ("上报", "受理立案", "派遣", "签收", "处置完成", "核查通过", "结案", "回访评价"):
        assert label in page
    assert "已清理完毕" in page and "城管中队" in page
    assert f'<span class="text-muted">分类：</span>{world.category.name}' in page  # the name, not the code
    assert 'data-testid="clock"' in page  # clock snapshots on the timed steps


def test_stale_version_shows_the_409_message_and_the_current_state(client, world):
    case = world.to_state("reported")
    seen_version = case.version
    world.move(case, "accept", actor=world.dispatcher2)  # someone else was quicker
    login(client, world.dispatcher)
    r = post_move(client, case, "accept", version=seen_version)
    assert r.status_code == 409
    html = r.content.decode()
    assert "该工单已被他人处理，请刷新后重试" in html
    assert state_on_page(html) == "accepted"
    case.refresh_from_db()
    # the page was reloaded with the current version, so a retry of the right move works
    assert f'name="dispatch-version" value="{case.version}"' in html
    assert "accept" not in moves_on_page(html)


def test_move_no_longer_legal_is_409_too(client, world):
    case = world.to_state("accepted")
    login(client, world.dispatcher)
    r = post_move(client, case, "close")
    assert r.status_code == 409
    assert "该工单已被他人处理，请刷新后重试" in r.content.decode()


def test_validation_errors_are_shown_next_to_the_field(client, world):
    case = world.to_state("handling")
    login(client, world.handler)
    r = post_move(client, case, "finish", note="已处理")  # no after-photo
    assert r.status_code == 422
    html = r.content.decode()
    field = re.search(
        r'data-field="attachments".*?</div>\s*</div>|data-field="attachments".*?field-error.*?</div>',
        html,
        re.S,
    )
    assert field and 'data-testid="field-error"' in field.group(0)
    assert '<details class="cg-action" data-move="finish" open>' in html
    case.refresh_from_db()
    assert case.state == CaseState.HANDLING

    # a service-side validation error (extension unit must be the stage's) lands on its field too
    r = post_move(client, case, "request_extension", amount="0", unit=case.limit_unit, reason="x")
    assert r.status_code == 422
    assert re.search(r'data-field="amount"[^>]*>.*?field-error', r.content.decode(), re.S)

    # a non-image upload is refused by the service and shown on the photo field
    bad = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    r = post_move(client, case, "finish", note="已处理", files={"attachments": bad})
    assert r.status_code == 422
    assert "不是有效的图片" in r.content.decode()


def test_merge_by_case_number(client, world):
    target = world.to_state("accepted")
    dup = world.to_state("reported")
    login(client, world.dispatcher)
    r = post_move(client, dup, "merge", target_number="C00000000000")
    assert r.status_code == 422 and "找不到该编号的案件" in r.content.decode()
    r = post_move(client, dup, "merge", target_number=target.number.lower())
    assert r.status_code == 302
    dup.refresh_from_db()
    assert dup.state == CaseState.MERGED and dup.duplicate_of_id == target.pk


def test_extension_request_and_approval(client, world):
    case = world.to_state("handling")
    login(client, world.handler)
    r = post_move(
        client, case, "request_extension", amount=2, unit=case.limit_unit, reason="需要协调产权单位"
    )
    assert r.status_code == 302
    login(client, world.shift_leader)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert {"approve_extension", "deny_extension"} <= moves_on_page(html)
    assert 'data-testid="pending-extension"' in html
    case.refresh_from_db()
    assert post_move(client, case, "approve_extension").status_code == 302
    case.refresh_from_db()
    assert case.extension_amount == 2


def test_reporter_phone_masked_outside_street_roles(client, world):
    case = world.to_state("dispatched", reporter_name="张三", reporter_phone="13812345678")
    html = login(client, world.dispatcher).get(f"/cases/{case.pk}/").content.decode()
    assert "13812345678" in html
    for user in (world.grid_worker, world.handler, world.community_staff):
        html = login(client, user).get(f"/cases/{case.pk}/").content.decode()
        assert "13812345678" not in html and "138****5678" in html


# --- create ---------------------------------------------------------------------------------------


def test_create_with_map_point_photo_and_idempotency_key(client, world):
    login(client, world.dispatcher)
    key = uuid.uuid4().hex
    data = {
        "category": world.category.pk,
        "description": "井盖松动，行人易绊倒",
        "address": "示范路 18 号",
        "lng": f"{ORIGIN_LNG + STEP / 2:.6f}",
        "lat": f"{ORIGIN_LAT + STEP / 2:.6f}",
        "reporter_name": "李四",
        "reporter_phone": "13900001111",
        "source": "hotline_12345",
        "source_ref": "12345-0001",
        "idempotency_key": key,
    }
    r = client.post("/cases/new/", {**data, "photos": [upload("a.png"), upload("b.png", (1, 2, 3))]})
    assert r.status_code == 302
    case = Case.objects.get(created_by=world.dispatcher, idempotency_key=key)
    assert r["Location"] == f"/cases/{case.pk}/"
    assert case.state == CaseState.REPORTED and case.grid == world.grid and case.community == world.community
    assert case.source == "hotline_12345" and case.category == world.category
    assert case.attachments.filter(kind="before").count() == 2
    # a double submit of the same form answers with the same case
    r2 = client.post("/cases/new/", {**data, "photos": [upload("a.png")]})
    assert r2.status_code == 302 and r2["Location"] == r["Location"]
    assert Case.objects.filter(created_by=world.dispatcher).count() == 1


def test_create_errors_and_role_defaults(client, world):
    login(client, world.grid_worker)
    r = client.post("/cases/new/", {"description": "", "idempotency_key": uuid.uuid4().hex})
    assert r.status_code == 422
    assert 'data-field="description"' in r.content.decode()
    assert not Case.objects.exists()
    r = client.post(
        "/cases/new/",
        {"description": "垃圾满溢", "category": world.minor.pk, "auto_accept": "on", "idempotency_key": "k1"},
    )
    assert r.status_code == 302
    case = Case.objects.get()
    assert case.source == "grid_patrol" and case.state == CaseState.ACCEPTED
    # a category the grid worker may not file: the service refuses, the form says why
    r = client.post(
        "/cases/new/",
        {
            "description": "其他问题",
            "category": world.category.pk,
            "auto_accept": "on",
            "idempotency_key": "k2",
        },
    )
    assert r.status_code == 422 and "不允许网格员自行立案" in r.content.decode()


# --- list, htmx, inbox ----------------------------------------------------------------------------


def test_list_filters_and_htmx_partial(client, world):
    accepted = world.to_state("accepted", description="占道经营的摊贩")
    reported = world.to_state("reported", description="噪声扰民")
    login(client, world.dispatcher)
    html = client.get("/cases/", {"status": "accepted"}).content.decode()
    assert accepted.number in html and f'data-case="{reported.pk}"' not in html
    html = client.get("/cases/", {"text": "噪声"}).content.decode()
    assert f'data-case="{reported.pk}"' in html and accepted.number not in html
    r = client.get("/cases/", {"status": "accepted"}, HTTP_HX_REQUEST="true")
    partial = r.content.decode()
    assert "<html" not in partial and partial.strip().startswith('<div id="case-table">')
    assert "/cases/export.xlsx?status=accepted" in partial
    r = client.get("/cases/", {"date_from": "not-a-date"})
    assert r.status_code == 200 and "上报日期起" in r.content.decode()


def test_list_pagination(client, world):
    for i in range(23):
        world.report(description=f"问题{i}")
    login(client, world.dispatcher)
    html = client.get("/cases/").content.decode()
    assert html.count('data-case="') == 20 and "下一页" in html
    html = client.get("/cases/", {"page": 2}).content.decode()
    assert html.count('data-case="') == 3


def test_inbox_per_role(client, world):
    dispatched = world.to_state("dispatched")
    handled = world.to_state("handled")
    login(client, world.handler)
    html = client.get("/cases/inbox/").content.decode()
    assert f'data-case="{dispatched.pk}"' in html and f'data-case="{handled.pk}"' not in html
    assert 'data-testid="count-total">1<' in html
    login(client, world.grid_worker)
    html = client.get("/cases/inbox/").content.decode()
    assert f'data-case="{handled.pk}"' in html and f'data-case="{dispatched.pk}"' not in html
    login(client, world.other_worker)
    assert 'data-testid="inbox-empty"' in client.get("/cases/inbox/").content.decode()


def test_inbox_shows_due_time_in_shanghai_and_overdue(client, world):
    with clock.frozen(datetime(2025, 11, 24, 9, 0, tzinfo=clock.SHANGHAI), all_threads=True):
        case = world.to_state("dispatched")
        html = login(client, world.handler).get("/cases/inbox/").content.decode()
        local = clock.to_local(case.due_at)
        assert f"{local.month}月{local.day}日 {local:%H:%M}" in html
        assert "已超时" not in html
    case.refresh_from_db()
    with clock.frozen(case.due_at.replace(year=case.due_at.year + 1), all_threads=True):
        html = client.get("/cases/inbox/").content.decode()
        assert "已超时" in html and "cg-row-overdue" in html


# --- export ---------------------------------------------------------------------------------------


def _xlsx_rows(response):
    body = b"".join(response.streaming_content)
    wb = load_workbook(io.BytesIO(body), read_only=True)
    ws = wb.worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_export_xlsx_matches_the_filter(client, world):
    a1 = world.to_state("accepted", reporter_phone="13812345678")
    a2 = world.to_state("accepted")
    world.to_state("reported")
    login(client, world.dispatcher)
    r = client.get("/cases/export.xlsx", {"status": "accepted"})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert ".xlsx" in r["Content-Disposition"]
    rows = _xlsx_rows(r)
    assert rows[0] == HEADERS and rows[0][0] == "案件编号"
    assert sorted(row[0] for row in rows[1:]) == sorted([a1.number, a2.number])
    status_col = HEADERS.index("状态")
    assert {row[status_col] for row in rows[1:]} == {"已立案待派遣"}
    created_col = HEADERS.index("上报时间")
    a1.refresh_from_db()
    row = next(r for r in rows[1:] if r[0] == a1.number)
    assert row[created_col] == clock.to_local(a1.created_at).replace(tzinfo=None, microsecond=0)
    assert row[HEADERS.index("反映人电话")] == "13812345678"


def test_export_only_rows_the_user_may_see(client, world):
    mine = world.to_state("accepted", reporter_phone="13812345678")
    world.to_state("accepted", grid=world.other_grid)
    login(client, world.grid_worker)
    rows = _xlsx_rows(client.get("/cases/export.xlsx", {"status": "accepted"}))
    assert [r[0] for r in rows[1:]] == [mine.number]
    everything = _xlsx_rows(client.get("/cases/export.xlsx"))
    visible = set(Case.objects.filter(grid=world.grid).values_list("pk", flat=True))
    assert len(everything) - 1 == len(visible)
    assert all(r[HEADERS.index("网格")] == world.grid.name for r in everything[1:])
    assert rows[1][HEADERS.index("反映人电话")] == "138****5678"
    # an invalid filter is refused rather than exporting everything
    assert client.get("/cases/export.xlsx", {"status": "bogus"}).status_code == 400


def test_accept_can_set_the_category(client, world):
    case = world.to_state("reported", category=None)
    login(client, world.dispatcher)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'name="accept-category"' in html and "请选择分类" in html
    r = post_move(client, case, "accept")
    assert r.status_code == 422 and 'data-field="category"' in r.content.decode()
    r = post_move(client, case, "accept", category=world.minor.pk)
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED and case.category == world.minor


def test_every_workflow_move_has_its_own_form_and_unknown_moves_are_refused(client, world):
    from civicgrid.cases.forms import MOVE_FORMS

    assert set(MOVE_FORMS) == set(workflow.MOVES)
    case = world.to_state("accepted")
    login(client, world.dispatcher)
    r = client.post(f"/cases/{case.pk}/", {"move": "teleport", "teleport-version": case.version})
    assert r.status_code == 400
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED
