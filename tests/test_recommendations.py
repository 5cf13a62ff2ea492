"""The action catalogue and the prioritised plan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from pmo_maturity import (
    ConfigurationError,
    QuestionnaireError,
    load_catalogue,
    load_questionnaire,
    load_responses,
    recommend,
    score,
    write_narrative,
)
from pmo_maturity.recommendations import EFFORT_COST, resolve_target

from .conftest import write_yaml


def test_every_dimension_and_level_has_three_actions(questionnaire):
    catalogue = load_catalogue(questionnaire=questionnaire)
    for d in questionnaire.dimensions:
        for level in (1, 2, 3, 4):
            actions = catalogue.for_dimension(d.id, level)
            assert len(actions) >= 3, f"{d.id} level {level}: {len(actions)} actions"
            for a in actions:
                assert a.what and a.why and a.owner and a.success_measure and a.horizon in (30, 60, 90)


def test_catalogue_triggers_cover_gaps_agreement_archetypes_reliability(questionnaire):
    kinds = {t.when.finding for t in load_catalogue(questionnaire=questionnaire).triggers}
    assert kinds == {"perception_gap", "low_agreement", "archetype", "low_reliability"}


def test_invalid_catalogue_names_the_key(tmp_path, questionnaire):
    path = write_yaml(tmp_path / "bad.yaml", """
        id: x
        version: "1"
        questionnaire: pmo-integration
        actions:
          - {id: a-1, dimension: nowhere, levels: [1], title: T, what: W, why: Y, effort: XL, impact: 9,
             horizon: 45, owner: O, success_measure: S}
        """)
    with pytest.raises(QuestionnaireError) as info:
        load_catalogue(path, questionnaire)
    message = str(info.value)
    assert "actions[0] (id 'a-1').effort" in message and "'XL'" in message and "horizon" in message
    path = write_yaml(tmp_path / "bad2.yaml", """
        id: x
        version: "1"
        questionnaire: pmo-integration
        actions:
          - {id: a-1, dimension: nowhere, levels: [1], title: T, what: W, why: Y, effort: S, impact: 3,
             horizon: 30, owner: O, success_measure: S}
        """)
    with pytest.raises(QuestionnaireError, match="'nowhere' is not a dimension"):
        load_catalogue(path, questionnaire)


def test_no_level_action_for_a_dimension_at_or_above_target(sample_scores):
    plan = recommend(sample_scores)
    at_target = set(plan.targets.loc[plan.targets["at_target"], "dimension"])
    level_actions = plan.actions[plan.actions["source"] == "level"]
    assert at_target and at_target.isdisjoint(set(level_actions["dimension"]))
    assert set(level_actions["dimension"]) <= set(plan.targets.loc[~plan.targets["at_target"], "dimension"])
    nothing = recommend(sample_scores, target=1)
    assert (nothing.actions["source"] != "level").all()
    assert nothing.targets["at_target"].all()


def test_targets_per_dimension_and_unit(sample_scores, questionnaire):
    assert resolve_target({"vision": 4}, questionnaire)["vision"] == 4
    assert resolve_target({"vision": 4}, questionnaire)["culture"] == 3
    per_unit = {"*": 2, "Finance": {"vision": 5}}
    assert resolve_target(per_unit, questionnaire, unit="Finance")["vision"] == 5
    assert resolve_target(per_unit, questionnaire, unit="Finance")["culture"] == 2
    assert resolve_target(per_unit, questionnaire, unit="Operations")["vision"] == 2
    for bad in ({"vison": 3}, 7, {"vision": 0}, "3"):
        with pytest.raises(ConfigurationError):
            resolve_target(bad, questionnaire)
    plan = recommend(sample_scores, target={"vision": 4})
    vision = plan.targets.set_index("dimension").loc["vision"]
    assert vision["target_level"] == 4 and not vision["at_target"]
    assert "vision" in set(plan.actions.loc[plan.actions["source"] == "level", "dimension"])


@pytest.fixture
def two_dimensions(tmp_path):
    """An instrument and a catalogue where two dimensions differ only in their gap to target."""
    q_path = write_yaml(tmp_path / "q.yaml", """
        id: two
        version: "1"
        title: Two
        scale: {min: 1, max: 5}
        dimensions:
          - {id: a, name: A, items: [{id: A1, text: Item A one}, {id: A2, text: Item A two}]}
          - {id: b, name: B, items: [{id: B1, text: Item B one}, {id: B2, text: Item B two}]}
        """)
    actions = "\n".join(
        f"  - {{id: {d}-{lv}, dimension: {d}, levels: [{lv}], title: \"=Fix {d} {lv}\", what: W, why: Y, "
        f"effort: M, impact: 3, horizon: 30, owner: O, success_measure: S}}"
        for d in "ab" for lv in (1, 2, 3, 4))
    c_path = tmp_path / "c.yaml"
    c_path.write_text(f"id: c\nversion: '1'\nquestionnaire: two\nactions:\n{actions}\n", encoding="utf-8")
    return load_questionnaire(q_path), c_path


@pytest.mark.parametrize(("a_answer", "b_answer"), [(1, 2), (2, 1)])
def test_a_larger_gap_never_ranks_lower(tmp_path, two_dimensions, a_answer, b_answer):
    q, catalogue = two_dimensions
    frame = pd.DataFrame({"A1": [a_answer] * 6, "A2": [a_answer] * 6, "B1": [b_answer] * 6, "B2": [b_answer] * 6})
    scores = score(load_responses(frame, q), n_resamples=200)
    plan = recommend(scores, catalogue=catalogue)
    larger = "a" if a_answer < b_answer else "b"
    assert plan.actions.iloc[0]["dimension"] == larger
    gaps = plan.targets.set_index("dimension")["gap"]
    row = plan.actions.iloc[0]
    assert row["priority"] == pytest.approx(gaps[larger] * 1.0 * 3 / EFFORT_COST["M"])


def test_bounds_per_dimension_window_and_total(sample_scores):
    plan = recommend(sample_scores, target=5, per_dimension=1, per_window=5, max_actions=30)
    counts = plan.actions[plan.actions["dimension"] != ""].groupby("dimension").size()
    assert (counts <= 1).all() and len(plan.actions) <= 15
    small = recommend(sample_scores, target=5, max_actions=5)
    assert len(small.actions) == 5 and len(small.considered) > 0
    assert list(plan.actions["rank"]) == list(range(1, len(plan.actions) + 1))
    for days, block in plan.actions.groupby("window", sort=True):  # by priority within each window
        rest = block[~block["source"].isin(["level", "consolidate"]) | (block.index > block.index[0])]
        assert rest["priority"].is_monotonic_decreasing or days == 30
    assert set(plan.actions["window"]) <= {30, 60, 90}
    with pytest.raises(ConfigurationError):
        recommend(sample_scores, per_window=0)


def test_plan_export_neutralises_formulas(tmp_path, two_dimensions):
    q, catalogue = two_dimensions
    frame = pd.DataFrame({"A1": [1] * 6, "A2": [1] * 6, "B1": [2] * 6, "B2": [2] * 6})
    plan = recommend(score(load_responses(frame, q), n_resamples=200), catalogue=catalogue)
    assert plan.actions["title"].str.startswith("=").all()
    text = plan.write(tmp_path / "plan.csv").read_text(encoding="utf-8-sig")
    assert "'=Fix a" in text and ",=Fix" not in text
    wb = load_workbook(plan.write(tmp_path / "plan.xlsx"))
    titles = [c.value for c in wb["action plan"]["C"]][1:]
    assert all(t.startswith("'=") for t in titles)
    assert "priority = gap" in wb["method"]["A2"].value


def test_perception_gap_triggers_a_communication_action(sample_scores):
    plan = recommend(sample_scores)
    triggered = plan.actions[plan.actions["source"] == "perception gap"]
    assert "gap-vision-briefings" in set(triggered["id"])
    assert plan.actions.iloc[0]["id"] == "gap-vision-briefings"


def test_catalogue_beside_the_questionnaire_is_used(tmp_path, one_dimension):
    q_path, path = one_dimension
    (q_path.parent / "recommendations.yaml").write_text(
        "id: c\nversion: '1'\nquestionnaire: single\nactions:\n"
        + "".join(f"  - {{id: d-{lv}, dimension: d, levels: [{lv}], title: Act {lv}, what: W, why: Y, effort: S, "
                  f"impact: 3, horizon: 30, owner: O, success_measure: S}}\n" for lv in (1, 2, 3, 4)),
        encoding="utf-8")
    q = load_questionnaire(q_path)
    plan = recommend(score(load_responses(path, q)), target=5)
    assert list(plan.actions["id"]) and set(plan.actions["id"]) <= {"d-1", "d-2", "d-3", "d-4"}


def test_unscored_dimension_is_not_at_target(questionnaire, sample):
    data = sample.frame[sample.truth["expected_reason"] == ""].copy()
    data[questionnaire.dimension("vision").item_ids] = np.nan
    scores = score(load_responses(data, questionnaire))
    plan = recommend(scores)
    vision = plan.targets.set_index("dimension").loc["vision"]
    assert not vision["at_target"] and not vision["scored"]
    html = str(write_narrative(scores, plan=plan).dimensions_html)
    assert "Vision and strategic alignment: not shown" in html and "Too few answers to show this dimension" in html
