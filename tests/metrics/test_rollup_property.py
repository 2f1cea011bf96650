"""The rollup and a direct count over the cases always agree (docs/metrics.md §汇总表).

Random histories: cases reported at random times around a month's end (so days, months and the Asia/Shanghai
midnight are crossed), in random grids/categories/sources, driven through random prefixes of realistic paths
(返工, 退回 and 再派遣, 改派, 延期, 挂账, 重办 after 不满意, 作废 at any point, 合并, 不予受理), with the incremental job
run at random moments in between — and sometimes a full rebuild. After each history, the figures summed from the
rollup equal :mod:`civicgrid.metrics.direct` (ORM counts over ``Case``) for random periods and every grouping.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicgrid.cases.models import Case
from civicgrid.core import clock
from civicgrid.metrics import direct, selectors, services
from tests.cases.factories import photo
from tests.metrics.conftest import Story, at

pytestmark = pytest.mark.django_db

FULL = ["accept", "dispatch", "sign", "finish", "verify_pass", "close", "rate"]
PATHS = [
    FULL,
    ["accept", "dispatch", "sign", "finish", "verify_fail", "finish", "verify_pass", "close", "rate"],
    ["accept", "dispatch", "return", "dispatch", "sign", "finish", "verify_pass", "close"],
    ["accept", "dispatch", "reassign", "sign", "finish", "verify_pass", "close", "rate"],
    [
        "accept",
        "dispatch",
        "sign",
        "request_extension",
        "approve_extension",
        "finish",
        "verify_pass",
        "close",
    ],
    ["accept", "suspend", "resume", "dispatch", "sign", "finish", "verify_pass", "close", "rate"],
    [
        "accept",
        "dispatch",
        "sign",
        "finish",
        "verify_pass",
        "close",
        "redo",
        "sign",
        "finish",
        "verify_pass",
        "close",
    ],
    ["reject"],
    ["merge"],
]
START = at(2026, 6, 29, 20, 0)

history = st.lists(
    st.fixed_dictionaries(
        {
            "offset": st.integers(0, 60 * 24 * 4),  # minutes after 06-29 20:00
            "path": st.sampled_from(range(len(PATHS))),
            "length": st.integers(0, 12),
            "void": st.booleans(),
            "gaps": st.lists(st.integers(1, 60 * 30), min_size=12, max_size=12),
            "grid": st.integers(0, 2),
            "category": st.booleans(),
            "source": st.sampled_from(["hotline_12345", "grid_patrol", "resident"]),
            "rating": st.sampled_from(["satisfied", "basic", "dissatisfied"]),
            "refresh_after": st.sets(st.integers(0, 11), max_size=3),  # the job runs mid-history
        }
    ),
    min_size=1,
    max_size=5,
)


def drive(s: Story, spec: dict) -> None:
    grid = [s.grid, s.grid2, s.other_grid][spec["grid"]]
    when = START + timedelta(minutes=spec["offset"])
    with clock.frozen(when):
        case = s.report(
            grid=grid, category=s.minor if spec["category"] else s.category, source=spec["source"]
        )
    dept = s.dept
    steps = PATHS[spec["path"]][: spec["length"]]
    if spec["void"] and (not steps or steps[-1] not in ("reject", "merge", "close", "rate", "redo")):
        steps = [*steps, "void"]
    handler = {s.dept.pk: s.handler, s.dept2.pk: s.handler2}
    for i, (move, gap) in enumerate(zip(steps, spec["gaps"], strict=False)):
        when += timedelta(minutes=gap)
        kw = dict(s.default_args(move)) if move not in ("merge", "verify_pass") else {}
        if move in ("sign", "finish", "return", "request_extension"):
            kw["actor"] = handler[dept.pk]
        if move == "finish":
            kw.update(note="已处理", attachments=[photo()])
        if move == "return":
            kw["reason"] = "不属于本部门"
        if move == "reassign":
            dept = s.dept2
            kw["department"] = dept
        if move == "dispatch":
            kw["department"] = dept
        if move == "request_extension":
            kw.update(amount=8, unit="natural_hours", reason="等待配件")
        if move == "approve_extension":
            kw["actor"] = s.shift_leader
        if move == "verify_fail":
            kw.update(actor=s.dispatcher, reason="未处理到位")
        if move == "rate":
            kw["rating"] = spec["rating"]
        if move == "redo":
            move, kw = "rate", {"rating": "dissatisfied", "redo": True}
        if move == "merge":
            with clock.frozen(when):
                kw["target_case"] = s.report(grid=grid)
        with clock.frozen(when):
            case = s.move(case, move, **kw)
        if i in spec["refresh_after"]:
            services.refresh()


def assert_agree(start: date, end: date) -> None:
    """Both rollup levels equal the direct count, for every grouping (the daily trend: day by day)."""
    qs = Case.objects.all()
    for by in [None, *selectors.BY]:
        col = selectors.BY[by] if by else None
        got = {
            level: {
                k: v
                for k, v in selectors.rollup_counters(
                    user=None, start=start, end=end, by=by, level=level
                ).items()
                if any(v.values())
            }
            for level in ("auto", "daily")
        }
        assert got["auto"] == got["daily"], (start, end, by)
        if by == "day":
            want = {}
            if (end - start).days <= 31:
                day = start
                while day <= end:
                    if c := direct.counters(qs, day, day).get(None):
                        want[day] = c
                    day += timedelta(days=1)
                assert got["daily"] == want, (start, end, by)
            continue
        want = {}
        for k, v in direct.counters(qs, start, end, by=col).items():
            key = k if k is not None or col is None else (0 if col.endswith("_id") else "")
            want[key] = v
        assert got["daily"] == want, (start, end, by)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cases=history,
    periods=st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=2, max_size=3),
    rebuild=st.booleans(),
)
def test_the_rollup_always_agrees_with_a_direct_count(story, cases, periods, rebuild):
    for spec in cases:
        drive(story, spec)
    if rebuild:
        services.rebuild()
    else:
        services.refresh()
    base = date(2026, 6, 27)
    for a, b in periods:
        lo, hi = sorted((a, b))
        assert_agree(base + timedelta(days=lo), base + timedelta(days=hi))
    assert_agree(date(2026, 1, 1), date(2026, 12, 31))
