"""The audit log: every write appends a row (actor, time, object, before/after) and rows can never change."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from civicgrid.accounts import services
from civicgrid.accounts.roles import Role
from civicgrid.core import audit, clock
from civicgrid.core.models import AuditLog
from tests.factories import GridFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_user_creation_is_audited_with_actor_and_after():
    admin = UserFactory(role=Role.SYSTEM_ADMIN)
    grid = GridFactory()
    user = services.create_user(
        actor=admin, username="wg01", password="Grid-Worker-2026", role=Role.GRID_WORKER, grids=[grid]
    )
    row = AuditLog.objects.get(action="accounts.user.create", object_id=str(user.pk))
    assert row.actor == admin
    assert row.actor_username == admin.username
    assert row.actor_role == Role.SYSTEM_ADMIN
    assert row.object_type == "accounts.user"
    assert row.after["username"] == "wg01"
    assert row.after["grids"] == [grid.code]
    assert "password" not in row.after


def test_update_records_before_and_after():
    admin = UserFactory(role=Role.SYSTEM_ADMIN)
    g1, g2 = GridFactory(), GridFactory()
    worker = UserFactory(role=Role.GRID_WORKER, grids=[g1])
    services.set_grids(actor=admin, user=worker, grids=[g2])
    row = AuditLog.objects.get(action="accounts.user.set_grids")
    assert row.before == {"grids": [g1.code]}
    assert row.after == {"grids": [g2.code]}


def test_audit_time_follows_the_platform_clock():
    from datetime import datetime

    at = datetime(2026, 3, 2, 9, 0, tzinfo=clock.SHANGHAI)
    with clock.frozen(at), transaction.atomic():
        row = audit.record(actor=None, action="test.clock", object_type="x", object_id=1)
    assert row.at == at


def test_failed_write_leaves_no_audit_row():
    before = AuditLog.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(actor=None, action="test.rollback", object_type="x", object_id=1)
        raise RuntimeError("the write failed")
    assert AuditLog.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        audit.record(actor=None, action="test.none", object_type="x", object_id=1)


def test_orm_refuses_update_and_delete():
    with transaction.atomic():
        row = audit.record(actor=None, action="test.immutable", object_type="x", object_id=1)
    row.note = "tampered"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=row.pk).update(note="tampered")
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=row.pk).delete()


def test_database_refuses_raw_update():
    with transaction.atomic():
        row = audit.record(actor=None, action="test.raw", object_type="x", object_id=1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE core_auditlog SET note = 'tampered' WHERE id = %s", [row.pk])
    row.refresh_from_db()
    assert row.note == ""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the DELETE trigger exists on PostgreSQL only")
def test_database_refuses_raw_delete_on_postgresql():
    with transaction.atomic():
        row = audit.record(actor=None, action="test.raw", object_type="x", object_id=1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM core_auditlog WHERE id = %s", [row.pk])
    assert AuditLog.objects.filter(pk=row.pk).exists()


def test_admin_edits_are_audited(client):
    from tests.factories import DepartmentFactory

    admin = UserFactory(role=Role.SYSTEM_ADMIN, is_staff=True, is_superuser=True)
    dept = DepartmentFactory(name="环保所", code="HBS")
    client.force_login(admin)
    resp = client.post(
        f"/admin/accounts/department/{dept.pk}/change/",
        {
            "code": "HBS",
            "name": "环保所",
            "kind": "environment",
            "phone": "0571-555000",
            "sort_order": 5,
            "is_active": "on",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    row = AuditLog.objects.get(action="admin.update", object_id=str(dept.pk))
    assert row.before["phone"] == "" and row.after["phone"] == "0571-555000"


def test_auditor_reads_the_log_in_the_browser_page(client):
    with transaction.atomic():
        audit.record(actor=None, action="test.visible", object_type="x", object_id=42, object_repr="第42号")
    client.force_login(UserFactory(role=Role.AUDIT_ADMIN))
    html = client.get("/audit/", {"action": "test."}).content.decode()
    assert "test.visible" in html and "第42号" in html


def test_audit_page_shows_chinese_labels_for_roles_actions_and_objects(client):
    from tests.factories import DepartmentFactory

    dispatcher = UserFactory(role=Role.DISPATCHER)
    dept = DepartmentFactory(name="城管中队")
    with transaction.atomic():
        audit.record(actor=dispatcher, action="cases.case.dispatch", object_type="cases.case", object_id=7)
        audit.record(actor=None, action="auth.login_failed", object_type="accounts.user", object_repr="zhang")
        audit.record(actor=dispatcher, action="admin.update", obj=dept)
    client.force_login(UserFactory(role=Role.AUDIT_ADMIN))
    html = client.get("/audit/").content.decode()
    assert "工单：派遣" in html and "指挥中心受理员/派遣员" in html
    assert "登录失败" in html and "后台修改" in html and "处置部门" in html
    assert "<td>dispatcher</td>" not in html  # the raw role code is no longer the cell's text


def test_audit_admin_filters_name_actions_and_roles_in_chinese(client):
    dispatcher = UserFactory(role=Role.DISPATCHER)
    with transaction.atomic():
        audit.record(actor=dispatcher, action="cases.case.dispatch", object_type="cases.case", object_id=7)
    client.force_login(UserFactory(role=Role.AUDIT_ADMIN, is_staff=True))
    resp = client.get("/admin/core/auditlog/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "工单：派遣" in html and "指挥中心受理员/派遣员" in html
    filtered = client.get("/admin/core/auditlog/", {"action": "cases.case.dispatch"}).content.decode()
    assert "工单：派遣（cases.case.dispatch）" in filtered
