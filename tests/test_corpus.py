"""Every file of the corpus (tests/corpus.py): loaded with every row accounted for, or refused in one line.

For each generated file: ``rows in == accepted + quarantined == the data rows the file holds``, the
reason each quarantined row is counted under, the warnings recorded, the exit code of
``pmo-maturity validate`` and no traceback.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from pmo_maturity import PmoMaturityError, load_responses
from pmo_maturity.cli import main

from .corpus import CASES, describe

# The widest file (5,000 extra columns) takes seconds: it runs in the slow tier only.
PARAMS = [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.name == "five_thousand_extra_columns" else [])
          for c in CASES]


def _options(case, folder):
    options = {k: v.format(folder=folder) if isinstance(v, str) else v for k, v in case.options.items()}
    return options.pop("questionnaire", None), options


def test_the_corpus_is_large_and_covers_every_outcome():
    table = describe()
    assert len(table) >= 60
    assert set(table["exit"]) == {0, 1, 2}
    reasons = set().union(*table["reasons"].map(set))
    assert reasons >= {"empty_row", "malformed_row", "out_of_range", "not_on_scale", "unknown_label", "missing_unit",
                       "superseded", "boolean", "formula_error", "formula_not_computed", "missing_id", "unknown_item"}


@pytest.mark.parametrize("case", PARAMS)
def test_corpus_file_through_the_api(case, tmp_path):
    path = case.build(tmp_path)
    questionnaire, options = _options(case, tmp_path)
    if case.error is not None:
        with pytest.raises(PmoMaturityError, match=case.error):
            load_responses(path, questionnaire, **options)
        return
    r = load_responses(path, questionnaire, **options)
    s = r.summary
    assert (s["rows_in"], s["rows_accepted"]) == (case.rows, case.expected_accepted), s["quarantined_by_reason"]
    assert s["rows_in"] == s["rows_accepted"] + s["rows_quarantined"]
    assert s["quarantined_by_reason"] == case.reasons
    assert s["warnings"] == case.warnings, r.warnings.to_dict("records")[:5]
    quarantined = set(r.quarantine["row"])
    accepted = set(r.data["row"]) if "input_rows" not in r.data.columns else {
        row for rows in r.data["input_rows"] for row in rows}
    assert quarantined.isdisjoint(accepted) and len(quarantined | accepted) == case.rows
    assert set(r.warnings["warning"]) <= set(case.warnings)
    if case.check is not None:
        case.check(r)


@pytest.mark.parametrize("case", PARAMS)
def test_corpus_file_through_the_command_line(case, tmp_path):
    path = case.build(tmp_path)
    cli = [option.format(folder=tmp_path) for option in case.cli]
    result = CliRunner().invoke(main, ["validate", str(path), *cli])
    assert result.exit_code == case.expected_exit, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if case.error is not None:
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
        assert re.search(case.error, lines[0]), lines[0]
        named = [path.name, *(c for c in cli if c.startswith("--")), *(re.sub(r".*/", "", c) for c in cli)]
        assert any(name in lines[0] for name in named), lines[0]
    else:
        quarantined = sum(case.reasons.values())
        assert f"rows in {case.rows} = accepted {case.expected_accepted} + quarantined {quarantined}" in result.output
        for reason in case.reasons:
            assert reason in result.output
        for warning in case.warnings:
            assert warning in result.output
