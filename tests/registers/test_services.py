"""人员 / 户 / 走访 services: personal data encrypted at rest, exact search by keyed hash, masking, full view
only with the capability and always logged, scope by grid/community/tier, visit → case, overdue list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from civicgrid.cases.models import Case
from civicgrid.core import clock
from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.core.models import AuditLog
from civicgrid.registers import crypto, selectors, services
from civicgrid.registers.models import AccessLog, FloatingStatus, Person, VisitCheckItem
from tests.registers.conftest import id_number


def test_the_id_number_and_phone_are_stored_only_encrypted(rw):
    raw = id_number(1)
    with connection.cursor() as cur:
        cur.execute("SELECT id_cipher, id_hash, id_masked, phone_cipher, phone_masked FROM registers_person")
        rows = cur.fetchall()
    dump = repr(rows)
    assert raw not in dump and "13812345678" not in dump
    granny = Person.objects.get(pk=rw.granny.pk)
    assert granny.id_masked == raw[:4] + "*" * 10 + raw[-4:]
    assert granny.phone_masked == "138****5678"
    assert crypto.decrypt(granny.id_cipher) == raw
    # the audit trail carries only the masked forms
    trail = repr(list(AuditLog.objects.values_list("before", "after", "note")))
    assert raw not in trail and "13812345678" not in trail and granny.id_masked in trail


def test_an_exact_id_search_finds_the_person_by_keyed_hash(rw):
    found = selectors.person_rows(user=rw.grid_worker, q=id_number(1).lower())
    assert list(found) == [rw.granny]
    assert list(selectors.person_rows(user=rw.grid_worker, q=id_number(9))) == []
    assert list(selectors.person_rows(user=rw.grid_worker, q="阿婆")) == [rw.granny]
    # the hash is keyed: a plain SHA-256 of the number is not what is stored
    import hashlib

    assert rw.granny.id_hash != hashlib.sha256(id_number(1).encode()).hexdigest()


def test_bad_input_names_the_field(rw):
    with pytest.raises(ValidationFailed) as e:
        services.create_person(
            actor=rw.grid_worker,
            data=services.PersonInput(
                name="甲", id_number="330106195001010010", residence="huji", grid_id=rw.grid.pk
            ),
        )
    assert e.value.field == "id_number" and "校验位" in e.value.message
    with pytest.raises(ValidationFailed) as e:
        services.create_person(
            actor=rw.grid_worker,
            data=services.PersonInput(
                name="乙", id_number=id_number(1), residence="huji", grid_id=rw.grid.pk
            ),
        )
    assert e.value.code == "person_duplicate"
    with pytest.raises(ValidationFailed) as e:
        services.create_person(
            actor=rw.grid_worker,
            data=services.PersonInput(
                name="丙", id_number=id_number(7), residence="huji", grid_id=rw.other_grid.pk
            ),
        )
    assert e.value.field == "grid"
    assert Person.objects.count() == 3


def test_scope_grid_worker_community_staff_and_street(rw):
    assert set(selectors.visible_persons(user=rw.grid_worker)) == {rw.granny, rw.tenant}
    assert set(selectors.visible_persons(user=rw.other_worker)) == {rw.outsider}
    assert set(selectors.visible_persons(user=rw.community_staff)) == {rw.granny, rw.tenant}
    assert set(selectors.visible_persons(user=rw.leader)) == {rw.granny, rw.tenant, rw.outsider}
    assert not selectors.visible_persons(user=rw.handler).exists()
    assert not selectors.visible_persons(user=rw.auditor).exists()


@pytest.mark.parametrize("who", ["grid_worker", "community_staff", "dispatcher", "sysadmin", "auditor"])
def test_only_the_full_view_capability_reveals(rw, who):
    with pytest.raises(PermissionDenied):
        services.reveal_person(actor=getattr(rw, who), person=rw.granny, reason="核对身份")
    assert not AccessLog.objects.exists()


def test_a_leader_reveals_with_a_reason_and_it_is_logged_twice(rw):
    with pytest.raises(ValidationFailed) as e:
        services.reveal_person(actor=rw.leader, person=rw.granny, reason=" ")
    assert e.value.field == "reason"
    full = services.reveal_person(actor=rw.leader, person=rw.granny, reason="低保复核核对身份", channel="api")
    assert full == {"id_number": id_number(1), "phone": "13812345678"}
    log = AccessLog.objects.get()
    assert (log.user, log.person, log.reason, log.channel) == (
        rw.leader,
        rw.granny,
        "低保复核核对身份",
        "api",
    )
    row = AuditLog.objects.get(action="registers.person.reveal")
    assert row.actor == rw.leader and row.object_id == str(rw.granny.pk) and "低保复核" in row.note
    assert id_number(1) not in row.note


def test_household_members_and_assistance(rw):
    item = services.save_assistance(
        actor=rw.grid_worker,
        household=rw.household,
        kind="dibao",
        recognized_on=clock.local_now().date() - timedelta(days=200),
        review_on=clock.local_now().date() - timedelta(days=20),
        monthly_amount=1180,
        person=rw.granny,
    )
    assert item.household == rw.household
    with pytest.raises(ValidationFailed) as e:
        services.save_assistance(
            actor=rw.grid_worker,
            household=rw.household,
            kind="dibao",
            recognized_on=clock.local_now().date(),
            exited_on=clock.local_now().date() - timedelta(days=1),
        )
    assert e.value.field == "exited_on"
    services.add_member(actor=rw.grid_worker, household=rw.household, person=rw.tenant, relation="租户")
    assert set(selectors.get_household(user=rw.community_staff, pk=rw.household.pk).members.all()) == {
        rw.granny,
        rw.tenant,
    }


def test_a_visit_with_a_finding_files_a_case_in_one_go(rw):
    items = list(VisitCheckItem.objects.all()[:2])
    visit = services.record_visit(
        actor=rw.grid_worker,
        target_kind="household",
        target_id=rw.household.pk,
        method="home",
        answers=[
            services.CheckAnswer(items[0], ok=False, note="电动车在楼道充电"),
            services.CheckAnswer(items[1], True),
        ],
        notes="老人身体尚可",
        finding="楼道内电动车充电，存在火灾隐患",
    )
    assert visit.case is not None
    case = Case.objects.get(pk=visit.case.pk)
    assert case.source == "grid_patrol" and "电动车充电" in case.description and case.grid == rw.grid
    assert set(visit.persons.all()) == {rw.granny}  # the household's members were covered
    assert [r.ok for r in visit.results.all()] == [False, True]


def test_a_visit_outside_ones_grid_is_refused_and_writes_nothing(rw):
    with pytest.raises(ValidationFailed) as e:
        services.record_visit(
            actor=rw.other_worker, target_kind="household", target_id=rw.household.pk, method="home"
        )
    assert e.value.field == "target_id"
    with pytest.raises(ValidationFailed):
        services.record_visit(
            actor=rw.grid_worker, target_kind="person", target_id=rw.granny.pk, method="fly"
        )
    assert not selectors.visible_visits(user=rw.leader).exists()


def test_key_persons_get_overdue_after_their_interval(rw):
    today = clock.local_now().date()
    rows = selectors.key_person_status(persons=selectors.visible_persons(user=rw.leader), as_of=today)
    assert [r["person"] for r in rows] == [rw.granny]  # only 王阿婆 carries a tag with an interval
    assert rows[0]["interval"] == 30 and not rows[0]["overdue"]  # a new 重点人员 gets one interval
    Person.objects.filter(pk=rw.granny.pk).update(created_at=clock.now() - timedelta(days=40))
    rows = selectors.key_person_status(persons=selectors.visible_persons(user=rw.leader), as_of=today)
    assert rows[0]["overdue"] and rows[0]["days_over"] == 10 and rows[0]["last_visit"] is None
    services.record_visit(actor=rw.grid_worker, target_kind="person", target_id=rw.granny.pk, method="phone")
    rows = selectors.key_person_status(persons=selectors.visible_persons(user=rw.leader), as_of=today)
    assert (
        not rows[0]["overdue"] and rows[0]["last_visit"] == today and rows[0]["due"] == today + timedelta(30)
    )
    # a visit made after the as-of date does not count for it
    rows = selectors.key_person_status(
        persons=selectors.visible_persons(user=rw.leader), as_of=today - timedelta(days=1)
    )
    assert rows[0]["overdue"]
    # an admin shortens the 独居高龄 interval: the same visit is overdue a week later
    rw.tag["duju"].visit_interval_days = 5
    rw.tag["duju"].save()
    rows = selectors.key_person_status(
        persons=selectors.visible_persons(user=rw.leader), as_of=today + timedelta(days=7)
    )
    assert rows[0]["overdue"] and rows[0]["days_over"] == 2


def test_floating_person_registered_listed_cancelled(rw):
    assert rw.tenant.floating_status == FloatingStatus.REGISTERED
    today = clock.local_now().date()
    with pytest.raises(ValidationFailed):
        services.move_floating(actor=rw.grid_worker, person=rw.tenant, move="cancel", left_on=today)
    services.move_floating(actor=rw.grid_worker, person=rw.tenant, move="list")
    with pytest.raises(ValidationFailed) as e:
        services.move_floating(actor=rw.grid_worker, person=rw.tenant, move="cancel")
    assert e.value.field == "left_on"
    p = services.move_floating(
        actor=rw.grid_worker, person=rw.tenant, move="cancel", left_on=today - timedelta(days=3)
    )
    assert p.floating_status == FloatingStatus.CANCELLED and not p.is_active and p.cancelled_on == today
    with pytest.raises(ValidationFailed):
        services.move_floating(actor=rw.grid_worker, person=rw.granny, move="list")


def test_update_person_records_only_the_changes(rw):
    services.update_person(
        actor=rw.community_staff, person=rw.granny, phone="13900001111", tags=["duju", "dibao"]
    )
    row = AuditLog.objects.filter(action="registers.person.update").latest("pk")
    assert row.after == {"phone_masked": "139****1111", "tags": ["dibao", "duju"]}
    assert "13900001111" not in repr(row.before) + repr(row.after)
    with pytest.raises(NotFound):  # another community's staff cannot even find her
        services.update_person(actor=rw.other_staff, person=rw.granny, name="改名")
