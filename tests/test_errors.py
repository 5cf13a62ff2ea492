"""One error for a unit the kit cannot give, whichever stage is asked."""

from __future__ import annotations

import pytest

import pmo_maturity as pm
from pmo_maturity.analysis import Analysis, check_reportable
from pmo_maturity.findings import reliability_for


def _accessors(scores):
    return {
        "scores.overall_for": lambda u: scores.overall_for(u),
        "scores.dimensions_for": lambda u: scores.dimensions_for(u),
        "scores.scorecard": lambda u: scores.scorecard(u),
        "find_findings": lambda u: pm.find_findings(scores, unit=u),
        "reliability_for": lambda u: reliability_for(scores, unit=u),
        "recommend": lambda u: pm.recommend(scores, unit=u),
        "write_narrative": lambda u: pm.write_narrative(scores, unit=u),
        "check_reportable": lambda u: check_reportable(Analysis(scores=scores, archetypes=None, unit_groups=None), u),
    }


@pytest.mark.parametrize("name", list(_accessors(None)))
def test_unknown_unit_is_one_error_everywhere(sample_scores, name):
    call = _accessors(sample_scores)[name]
    with pytest.raises(pm.UnitNotFound) as caught:
        call("Fiance")
    error = caught.value
    assert isinstance(error, KeyError) and isinstance(error, pm.PmoMaturityError)
    assert error.unit == "Fiance" and error.suggestion == "Finance"
    assert "Finance" in error.available and "did you mean 'Finance'?" in str(error)
    assert not str(error).startswith(('"', "'"))  # not KeyError's quoted form


@pytest.mark.parametrize("name", ["find_findings", "reliability_for", "recommend", "write_narrative",
                                  "check_reportable"])
def test_suppressed_unit_is_refused_with_the_reason(sample_scores, name):
    hidden, reason = next(iter(sample_scores.suppressed_units.items()))
    with pytest.raises(pm.UnitNotFound) as caught:
        _accessors(sample_scores)[name](hidden)
    assert caught.value.available == sample_scores.reportable_units
    assert hidden not in caught.value.available
    assert ("too few respondents" if reason == "small" else "subtraction") in str(caught.value)


def test_a_file_without_units_says_so(questionnaire):
    frame = pm.generate_sample(questionnaire, units=[("Finance", 40)], small_units=0, seed=3).frame
    scores = pm.score(pm.load_responses(frame.drop(columns="business_unit"), questionnaire))
    with pytest.raises(pm.UnitNotFound, match="no business unit column") as caught:
        scores.overall_for("Finance")
    assert caught.value.available == []


def test_the_old_name_still_catches_it(sample_scores):
    with pytest.raises(pm.UnitNotReportableError):
        pm.find_findings(sample_scores, unit="Nowhere")
