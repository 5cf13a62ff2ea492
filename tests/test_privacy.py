"""Small-group suppression, including complementary suppression."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pmo_maturity.privacy import suppress_table, suppressed_groups


def test_single_small_group_gets_a_complement():
    assert suppressed_groups({"A": 40, "B": 3, "C": 12, "D": 25}, 5) == {"B": "small", "C": "complementary"}


def test_two_small_groups_that_add_up_need_no_complement():
    assert suppressed_groups({"A": 40, "B": 3, "C": 4}, 5) == {"B": "small", "C": "small"}


def test_small_groups_that_stay_small_together_get_a_complement():
    assert suppressed_groups({"A": 40, "B": 2, "C": 2, "D": 9}, 5) == {"B": "small", "C": "small", "D": "complementary"}


def test_nothing_small_nothing_suppressed():
    assert suppressed_groups({"A": 5, "B": 6}, 5) == {}


@settings(derandomize=True, database=None)
@given(st.dictionaries(st.sampled_from("ABCDEFG"), st.integers(1, 30), min_size=1), st.integers(3, 8))
def test_no_breakdown_reveals_a_group_by_subtraction(sizes, min_size):
    hidden = suppressed_groups(sizes, min_size)
    assert all(sizes[g] >= min_size for g in sizes if g not in hidden)
    if hidden and len(hidden) < len(sizes):
        assert len(hidden) >= 2 and sum(sizes[g] for g in hidden) >= min_size


@settings(derandomize=True, database=None)
@given(st.lists(st.lists(st.integers(0, 20), min_size=3, max_size=3), min_size=2, max_size=5), st.integers(3, 6))
def test_crossed_tables_are_safe_along_rows_and_columns(cells, min_size):
    counts = pd.DataFrame(cells, index=[f"u{i}" for i in range(len(cells))], columns=["exec", "pm", "team"])
    mask = suppress_table(counts, min_size)
    assert not ((counts > 0) & (counts < min_size) & ~mask).any().any()
    for line_counts, line_mask in [*((counts.loc[r], mask.loc[r]) for r in counts.index),
                                   *((counts[c], mask[c]) for c in counts.columns)]:
        hidden = line_counts[line_mask & (line_counts > 0)]
        shown = line_counts[~line_mask & (line_counts > 0)]
        if len(hidden) and len(shown):
            assert len(hidden) >= 2 and hidden.sum() >= min_size
