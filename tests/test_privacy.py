"""Small-group suppression, including complementary suppression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmo_maturity import load_responses, score
from pmo_maturity.privacy import suppress_crossing, suppress_table, suppressed_groups

from .conftest import export_of


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


def test_a_role_hidden_organisation_wide_stays_hidden_in_every_unit(questionnaire):
    spec = [("X", "A", 10, 3), ("X", "B", 12, 4), ("X", "D", 10, 3), ("X", "E", 8, 1.5),
            ("Y", "A", 10, 3), ("Y", "C", 3, 1), ("Y", "D", 10, 3), ("Y", "E", 8, 1.5)]
    scores = score(load_responses(export_of(spec, questionnaire), questionnaire))
    hidden_roles = set(scores.roles.loc[scores.roles["suppressed"], "role"])
    assert {"B", "C"} <= hidden_roles  # C is small, B its complement
    cells = scores.role_cells
    assert cells.loc[cells["role"].isin(hidden_roles), "mean"].isna().all()
    assert hidden_roles.isdisjoint(set(scores.gaps["higher"]) | set(scores.gaps["lower"]))


def test_a_cell_revealed_by_its_line_total_hides_the_total():
    counts = pd.DataFrame({"A": [20, 0], "C": [3, 6]}, index=["Y", "Z"])
    rows, columns, mask = suppress_crossing(counts, 5)
    # Z's only people are its C cell; C's total minus Z would reveal C in Y (3 people).
    assert "Z" in rows and mask.loc["Y", "C"]


def test_small_dimension_cells_are_hidden_with_complements(questionnaire):
    data = export_of([("A", "R", 20, 3), ("B", "R", 6, 3), ("C", "R", 20, 3)], questionnaire)
    vision = questionnaire.dimension("vision").item_ids
    b_rows = data.index[data["Business unit"] == "B"][:4]
    data.loc[b_rows, vision] = np.nan  # only 2 of B's 6 respondents scored vision
    scores = score(load_responses(data, questionnaire))
    units = scores.units.set_index(["unit", "dimension"])
    assert np.isnan(units.loc[("B", "vision"), "mean"]) and units.loc[("B", "vision"), "hidden"]
    hidden_elsewhere = [u for u in ("A", "C") if units.loc[(u, "vision"), "hidden"]]
    assert len(hidden_elsewhere) == 1  # a complement, so the organisation minus the others reveals nothing
    b = scores.overall_for("B")
    shown = units.loc["B"][~units.loc["B"]["hidden"]]
    assert b["score"] == pytest.approx(shown["mean"].mean())  # the overall index skips the hidden dimension


def test_respondents_without_a_unit_count_as_a_hidden_group(questionnaire):
    data = export_of([("X", "R", 10, 3), ("Y", "R", 10, 3), (None, "R", 2, 1)], questionnaire)
    scores = score(load_responses(data, questionnaire, require_unit=False))
    assert len(scores.suppressed_units) == 1  # a complement for the two people without a unit
