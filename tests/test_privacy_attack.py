"""The attacker of ``tests/attacker.py`` against exports of several shapes: it must recover nothing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmo_maturity import cluster_respondents, load_responses, score
from pmo_maturity.sample import ROLES, generate_sample
from tests.attacker import archetype_leaks, attack, published_tables

MIN = 5


def _export(questionnaire, units, *, seed=5, roles=None, unanswered=(), role_of=None):
    """A clean export of the given units; ``unanswered`` = (unit, dimension) blocks answered
    "Don't know" by everyone; ``role_of(unit, i)`` gives the i-th respondent's role."""
    data = generate_sample(questionnaire, units=units, small_units=0, bad_row_share=0, dont_know_share=0.02,
                           seed=seed)
    frame = data.frame.copy()
    if role_of is not None:
        position = frame.groupby("business_unit").cumcount()
        frame["role"] = [role_of(u, int(i)) for u, i in zip(frame["business_unit"], position, strict=True)]
    for unit, dim in unanswered:
        items = questionnaire.dimension(dim).item_ids
        frame[items] = frame[items].astype(object)
        frame.loc[frame["business_unit"] == unit, items] = "Don't know"
    return frame


def _leaks(questionnaire, frame, tmp_path):
    scores = score(load_responses(frame, questionnaire), min_group_size=MIN, n_resamples=200)
    return attack(scores, published_tables(scores, tmp_path), MIN)


def test_a_dimension_the_complement_left_unanswered(questionnaire, tmp_path):
    # The case: D (3) is hidden, C (20) hides with it; C answered "Don't know" on vision.
    frame = _export(questionnaire, [("A", 30), ("B", 25), ("C", 20), ("D", 3)], unanswered=[("C", "vision")])
    assert _leaks(questionnaire, frame, tmp_path) == []


def test_role_totals_against_unit_by_role_cells(questionnaire, tmp_path):
    # The suppressed unit's respondents are the only ones of their roles outside the shown cells.
    def role_of(unit, i):
        if unit == "D":
            return ROLES[i % 2]
        return ROLES[2 + i % 3] if i >= 6 else ROLES[i % 2]

    frame = _export(questionnaire, [("A", 30), ("B", 25), ("C", 20), ("D", 3)], role_of=role_of)
    assert _leaks(questionnaire, frame, tmp_path) == []


def test_tiny_roles(questionnaire, tmp_path):
    def role_of(unit, i):
        if unit == "A" and i == 0:
            return ROLES[0]  # one executive sponsor in the whole organisation
        return ROLES[1 + i % 4]

    frame = _export(questionnaire, [("A", 30), ("B", 28), ("C", 26)], role_of=role_of)
    assert _leaks(questionnaire, frame, tmp_path) == []


def test_tiny_unit_by_role_cells(questionnaire, tmp_path):
    frame = _export(questionnaire, [("A", 12), ("B", 11), ("C", 10), ("D", 9), ("E", 8)], seed=9)
    assert _leaks(questionnaire, frame, tmp_path) == []


def test_hidden_units_beside_shown_ones_with_thin_dimensions(questionnaire, tmp_path):
    frame = _export(questionnaire, [("A", 40), ("B", 22), ("C", 6), ("D", 4), ("E", 2)], seed=3,
                    unanswered=[("C", "culture"), ("B", "change"), ("A", "ppt")])
    assert _leaks(questionnaire, frame, tmp_path) == []


@pytest.mark.slow  # 25 generated organisations, each scored and attacked
@settings(derandomize=True, database=None, max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(1, 30), min_size=2, max_size=6),
       role_weights=st.lists(st.integers(0, 4), min_size=len(ROLES), max_size=len(ROLES)),
       blanks=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 7)), max_size=3),
       seed=st.integers(0, 1000))
def test_generated_shapes(questionnaire, tmp_path, sizes, role_weights, blanks, seed):
    if sum(sizes) < 2 * MIN or not any(role_weights):
        return
    names = [f"U{i}" for i in range(len(sizes))]
    weights = np.array(role_weights, dtype=float) / sum(role_weights)
    rng = np.random.default_rng(seed)
    roles = {u: rng.choice(len(ROLES), size=s, p=weights) for u, s in zip(names, sizes, strict=True)}
    dims = questionnaire.dimension_ids
    unanswered = [(names[u % len(names)], dims[d]) for u, d in blanks]
    frame = _export(questionnaire, list(zip(names, sizes, strict=True)), seed=seed, unanswered=unanswered,
                    role_of=lambda unit, i: ROLES[roles[unit][i]])
    leaks = _leaks(questionnaire, frame, tmp_path)
    assert leaks == [], "\n".join(map(str, leaks))


@pytest.mark.parametrize("min_size", [3, 7])
def test_other_minimum_sizes(questionnaire, tmp_path, min_size):
    frame = _export(questionnaire, [("A", 30), ("B", 25), ("C", 20), ("D", 3), ("E", 6)],
                    unanswered=[("C", "vision"), ("E", "action")])
    scores = score(load_responses(frame, questionnaire), min_group_size=min_size, n_resamples=200)
    assert attack(scores, published_tables(scores, tmp_path), min_size) == []


def test_archetype_profiles_add_up_to_the_shown_units(questionnaire):
    """The attack that recovered three hidden respondents' means from the archetype profiles and the
    count of respondents clustered: hidden units take no part, and the profiles of the shown units'
    respondents add up to their published totals on every dimension."""
    frame = _export(questionnaire, [("Finance", 60), ("Sales", 55), ("Operations", 40), ("Legal", 3), ("Audit", 7)],
                    seed=41, unanswered=[("Operations", "vision"), ("Audit", "change")])
    frame.loc[frame.index[::29], questionnaire.dimension("ppt").item_ids] = "Don't know"  # a few incomplete
    scores = score(load_responses(frame, questionnaire), min_group_size=MIN, n_resamples=200)
    archetypes = cluster_respondents(scores)
    assert archetypes.found and archetypes.n_excluded > 0
    assert set(scores.respondents.set_index("respondent_id").loc[archetypes.labels.index, "unit"]) <= set(
        scores.reportable_units)
    assert archetype_leaks(scores, archetypes) == []
