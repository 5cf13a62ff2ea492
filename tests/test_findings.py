"""Findings: records with evidence, from the right numbers, never about suppressed groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmo_maturity import UnitNotFound, cluster_respondents, find_findings, load_responses, score
from pmo_maturity.sample import generate_sample


def test_strongest_and_weakest_are_the_extremes(sample_scores):
    findings = find_findings(sample_scores)
    means = sample_scores.organisation.set_index("dimension")["mean"]
    strongest = [f for f in findings.of("strength") if f.evidence["strongest"]]
    weakest = [f for f in findings.of("weakness") if f.evidence["weakest"]]
    assert [f.dimensions[0] for f in strongest] == [means.idxmax()]
    assert [f.dimensions[0] for f in weakest] == [means.idxmin()]
    assert f"{means.min():.2f}" in weakest[0].title


def test_findings_frame_is_tidy(sample_scores):
    frame = find_findings(sample_scores).frame()
    assert list(frame.columns) == ["kind", "severity", "title", "scope", "dimensions", "groups", "evidence"]
    assert frame["severity"].isin(["high", "medium", "low", "info"]).all()


def test_perception_gaps_only_between_reportable_roles(sample_scores):
    findings = find_findings(sample_scores).of("perception_gap")
    assert findings, "the generator plants an executive-vs-delivery gap on vision"
    top = findings[0]
    assert top.dimensions == ("vision",) and top.groups[0] == "Executive sponsor"
    hidden = set(sample_scores.roles.loc[sample_scores.roles["suppressed"], "role"])
    assert all(hidden.isdisjoint(f.groups) for f in findings)
    assert all(f.evidence["difference"] >= f.evidence["threshold"] for f in findings)


def test_levels_differ_finding(sample_scores):
    overall = sample_scores.overall_for()
    finding = find_findings(sample_scores).first("levels_differ")
    assert bool(overall["levels_differ"]) == (finding is not None)
    assert finding.evidence["staged"] == overall["staged_level_name"]


def test_unit_findings_and_suppressed_units(sample_scores):
    unit = sample_scores.reportable_units[0]
    findings = find_findings(sample_scores, unit=unit)
    assert {f.scope for f in findings} == {unit}
    for hidden in sample_scores.suppressed_units:
        with pytest.raises(UnitNotFound, match="too few respondents"):
            find_findings(sample_scores, unit=hidden)
    text = " ".join(f.title for f in find_findings(sample_scores))
    assert not any(u in text for u in sample_scores.suppressed_units)


def test_archetype_findings_use_reportable_archetypes(sample_scores):
    archetypes = cluster_respondents(sample_scores)
    found = find_findings(sample_scores, archetypes=archetypes).of("archetype")
    assert {f.groups[0] for f in found} == set(archetypes.reportable["archetype"])
    unit = sample_scores.reportable_units[0]
    in_unit = find_findings(sample_scores, unit=unit, archetypes=archetypes).of("archetype")
    shown = archetypes.composition_units[unit].dropna()
    assert {f.groups[0] for f in in_unit} == set(shown.index)


def test_low_reliability_and_low_agreement_are_found(questionnaire):
    data = generate_sample(questionnaire, units=[("Alpha", 40), ("Beta", 40)], small_units=0, bad_row_share=0,
                           seed=3)
    frame = data.frame.copy()
    rng = np.random.default_rng(0)
    vision = questionnaire.dimension("vision").item_ids
    frame[vision] = rng.integers(1, 6, (len(frame), len(vision)))  # items that do not hang together
    beta = frame["business_unit"] == "Beta"
    culture = questionnaire.dimension("culture")
    for item in culture.items:  # half of Beta at the bottom of the scale, half at the top
        low, high = (5, 1) if item.reverse else (1, 5)
        frame.loc[beta, item.id] = np.where(np.arange(beta.sum()) % 2 == 0, low, high)
    scores = score(load_responses(frame, questionnaire))
    findings = find_findings(scores)
    assert "vision" in {f.dimensions[0] for f in findings.of("low_reliability")}
    low = [f for f in findings.of("low_agreement") if f.dimensions == ("culture",)]
    assert low and "Beta" in low[0].groups
    unit_low = find_findings(scores, unit="Beta").of("low_agreement")
    assert any(f.dimensions == ("culture",) for f in unit_low)


def test_data_quality_findings_cite_the_counts(sample_scores):
    dq = [f for f in find_findings(sample_scores).of("data_quality") if "set aside" in f.title]
    assert dq and f"{sample_scores.data_quality['rows_quarantined']} of {sample_scores.data_quality['rows_in']}" \
        in dq[0].title
    assert pd.notna(dq[0].evidence["rows_in"])
