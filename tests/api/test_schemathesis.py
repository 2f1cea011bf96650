"""Property-based check of the whole JSON API against its own OpenAPI document (schemathesis).

The schema is loaded from ``/api/v1/openapi.json`` through the Django WSGI app (no live server), with a
bearer token so it loads whether or not the document needs a login. Every operation is called with bounded,
derandomized examples (reproducible in CI) as two staff roles, 派遣员 and 网格员, in positive and negative
generation modes (negative for one role: validation comes before the role check); each answer must not be a 5xx, must use a status code the operation documents, and must
match the documented response schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from civicgrid.accounts.roles import Role
from civicgrid.accounts.services import issue_token
from tests.cases.factories import World

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 5}
# negative (schema-violating) input is refused by validation before any role check: one role is enough
MODES = {
    Role.DISPATCHER: (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    Role.GRID_WORKER: (GenerationMode.POSITIVE,),
}


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes "old" connections when a request starts and finishes, which on PostgreSQL would close
    the test's transaction; Django's test client switches that off the same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def world(db):
    w = World()
    # something to read: cases in a few states, in the worker's grid
    for state in ("reported", "accepted", "dispatched", "handling"):
        w.to_state(state)
    return w


def _run_operation(operation, mode, headers) -> None:
    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.GRID_WORKER])
def test_every_operation_conforms_to_the_openapi_document(world, role):
    user = world.by_role(role)
    _, key = issue_token(actor=user, user=user, name="schemathesis")
    headers = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application(), headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    failures = []
    for operation in operations:
        for mode in MODES[role]:
            try:
                _run_operation(operation, mode, headers)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - report every operation's failures
                failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:1500]}")
    assert not failures, f"{len(failures)} failing:\n\n" + "\n\n".join(failures)
