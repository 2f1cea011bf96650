"""The case state machine as a pure table (no database access).

Each :class:`Move` names the states it may start from, where it goes, and which roles may make it — some only
under a condition about the case and the user (``Facts``: the case is assigned to the user's department, lies in
the user's grids/community, the category lets a grid worker file it, an extension request is pending).

:func:`check` is the guard: it RAISES

- :class:`~civicgrid.core.errors.IllegalTransition` (409) when the move is not legal from the case's state (or a
  state precondition such as "an extension is pending" fails);
- :class:`~civicgrid.core.errors.PermissionDenied` (403) when the state allows it but the role (or the role's
  condition) does not.

each with a :class:`~civicgrid.cases.errors.CaseErrorCode` (``illegal_transition``, ``extension_pending``,
``forbidden``, ``out_of_jurisdiction`` …) that the API returns as ``code``.

Life cycle::

    reported ─accept→ accepted ─dispatch→ dispatched ─sign→ handling ─finish→ handled ─verify_pass→ verified
       │                 ↑   ↑                 │  ↑            │  ↑            │ verify_fail → handling (返工)
       │reject/merge     │   └──return────────-┘  └─reassign───┘  │                         close ↓
       ↓                 │                                        │             closed ─rate→ rated
    rejected/merged      └── resume ← suspended ← suspend ────────┘        (不满意+重办 → dispatched)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from civicgrid.accounts.roles import Role
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import CaseState as S
from civicgrid.core.errors import IllegalTransition, PermissionDenied

# target sentinels
STAY = "<stay>"  # the state does not change (supervise, extension moves, reassign keeps "dispatched")
PREVIOUS = "<previous>"  # back to the state before suspension (resume)

# conditions a role may be subject to
OWN_DEPARTMENT = "own_department"  # the case is currently assigned to the user's department
OWN_GRID = "own_grid"  # the case lies in one of the user's grids
OWN_COMMUNITY = "own_community"  # the case lies in the user's community
CAN_FILE = "can_file"  # category.grid_worker_can_file and the case is the user's own or in their grids

# state preconditions (failing one is an IllegalTransition: the case is not in a state for it)
EXTENSION_PENDING = "extension_pending"
NO_EXTENSION_PENDING = "no_extension_pending"

ANY = None  # role allowed without condition

D, SL, H, G, C, L = (
    Role.DISPATCHER,
    Role.SHIFT_LEADER,
    Role.DEPT_HANDLER,
    Role.GRID_WORKER,
    Role.COMMUNITY_STAFF,
    Role.LEADER,
)


@dataclass(frozen=True)
class Move:
    name: str
    label: str
    sources: frozenset[str]
    target: str
    roles: dict[str, str | None] = field(hash=False, compare=False)
    needs: str | None = None  # a state precondition
    required: tuple[str, ...] = ()  # input fields the service requires (for the UI/API)
    style: str = "primary"
    # the inputs the move takes (procedures.INPUT_FIELDS; default: a note + the required ones) and the fields of
    # the procedure's detail record this move requires (see civicgrid.cases.procedures)
    fields: tuple[str, ...] = ()
    detail_fields: tuple[str, ...] = ()

    def __str__(self):
        return self.name


def _m(name, label, sources, target, roles, *, needs=None, required=(), style="primary") -> Move:
    return Move(name, label, frozenset(sources), target, dict(roles), needs, tuple(required), style)


def define_move(
    name: str,
    label: str,
    sources: Iterable[str],
    target: str,
    roles: dict[str, str | None],
    *,
    needs: str | None = None,
    required: Iterable[str] = (),
    fields: Iterable[str] = (),
    detail_fields: Iterable[str] = (),
    style: str = "primary",
) -> Move:
    """A :class:`Move` for a procedure's table (``required`` may name inputs and detail fields)."""
    return Move(
        name,
        label,
        frozenset(sources),
        target,
        dict(roles),
        needs,
        tuple(required),
        style,
        tuple(fields),
        tuple(detail_fields),
    )


_DISPATCH_DESK = {D: ANY, SL: ANY}
_STAGE_OPEN = (S.ACCEPTED, S.DISPATCHED, S.HANDLING, S.HANDLED, S.VERIFIED, S.SUSPENDED)

MOVES: dict[str, Move] = {
    m.name: m
    for m in [
        _m("accept", "受理立案", [S.REPORTED], S.ACCEPTED, {D: ANY, SL: ANY, G: CAN_FILE}),
        _m(
            "reject",
            "不予受理",
            [S.REPORTED],
            S.REJECTED,
            _DISPATCH_DESK,
            required=("reason",),
            style="danger",
        ),
        _m("dispatch", "派遣", [S.ACCEPTED], S.DISPATCHED, _DISPATCH_DESK, required=("department",)),
        _m("sign", "签收", [S.DISPATCHED], S.HANDLING, {H: OWN_DEPARTMENT}),
        _m(
            "return",
            "退回",
            [S.DISPATCHED, S.HANDLING],
            S.ACCEPTED,
            {H: OWN_DEPARTMENT},
            required=("reason",),
            style="warning",
        ),
        _m(
            "reassign",
            "改派",
            [S.DISPATCHED, S.HANDLING],
            S.DISPATCHED,
            _DISPATCH_DESK,
            required=("department",),
        ),
        _m(
            "finish",
            "处置完成",
            [S.HANDLING],
            S.HANDLED,
            {H: OWN_DEPARTMENT},
            required=("note", "attachments"),
            style="success",
        ),
        _m(
            "verify_pass",
            "核查通过",
            [S.HANDLED],
            S.VERIFIED,
            {D: ANY, SL: ANY, G: OWN_GRID, C: OWN_COMMUNITY},
            style="success",
        ),
        _m(
            "verify_fail",
            "核查不通过（返工）",
            [S.HANDLED],
            S.HANDLING,
            {D: ANY, SL: ANY, G: OWN_GRID, C: OWN_COMMUNITY},
            required=("reason",),
            style="warning",
        ),
        _m("close", "结案", [S.VERIFIED], S.CLOSED, _DISPATCH_DESK, style="success"),
        _m("rate", "回访评价", [S.CLOSED], S.RATED, _DISPATCH_DESK, required=("rating",)),
        _m(
            "request_extension",
            "申请延期",
            [S.DISPATCHED, S.HANDLING],
            STAY,
            {H: OWN_DEPARTMENT},
            needs=NO_EXTENSION_PENDING,
            required=("amount", "unit", "reason"),
            style="warning",
        ),
        _m(
            "approve_extension",
            "批准延期",
            [S.DISPATCHED, S.HANDLING],
            STAY,
            {SL: ANY},
            needs=EXTENSION_PENDING,
            style="success",
        ),
        _m(
            "deny_extension",
            "驳回延期",
            [S.DISPATCHED, S.HANDLING],
            STAY,
            {SL: ANY},
            needs=EXTENSION_PENDING,
            style="danger",
        ),
        _m(
            "suspend",
            "挂账",
            [S.ACCEPTED, S.DISPATCHED, S.HANDLING],
            S.SUSPENDED,
            _DISPATCH_DESK,
            required=("reason",),
            style="secondary",
        ),
        _m("resume", "恢复", [S.SUSPENDED], PREVIOUS, _DISPATCH_DESK),
        _m(
            "void",
            "作废",
            [S.REPORTED, *_STAGE_OPEN],
            S.VOIDED,
            {SL: ANY},
            required=("reason",),
            style="danger",
        ),
        _m(
            "merge",
            "合并",
            [S.REPORTED, S.ACCEPTED],
            S.MERGED,
            _DISPATCH_DESK,
            required=("target_case",),
            style="secondary",
        ),
        _m("supervise", "督办", _STAGE_OPEN, STAY, {SL: ANY, L: ANY}, required=("note",), style="danger"),
    ]
}

ALL_STATES: tuple[str, ...] = tuple(S.values)
ALL_MOVES: tuple[str, ...] = tuple(MOVES)


@dataclass(frozen=True)
class Facts:
    """What the guard needs to know about the case and the user besides the state and the role."""

    own_department: bool = False
    own_grid: bool = False
    own_community: bool = False
    can_file: bool = False
    extension_pending: bool = False
    # the procedure's own preconditions (``Procedure.preconditions``) that hold for the case
    met: frozenset[str] = frozenset()

    def holds(self, condition: str | None) -> bool:
        if condition is None:
            return True
        return bool(getattr(self, condition))


_CONDITION_TEXT = {
    OWN_DEPARTMENT: "该案件当前未派遣给您的部门",
    OWN_GRID: "该案件不在您负责的网格内",
    OWN_COMMUNITY: "该案件不在您所在的社区",
    CAN_FILE: "该分类不允许网格员自行立案",
}


def get_move(name: str) -> Move:
    try:
        return MOVES[name.replace("-", "_")]
    except KeyError:
        raise IllegalTransition(f"未知操作：{name}", field="move", code=CaseErrorCode.UNKNOWN_MOVE)


def _standard_state_label(case_state: str) -> str:
    # the label only for the message (building S.values per call cost a sixth of a bulk replay's checks)
    return S(case_state).label if case_state in S._value2member_map_ else case_state


def guard(
    case_state: str, m: Move, role: str, facts: Facts | None, state_label=_standard_state_label
) -> Move:
    """The guard of every procedure: raise unless ``role`` may make ``m`` from ``case_state``; return ``m``."""
    facts = facts or Facts()
    if case_state not in m.sources:
        raise IllegalTransition(
            f"案件当前状态为「{state_label(case_state)}」，不能执行「{m.label}」",
            code=CaseErrorCode.ILLEGAL_TRANSITION,
        )
    if m.needs == EXTENSION_PENDING and not facts.extension_pending:
        raise IllegalTransition(
            f"没有待审批的延期申请，不能执行「{m.label}」", code=CaseErrorCode.NO_PENDING_EXTENSION
        )
    if m.needs == NO_EXTENSION_PENDING and facts.extension_pending:
        raise IllegalTransition(
            "已有待审批的延期申请，请等待值班长审批", code=CaseErrorCode.EXTENSION_PENDING
        )
    if role not in m.roles:
        role_label = Role(role).label if role in Role.values else role
        raise PermissionDenied(f"「{role_label}」无权执行「{m.label}」", code=CaseErrorCode.ROLE_NOT_ALLOWED)
    condition = m.roles[role]
    if not facts.holds(condition):
        code = (
            CaseErrorCode.CATEGORY_NOT_FILEABLE
            if condition == CAN_FILE
            else CaseErrorCode.OUT_OF_JURISDICTION
        )
        raise PermissionDenied(f"{_CONDITION_TEXT[condition]}，不能执行「{m.label}」", code=code)
    return m


def guard_ok(
    case_state: str, m: Move, role: str, facts: Facts | None, state_label=_standard_state_label
) -> bool:
    """What :func:`guard` decides, without building the refusal (listing a case's buttons asks every move, and
    most refuse: an exception and its message per refusal cost a tenth of a case create)."""
    if case_state not in m.sources:
        return False
    facts = facts or _NO_FACTS
    pending = facts.extension_pending
    if m.needs == EXTENSION_PENDING and not pending:
        return False
    if m.needs == NO_EXTENSION_PENDING and pending:
        return False
    condition = m.roles.get(role, _NO_ROLE)
    if condition is _NO_ROLE:
        return False
    return facts.holds(condition)


_NO_ROLE = object()
_NO_FACTS = Facts()


def check(case_state: str, move: str | Move, role: str, facts: Facts | None = None) -> Move:
    """Raise unless ``role`` may make ``move`` from ``case_state`` (the standard procedure's table); return the
    :class:`Move`. Another procedure's guard: :meth:`civicgrid.cases.procedures.Procedure.check`."""
    m = move if isinstance(move, Move) else get_move(move)
    return guard(case_state, m, role, facts)


def is_allowed(case_state: str, move: str | Move, role: str, facts: Facts | None = None) -> bool:
    return guard_ok(case_state, move if isinstance(move, Move) else get_move(move), role, facts)


def target_state(move: Move, case_state: str, suspended_from: str = "") -> str:
    if move.target == STAY:
        return case_state
    if move.target == PREVIOUS:
        return suspended_from or S.ACCEPTED
    return move.target


def moves_for(case_state: str, role: str, facts: Facts | None = None, *, names: Iterable[str] = ALL_MOVES):
    """The moves ``role`` may make now, in table order."""
    return [MOVES[n] for n in names if is_allowed(case_state, MOVES[n], role, facts)]


def allowed_moves(case, user) -> list[Move]:
    """Legal moves for ``user`` on ``case`` (for the UI's buttons). Reads the case's facts (may query)."""
    from civicgrid.cases import procedures
    from civicgrid.cases.services import facts_for

    if user is None or not getattr(user, "is_active", False):
        return []
    proc = procedures.for_case(case)
    if proc.code == procedures.DEFAULT_CODE:
        return moves_for(case.state, user.role, facts_for(case, user))
    return proc.moves_for(case.state, user.role, facts_for(case, user))


# timeline entries that are not workflow moves: the case was filed, imported, located, or got a public note
EVENT_LABELS = {
    "create": "上报",
    "import": "导入",
    "import_update": "导入更新",
    "locate": "定位",
    "public_note": "公开回复",
}


def event_label(move: str, procedure=None) -> str:
    """The Chinese label of a timeline entry's move (workflow moves, ``procedure``'s moves, the entries above)."""
    if procedure is not None and move in procedure.move_map:
        return procedure.move_map[move].label
    if move in MOVES:
        return MOVES[move].label
    return EVENT_LABELS.get(move, move)


REDISPATCH_LABEL = "改派"


def move_label(move: Move | str, case=None) -> str:
    """The label a user sees for ``move`` on ``case``: a 派遣 of a case a department returned is a 改派 (the
    badge says 被退回待改派), everything else its own label."""
    if isinstance(move, Move):
        m = move
    elif case is not None and getattr(case, "procedure", "standard") != "standard":
        from civicgrid.cases import procedures

        m = procedures.for_case(case).get_move(move)
    else:
        m = get_move(move)
    if m.name == "dispatch" and case is not None and getattr(case, "returned", False):
        return REDISPATCH_LABEL
    return m.label


def timeline_labels(events, procedure=None) -> list[str]:
    """The labels of a case's timeline entries, in order: a 派遣 that follows a 退回 reads 改派."""
    if procedure is not None and not procedure.handlers_own_rules:
        return [event_label(e.move, procedure) for e in events]
    labels, returned = [], False
    for e in events:
        data = e.data if isinstance(e.data, dict) else {}
        if e.move == "dispatch" and (returned or data.get("after_return")):
            labels.append(REDISPATCH_LABEL)
        else:
            labels.append(event_label(e.move))
        if e.move == "return":
            returned = True
        elif e.move in ("dispatch", "reassign"):
            returned = False
    return labels
