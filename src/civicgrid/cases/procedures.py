"""Procedures (办理程序): which states, moves, stages and rules a case follows.

A case carries ``Case.procedure`` (a code). Each :class:`Procedure` registers its own states, moves (the
:class:`~civicgrid.cases.workflow.Move` table: sources, target, roles with conditions, needs, required fields,
style), the handler per move, stages with their deadline rules, the input fields per move, state groups (open /
closed / terminal / done = 办结 / paused), an optional visibility rule and an optional one-to-one detail model.

The first procedure is :data:`STANDARD` (``standard``, 12345/城管 标准流程): the table of
:mod:`civicgrid.cases.workflow`, whose handlers (:mod:`civicgrid.cases.services`) start and stop the stage clocks
and check their own input, exactly as before procedures existed (``handlers_own_rules=True``). Every other
procedure gets the engine's generic rules: required input checked, the detail record written and checked, stage
clocks started/stopped by its :class:`StageRule` table, 挂账-like ``paused`` states pause the clock.

Other apps register theirs from ``AppConfig.ready()``; ``cases`` never imports them::

    from civicgrid.cases import procedures as P
    P.register(P.Procedure(code="hazard", label="安全隐患", states=[...], initial="found", moves=[...], ...))

Lookups on the hot path are dict lookups (:func:`for_case`, :meth:`Procedure.get_move`); every derived table
(state labels, groups, the Q of a group) is built once at :func:`register`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from civicgrid.cases import workflow
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import CaseState, DeadlineUnit, Stage
from civicgrid.core.errors import IllegalTransition, ValidationFailed

DEFAULT_CODE = "standard"

# the inputs a move may declare (``Move.fields``); the API body and the web form are built from them
INPUT_FIELDS: dict[str, str] = {
    "note": "备注",
    "reason": "原因",
    "department": "处置部门",
    "amount": "时限",
    "unit": "时限单位",
    "rating": "回访评价",
    "attachments": "照片",
    "target_case": "合并到的案件",
}
GROUPS = ("open", "closed", "terminal", "done", "paused")
# derived: the states in which a stage clock runs (open and not paused)
DERIVED = {
    "running": lambda p: p.open - p.paused,
    "followup": lambda p: p.closed - p.terminal,  # closed but a move is still to come (回访)
}


@dataclass(frozen=True)
class StateDef:
    value: str
    label: str
    color: str = "secondary"


@dataclass(frozen=True)
class LimitBounds:
    """A stage limit chosen on the case at a move (e.g. 整改期限 at 交办), ``minimum``..``maximum`` ``unit``."""

    move: str
    minimum: int
    maximum: int
    unit: str = DeadlineUnit.NATURAL_DAYS

    def validate(self, amount, unit) -> tuple[int, str]:
        unit_label = DeadlineUnit(self.unit).label
        if amount in (None, ""):
            raise ValidationFailed(
                f"请填写时限（{self.minimum}–{self.maximum} 个{unit_label}）",
                field="amount",
                code=CaseErrorCode.FIELD_REQUIRED,
            )
        try:
            amount = int(amount)
        except (TypeError, ValueError):
            raise ValidationFailed("时限必须是整数", field="amount", code=CaseErrorCode.INVALID_LIMIT)
        if unit not in (None, "", self.unit):
            raise ValidationFailed(
                f"时限单位只能是「{unit_label}」", field="unit", code=CaseErrorCode.LIMIT_OUT_OF_BOUNDS
            )
        if not self.minimum <= amount <= self.maximum:
            raise ValidationFailed(
                f"时限须在 {self.minimum} 到 {self.maximum} 个{unit_label}之间",
                field="amount",
                code=CaseErrorCode.LIMIT_OUT_OF_BOUNDS,
            )
        return amount, self.unit


@dataclass(frozen=True)
class Precondition:
    """A condition on the case a move ``needs`` (``Move.needs`` = its name), declared by the procedure: ``test``
    (case → bool, may read the detail record) and the 409 ``message`` when it fails. A move whose precondition
    fails is not offered (``allowed_moves``, the detail page's buttons) and is refused with
    ``illegal_transition``, exactly like a move from the wrong state."""

    test: Callable
    message: str


@dataclass(frozen=True)
class StageRule:
    """A stage clock: started by the moves in ``starts`` and stopped by those in ``stops``.

    The limit: ``amount``+``unit`` fixed for the procedure, else ``chosen`` on the case at a move (within bounds),
    else the category's (``Category.limit_for(code)``; ``code`` is then one of dispatch/handle/verify).
    """

    code: str
    label: str
    starts: tuple[str, ...] = ()
    stops: tuple[str, ...] = ()
    amount: int | None = None
    unit: str | None = None
    chosen: LimitBounds | None = None

    @property
    def rule(self) -> str:
        if self.amount is not None:
            return "fixed"
        return "chosen" if self.chosen else "category"


@dataclass(frozen=True)
class Procedure:
    code: str
    label: str
    states: tuple[StateDef, ...]
    initial: str
    moves: tuple[workflow.Move, ...]
    handlers: dict[str, Callable] = field(default_factory=dict, hash=False, compare=False)
    stages: tuple[StageRule, ...] = ()
    open: frozenset[str] = frozenset()
    closed: frozenset[str] = frozenset()
    terminal: frozenset[str] = frozenset()
    done: frozenset[str] = frozenset()
    paused: frozenset[str] = frozenset()
    visibility: Callable | None = None  # user -> Q over Case, on top of jurisdiction
    detail_model: type | None = None  # a model with ``case = OneToOneField(Case)``
    detail_related_name: str = ""  # its reverse accessor on Case (default: the model's)
    handlers_own_rules: bool = False  # the standard procedure: handlers check input and run the clocks
    number_at_create: bool = True  # a case number from the start (the standard procedure numbers at 立案)
    # the roles that may create its cases (None: those that may create standard cases, Capability.CASE_CREATE)
    create_roles: frozenset[str] | None = None
    # where its cases are filed when not through the generic 新建工单 form / POST /cases (a ledger whose cases
    # need their detail record from the start, e.g. 安全隐患 through an inspection): the hint those refusals show
    filed_elsewhere: str = ""
    # conditions on the case that moves may ``need`` besides the state (e.g. 挂牌督办 only for a 重大 hazard)
    preconditions: dict[str, Precondition] = field(default_factory=dict, hash=False, compare=False)
    # derived at register()
    move_map: dict = field(default_factory=dict, hash=False, compare=False, repr=False)
    state_map: dict = field(default_factory=dict, hash=False, compare=False, repr=False)
    stage_map: dict = field(default_factory=dict, hash=False, compare=False, repr=False)
    starts: dict = field(default_factory=dict, hash=False, compare=False, repr=False)
    stops: frozenset = frozenset()
    extension_states: frozenset = frozenset()

    # --- lookups ----------------------------------------------------------------------------------

    def get_move(self, name: str) -> workflow.Move:
        m = self.move_map.get(name) or self.move_map.get(name.replace("-", "_"))
        if m is None:
            raise IllegalTransition(f"未知操作：{name}", field="move", code=CaseErrorCode.UNKNOWN_MOVE)
        return m

    def state_label(self, value: str) -> str:
        s = self.state_map.get(value)
        return s.label if s else value

    def state_color(self, value: str) -> str:
        s = self.state_map.get(value)
        return s.color if s else "secondary"

    def stage_label(self, code: str) -> str:
        s = self.stage_map.get(code)
        return s.label if s else code

    def check(self, state: str, move, role: str, facts: workflow.Facts | None = None) -> workflow.Move:
        """The guard over this procedure's table (raises 409/403 with a code, see :func:`workflow.guard`)."""
        m = move if isinstance(move, workflow.Move) else self.get_move(move)
        workflow.guard(state, m, role, facts, self.state_label)
        pre = self.preconditions.get(m.needs) if m.needs else None
        if pre is not None and m.needs not in (facts.met if facts is not None else ()):
            raise IllegalTransition(pre.message, field="move", code=CaseErrorCode.ILLEGAL_TRANSITION)
        return m

    def moves_for(self, state: str, role: str, facts: workflow.Facts | None = None) -> list[workflow.Move]:
        met = facts.met if facts is not None else frozenset()
        return [
            m
            for m in self.moves
            if workflow.guard_ok(state, m, role, facts, self.state_label)
            and (m.needs not in self.preconditions or m.needs in met)
        ]

    def preconditions_met(self, case) -> frozenset[str]:
        """The declared preconditions that hold for ``case`` (only those a move from its state needs)."""
        names = {m.needs for m in self.moves if m.needs in self.preconditions and case.state in m.sources}
        return frozenset(n for n in names if self.preconditions[n].test(case))

    def inputs(self, m: workflow.Move) -> tuple[str, ...]:
        """The inputs of ``m`` in this procedure: its fields, plus amount+unit where it chooses a stage limit."""
        names = list(move_fields(m))
        if self.chosen_at(m.name) is not None:
            names += [n for n in ("amount", "unit") if n not in names]
        return tuple(names)

    def chosen_at(self, move: str) -> LimitBounds | None:
        """The bounds of the stage limit chosen at ``move`` (``None``: the move chooses none)."""
        rule = self.starts.get(move)
        if rule is not None and rule.chosen is not None and rule.chosen.move == move:
            return rule.chosen
        return None

    def handler(self, name: str) -> Callable:
        return self.handlers.get(name, _no_op)

    def limit_for(self, case, stage: str, *, chosen: tuple[int, str] | None = None) -> tuple[int, str]:
        rule = self.stage_map[stage]
        if rule.amount is not None:
            return rule.amount, rule.unit
        if rule.chosen is not None and chosen is not None:
            return chosen
        return case.category.limit_for(stage)

    def may_create(self, user) -> bool:
        """Whether ``user`` (an active account) may create cases of this procedure (:attr:`create_roles`)."""
        if self.create_roles is None:
            from civicgrid.core.roles import Capability, has_capability

            return has_capability(user, Capability.CASE_CREATE)
        return getattr(user, "role", None) in self.create_roles

    def detail_of(self, case):
        """The case's detail record, or ``None`` (no detail model or none written yet)."""
        if self.detail_model is None or case.pk is None:
            return None
        return self.detail_model._default_manager.filter(case_id=case.pk).first()

    def describe(self) -> dict:
        """The procedure as plain data (``GET /api/v1/procedures``)."""
        return {
            "code": self.code,
            "label": self.label,
            "initial": self.initial,
            "states": [{"value": s.value, "label": s.label, "color": s.color} for s in self.states],
            "groups": {g: sorted(getattr(self, g)) for g in GROUPS},
            "moves": [
                {
                    "name": m.name,
                    "path": m.name.replace("_", "-"),
                    "label": m.label,
                    "sources": sorted(m.sources),
                    "target": m.target,
                    "roles": {r: c for r, c in m.roles.items()},
                    "needs": m.needs,
                    "style": m.style,
                    "fields": list(self.inputs(m)),
                    "required": list(m.required),
                    "detail_fields": list(m.detail_fields),
                }
                for m in self.moves
            ],
            "stages": [
                {
                    "code": s.code,
                    "label": s.label,
                    "starts": list(s.starts),
                    "stops": list(s.stops),
                    "rule": s.rule,
                    "amount": s.amount,
                    "unit": s.unit,
                    "chosen": (
                        {
                            "move": s.chosen.move,
                            "minimum": s.chosen.minimum,
                            "maximum": s.chosen.maximum,
                            "unit": s.chosen.unit,
                        }
                        if s.chosen
                        else None
                    ),
                }
                for s in self.stages
            ],
            "detail_fields": detail_field_names(self),
            "restricted": self.visibility is not None,
            "create_roles": sorted(self.create_roles) if self.create_roles is not None else None,
            "filed_elsewhere": self.filed_elsewhere,
        }


def _no_op(ctx):
    return None


def move_fields(m: workflow.Move) -> tuple[str, ...]:
    """The inputs ``m`` takes: its declared ``fields`` (else a note plus its required ones)."""
    if m.fields:
        return m.fields
    return tuple(dict.fromkeys(("note", *m.required)))


def detail_field_names(proc: Procedure) -> list[str]:
    if proc.detail_model is None:
        return []
    return [
        f.name
        for f in proc.detail_model._meta.concrete_fields
        if not f.primary_key and f.name != "case" and f.editable
    ]


# --- the registry -------------------------------------------------------------------------------------

_REGISTRY: dict[str, Procedure] = {}
_UNIONS: dict[str, frozenset[str]] = {}
_GROUP_Q: dict[str, Q] = {}
_ALL_STATES: dict[str, str] = {}  # value -> label ("a／b" when procedures label one value differently)
_RESTRICTED: list[Procedure] = []


def _derive(proc: Procedure) -> None:
    d = object.__setattr__
    d(proc, "move_map", {m.name: m for m in proc.moves})
    d(proc, "state_map", {s.value: s for s in proc.states})
    d(proc, "stage_map", {s.code: s for s in proc.stages})
    d(proc, "starts", {mv: s for s in proc.stages for mv in s.starts})
    d(proc, "stops", frozenset(mv for s in proc.stages for mv in s.stops))
    ext = {workflow.EXTENSION_PENDING, workflow.NO_EXTENSION_PENDING}
    d(proc, "extension_states", frozenset(s for m in proc.moves if m.needs in ext for s in m.sources))


def _validate(proc: Procedure) -> None:
    def bad(msg):
        raise ImproperlyConfigured(f"procedure {proc.code!r}: {msg}")

    states = set(proc.state_map)
    # the columns that hold them: Case.procedure 24, Case.state 16, Case.stage 10, CaseEvent.move 24
    too_long = (
        [proc.code] * (len(proc.code) > 24)
        + [s for s in states if len(s) > 16]
        + [s.code for s in proc.stages if len(s.code) > 10]
        + [m.name for m in proc.moves if len(m.name) > 24]
    )
    if too_long:
        bad(f"codes too long for their columns: {too_long}")
    if proc.initial not in states:
        bad(f"initial state {proc.initial!r} is not one of its states")
    for g in GROUPS:
        if not getattr(proc, g) <= states:
            bad(f"group {g} names unknown states {sorted(getattr(proc, g) - states)}")
    for m in proc.moves:
        if not m.sources <= states:
            bad(f"move {m.name}: unknown source states {sorted(m.sources - states)}")
        if m.target not in (workflow.STAY, workflow.PREVIOUS) and m.target not in states:
            bad(f"move {m.name}: unknown target {m.target!r}")
        unknown = set(m.fields) - set(INPUT_FIELDS)
        if unknown:
            bad(f"move {m.name}: unknown input fields {sorted(unknown)}")
        if not set(m.required) <= set(move_fields(m)) | set(m.detail_fields):
            bad(f"move {m.name}: required fields must be among its fields")
        if m.detail_fields and proc.detail_model is None:
            bad(f"move {m.name} needs detail fields but the procedure has no detail model")
        extra = set(m.detail_fields) - set(detail_field_names(proc))
        if extra:
            bad(f"move {m.name}: the detail model has no fields {sorted(extra)}")
        known_needs = {None, workflow.EXTENSION_PENDING, workflow.NO_EXTENSION_PENDING, *proc.preconditions}
        if m.needs not in known_needs:
            bad(f"move {m.name}: needs {m.needs!r}, which is no precondition of the procedure")
    if not proc.handlers_own_rules:
        for s in proc.stages:
            for mv in (*s.starts, *s.stops):
                if mv not in proc.move_map:
                    bad(f"stage {s.code}: unknown move {mv!r}")
            if s.amount is not None and s.unit not in DeadlineUnit.values:
                bad(f"stage {s.code}: unit must be a DeadlineUnit")
            if s.chosen is not None and s.chosen.move not in s.starts:
                bad(f"stage {s.code}: the limit is chosen at a move that starts the stage")
            if s.amount is None and s.chosen is None and s.code not in Stage.values:
                bad(f"stage {s.code}: a category limit exists only for {list(Stage.values)}")
    clash = set(detail_field_names(proc)) & (set(INPUT_FIELDS) | {"version", "move", "attachment_ids"})
    if clash:
        bad(f"detail fields clash with move inputs: {sorted(clash)}")
    default = _REGISTRY.get(DEFAULT_CODE)
    if default is not None and proc.code != DEFAULT_CODE:
        # a move name is one API path (/cases/{id}/{move}); reusing a standard move's name is fine only when
        # the standard endpoint's body carries all its inputs
        for m in proc.moves:
            std = default.move_map.get(m.name)
            if std is not None and (
                m.detail_fields or not set(move_fields(m)) <= set(move_fields(std)) | {"note"}
            ):
                bad(f"move {m.name} reuses a standard move's name with other inputs: rename it")


def register(proc: Procedure) -> Procedure:
    """Add (or replace, same code) a procedure. Call from ``AppConfig.ready()``."""
    _derive(proc)
    _validate(proc)
    _REGISTRY[proc.code] = proc
    _rebuild()
    if proc.code != DEFAULT_CODE:  # the audit log names its moves (the standard ones: CasesConfig.ready)
        from civicgrid.core import auditlabels

        std = _REGISTRY[DEFAULT_CODE].move_map
        auditlabels.register_action_labels(
            {f"cases.case.{m.name}": f"工单：{m.label}" for m in proc.moves if m.name not in std}
        )
    return proc


def unregister(code: str) -> None:
    """Remove a procedure (tests). The default procedure stays."""
    if code != DEFAULT_CODE:
        _REGISTRY.pop(code, None)
        _rebuild()


def _rebuild() -> None:
    _UNIONS.clear()
    _GROUP_Q.clear()
    _ALL_STATES.clear()
    for p in _REGISTRY.values():
        for s in p.states:
            known = _ALL_STATES.get(s.value)
            if known is None:
                _ALL_STATES[s.value] = s.label
            elif s.label not in known.split("／"):
                _ALL_STATES[s.value] = f"{known}／{s.label}"
    for g in (*GROUPS, *DERIVED):
        members = {p.code: (DERIVED[g](p) if g in DERIVED else getattr(p, g)) for p in _REGISTRY.values()}
        union = frozenset(s for m in members.values() for s in m)
        _UNIONS[g] = union
        # one IN list when every procedure sharing a state value agrees on its membership, else per procedure
        agree = all(
            (v in members[p.code]) == (v in union)
            for p in _REGISTRY.values()
            for v in p.state_map
            if v in union
        )
        if agree:
            _GROUP_Q[g] = Q(state__in=sorted(union))
        else:
            q = Q(pk__in=[])
            for p in _REGISTRY.values():
                if members[p.code]:
                    q |= Q(procedure=p.code, state__in=sorted(members[p.code]))
            _GROUP_Q[g] = q
    _RESTRICTED[:] = [p for p in _REGISTRY.values() if p.visibility is not None]
    _INBOX_Q.clear()
    others = [p for p in _REGISTRY.values() if p.code != DEFAULT_CODE]
    if others:
        from civicgrid.accounts.roles import Role

        for role in Role.values:
            q = Q(pk__in=[])
            for p in others:
                states = sorted({s for m in p.moves if role in m.roles for s in m.sources} - p.terminal)
                if states:
                    q |= Q(procedure=p.code, state__in=states)
            _INBOX_Q[role] = q


_INBOX_Q: dict[str, Q] = {}


def inbox_q(role: str, standard: Q) -> Q:
    """待办 across procedures: ``standard`` (the standard procedure's rule for ``role``) or, for every other
    procedure, its cases in a state where ``role`` has a move. Just ``standard`` while no other is registered."""
    if not _INBOX_Q:
        return standard
    return (Q(procedure=DEFAULT_CODE) & standard) | _INBOX_Q.get(role, Q(pk__in=[]))


def get(code: str) -> Procedure:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise ValidationFailed(
            f"未知办理程序：{code}", field="procedure", code=CaseErrorCode.UNKNOWN_PROCEDURE
        )


def all_procedures() -> list[Procedure]:
    return list(_REGISTRY.values())


def for_case(case) -> Procedure:
    """The case's procedure (the default one for an unknown code: a procedure whose app was removed)."""
    return _REGISTRY.get(case.procedure) or _REGISTRY[DEFAULT_CODE]


def default() -> Procedure:
    return _REGISTRY[DEFAULT_CODE]


def states_in(group: str) -> frozenset[str]:
    """Every registered state value in ``group`` (open / closed / terminal / done / paused / running)."""
    return _UNIONS[group]


def group_q(group: str) -> Q:
    """A Q over Case: the case's state is in ``group`` of its own procedure."""
    return _GROUP_Q[group]


def all_states() -> dict[str, str]:
    """Every registered state value -> its label."""
    return _ALL_STATES


def state_label(case_or_procedure, value: str) -> str:
    proc = case_or_procedure if isinstance(case_or_procedure, Procedure) else for_case(case_or_procedure)
    return proc.state_label(value)


def visibility_q(user) -> Q | None:
    """Cases of restricted procedures only where their rule holds; ``None`` when no procedure restricts."""
    if not _RESTRICTED:
        return None
    q = ~Q(procedure__in=[p.code for p in _RESTRICTED])
    for p in _RESTRICTED:
        q |= Q(procedure=p.code) & p.visibility(user)
    return q


def restricted_codes() -> list[str]:
    return [p.code for p in _RESTRICTED]


def move_names() -> Iterable[str]:
    """Every move name of every procedure (once each)."""
    return dict.fromkeys(m.name for p in _REGISTRY.values() for m in p.moves)


# --- the first procedure: the 12345/城管 loop -----------------------------------------------------------

_S = CaseState
STANDARD = register(
    Procedure(
        code=DEFAULT_CODE,
        label="12345/城管 标准流程",
        states=tuple(StateDef(s.value, s.label, s.color) for s in CaseState),
        initial=_S.REPORTED,
        moves=tuple(workflow.MOVES.values()),
        stages=(
            StageRule(Stage.DISPATCH, Stage.DISPATCH.label, starts=("accept", "return"), stops=("dispatch",)),
            StageRule(
                Stage.HANDLE,
                Stage.HANDLE.label,
                starts=("dispatch", "reassign", "verify_fail", "rate"),
                stops=("finish",),
            ),
            StageRule(
                Stage.VERIFY,
                Stage.VERIFY.label,
                starts=("finish",),
                stops=("close", "reject", "void", "merge"),
            ),
        ),
        open=frozenset({_S.ACCEPTED, _S.DISPATCHED, _S.HANDLING, _S.HANDLED, _S.VERIFIED, _S.SUSPENDED}),
        closed=frozenset({_S.CLOSED, _S.RATED, _S.REJECTED, _S.VOIDED, _S.MERGED}),
        terminal=frozenset({_S.REJECTED, _S.RATED, _S.VOIDED, _S.MERGED}),
        done=frozenset({_S.CLOSED, _S.RATED}),
        paused=frozenset({_S.SUSPENDED}),
        handlers_own_rules=True,
        number_at_create=False,
    )
)
