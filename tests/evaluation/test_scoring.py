"""The pure arithmetic (docs/evaluation.md §公式): composite with missing rates, ranking with ties and small samples,
the 红/黑榜 cut."""

from __future__ import annotations

from civicgrid.evaluation import scoring

W = {"w_response": 30, "w_resolve": 35, "w_satisfaction": 35}


def rates(r, s, m):
    return {"response_rate": r, "resolve_rate": s, "satisfaction_rate": m}


def test_the_composite_weights_the_three_rates():
    assert scoring.composite(rates(90.0, 80.0, 100.0), W) == (round(0.3 * 90 + 0.35 * 80 + 0.35 * 100, 1), [])
    assert scoring.composite(rates(90.0, 80.0, 100.0), W)[0] == 90.0


def test_a_missing_rate_is_left_out_and_its_weight_redistributed():
    # no case rated: (30×90 + 35×80) / 65
    score, missing = scoring.composite(rates(90.0, 80.0, None), W)
    assert score == round((30 * 90 + 35 * 80) / 65, 1) == 84.6
    assert missing == ["satisfaction_rate"]


def test_no_rate_at_all_gives_no_composite():
    assert scoring.composite(rates(None, None, None), W) == (
        None,
        ["response_rate", "resolve_rate", "satisfaction_rate"],
    )
    # a zero weight with a missing rate is not reported missing and does not divide by zero
    assert scoring.composite(
        rates(None, 50.0, None), {"w_response": 0, "w_resolve": 100, "w_satisfaction": 0}
    ) == (
        50.0,
        [],
    )
    assert scoring.composite(
        rates(70.0, None, None), {"w_response": 0, "w_resolve": 50, "w_satisfaction": 50}
    ) == (
        None,
        ["resolve_rate", "satisfaction_rate"],
    )


def test_ratio_of_zero_is_none_not_zero():
    assert scoring.ratio(0, 0) is None
    assert scoring.ratio(0, 4) == 0.0
    assert scoring.ratio(2, 3) == 66.7


def row(key, score, sample=10):
    return {"key": key, "label": key, "score": score, "sample": sample}


def test_ties_share_a_rank_and_small_samples_are_listed_apart():
    ranked, apart = scoring.rank_rows(
        [row("a", 80.0), row("b", 95.0), row("c", 80.0, sample=30), row("d", 70.0), row("e", 99.0, sample=4),
         row("f", None, sample=50)],
        min_cases=5,
    )  # fmt: skip
    # a and c score the same: c did more (30 cases) and ranks first
    assert [(r["key"], r["rank"]) for r in ranked] == [("b", 1), ("c", 2), ("a", 3), ("d", 4)]
    ranked, _ = scoring.rank_rows(
        [row("a", 80.0), row("b", 95.0), row("c", 80.0), row("d", 70.0)], min_cases=5
    )
    assert [(r["key"], r["rank"]) for r in ranked] == [("b", 1), ("a", 2), ("c", 2), ("d", 4)]  # a true tie
    assert [(r["key"], r["apart"]) for r in apart] == [("f", "no_figure"), ("e", "too_few")]


def test_empty_period_ranks_nothing():
    assert scoring.rank_rows([], min_cases=5) == ([], [])
    assert scoring.cut([], 3) == ([], [])


def test_red_is_the_top_n_black_the_bottom_n_ties_included_never_both():
    ranked, _ = scoring.rank_rows(
        [
            row(k, s)
            for k, s in [("a", 99.0), ("b", 95.0), ("c", 90.0), ("d", 90.0), ("e", 60.0), ("f", 50.0)]
        ],
        min_cases=1,
    )
    red, black = scoring.cut(ranked, 2)
    assert red == ["a", "b"]
    assert black == ["f", "e"]  # worst first
    red, black = scoring.cut(ranked, 3)
    assert red == ["a", "b", "c", "d"]  # c and d tie for 3rd
    assert black == ["f", "e"]  # d would be 3rd from the bottom but is on the 红榜
    # everyone equal: all share rank 1 → all red, nobody black
    ranked, _ = scoring.rank_rows([row("x", 80.0), row("y", 80.0)], min_cases=1)
    assert scoring.cut(ranked, 1) == (["x", "y"], [])
    # fewer rows than 2N: the lists never overlap
    ranked, _ = scoring.rank_rows([row("x", 80.0), row("y", 70.0), row("z", 60.0)], min_cases=1)
    assert scoring.cut(ranked, 2) == (["x", "y"], ["z"])
