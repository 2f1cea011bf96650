"""The 红黑榜 workflow as a pure table: 草拟 → 审核 → 发布.

==========  ==========  ==========  ===========================================
move        from        to          roles
==========  ==========  ==========  ===========================================
redraft     草拟        草拟        指挥中心受理员/派遣员, 值班长 (recompute the figures)
submit      草拟        待审核      指挥中心受理员/派遣员, 值班长
return      待审核      草拟        值班长, 领导 (with a note)
publish     待审核      已发布      值班长, 领导
==========  ==========  ==========  ===========================================

A published board has no move: it is frozen. :func:`check` is the guard: it RAISES
:class:`~civicgrid.core.errors.IllegalTransition` (409) for a move the state does not allow and
:class:`~civicgrid.core.errors.PermissionDenied` (403) for a role the move does not allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from civicgrid.accounts.roles import Role
from civicgrid.core.errors import IllegalTransition, PermissionDenied
from civicgrid.evaluation.models import BoardState as S

DRAFTERS = frozenset({Role.DISPATCHER, Role.SHIFT_LEADER})
REVIEWERS = frozenset({Role.SHIFT_LEADER, Role.LEADER})


@dataclass(frozen=True)
class Move:
    name: str
    label: str
    sources: frozenset
    target: str
    roles: frozenset
    needs_note: bool = False


MOVES: dict[str, Move] = {
    m.name: m
    for m in (
        Move("redraft", "重新计算", frozenset({S.DRAFT}), S.DRAFT, DRAFTERS),
        Move("submit", "提交审核", frozenset({S.DRAFT}), S.REVIEW, DRAFTERS),
        Move("return", "退回修改", frozenset({S.REVIEW}), S.DRAFT, REVIEWERS, needs_note=True),
        Move("publish", "审核发布", frozenset({S.REVIEW}), S.PUBLISHED, REVIEWERS),
    )
}


def get_move(name: str) -> Move:
    try:
        return MOVES[str(name)]
    except KeyError:
        raise IllegalTransition(f"未知操作：{name}", field="move", code="unknown_move")


def check(state: str, move: str | Move, role: str) -> Move:
    """Raise unless ``role`` may make ``move`` from ``state``; return the :class:`Move`."""
    m = move if isinstance(move, Move) else get_move(move)
    if state not in m.sources:
        label = S(state).label if state in S.values else state
        raise IllegalTransition(
            f"榜单当前状态为「{label}」，不能执行「{m.label}」", code="illegal_transition"
        )
    if role not in m.roles:
        role_label = Role(role).label if role in Role.values else role
        raise PermissionDenied(f"「{role_label}」无权执行「{m.label}」", code="forbidden")
    return m


def allowed(state: str, role: str) -> list[Move]:
    out = []
    for m in MOVES.values():
        try:
            check(state, m, role)
        except (IllegalTransition, PermissionDenied):
            continue
        out.append(m)
    return out
