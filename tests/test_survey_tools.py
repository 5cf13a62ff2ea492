"""Exports of the five survey tools score exactly like the plain export of the same answers.

The answers come from :func:`pmo_maturity.sample.generate_sample` (bad rows included, so the
quarantine must agree too); ``tests/exports.py`` lays them out as each tool does. Nothing but a
mapping file for the numeric Qualtrics export (its don't-know code and its unit and role codes)
is given: every layout is recognised with no options.
"""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from pmo_maturity import ScoringRules, generate_sample, load_responses, score
from pmo_maturity.cli import main

from .exports import TOOL_EXTRA_REASONS, TOOLS, qualtrics, qualtrics_mapping

TOOL_NAMES = {"surveymonkey_csv": "SurveyMonkey", "surveymonkey_xlsx": "SurveyMonkey", "qualtrics_text": "Qualtrics",
              "qualtrics_numeric": "Qualtrics", "google_forms": "Google Forms", "ms_forms_xlsx": "MS Forms",
              "ms_forms_csv": "MS Forms", "limesurvey": "LimeSurvey"}
SAMPLE = generate_sample(units=4, respondents_per_unit=(16, 24), small_units=1, seed=31)
RULES = ScoringRules(n_resamples=500)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    path = SAMPLE.write(tmp_path_factory.mktemp("plain") / "plain.csv", layout="ids")
    responses = load_responses(path)
    return responses, score(responses, rules=RULES)


def _build(tool, folder):
    build, options = TOOLS[tool]
    path = build(SAMPLE, folder)
    if "mapping_file" in options:
        options = {"mapping_file": str(qualtrics_mapping(SAMPLE, folder / options["mapping_file"]))}
    return path, options


def _answers(r):
    columns = ["respondent_id", "unit", "role", "submitted_at", *r.questionnaire.item_ids]
    return r.data[columns].sort_values(["respondent_id", "submitted_at"]).reset_index(drop=True)


def _tables(s):
    yield "scores", s.to_frame().drop(columns="input_sha256")
    for name in ("reliability", "agreement", "icc", "gaps"):
        yield name, getattr(s, name)
    yield "respondents", s.respondents.drop(columns=[c for c in ("row",) if c in s.respondents.columns])


@pytest.mark.parametrize("tool", list(TOOLS))
def test_each_tool_export_scores_like_the_plain_export(tool, tmp_path, plain):
    plain_responses, plain_scores = plain
    path, options = _build(tool, tmp_path)
    r = load_responses(path, **options)
    s, p = r.summary, plain_responses.summary
    extra = TOOL_EXTRA_REASONS.get(tool, {})
    assert s["source"]["tool"] == TOOL_NAMES[tool]
    assert r.has_units and r.has_roles, s["metadata_columns"]
    assert s["items_matched"] == 40
    assert s["rows_in"] == p["rows_in"] + sum(extra.values()) == s["rows_accepted"] + s["rows_quarantined"]
    expected = dict(p["quarantined_by_reason"])
    for reason, count in extra.items():
        expected[reason] = expected.get(reason, 0) + count
    assert s["quarantined_by_reason"] == expected
    pd.testing.assert_frame_equal(_answers(r), _answers(plain_responses))
    scores = score(r, rules=RULES)
    for (name, got), (_, want) in zip(_tables(scores), _tables(plain_scores), strict=True):
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), obj=name)


@pytest.mark.parametrize("tool", list(TOOLS))
def test_each_tool_export_scores_on_the_command_line_with_no_options(tool, tmp_path):
    path, options = _build(tool, tmp_path)
    args = ["--mapping-file", options["mapping_file"]] if options else []
    result = CliRunner().invoke(main, ["score", str(path), *args])
    assert result.exit_code == 0, result.output
    assert "Business units" in result.output and "Finance" in result.output


def test_qualtrics_preview_spam_and_unfinished_have_their_own_reasons(tmp_path):
    r = load_responses(qualtrics(SAMPLE, tmp_path / "q.csv"))
    set_aside = r.quarantine[r.quarantine["reason"].isin(["preview", "spam", "unfinished"])]
    assert sorted(set_aside["respondent_id"]) == ["R_preview0", "R_spam1", "R_test2", "R_unfinished3"]
    assert set(set_aside["column"]) == {"Status", "Finished"}
    assert r.summary["source"]["header_rows"] == 3 and r.summary["source"]["tool"] == "Qualtrics"


def test_numeric_qualtrics_without_its_mapping_file_says_what_six_means(tmp_path):
    r = load_responses(qualtrics(SAMPLE, tmp_path / "q.csv", numeric=True, extra=()))
    assert r.summary["warnings"].get("dont_know_code") == 1
    assert "na_codes: [6]" in r.warnings.loc[r.warnings["warning"] == "dont_know_code", "detail"].iloc[0]
