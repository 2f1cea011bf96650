"""The audit log names the channel a case came through when no person acted: 系统（居民随手拍）, 系统（12345 导入）."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from civicgrid.accounts.roles import Role
from civicgrid.cases.categories import load_categories
from civicgrid.cases.models import Case
from civicgrid.core import geoindex
from civicgrid.core.models import AuditLog
from civicgrid.intake import services, tasks
from civicgrid.intake.models import ImportJob, JobStatus
from tests.factories import GridFactory, StreetFactory, UserFactory
from tests.intake.test_hotline_import import row, write_csv
from tests.intake.test_resident import INSIDE, at, code_from, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def street(db):
    cache.clear()
    load_categories()
    StreetFactory()
    GridFactory(col=0, row=0, name="翠苑第一网格")
    geoindex.invalidate()
    yield
    cache.clear()


def test_a_residents_report_is_audited_as_the_resident_channel(client, street):
    code = code_from(post(client, **at(INSIDE)))
    case = Case.objects.get(source="resident", source_ref=code)
    entry = AuditLog.objects.get(action="cases.case.create", object_id=str(case.pk))
    assert (entry.actor_username, entry.actor_role) == ("系统（居民随手拍）", "system")

    auditor = UserFactory(role=Role.AUDIT_ADMIN)
    client.force_login(auditor)
    html = client.get("/audit/", {"object_type": "cases.case", "object_id": case.pk}).content.decode()
    assert "系统（居民随手拍）" in html and "_resident_intake" not in html


def test_an_import_without_a_person_is_audited_as_the_import_channel(world, dispatcher, tmp_path):
    path = write_csv(tmp_path / "closed.csv", [row("GD101"), row("GD102")])
    from django.core.files.uploadedfile import SimpleUploadedFile

    job = services.create_job(actor=dispatcher, upload=SimpleUploadedFile(path.name, path.read_bytes()))
    services.start_job(actor=dispatcher, job=job)
    ImportJob.objects.filter(pk=job.pk).update(created_by=None)  # e.g. queued by a server command
    assert tasks.run_pending() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.created_count == 2, job.message
    for action in ("cases.case.import_closed", "intake.import.batch"):
        entry = AuditLog.objects.filter(action=action).latest("pk")
        assert entry.actor_username == "系统（12345 导入）" and entry.actor_id is None, action
