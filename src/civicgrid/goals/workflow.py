"""The two small state machines of 重点项目, as pure tables (no database): the stage of an 电梯加装 / 老旧小区改造
item (申报 → 施工 → 待交付 → 投用) and the flow of a 民生微实事 (征集 → 议事 → 确定 → 实施 → 验收 → 评议 → 办结,
or 未采纳 before it is carried out). A 街道 may skip steps of the 民生微实事 flow (``enabled``): "advance" then goes
to the next enabled step. Every guard raises :class:`TransitionError`; nothing here returns a silent no-op."""

from __future__ import annotations

from collections.abc import Iterable

from civicgrid.core.errors import ValidationFailed


class TransitionError(ValidationFailed):
    pass


# --- 电梯加装 / 老旧小区改造 --------------------------------------------------------------------------------

STAGES = ("applied", "building", "pending", "in_use")
STAGE_LABELS = {"applied": "申报", "building": "施工", "pending": "完工待交付", "in_use": "投用"}
STAGE_MOVES = {"applied": "building", "building": "pending", "pending": "in_use"}  # one step forward


def next_stage(stage: str) -> str:
    if stage not in STAGES:
        raise TransitionError(f"未知阶段：{stage}", field="stage")
    if stage not in STAGE_MOVES:
        raise TransitionError("已投用，没有下一阶段", field="stage")
    return STAGE_MOVES[stage]


# --- 民生微实事 ----------------------------------------------------------------------------------------------

FLOW = ("collect", "deliberate", "decide", "implement", "accept", "review")
CLOSED, DROPPED = "closed", "dropped"
DEFAULT_LABELS = {
    "collect": "征集",
    "deliberate": "议事",
    "decide": "确定",
    "implement": "实施",
    "accept": "验收",
    "review": "评议",
    CLOSED: "办结",
    DROPPED: "未采纳",
}
# the moves and the steps they may be made from ("advance": to the next enabled step, after the last one 办结)
MOVES = {
    "advance": set(FLOW),
    "drop": {"collect", "deliberate", "decide"},  # 未采纳: only before it is carried out
}
MOVE_LABELS = {"advance": "下一步", "drop": "不予采纳"}
DECIDED_FROM = "decide"  # "确定…项目N件" counts items at or past this step


def enabled_flow(enabled: Iterable[str]) -> list[str]:
    """The steps in use, in order; 征集 (the entry) is always in use."""
    on = set(enabled) | {"collect"}
    return [s for s in FLOW if s in on]


def next_step(step: str, enabled: Iterable[str]) -> str:
    flow = enabled_flow(enabled)
    if step not in FLOW:
        raise TransitionError(f"「{DEFAULT_LABELS.get(step, step)}」已结束，不能再流转", field="step")
    later = [s for s in flow if FLOW.index(s) > FLOW.index(step)]
    return later[0] if later else CLOSED


def apply(step: str, move: str, enabled: Iterable[str]) -> str:
    """The step after ``move`` from ``step`` (raises when the move is not allowed there)."""
    if move not in MOVES:
        raise TransitionError(f"未知操作：{move}", field="move")
    if step not in MOVES[move]:
        raise TransitionError(
            f"「{DEFAULT_LABELS.get(step, step)}」阶段不能「{MOVE_LABELS[move]}」", field="move"
        )
    if move == "drop":
        return DROPPED
    return next_step(step, enabled)


def moves_from(step: str) -> list[str]:
    return [m for m, sources in MOVES.items() if step in sources]


def is_decided(step: str) -> bool:
    """Counted in "确定…项目N件": at or past 确定 (办结 included), not 未采纳."""
    if step == CLOSED:
        return True
    return step in FLOW and FLOW.index(step) >= FLOW.index(DECIDED_FROM)
