"""The hot path of filing a case: what the API answers without reading back, and the per-process copies of the
category catalogue and the grid cards that spare it queries (yet follow every change)."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection

from civicgrid.accounts.services import issue_token
from civicgrid.cases import selectors, services
from civicgrid.cases.models import Case, CaseEvent, Category
from civicgrid.core import auditchain
from civicgrid.core.models import AuditLog
from civicgrid.places import selectors as place_selectors
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, STEP, bump_on_another_server

pytestmark = pytest.mark.django_db

INSIDE_GRID = {"lng": ORIGIN_LNG + STEP / 2, "lat": ORIGIN_LAT + STEP / 2}  # the World's first grid


def _post(api, world, key="k-1", **body):
    payload = {
        "source": "hotline_12345",
        "description": "小区门口垃圾堆积",
        "category": world.category.pk,
        "address": "示范路1号",
        "reporter_phone": "13812345678",
        **INSIDE_GRID,
        **body,
    }
    return api.post("/cases", payload, HTTP_IDEMPOTENCY_KEY=key)


def test_the_create_answer_is_what_reading_the_case_gives(api_client, world):
    """Built from what the request wrote (no read-back), yet identical to GET /cases/{id} for the same user."""
    _t, key = issue_token(actor=None, user=world.dispatcher, name="hotline")
    api = api_client.token(key)
    created = _post(api, world)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["grid"]["id"] == world.grid.pk and body["community"]["name"] == world.community.name
    assert body["timeline"][0]["move"] == "create" and body["timeline"][0]["actor_role"] == "dispatcher"
    assert api.get(f"/cases/{body['id']}").json() == body


def test_the_create_answer_with_a_photo_lists_it_on_the_timeline(api_client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.cases.factories import png_bytes

    api = api_client.login(world.dispatcher)
    upload = api.c.post(
        "/api/v1/cases/attachments",
        {"file": SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")},
    )
    assert upload.status_code == 201, upload.content
    att = upload.json()["id"]
    body = _post(api, world, attachment_ids=[att]).json()
    assert body["timeline"][0]["attachments"] == [att]
    assert [(a["id"], a["kind"], a["event_seq"]) for a in body["attachments"]] == [(att, "before", 1)]
    assert api.get(f"/cases/{body['id']}").json() == body


def test_filing_a_located_case_costs_only_its_writes(api_client, world, django_assert_max_num_queries):
    """Token, category and grid come from the per-process copies once warm: BEGIN, three INSERTs, COMMIT — on
    PostgreSQL one statement that takes the new ids and writes case, timeline entry and audit row (here inside
    the test's transaction, so within a savepoint)."""
    _t, key = issue_token(actor=None, user=world.dispatcher, name="hotline")
    api = api_client.token(key)
    _post(api, world, key="warm-up")
    with django_assert_max_num_queries(5 if connection.vendor == "sqlite" else 3):
        assert _post(api, world, key="measured").status_code == 201


def test_a_description_holding_the_stand_in_id_is_filed_as_written(api_client, world):
    """The one-statement create writes the new id into the audit row in place of a stand-in number; a text that
    happens to hold that number makes it take the ids first instead — the text is stored as given."""
    from civicgrid.core import bulk

    _t, key = issue_token(actor=None, user=world.dispatcher, name="hotline")
    api = api_client.token(key)
    text = f"编号 {bulk.PENDING_ID} 的井盖破损"
    body = _post(api, world, key="k-stand-in", description=text).json()
    case = Case.objects.get(pk=body["id"])
    assert case.description == text and body["description"] == text
    row = AuditLog.objects.get(action="cases.case.create", object_id=str(case.pk))
    assert row.after["description"] == text and row.after["id"] == case.pk and row.object_repr == str(case)
    assert case.events.get().case_id == case.pk
    assert auditchain.verify().ok


def test_a_filed_case_has_its_timeline_entry_and_audit_row_in_the_chain(api_client, world):
    _t, key = issue_token(actor=None, user=world.dispatcher, name="hotline")
    api = api_client.token(key)
    body = _post(api, world, key="k-chain", reporter_name="张三").json()
    case = Case.objects.get(pk=body["id"])
    assert (
        case.reporter_name == "张三"
        and case.grid_id == world.grid.pk
        and case.created_by_id == world.dispatcher.pk
    )
    assert list(case.events.values_list("seq", "move", "actor_id")) == [(1, "create", world.dispatcher.pk)]
    row = AuditLog.objects.get(action="cases.case.create", object_id=str(case.pk))
    assert row.actor_id == world.dispatcher.pk and row.after["reporter_name"] == "张三"
    assert row.after["id"] == case.pk and row.object_repr == str(case)
    # the snapshot stored is the case as stored (its id written in by the statement itself)
    assert row.after == audit_snapshot_of(case)
    assert auditchain.verify().ok


def audit_snapshot_of(case):
    from civicgrid.core import audit

    return audit.snapshot(Case.objects.get(pk=case.pk))


def test_a_refused_retry_writes_nothing(api_client, world):
    """The second request with the same key answers with the first case; no second timeline entry or audit row."""
    _t, key = issue_token(actor=None, user=world.dispatcher, name="hotline")
    api = api_client.token(key)
    first = _post(api, world, key="once")
    again = _post(api, world, key="once", description="换了描述的重试")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Case.objects.count() == 1
    assert CaseEvent.objects.count() == 1
    assert AuditLog.objects.filter(action="cases.case.create").count() == 1
    assert auditchain.verify().ok


def test_a_case_filed_after_the_audit_anchor_was_lost_still_joins_the_chain(world):
    """An emptied anchor row (a restored or hand-emptied database) is rebuilt from the log; the case, its timeline
    entry and its audit row are written once."""
    services.create_case(
        actor=world.dispatcher, source="hotline_12345", description="第一件", grid=world.grid
    )
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM core_auditchainhead"
            if connection.vendor == "sqlite"
            else "TRUNCATE core_auditchainhead"  # the row itself refuses DELETE
        )
    case = services.create_case(
        actor=world.dispatcher, source="hotline_12345", description="锚点丢失后的一件", grid=world.grid
    )
    assert Case.objects.filter(description="锚点丢失后的一件").count() == 1
    assert case.events.count() == 1
    assert AuditLog.objects.filter(action="cases.case.create", object_id=str(case.pk)).count() == 1
    assert auditchain.verify().ok


def test_a_retry_answers_with_the_first_case_even_if_its_category_was_disabled_since(api_client, world):
    _t, key = issue_token(actor=None, user=world.dispatcher, name="hotline")
    api = api_client.token(key)
    first = _post(api, world, key="same")
    world.category.is_enabled = False
    world.category.save()
    retry = _post(api, world, key="same")
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    fresh = _post(api, world, key="another")
    assert fresh.status_code == 422 and fresh.json()["field"] == "category"
    assert Case.objects.count() == 1


def test_a_category_edited_on_this_server_is_seen_at_once(world):
    assert selectors.category(user=world.dispatcher, pk=world.category.pk).name == world.category.name
    world.category.name = "改了名的分类"
    world.category.save()
    assert selectors.category(user=world.dispatcher, pk=world.category.pk).name == "改了名的分类"
    assert selectors.category(user=world.dispatcher, code=world.category.code).pk == world.category.pk


def test_a_category_disabled_on_another_server_is_seen_after_the_revision_check(world, monkeypatch):
    assert selectors.category(user=world.dispatcher, pk=world.category.pk).is_enabled
    Category.objects.filter(pk=world.category.pk).update(is_enabled=False)  # the other server's write …
    bump_on_another_server(selectors.CATEGORY_REVISION)  # … and its bump, which this process is not told of
    assert selectors.category(user=world.dispatcher, pk=world.category.pk).is_enabled  # within the second
    monkeypatch.setattr(type(selectors._catalogue), "now", staticmethod(lambda: 10**9))
    assert not selectors.category(user=world.dispatcher, pk=world.category.pk).is_enabled
    with pytest.raises(Exception, match="已停用"):
        services.create_case(
            actor=world.dispatcher,
            source="hotline_12345",
            description="x",
            category=selectors.category(user=world.dispatcher, pk=world.category.pk),
        )


def test_the_audit_admin_sees_no_category_and_unknown_ones_are_none(world):
    assert selectors.category(user=world.auditor, pk=world.category.pk) is None
    assert selectors.category(user=world.dispatcher, pk=10**9) is None
    assert selectors.category(user=world.dispatcher, code="NOPE") is None
    assert selectors.category(user=None, pk=world.category.pk) is None


def test_a_grid_card_follows_a_renamed_community(world, django_assert_num_queries):
    card = place_selectors.grid_card(world.grid.pk)
    assert (card.code, card.community.name) == (world.grid.code, world.community.name)
    with django_assert_num_queries(0):
        place_selectors.grid_card(world.grid.pk)
    world.community.name = "新名字社区"
    world.community.save()
    assert place_selectors.grid_card(world.grid.pk).community.name == "新名字社区"
    assert place_selectors.grid_card(10**9) is None


def test_a_case_located_in_a_brand_new_grid_still_gets_it(world):
    """The point index may know a grid the card copy has not loaded yet: the service reads that one."""
    from tests.factories import GridFactory

    place_selectors.grid_card(world.grid.pk)  # warm
    snapshot = place_selectors._grid_cards._snap
    fresh = GridFactory(col=9)
    place_selectors._grid_cards._snap = snapshot  # this server's card copy has not caught up yet
    place_selectors._grid_cards._dirty = False
    case = services.create_case(
        actor=world.dispatcher,
        source="hotline_12345",
        description="新网格里的问题",
        lng=ORIGIN_LNG + 9.5 * STEP,
        lat=ORIGIN_LAT + STEP / 2,
    )
    assert case.grid_id == fresh.pk and case.community_id == fresh.community_id


def test_the_create_answer_of_a_case_accepted_at_once_is_what_reading_it_gives(api_client, world):
    _t, key = issue_token(actor=None, user=world.dispatcher, name="hotline")
    api = api_client.token(key)
    created = _post(api, world, key="k-accept", auto_accept=True)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "accepted" and body["number"]
    assert [e["move"] for e in body["timeline"]] == ["create", "accept"]
    read = api.get(f"/cases/{body['id']}").json()
    # the deadline just computed is in Beijing time, the one read back in UTC: the same instant
    assert datetime.fromisoformat(read.pop("due_at")) == datetime.fromisoformat(body.pop("due_at"))
    assert read == body


def test_a_detail_body_built_without_validation_equals_the_validated_one(world):
    """The create answer skips validating its body (it built it itself): for a case with every part filled —
    a handled timeline, a pending extension, a department — the result is what validation gives."""
    from civicgrid.cases import api as cases_api

    case = world.to_state("handling")
    world.move(
        case, "request_extension", actor=world.handler, amount=5, unit="natural_hours", reason="待配件"
    )
    case = selectors.get_case(user=world.dispatcher, pk=case.pk)
    body = cases_api._detail(case, world.dispatcher)
    assert body["pending_extension"] and body["department"] and len(body["timeline"]) > 3
    built = cases_api._as_built(cases_api.CaseDetailOut, body)
    assert isinstance(built.timeline[0], cases_api.EventOut) and isinstance(built.department, cases_api.Ref)
    assert built.model_dump() == cases_api.CaseDetailOut.model_validate(body).model_dump()


def test_the_create_answer_is_rendered_byte_for_byte_as_its_schema_would_be(world, rf):
    """The create answer renders its detail body directly; for a case with every part filled, the bytes are what
    ninja renders from the validated CaseDetailOut (same keys, order, types and formats)."""
    from civicgrid.cases import api as cases_api

    case = world.to_state("handling")
    world.move(
        case, "request_extension", actor=world.handler, amount=5, unit="natural_hours", reason="待配件"
    )
    case = selectors.get_case(user=world.dispatcher, pk=case.pk)
    body = cases_api._detail(case, world.dispatcher)
    assert body["pending_extension"] and body["department"] and body["timeline"] and body["allowed_moves"]
    request = rf.post("/api/v1/cases")
    fast = cases_api._rendered(request, 201, body)
    from civicgrid.core.api import api as schema_api

    slow = schema_api.renderer.render(
        request, cases_api.CaseDetailOut.model_validate(body).model_dump(), response_status=201
    )
    assert fast.status_code == 201 and fast["Content-Type"] == schema_api.get_content_type()
    assert fast.content.decode() == slow


@pytest.mark.parametrize("source", [["hotline_12345"], {"a": 1}, None, "no_such_source"])
def test_a_source_that_is_not_one_of_the_channels_is_refused_by_name(world, source):
    """A caller of the service passing a list, a dict or an unknown word as the source gets the field's error."""
    from civicgrid.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        services.create_case(
            actor=world.dispatcher,
            source=source,
            description="小区门口垃圾堆积",
            category=Category.objects.get(code="S06010"),
            address="示范路1号",
        )
    assert refused.value.field == "source"
    assert Case.objects.count() == 0
