"""The narrative: specific, within 200 words, escaped, deterministic."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from pmo_maturity import cluster_respondents, generate_sample, load_responses, score, write_narrative
from pmo_maturity.narrative import html_to_text

from .conftest import export_of


@pytest.fixture(scope="module")
def narrative(sample_scores):
    return write_narrative(sample_scores, archetypes=cluster_respondents(sample_scores), headcount=400)


def test_summary_states_the_headline_numbers(narrative, sample_scores):
    text = narrative.summary_text
    overall = sample_scores.overall_for()
    q = sample_scores.questionnaire
    assert narrative.summary_words <= 200
    # The brief: one level and the 0-100 index, then the index's interval and the response rate.
    assert narrative.brief_text.startswith(f"The organisation is at {overall['continuous_level_name']}: "
                                           f"{overall['index']:.0f}/100 on PMO integration (Defined from 40, "
                                           f"Integrated from 60).")
    assert (f"The index lies between {q.index(overall['ci_low']):.0f} and {q.index(overall['ci_high']):.0f} "
            f"with 95% confidence") in text
    assert f"{int(overall['n'])} of 400 people invited answered (67%)" in text
    assert f"{overall['score']:.2f}, 95% CI {overall['ci_low']:.2f}-{overall['ci_high']:.2f}" in text
    assert overall["staged_level_name"] in text
    assert "shared pattern of answers" in text or "No distinct groups" in text


def test_brief_names_the_weakest_area_and_the_first_three_actions(sample_scores):
    from pmo_maturity import recommend

    plan = recommend(sample_scores, unit="Finance")
    n = write_narrative(sample_scores, unit="Finance", plan=plan, headcount={"Finance": 78})
    weakest = sample_scores.dimensions_for("Finance").sort_values("mean").iloc[0]
    assert f"Weakest area\n{weakest['name']}, {weakest['index']:.0f}/100" in n.brief_text
    for a in plan.top(3).itertuples():
        assert f"{a.title} ({a.owner}, by day {a.window})" in n.brief_text
    assert "55 of 78 people invited answered (71%)" in n.brief_text


def test_a_low_response_rate_is_a_caution(sample_scores):
    n = write_narrative(sample_scores, unit="Finance", headcount={"Finance": 250})
    assert "55 of 250 people invited answered (22%, under 30%" in n.brief_text
    assert "Caution: only 22% of the people invited answered." in n.brief_text


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_strongest_and_weakest_are_argmax_and_argmin(questionnaire, seed):
    data = generate_sample(questionnaire, units=3, small_units=0, bad_row_share=0, seed=seed)
    scores = score(load_responses(data.frame, questionnaire))
    means = scores.organisation.set_index("dimension")["mean"]
    text = write_narrative(scores).summary_text
    strongest = re.search(r"Strongest: (.+?) \(", text).group(1)
    weakest = re.search(r"Weakest: (.+?) \(", text).group(1)
    assert strongest == questionnaire.dimension(means.idxmax()).name
    assert weakest == questionnaire.dimension(means.idxmin()).name


def test_every_reportable_unit_summary_fits(sample_scores):
    archetypes = cluster_respondents(sample_scores)
    for unit in sample_scores.reportable_units:
        n = write_narrative(sample_scores, unit=unit, archetypes=archetypes)
        assert n.summary_words <= 200, unit
        assert n.summary_text.startswith(f"{unit} is at ")


def test_dimension_sections_quote_today_and_next_level(narrative, sample_scores, questionnaire):
    html = str(narrative.dimensions_html)
    table = sample_scores.organisation.set_index("dimension")
    for d in questionnaire.dimensions:
        level = int(table.loc[d.id, "level"])
        today = html_to_text(questionnaire.descriptor(d.id, level))
        assert today in html_to_text(html)
        if level < 5:
            assert html_to_text(questionnaire.descriptor(d.id, level + 1)) in html_to_text(html)


def test_method_notes(narrative, sample_scores):
    text = html_to_text(narrative.method_html)
    dq = sample_scores.data_quality
    assert f"{dq['rows_in']} rows" in text and f"{dq['rows_quarantined']} set aside" in text
    assert "pmo-integration, version 1.0" in text and sample_scores.provenance["input_sha256"] in text
    assert "Response rate: 267 of 400 people invited answered (67%)." in text
    assert "Cronbach's alpha" in text and "rwg(j)" in text and "ICC(1)" in text
    assert "x' = 1 + 5 - x" in text


def test_suppressed_units_never_named(narrative, sample_scores):
    html = str(narrative.html())
    for unit in sample_scores.suppressed_units:
        assert unit not in html


def test_untrusted_text_is_escaped(questionnaire):
    evil_unit = '<script>alert("unit")</script>'
    evil_comment = '<img src=x onerror="alert(1)">'
    data = generate_sample(questionnaire, units=[(evil_unit, 30), ("Plain", 30)], small_units=0, bad_row_share=0,
                           seed=5)
    frame = data.frame.copy()
    frame["comment"] = evil_comment
    frame.loc[frame.index[:12], "role"] = "<b>Boss</b>"
    scores = score(load_responses(frame, questionnaire))
    for unit in (None, evil_unit):
        html = str(write_narrative(scores, unit=unit).html())
        assert "<script>" not in html and "<img" not in html and "<b>Boss" not in html
        assert "&lt;img src=x onerror=" in html
    assert "&lt;script&gt;" in str(write_narrative(scores, unit=evil_unit).summary_html)


def test_deterministic(sample_scores):
    a = write_narrative(sample_scores)
    b = write_narrative(sample_scores)
    assert str(a.html()) == str(b.html())


def test_comments_only_for_large_enough_groups(sample_scores, questionnaire):
    assert "comments from the organisation" in str(write_narrative(sample_scores).comments_html)
    data = generate_sample(questionnaire, units=[("Tiny", 8)], small_units=0, bad_row_share=0, comment_share=1.0)
    small = score(load_responses(data.frame, questionnaire))
    html = str(write_narrative(small).comments_html)
    assert "at least 10 respondents" in html and "&ldquo;" not in html
    assert not pd.isna(small.overall_for()["score"])


def test_no_unflagged_gap_in_a_summary_sentence(sample_scores):
    """Every perception gap a summary names is flagged, with its interval; in the demo no unit has a
    flagged gap, so no unit summary names one although several have role spreads over 0.5."""
    gaps = sample_scores.gaps
    archetypes = cluster_respondents(sample_scores)
    for unit in [None, *sample_scores.reportable_units]:
        scope = unit or "Organisation"
        text = write_narrative(sample_scores, unit=unit, archetypes=archetypes).summary_text
        named = re.findall(r"perception gap, on ([\w -]+): (.+?) (\d\.\d\d) against (.+?) (\d\.\d\d)", text)
        flagged = gaps[(gaps["scope"] == scope) & gaps["flagged"]]
        for _dim, higher, mean_h, lower, _mean_l in named:
            match = flagged[(flagged["higher"] == higher) & (flagged["lower"] == lower)]
            assert len(match) and f"{match.iloc[0]['mean_higher']:.2f}" == mean_h, (scope, text)
            assert "95% CI" in text
        if flagged.empty:
            assert not named and "No two roles see a dimension clearly" in text
        else:
            assert len(named) == 1, scope  # the organisation: its biggest clear gap
    assert (gaps[gaps["scope"] != "Organisation"]["difference"] >= 0.5).any()


def test_comments_of_small_units_never_appear(questionnaire):
    data = export_of([("A", "R", 12, 3), ("B", "R", 12, 3), ("C", "R", 4, 3), ("D", "R", 3, 3)], questionnaire,
                 comment=lambda unit: f"comment from {unit}")
    scores = score(load_responses(data, questionnaire))
    html = str(write_narrative(scores).comments_html)
    assert "comment from A" in html and "comment from C" not in html and "comment from D" not in html


def test_no_role_column_is_said_plainly(questionnaire):
    data = export_of([("X", "R", 12, 3), ("Y", "R", 12, 4)], questionnaire).drop(columns=["Role"])
    text = write_narrative(score(load_responses(data, questionnaire))).summary_text
    assert "roles were not collected" in text
