"""Regression tests for problems found in review: privacy by subtraction, other instruments, edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmo_maturity import (load_questionnaire, load_responses, recommend, score,
                          write_narrative)
from pmo_maturity.privacy import suppress_crossing
from pmo_maturity import prepare

from .conftest import write_yaml


def frame(spec, questionnaire, seed=0, comment=None):
    """spec: (unit, role, count, typical answer) rows -> a wide export with item ids."""
    rng = np.random.default_rng(seed)
    rows, i = [], 0
    for unit, role, count, base in spec:
        for _ in range(count):
            i += 1
            row = {"ID": f"R{i:04d}", "Business unit": unit, "Role": role}
            for item in questionnaire.items:
                row[item.id] = int(np.clip(round(base + rng.normal(0, 0.8)), 1, 5))
            if comment is not None:
                row["Comment"] = comment(unit)
            rows.append(row)
    return pd.DataFrame(rows)


def test_a_role_hidden_organisation_wide_stays_hidden_in_every_unit(questionnaire):
    spec = [("X", "A", 10, 3), ("X", "B", 12, 4), ("X", "D", 10, 3), ("X", "E", 8, 1.5),
            ("Y", "A", 10, 3), ("Y", "C", 3, 1), ("Y", "D", 10, 3), ("Y", "E", 8, 1.5)]
    scores = score(load_responses(frame(spec, questionnaire), questionnaire))
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
    data = frame([("A", "R", 20, 3), ("B", "R", 6, 3), ("C", "R", 20, 3)], questionnaire)
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
    data = frame([("X", "R", 10, 3), ("Y", "R", 10, 3), (None, "R", 2, 1)], questionnaire)
    scores = score(load_responses(data, questionnaire, require_unit=False))
    assert len(scores.suppressed_units) == 1  # a complement for the two people without a unit


def test_comments_of_small_units_never_appear(questionnaire):
    data = frame([("A", "R", 12, 3), ("B", "R", 12, 3), ("C", "R", 4, 3), ("D", "R", 3, 3)], questionnaire,
                 comment=lambda unit: f"comment from {unit}")
    scores = score(load_responses(data, questionnaire))
    html = str(write_narrative(scores).comments_html)
    assert "comment from A" in html and "comment from C" not in html and "comment from D" not in html


def test_malformed_lines_in_long_files_are_quarantined(tmp_path, questionnaire):
    path = tmp_path / "long.csv"
    path.write_text("respondent,item,answer\nr1,INS1,4\nr1,INS2,5,extra\nr1,INS3,4\nr1,INS4,3\n", encoding="utf-8")
    r = load_responses(path, questionnaire, min_answered=0.2)
    s = r.summary
    assert s["rows_in"] == 4 and s["rows_quarantined"] == 1 and s["quarantined_by_reason"] == {"malformed_row": 1}


@pytest.fixture
def one_dimension(tmp_path):
    q_path = write_yaml(tmp_path / "q1.yaml", """
        id: single
        version: "1"
        title: Single
        scale: {min: 0, max: 10}
        dimensions:
          - {id: d, name: D, items: [{id: D1, text: One}, {id: D2, text: Two}]}
        """)
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"Business unit": np.repeat(["U1", "U2"], 50), "D1": rng.integers(0, 11, 100),
                         "D2": rng.integers(0, 11, 100)})
    path = tmp_path / "answers.csv"
    data.to_csv(path, index=False)
    return q_path, path


def test_other_instrument_without_a_catalogue_gets_a_report(one_dimension):
    q_path, path = one_dimension
    report = prepare(str(path), str(q_path))
    assert report.plan.actions.empty and "No action catalogue" in report.plan.notes[0]
    assert not report.analysis.archetypes.found and "at least 3" in report.analysis.archetypes.reason
    for section in ("summary", "scorecard", "profile_chart", "scores_chart", "answers_chart", "archetypes_chart",
                    "dimensions", "plan_section", "method"):
        assert getattr(report, section)()._repr_html_()


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


def test_no_role_column_is_said_plainly(questionnaire):
    data = frame([("X", "R", 12, 3), ("Y", "R", 12, 4)], questionnaire).drop(columns=["Role"])
    text = write_narrative(score(load_responses(data, questionnaire))).summary_text
    assert "roles were not collected" in text


def test_a_unit_called_organisation(questionnaire):
    data = frame([("Organisation", "R", 20, 4), ("Other", "R", 20, 2)], questionnaire)
    scores = score(load_responses(data, questionnaire))
    assert scores.overall_for("Organisation")["n"] == 20
    assert scores.overall_for()["n"] == 40


def test_settings_change_means_rerun(tmp_path):
    from pmo_maturity.batch import _settings_digest

    common = {"responses": "x.csv", "target": 3, "organisation": "Acme", "scores_file": "a", "scores_sha256": "b"}
    assert _settings_digest(common, None) == _settings_digest({**common, "scores_file": "other"}, None)
    assert _settings_digest(common, None) != _settings_digest({**common, "target": 4}, None)
    assert _settings_digest(common, None) != _settings_digest({**common, "organisation": "Other"}, None)


def test_nothing_scored_gives_empty_tables_not_a_crash(questionnaire):
    data = frame([("Finance", "Team member", 6, 3)], questionnaire)
    data[questionnaire.item_ids] = 9  # every answer out of range: every row quarantined
    scores = score(load_responses(data))
    assert scores.data_quality["rows_scored"] == 0 and scores.data_quality["rows_quarantined"] == 6
    assert scores.units.empty and scores.respondents.empty
    no_units = frame([("Finance", "Team member", 6, 3)], questionnaire).assign(**{"Business unit": None})
    scores = score(load_responses(no_units, require_unit=False))
    assert len(scores.respondents) == 6 and scores.units.empty


def test_empty_frame_with_whole_number_answers_loads(questionnaire):
    empty = frame([("Finance", "Team member", 3, 3)], questionnaire).iloc[:0]
    r = load_responses(empty)
    assert r.summary["rows_in"] == 0 and r.data.empty


def test_far_apart_times_are_not_wrapped_into_speeders(questionnaire):
    data = frame([("Finance", "Team member", 12, 3)], questionnaire, seed=3)
    data["Start time"] = ["2026-10-05 10:00"] * 11 + ["1700-01-01 00:00"]
    data["Completion time"] = ["2026-10-05 10:20"] * 10 + ["2026-10-05 10:02", "2200-01-01 00:00"]
    flags = load_responses(data).flags
    speeders = flags[flags["flag"] == "speeder"]
    assert speeders["row"].tolist() == [12]  # the two-minute one; 500 years is slow, not fast
    assert "120 s against a median of 1200 s" in speeders["detail"].iloc[0]
