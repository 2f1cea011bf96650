"""合并: on intake the earlier cases describing the same problem are found (and hard negatives are not), the
dispatcher merges with one click (the earlier case stays master) or dismisses, the reporters of merged cases are
told the master's progress, merged cases count as 重复, and several servers see each other's cases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.cases.models import Case, CaseEvent, CaseState
from civicgrid.core import clock
from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog
from civicgrid.metrics import selectors as metrics_selectors
from civicgrid.metrics import services as metrics_services
from civicgrid.triage import dedupe, duplicates, services
from civicgrid.triage.models import DuplicateCandidate, DuplicateStatus
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, STEP

pytestmark = pytest.mark.django_db

GARBAGE = "示范路8号院门口的垃圾桶已经满了好几天没人清运，味道很大"


@pytest.fixture(autouse=True)
def fresh_store():
    duplicates.STORE.reset()
    yield
    duplicates.STORE.reset()


def at(col: float = 0.5, row: float = 0.5) -> dict:
    """A point inside the factory grid ``col`` (grids are STEP° squares)."""
    return {"lng": ORIGIN_LNG + col * STEP, "lat": ORIGIN_LAT + row * STEP}


def intake(tw, capture, description, *, category=None, address="示范路8号院", **kw):
    """A new case through the engine, then the intake round that checks it."""
    category = category or tw.cat["暴露垃圾"]
    with capture(execute=True):
        case = tw.report(description=description, category=category, address=address, **{**at(), **kw})
    services.process_intake(settle_seconds=0)  # the intake round (every few seconds on a server)
    case.refresh_from_db()
    return case


def test_a_reworded_report_nearby_is_found_with_its_reasons(tw, django_capture_on_commit_callbacks):
    first = intake(tw, django_capture_on_commit_callbacks, GARBAGE)
    assert DuplicateCandidate.objects.count() == 0
    later = intake(
        tw,
        django_capture_on_commit_callbacks,
        "居民来电：示范路8号院门口垃圾桶满了好几天都没有人来清运，气味很大。",
        **at(0.52, 0.5),
    )
    row = DuplicateCandidate.objects.get(case=later)
    assert row.candidate == first and row.status == DuplicateStatus.PENDING
    assert row.score >= 0.8
    r = row.reasons
    assert 0 < r["distance_m"] < 20 and r["same_grid"] is True and r["same_category"] is True
    assert r["text_similarity"] > 0.6 and r["address_similarity"] == 1.0
    assert AuditLog.objects.filter(action="triage.duplicates").count() == 1


@pytest.mark.parametrize(
    "kind",
    ["same_address_other_problem", "same_problem_2km", "outside_the_window", "other_family"],
)
def test_hard_negatives_are_not_candidates(tw, django_capture_on_commit_callbacks, kind):
    first = intake(tw, django_capture_on_commit_callbacks, GARBAGE)
    if kind == "same_address_other_problem":
        later = intake(
            tw,
            django_capture_on_commit_callbacks,
            "示范路8号院楼下烧烤店油烟直排，熏得开不了窗",
            category=tw.cat["油烟污染"],
        )
    elif kind == "same_problem_2km":
        # 0.02° of latitude ≈ 2.2 km, another address
        later = intake(
            tw,
            django_capture_on_commit_callbacks,
            GARBAGE.replace("示范路8号院", "文三路200号"),
            address="文三路200号",
            **at(0.5, 4.5),
        )
    elif kind == "outside_the_window":
        Case.objects.filter(pk=first.pk).update(created_at=first.created_at - timedelta(days=31))
        duplicates.STORE.reset()  # (a server started after it)
        later = intake(tw, django_capture_on_commit_callbacks, GARBAGE)
    else:  # the same words, but filed under another family (a 部件: a street lamp)
        later = intake(tw, django_capture_on_commit_callbacks, GARBAGE, category=tw.cat["路灯异常"])
        assert later.category.parent_id != first.category.parent_id
    assert not DuplicateCandidate.objects.filter(case=later).exists()


def test_merge_keeps_the_first_case_as_master_and_counts_the_other_as_repeat(
    tw, django_capture_on_commit_callbacks
):
    first = intake(tw, django_capture_on_commit_callbacks, GARBAGE)
    later = intake(tw, django_capture_on_commit_callbacks, GARBAGE + "，请尽快处理")
    row = DuplicateCandidate.objects.get(case=later)
    with django_capture_on_commit_callbacks(execute=True):
        merged = services.merge_duplicate(actor=tw.dispatcher, row=row)
    assert merged.pk == later.pk and merged.state == CaseState.MERGED and merged.duplicate_of == first
    row.refresh_from_db()
    assert row.status == DuplicateStatus.MERGED and row.decided_by == tw.dispatcher
    ev = CaseEvent.objects.filter(case=later, move="merge").get()
    assert first.display_number in ev.note and "相似度" in ev.note
    first.refresh_from_db()
    assert first.state == CaseState.REPORTED  # the master goes on
    with pytest.raises(ValidationFailed):  # decided once
        services.merge_duplicate(actor=tw.dispatcher, row=row)

    metrics_services.refresh()
    today = metrics_services.local_day(clock.now())
    totals = metrics_selectors.stats(user=tw.leader, start=today, end=today)["totals"]
    assert totals["merged"] == 1 and totals["received"] == 2
    assert totals["repeat_rate"] is not None and totals["repeat_rate"] > 0


@pytest.mark.parametrize("role", [Role.DEPT_HANDLER, Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.LEADER])
def test_only_the_dispatch_desk_merges_or_dismisses(tw, django_capture_on_commit_callbacks, role):
    intake(tw, django_capture_on_commit_callbacks, GARBAGE)
    later = intake(tw, django_capture_on_commit_callbacks, GARBAGE)
    row = DuplicateCandidate.objects.get(case=later)
    user = tw.by_role(role)
    with pytest.raises((PermissionDenied, NotFound)):
        services.merge_duplicate(actor=user, row=row)
    with pytest.raises((PermissionDenied, NotFound)):
        services.dismiss_duplicate(actor=user, row=row)
    later.refresh_from_db()
    assert later.state == CaseState.REPORTED


def test_the_shift_leader_dismisses_and_the_decision_is_kept(tw, django_capture_on_commit_callbacks):
    intake(tw, django_capture_on_commit_callbacks, GARBAGE)
    later = intake(tw, django_capture_on_commit_callbacks, GARBAGE)
    row = DuplicateCandidate.objects.get(case=later)
    services.dismiss_duplicate(actor=tw.shift_leader, row=row, note="两个不同的垃圾桶")
    row.refresh_from_db()
    assert row.status == DuplicateStatus.DISMISSED and row.note == "两个不同的垃圾桶"
    assert AuditLog.objects.filter(action="triage.duplicate.dismiss").exists()
    services.detect_duplicates(case=later)  # checked again: the decision stays
    row.refresh_from_db()
    assert row.status == DuplicateStatus.DISMISSED


def test_reporters_of_merged_cases_are_told_the_masters_progress(tw, django_capture_on_commit_callbacks):
    first = intake(tw, django_capture_on_commit_callbacks, GARBAGE)
    later = intake(tw, django_capture_on_commit_callbacks, GARBAGE)
    with django_capture_on_commit_callbacks(execute=True):
        services.merge_duplicate(actor=tw.dispatcher, row=DuplicateCandidate.objects.get(case=later))
    with django_capture_on_commit_callbacks(execute=True):
        tw.move(first, "accept", category=tw.cat["暴露垃圾"])
    with django_capture_on_commit_callbacks(execute=True):
        tw.move(first, "dispatch", department=tw.dept)
    notes = list(CaseEvent.objects.filter(case=later, move="public_note").order_by("seq"))
    assert len(notes) == 2
    assert first.display_number in notes[-1].note or f"#{first.pk}" in notes[-1].note
    assert "当前进度" in notes[-1].note and notes[-1].data["master_move"] == "dispatch"
    assert notes[-1].actor.is_system and notes[-1].actor_name == "智能分拨"


def test_a_case_created_on_another_server_is_found_and_a_deleted_one_is_not_offered(
    tw, django_capture_on_commit_callbacks
):
    server_a, server_b = duplicates.Store(), duplicates.Store()
    first = tw.report(description=GARBAGE, category=tw.cat["暴露垃圾"], address="示范路8号院", **at())
    server_a.fresh_index()  # both servers built their index before the next case
    server_b.fresh_index()
    second = tw.report(description=GARBAGE, category=tw.cat["暴露垃圾"], address="示范路8号院", **at())
    assert [c.pk for c, _ in server_b.check(second)] == [first.pk]  # server A never saw it: B reads the DB
    third = tw.report(description=GARBAGE, category=tw.cat["暴露垃圾"], address="示范路8号院", **at())
    assert {c.pk for c, _ in server_a.check(third)} == {first.pk, second.pk}  # created "on server B"
    # the first case disappears from the database behind the servers' back: never offered, dropped
    CaseEvent.objects.filter(case=first).delete()
    Case.objects.filter(pk=first.pk).delete()
    fourth = tw.report(description=GARBAGE, category=tw.cat["暴露垃圾"], address="示范路8号院", **at())
    assert {c.pk for c, _ in server_a.check(fourth)} == {second.pk, third.pk}
    assert first.pk not in server_a.index.rows_by_id


def test_the_index_engine_agrees_with_brute_force():
    idx = dedupe.Index()
    recs = [
        dedupe.Record(i, 1000.0 + i, text, 120.1 + (i % 7) * 0.0001, 30.25, None, 1, 1, "示范路8号院", 3)
        for i, text in enumerate(
            [GARBAGE, "示范路8号院门口垃圾桶满了没人清运", "楼道里堆满杂物", GARBAGE + "！"]
        )
    ]
    idx.build(recs[:3])
    idx.add(recs[3])
    fast = [c.id for c in idx.check(recs[3])]
    slow = [c.id for c in idx.brute_force(recs[3])]
    assert fast == slow and 0 in fast and 2 not in fast


def test_auto_dispatch_hook_is_off_by_default_then_per_street_threshold(
    tw, django_capture_on_commit_callbacks, monkeypatch
):
    from civicgrid.triage import modelstore
    from civicgrid.triage.models import StreetTriageSetting

    monkeypatch.setattr(modelstore, "CHECK_SECONDS", 0.0)
    from tests.triage.test_services import _closed_cases

    _closed_cases(tw, per_class=6)
    services.train_from_cases(actor=None)
    for c in (tw.cat["噪声扰民"], tw.cat["油烟污染"], tw.cat["邻里纠纷"], tw.cat["道路破损"]):
        c.default_department = tw.dept
        c.save()
    text = "晚上KTV声音太大，噪音吵得睡不着"

    def new_case(n):  # each far from the others (a near-duplicate is never auto-dispatched)
        with django_capture_on_commit_callbacks(execute=True):
            case = tw.report(
                description=f"{text}（{n}）", category=None, address=f"文{n}路", **at(0.5, 10 * n)
            )
        with django_capture_on_commit_callbacks(execute=True):
            services.process_intake(settle_seconds=0)
        case.refresh_from_db()
        return case

    off = new_case(1)
    assert off.state == CaseState.REPORTED  # default: off
    street = off.street
    services.save_street_setting(actor=tw.sysadmin, street=street, auto_dispatch=True, threshold=0.999)
    below = new_case(2)
    assert below.state == CaseState.REPORTED  # below the threshold: waits for a person
    StreetTriageSetting.objects.filter(street=street).update(threshold=0.05)
    above = new_case(3)
    assert above.state == CaseState.DISPATCHED and above.department == tw.dept
    ev = CaseEvent.objects.filter(case=above, move="dispatch").get()
    assert ev.actor.is_system and "智能分拨自动派遣" in ev.note
    with django_capture_on_commit_callbacks(execute=True):  # the same complaint again, where case 3 is
        again = tw.report(description=f"{text}（3）", category=None, address="文3路", **at(0.5, 30))
    services.process_intake(settle_seconds=0)
    again.refresh_from_db()
    assert again.state == CaseState.REPORTED and DuplicateCandidate.objects.filter(case=again).exists()
    StreetTriageSetting.objects.filter(street=street).update(auto_dispatch=False)
    assert new_case(4).state == CaseState.REPORTED  # switched off again


# --- API and the case page ----------------------------------------------------------------------


def _pair(tw, capture):
    first = intake(tw, capture, GARBAGE)
    later = intake(tw, capture, GARBAGE + "，有老人摔倒")
    return first, later, DuplicateCandidate.objects.get(case=later)


def test_api_lists_merges_and_dismisses(tw, api_client, django_capture_on_commit_callbacks):
    first, later, row = _pair(tw, django_capture_on_commit_callbacks)
    desk = api_client.login(tw.dispatcher)
    r = desk.get(f"/triage/cases/{later.pk}/duplicates")
    assert r.status_code == 200, r.content
    [item] = r.json()
    assert item["candidate"] == first.pk and item["mergeable"] is True and item["status"] == "pending"
    assert item["reasons"]["same_grid"] is True and item["reasons"]["distance_m"] == 0
    r = desk.post(f"/triage/duplicates/{row.pk}/merge", {})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "merged"
    later.refresh_from_db()
    assert later.state == CaseState.MERGED and later.duplicate_of_id == first.pk
    r = desk.post(f"/triage/duplicates/{row.pk}/dismiss", {"note": ""})
    assert r.status_code == 422 and r.json()["field"] == "status"


def test_api_refuses_other_roles_and_bad_input(tw, api_client, django_capture_on_commit_callbacks):
    _first, later, row = _pair(tw, django_capture_on_commit_callbacks)
    r = api_client.login(tw.handler).post(f"/triage/duplicates/{row.pk}/merge", {})
    assert r.status_code in (403, 404)
    r = api_client.login(tw.grid_worker).get(f"/triage/cases/{later.pk}/duplicates")
    assert r.status_code in (403, 404) or r.json() == []
    desk = api_client.login(tw.dispatcher)
    assert desk.post("/triage/duplicates/999999/merge", {}).status_code == 404
    r = desk.post(f"/triage/duplicates/{row.pk}/dismiss", {"note": "长" * 201})
    assert r.status_code == 422
    r = desk.post(f"/triage/duplicates/{row.pk}/dismiss", {"note": "不同楼栋"})
    assert r.status_code == 200 and r.json()["status"] == "dismissed"


def test_api_street_auto_dispatch_setting_is_the_admins(tw, api_client):
    street = tw.grid.community.street
    url = f"/triage/streets/{street.pk}/auto-dispatch"
    assert api_client.login(tw.dispatcher).put(url, {"auto_dispatch": True}).status_code == 403
    admin = api_client.login(tw.sysadmin)
    assert admin.put(url, {"auto_dispatch": True, "threshold": 0}).status_code == 422
    r = admin.put(url, {"auto_dispatch": True, "threshold": 0.95})
    assert r.status_code == 200, r.content
    assert r.json() == {
        "street": street.pk,
        "street_name": street.name,
        "auto_dispatch": True,
        "threshold": 0.95,
    }
    assert services.auto_dispatch_threshold(street) == 0.95
    assert admin.put("/triage/streets/999999/auto-dispatch", {"auto_dispatch": False}).status_code == 404


def test_the_case_page_shows_candidates_and_merges_in_one_click(
    tw, client, django_capture_on_commit_callbacks
):
    first, later, row = _pair(tw, django_capture_on_commit_callbacks)
    client.force_login(tw.dispatcher)
    page = client.get(f"/cases/{later.pk}/").content.decode()
    assert 'data-testid="dup-panel"' in page and first.display_number in page and "合并到此工单" in page
    client.force_login(tw.handler)  # not the desk: no panel
    assert 'data-testid="dup-panel"' not in client.get(f"/cases/{later.pk}/").content.decode()
    client.force_login(tw.dispatcher)
    r = client.post(f"/triage/duplicates/{row.pk}/merge/", HTTP_HX_REQUEST="true")
    assert r.status_code == 204 and r["HX-Refresh"] == "true"
    page = client.get(f"/cases/{later.pk}/").content.decode()
    assert 'data-testid="dup-master"' in page
    master_page = client.get(f"/cases/{first.pk}/").content.decode()
    assert 'data-testid="dup-merged-in"' in master_page and later.display_number in master_page
    r = client.post(f"/triage/duplicates/{row.pk}/dismiss/", HTTP_HX_REQUEST="true")
    assert r.status_code == 422 and "已处理" in r.content.decode()


def test_the_residents_tracking_page_shows_the_masters_progress(
    tw, client, django_capture_on_commit_callbacks
):
    from civicgrid.cases.models import Source

    first = intake(tw, django_capture_on_commit_callbacks, GARBAGE)
    later = intake(
        tw, django_capture_on_commit_callbacks, GARBAGE, source=Source.RESIDENT, source_ref="ABCDE23456"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.merge_duplicate(actor=tw.dispatcher, row=DuplicateCandidate.objects.get(case=later))
    with django_capture_on_commit_callbacks(execute=True):
        tw.move(first, "accept", category=tw.cat["暴露垃圾"])
    page = client.get("/s/t/ABCDE23456/").content.decode()
    assert "合并处理进度" in page and "当前进度" in page


def test_the_intake_round_checks_each_new_case_once_and_waits_for_late_commits(tw):
    """The check runs in the periodic round, not in the request: a burst of the same complaint costs intake
    nothing. Each case is looked at once; a case younger than the settle time waits for the next round."""
    first = tw.report(description=GARBAGE, category=tw.cat["暴露垃圾"], address="示范路8号院", **at())
    later = tw.report(description=GARBAGE, category=tw.cat["暴露垃圾"], address="示范路8号院", **at())
    assert not DuplicateCandidate.objects.exists()  # nothing on the request path
    assert services.process_intake()["cases"] == 0  # both younger than the settle time (the clock is frozen)
    assert services.process_intake(settle_seconds=0) == {"cases": 2, "failed": 0}
    assert DuplicateCandidate.objects.get(case=later).candidate_id == first.pk
    assert services.process_intake(settle_seconds=0)["cases"] == 0  # each case once


def test_the_first_intake_round_skips_the_history(tw):
    with clock.frozen(clock.now() - timedelta(hours=3)):
        old = tw.report(description=GARBAGE, category=tw.cat["暴露垃圾"], address="示范路8号院", **at())
    new = tw.report(description=GARBAGE, category=tw.cat["暴露垃圾"], address="示范路8号院", **at())
    assert services.process_intake(settle_seconds=0)["cases"] == 1  # only the last hour's
    assert (
        DuplicateCandidate.objects.get(case=new).candidate_id == old.pk
    )  # the history is still in the index


def test_a_burst_of_the_same_complaint_still_offers_the_first_case(monkeypatch):
    """Five hundred callers report the same problem: a check text-compares only the earliest and the latest of
    them (bounded work), and the first report — the master a merge keeps — is still offered."""
    monkeypatch.setattr(dedupe, "RANK_EACH_END", 20)
    recs = [
        dedupe.Record(i, 1000.0 + i, GARBAGE, 120.1 + (i % 7) * 0.0001, 30.25, None, 1, 1, "示范路8号院", 3)
        for i in range(500)
    ]
    idx = dedupe.Index()
    idx.build(recs)
    calls = []
    real = dedupe.text_similarity
    monkeypatch.setattr(dedupe, "text_similarity", lambda a, b: calls.append(1) or real(a, b))
    new = dedupe.Record(500, 2000.0, GARBAGE, 120.1, 30.25, None, 1, 1, "示范路8号院", 3)
    found = idx.check(new)
    assert len(calls) <= 40  # not 500
    assert found and 0 in [c.id for c in idx.check(new, params=replace(idx.params, limit=50))]
