"""Charts: a takeaway computed from the data, fixed scales, and never a suppressed group."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from pmo_maturity import charts, cluster_respondents


@pytest.fixture(scope="module")
def archetypes(sample_scores):
    return cluster_respondents(sample_scores)


def _image(chart):
    img = Image.open(io.BytesIO(chart.png))
    assert img.format == "PNG" and img.size[0] > 300 and img.size[1] > 150
    return img


def test_dimension_scores_takeaway_cites_the_extremes(sample_scores, questionnaire):
    table = sample_scores.organisation
    target = {d: 2.6 for d in questionnaire.dimension_ids}
    import pandas as pd

    chart = charts.dimension_scores(questionnaire, table, pd.Series(target))
    _image(chart)
    low, high = table.set_index("dimension")["mean"].agg(["min", "max"])
    assert f"{low:.2f}" in chart.takeaway and f"{high:.2f}" in chart.takeaway
    assert chart.takeaway in str(chart.html()) and 'alt="Dimension scores.' in str(chart.html())


def test_gap_chart_draws_only_reportable_roles(sample_scores, questionnaire):
    roles = sample_scores.roles.copy()
    roles.loc[roles["role"] == "PMO staff", "suppressed"] = True
    chart = charts.perception_gaps(questionnaire, roles, 0.5)
    assert "PMO staff" not in chart.shown and "Team member" in chart.shown
    assert "Executive sponsor" in chart.takeaway and "vision" in chart.takeaway


def test_heatmap_draws_only_reportable_units(sample_scores, questionnaire):
    chart = charts.portfolio_heatmap(questionnaire, sample_scores.units, sample_scores.organisation)
    assert set(chart.shown) == set(sample_scores.reportable_units)
    assert set(sample_scores.suppressed_units).isdisjoint(chart.shown)
    _image(chart)


def test_archetype_chart_hides_suppressed_archetypes(archetypes, questionnaire):
    profiles = archetypes.profiles.copy()
    hidden = profiles.iloc[-1]["archetype"]
    profiles.loc[profiles.index[-1], "suppressed"] = True
    chart = charts.archetype_profiles(questionnaire, profiles)
    assert hidden not in chart.shown and len(chart.shown) == len(profiles) - 1
    assert profiles.iloc[0]["archetype"] in chart.takeaway


def test_item_answers_and_roadmap(sample_responses, sample_scores, questionnaire):
    from pmo_maturity import recommend

    chart = charts.item_answers(questionnaire, sample_responses.data)
    assert "% favourable answers" in chart.takeaway
    plan = recommend(sample_scores)
    road = charts.roadmap(plan.actions)
    counts = plan.actions["horizon"].value_counts()
    assert road.takeaway.startswith(f"{counts.get(30, 0)} actions start at once")
