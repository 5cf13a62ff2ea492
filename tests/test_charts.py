"""Charts: a takeaway computed from the data, fixed scales, and never a suppressed group."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from pmo_maturity import charts, cluster_respondents


@pytest.fixture(scope="module")
def archetypes(sample_scores):
    return cluster_respondents(sample_scores)


def _image(chart):
    """The chart is a well-formed SVG of a readable size; returns the text it shows."""
    root = ET.fromstring(chart.svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    width, height = (float(root.get(side).removesuffix("pt")) for side in ("width", "height"))
    assert width > 300 and height > 150
    assert chart.data_uri().startswith("data:image/svg+xml;base64,")
    return " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))


def test_svg_text_is_escaped_and_files_repeat(questionnaire, sample_scores):
    """Untrusted names stay text inside the SVG (no markup), and a chart renders byte for byte the
    same twice (no date, fixed ids)."""
    roles = sample_scores.roles.copy()
    evil = '<script>alert(1)</script> & "Ops"'
    roles.loc[roles["role"] == "Team member", "role"] = evil
    chart = charts.perception_gaps(questionnaire, roles, 0.5)
    assert b"<script>" not in chart.svg and b"&lt;script&gt;" in chart.svg
    assert "<script>alert(1)</script>" in "".join(_image(chart).split())  # shown as written (wrapped)
    again = charts.perception_gaps(questionnaire, roles, 0.5)
    assert again.svg == chart.svg


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
    gaps = sample_scores.gaps[sample_scores.gaps["scope"] == "Organisation"]
    chart = charts.perception_gaps(questionnaire, roles, 0.5, gaps)
    assert "PMO staff" not in chart.shown and "Team member" in chart.shown
    text = _image(chart)
    assert "PMO staff" not in text and "Team member" in text
    widest = gaps[gaps["flagged"]].iloc[0]
    assert chart.takeaway.startswith("Widest clear gap on vision: Executive sponsor 3.76 against Team member 2.54")
    assert f"95% CI {widest['ci_low']:.2f} to {widest['ci_high']:.2f}" in chart.takeaway


def test_gap_chart_says_when_no_gap_is_clear(sample_scores, questionnaire):
    cells = sample_scores.role_cells
    gaps = sample_scores.gaps[sample_scores.gaps["scope"] == "Finance"]
    assert not gaps["flagged"].any() and (gaps["difference"] >= 0.5).any()  # wide, but not clear
    chart = charts.perception_gaps(questionnaire, cells[cells["unit"] == "Finance"], 0.5, gaps)
    assert chart.takeaway.startswith("No gap between roles is clear of the uncertainty: the widest")


def test_heatmap_draws_only_reportable_units(sample_scores, questionnaire):
    chart = charts.portfolio_heatmap(questionnaire, sample_scores.units, sample_scores.organisation)
    assert set(chart.shown) == set(sample_scores.reportable_units)
    assert set(sample_scores.suppressed_units).isdisjoint(chart.shown)
    text = _image(chart)
    assert sample_scores.suppressed_units and not any(u in text for u in sample_scores.suppressed_units)
    assert all(re.sub(r"\s+", " ", u).split(" ")[0] in text for u in sample_scores.reportable_units)


def test_archetype_chart_hides_suppressed_archetypes(archetypes, questionnaire, sample_scores):
    profiles = archetypes.profiles.copy()
    hidden = profiles.iloc[-1]["archetype"]
    profiles.loc[profiles.index[-1], "suppressed"] = True
    organisation = sample_scores.organisation.set_index("dimension")["mean"]
    chart = charts.archetype_profiles(questionnaire, profiles, organisation)
    assert hidden not in chart.shown and len(chart.shown) == len(profiles) - 1
    text = _image(chart)
    assert hidden.split(":")[0] not in text.replace("\n", " ")
    assert profiles.iloc[0]["archetype"] in chart.takeaway
    # For executives: scale points, not standard deviations.
    assert "Points above or below the organisation" in text and "(1-5 scale)" in text and "SD" not in text
    # The takeaway says what the bars show: the largest group's furthest points from the organisation.
    largest = profiles.iloc[0]
    diff = pd.Series({d: largest[d] for d in questionnaire.dimension_ids}) - organisation
    top = questionnaire.dimension(diff.idxmax()).short
    assert f"scores furthest above the organisation on {top} ({diff.max():+.2f})" in chart.takeaway


def test_item_answers_and_roadmap(sample_responses, sample_scores, questionnaire):
    from pmo_maturity import recommend
    from pmo_maturity.digest import digest_of

    chart = charts.item_answers(questionnaire, digest_of(sample_scores).answers_of("Organisation"))
    assert "% favourable answers" in chart.takeaway
    text = _image(chart)
    assert all(item.text[:40] in " ".join(text.split()) for item in questionnaire.items)
    assert "(reverse-worded)" in text
    plan = recommend(sample_scores)
    road = charts.roadmap(plan.actions)
    assert plan.actions.iloc[0]["title"][:40] in _image(road)  # each bar names its action (clipped to the chart)
    counts = plan.actions["window"].value_counts()
    days = f"{plan.actions['days_low'].sum()}-{plan.actions['days_high'].sum()} person-days"
    assert road.takeaway == (f"{counts.get(30, 0)} actions by day 30, {counts.get(60, 0)} by day 60 and "
                             f"{counts.get(90, 0)} by day 90: {days} in all.")
    one = charts.roadmap(plan.actions.iloc[:1].assign(window=30, days_low=2, days_high=4))
    assert one.takeaway == "1 action by day 30, 0 by day 60 and 0 by day 90: 2-4 person-days in all."


def _placed_texts(chart) -> dict[str, tuple[float, float]]:
    """Each text line of the SVG with the point where it is drawn (an x and y, or a translation for
    the lines of a wrapped label)."""
    placed = {}
    for t in ET.fromstring(chart.svg).iter("{http://www.w3.org/2000/svg}text"):
        if t.get("x") is not None:
            placed[t.text] = (float(t.get("x")), float(t.get("y")))
        elif move := re.match(r"translate\(([-\d.]+) ([-\d.]+)\)", t.get("transform", "")):
            placed[t.text] = (float(move[1]), float(move[2]))
    return placed


def test_category_labels_stand_beside_their_rows(sample_responses, sample_scores, questionnaire):
    """Statement ids are drawn left of the plot, one per bar, top to bottom in the questionnaire's
    order; the scores chart puts the first dimension on top and whole numbers on its scale."""
    import pandas as pd

    from pmo_maturity.digest import digest_of

    placed = _placed_texts(charts.item_answers(questionnaire, digest_of(sample_scores).answers_of("Organisation")))
    # Each statement is named by its own words (its first line when wrapped), never by an item code alone.
    labels = [next(t for t in placed if len(t) > 15 and i.text.startswith(t.rstrip("\u2026")))
              for i in questionnaire.items]
    assert not any(i.id in placed for i in questionnaire.items)
    ys = [placed[label][1] for label in labels]
    assert ys == sorted(ys) and len(set(ys)) == len(labels)  # one row each, in order, downwards
    plot_left = min(x for text, (x, _) in placed.items() if text in ("100%", "50%"))
    assert all(placed[label][0] < plot_left for label in labels)  # every statement left of the plot

    target = pd.Series({d: 2.6 for d in questionnaire.dimension_ids})
    placed = _placed_texts(charts.dimension_scores(questionnaire, sample_scores.organisation, target))
    one_line = [d.name for d in questionnaire.dimensions if len(d.name) <= 32]
    assert [placed[n][1] for n in one_line] == sorted(placed[n][1] for n in one_line)
    ticks = [t for t in placed if t.isdigit()]
    assert ticks == [str(v) for v in range(questionnaire.scale.min, questionnaire.scale.max + 1)]


def test_radar_puts_each_dimension_on_its_spoke(sample_scores, questionnaire):
    """The first dimension at three o'clock, the next ones counter-clockwise (the third of eight at
    twelve), and every threshold ring labelled with its value."""
    import pandas as pd

    org = sample_scores.organisation
    chart = charts.radar(questionnaire, org, org, pd.Series({d: 2.6 for d in questionnaire.dimension_ids}), "All")
    placed = _placed_texts(chart)
    first_lines = [charts._wrap(d.short, 14).split("\n")[0] for d in questionnaire.dimensions]
    assert len(first_lines) == 8 and all(line in placed for line in first_lines)
    xs = [placed[line][0] for line in first_lines]
    ys = [placed[line][1] for line in first_lines]
    assert xs[0] == max(xs) and xs[4] == min(xs)  # three and nine o'clock
    assert ys[2] == min(ys) and ys[6] == max(ys)  # twelve and six (SVG y grows downwards)
    assert all(f"{b:.1f}" in placed for b in questionnaire.level_bounds[1:-1])
