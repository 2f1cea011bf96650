"""An Open311 client acts as a system actor: the audit log names it 系统（Open311：<密钥用途>）, never a user."""

from __future__ import annotations

import pytest

from civicgrid.core.models import AuditLog
from civicgrid.open311.models import ServiceRequest

pytestmark = pytest.mark.django_db


def test_open311_request_is_audited_under_the_clients_name(place, submit):
    srid = submit()["service_request_id"]
    case = ServiceRequest.objects.get(service_request_id=srid).case
    entry = AuditLog.objects.get(action="cases.case.create", object_id=str(case.pk))
    assert (entry.actor_username, entry.actor_role) == ("系统（Open311：市民服务平台）", "system")
    assert entry.actor_id == place.key.service_user_id  # the row still links the account it acted through
