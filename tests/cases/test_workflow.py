"""The transition table, exhaustively: every state × every move × every role.

``EXPECTED`` is written out by hand (independently of ``workflow.MOVES``): for each move, the states it may start
from and the roles that may make it. The guard must answer exactly: allowed / IllegalTransition (state) /
PermissionDenied (role).
"""

from __future__ import annotations

import itertools

import pytest

from civicgrid.accounts.roles import Role
from civicgrid.cases import workflow
from civicgrid.cases.models import CaseState
from civicgrid.cases.workflow import Facts
from civicgrid.core.errors import IllegalTransition, PermissionDenied

R = Role
DESK = {R.DISPATCHER, R.SHIFT_LEADER}
OPEN = {"accepted", "dispatched", "handling", "handled", "verified", "suspended"}

# move -> (source states, roles allowed (given their conditions hold), target)
EXPECTED = {
    "accept": ({"reported"}, DESK | {R.GRID_WORKER}, "accepted"),
    "reject": ({"reported"}, DESK, "rejected"),
    "dispatch": ({"accepted"}, DESK, "dispatched"),
    "sign": ({"dispatched"}, {R.DEPT_HANDLER}, "handling"),
    "return": ({"dispatched", "handling"}, {R.DEPT_HANDLER}, "accepted"),
    "reassign": ({"dispatched", "handling"}, DESK, "dispatched"),
    "finish": ({"handling"}, {R.DEPT_HANDLER}, "handled"),
    "verify_pass": ({"handled"}, DESK | {R.GRID_WORKER, R.COMMUNITY_STAFF}, "verified"),
    "verify_fail": ({"handled"}, DESK | {R.GRID_WORKER, R.COMMUNITY_STAFF}, "handling"),
    "close": ({"verified"}, DESK, "closed"),
    "rate": ({"closed"}, DESK, "rated"),
    "request_extension": ({"dispatched", "handling"}, {R.DEPT_HANDLER}, None),
    "approve_extension": ({"dispatched", "handling"}, {R.SHIFT_LEADER}, None),
    "deny_extension": ({"dispatched", "handling"}, {R.SHIFT_LEADER}, None),
    "suspend": ({"accepted", "dispatched", "handling"}, DESK, "suspended"),
    "resume": ({"suspended"}, DESK, "<previous>"),
    "void": ({"reported"} | OPEN, {R.SHIFT_LEADER}, "voided"),
    "merge": ({"reported", "accepted"}, DESK, "merged"),
    "supervise": (OPEN, {R.SHIFT_LEADER, R.LEADER}, None),
}

ALL_FACTS = Facts(own_department=True, own_grid=True, own_community=True, can_file=True)


def _facts_for(move: str) -> Facts:
    """All role conditions true; the extension precondition set the way the move needs it."""
    pending = move in ("approve_extension", "deny_extension")
    return Facts(
        own_department=True, own_grid=True, own_community=True, can_file=True, extension_pending=pending
    )


def test_expected_matrix_covers_every_move_and_state():
    assert set(EXPECTED) == set(workflow.MOVES)
    assert set(workflow.ALL_STATES) == set(CaseState.values)
    assert len(workflow.ALL_STATES) == 12


@pytest.mark.parametrize(
    "state,move,role", list(itertools.product(CaseState.values, sorted(EXPECTED), Role.values))
)
def test_guard_matrix(state, move, role):
    sources, roles, _target = EXPECTED[move]
    facts = _facts_for(move)
    if state not in sources:
        with pytest.raises(IllegalTransition):
            workflow.check(state, move, role, facts)
    elif role not in roles:
        with pytest.raises(PermissionDenied):
            workflow.check(state, move, role, facts)
    else:
        assert workflow.check(state, move, role, facts).name == move


@pytest.mark.parametrize("move", sorted(EXPECTED))
def test_targets(move):
    m = workflow.MOVES[move]
    _sources, _roles, target = EXPECTED[move]
    for state in m.sources:
        got = workflow.target_state(m, state, suspended_from="handling")
        if target is None:
            assert got == state
        elif target == "<previous>":
            assert got == "handling"
        else:
            assert got == target


# key cells, written out one by one
@pytest.mark.parametrize(
    "state,move,role,facts,outcome",
    [
        ("reported", "accept", R.DISPATCHER, Facts(), "ok"),
        ("reported", "accept", R.GRID_WORKER, Facts(can_file=False), PermissionDenied),
        ("reported", "accept", R.GRID_WORKER, Facts(can_file=True), "ok"),
        ("reported", "accept", R.DEPT_HANDLER, ALL_FACTS, PermissionDenied),
        ("reported", "accept", R.SYSTEM_ADMIN, ALL_FACTS, PermissionDenied),
        ("reported", "accept", R.AUDIT_ADMIN, ALL_FACTS, PermissionDenied),
        ("accepted", "accept", R.DISPATCHER, Facts(), IllegalTransition),
        ("closed", "dispatch", R.DISPATCHER, Facts(), IllegalTransition),
        ("dispatched", "sign", R.DEPT_HANDLER, Facts(own_department=True), "ok"),
        ("dispatched", "sign", R.DEPT_HANDLER, Facts(own_department=False), PermissionDenied),
        ("dispatched", "sign", R.DISPATCHER, Facts(), PermissionDenied),
        ("handling", "sign", R.DEPT_HANDLER, Facts(own_department=True), IllegalTransition),
        ("handling", "finish", R.DEPT_HANDLER, Facts(own_department=True), "ok"),
        ("dispatched", "finish", R.DEPT_HANDLER, Facts(own_department=True), IllegalTransition),
        ("handled", "verify_pass", R.GRID_WORKER, Facts(own_grid=False), PermissionDenied),
        ("handled", "verify_pass", R.GRID_WORKER, Facts(own_grid=True), "ok"),
        ("handled", "verify_fail", R.COMMUNITY_STAFF, Facts(own_community=True), "ok"),
        ("handled", "verify_fail", R.COMMUNITY_STAFF, Facts(own_community=False), PermissionDenied),
        ("handled", "verify_pass", R.DEPT_HANDLER, Facts(own_department=True), PermissionDenied),
        ("handling", "request_extension", R.DEPT_HANDLER, Facts(own_department=True), "ok"),
        (
            "handling",
            "request_extension",
            R.DEPT_HANDLER,
            Facts(own_department=True, extension_pending=True),
            IllegalTransition,
        ),
        ("handling", "approve_extension", R.SHIFT_LEADER, Facts(extension_pending=False), IllegalTransition),
        ("handling", "approve_extension", R.SHIFT_LEADER, Facts(extension_pending=True), "ok"),
        ("handling", "approve_extension", R.DISPATCHER, Facts(extension_pending=True), PermissionDenied),
        ("handling", "void", R.DISPATCHER, Facts(), PermissionDenied),
        ("handling", "void", R.SHIFT_LEADER, Facts(), "ok"),
        ("rated", "void", R.SHIFT_LEADER, Facts(), IllegalTransition),
        ("handling", "supervise", R.LEADER, Facts(), "ok"),
        ("handling", "dispatch", R.LEADER, Facts(), IllegalTransition),
        ("accepted", "dispatch", R.LEADER, Facts(), PermissionDenied),
        ("reported", "supervise", R.LEADER, Facts(), IllegalTransition),
        ("suspended", "resume", R.DISPATCHER, Facts(), "ok"),
        ("suspended", "dispatch", R.DISPATCHER, Facts(), IllegalTransition),
        ("verified", "close", R.SYSTEM_ADMIN, ALL_FACTS, PermissionDenied),
        ("merged", "merge", R.DISPATCHER, Facts(), IllegalTransition),
    ],
)
def test_key_cells(state, move, role, facts, outcome):
    if outcome == "ok":
        assert workflow.check(state, move, role, facts).name == move
    else:
        with pytest.raises(outcome):
            workflow.check(state, move, role, facts)


def test_terminal_states_allow_no_move_for_anyone():
    for state in ("rejected", "rated", "voided", "merged"):
        for role in Role.values:
            assert workflow.moves_for(state, role, ALL_FACTS) == []


def test_system_and_audit_admin_have_no_business_moves():
    for state in CaseState.values:
        for role in (R.SYSTEM_ADMIN, R.AUDIT_ADMIN):
            assert workflow.moves_for(state, role, ALL_FACTS) == []


def test_unknown_move_is_illegal_and_dashes_are_accepted():
    with pytest.raises(IllegalTransition):
        workflow.check("reported", "teleport", R.DISPATCHER)
    assert workflow.get_move("verify-pass").name == "verify_pass"


def test_messages_are_chinese():
    with pytest.raises(IllegalTransition) as exc:
        workflow.check("closed", "dispatch", R.DISPATCHER)
    assert "已结案" in exc.value.message and "派遣" in exc.value.message
    assert exc.value.status == 409
    with pytest.raises(PermissionDenied) as exc:
        workflow.check("accepted", "dispatch", R.GRID_WORKER)
    assert exc.value.status == 403 and "网格员" in exc.value.message


def test_every_timeline_entry_has_a_chinese_label():
    from civicgrid.cases.workflow import MOVES, event_label

    for name, move in MOVES.items():
        assert event_label(name) == move.label
    assert event_label("create") == "上报"
    assert event_label("public_note") == "公开回复"
    assert event_label("import") == "导入"
