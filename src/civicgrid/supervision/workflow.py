"""The states of a 督办 and of a warning: pure tables; :func:`next_state` raises on an illegal move."""

from __future__ import annotations

from civicgrid.core.errors import IllegalTransition
from civicgrid.supervision.models import SupervisionState as S
from civicgrid.supervision.models import WarningState as W

# (state, move) -> new state
SUPERVISION: dict[tuple[str, str], str] = {
    (S.OPEN, "clear"): S.CLEARED,
}
WARNING: dict[tuple[str, str], str] = {
    (W.PENDING, "acknowledge"): W.ACKNOWLEDGED,
    (W.PENDING, "resolve"): W.RESOLVED,
    (W.ACKNOWLEDGED, "resolve"): W.RESOLVED,
}
MOVE_LABELS = {"clear": "销号", "acknowledge": "确认", "resolve": "处置完毕"}


def next_state(table: dict[tuple[str, str], str], state: str, move: str) -> str:
    try:
        return table[(state, move)]
    except KeyError:
        label = MOVE_LABELS.get(move, move)
        raise IllegalTransition(f"当前状态不能{label}", field="move")


def moves_from(table: dict[tuple[str, str], str], state: str) -> list[str]:
    return [m for (s, m) in table if s == state]
