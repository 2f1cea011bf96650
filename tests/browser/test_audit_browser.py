"""The 审计管理员 signs in and reads the audit log in Chinese: actions, roles and object types by name."""

from __future__ import annotations

import pytest
from django.db import transaction

from civicgrid.accounts.roles import Role
from civicgrid.core import audit
from tests.factories import DepartmentFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_auditor_reads_the_log_with_chinese_labels(page, live_server, browser_login, screenshot_dir):
    dispatcher = UserFactory(role=Role.DISPATCHER, username="chen", full_name="陈调度")
    admin = UserFactory(role=Role.SYSTEM_ADMIN, username="sysadmin")
    dept = DepartmentFactory(name="城管中队")
    with transaction.atomic():
        audit.record(actor=dispatcher, action="cases.case.dispatch", object_type="cases.case", object_id=7)
        audit.record(actor=admin, action="admin.set_password", obj=dispatcher, note="设置密码")
        audit.record(
            actor=admin, action="admin.update", obj=dept, before={"phone": ""}, after={"phone": "0571-1"}
        )
    browser_login(page, UserFactory(role=Role.AUDIT_ADMIN, full_name="审计员"))
    page.goto(f"{live_server.url}/audit/")
    table = page.inner_text("[data-testid=audit-table]")
    for text in ("工单：派遣", "指挥中心受理员/派遣员", "后台设置密码", "系统管理员", "处置部门", "用户"):
        assert text in table, text
    page.screenshot(path=str(screenshot_dir / "audit-log.png"), full_page=True)
