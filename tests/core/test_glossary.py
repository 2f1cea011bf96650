"""docs/glossary.md names every state, stage, move, role, light and deadline unit the code has, with the
code's own Chinese label, so code, UI, errors and the glossary say the same thing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civicgrid.cases.models import CaseState, Light, Stage
from civicgrid.cases.workflow import MOVES
from civicgrid.core.roles import Role
from civicgrid.core.workcalendar import DeadlineUnit

GLOSSARY = (Path(__file__).resolve().parents[2] / "docs" / "glossary.md").read_text(encoding="utf-8")


def _rows(heading: str) -> dict[str, str]:
    """``{value: 中文}`` of the table under ``heading`` (first two columns)."""
    section = GLOSSARY.split(heading, 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+?) \|", section, flags=re.M))


@pytest.mark.parametrize(
    "heading, members",
    [
        ("## 状态", {s.value: s.label for s in CaseState}),
        ("## 时限环节", {s.value: s.label for s in Stage}),
        ("## 操作", {name: m.label for name, m in MOVES.items()}),
        ("## 角色", {r.value: r.label for r in Role}),
        ("## 亮灯", {x.value: x.label for x in Light}),
    ],
    ids=["states", "stages", "moves", "roles", "lights"],
)
def test_each_enum_matches_its_table(heading, members):
    assert _rows(heading) == members


def test_deadline_units_are_the_codes():
    assert _rows("## 时限单位") == {u.value: u.label for u in DeadlineUnit}


def test_every_rate_is_defined():
    section = GLOSSARY.split("## 统计指标", 1)[1]
    names = [name for name, _ in re.findall(r"^\| ([^|`]+?) \| [^|]+ \| `([a-z_]+)` \|", section, flags=re.M)]
    rates = "受理率 立案率 派遣率 办结率 按期办结率 响应率 解决率 满意率 返工率 延期率 重复率 主动发现率"
    assert names == rates.split()


def test_one_word_for_a_case():
    assert "统一用“工单”" in GLOSSARY
