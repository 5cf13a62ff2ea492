"""Round trip: template -> filled by the generator -> validate -> score gives the expected numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from pmo_maturity import load_responses, score
from pmo_maturity.cli import main
from pmo_maturity.sample import generate_sample
from pmo_maturity.template import fill_template, template_headers, write_template


def expected_dimension_means(sample, q) -> pd.Series:
    """Organisation dimension means computed straight from the generator's numbers."""
    frame = sample.frame
    values = frame[q.item_ids].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, copy=True)
    reverse = np.array([i.reverse for i in q.items])
    values[:, reverse] = q.scale.min + q.scale.max - values[:, reverse]
    out, start = {}, 0
    per_respondent = []
    for d in q.dimensions:
        block = values[:, start:start + len(d.items)]
        start += len(d.items)
        answered = (~np.isnan(block)).sum(axis=1)
        with np.errstate(invalid="ignore"):
            mean = np.nansum(block, axis=1) / answered
        mean[answered < int(np.ceil(0.6 * len(d.items)))] = np.nan
        per_respondent.append(mean)
    matrix = np.column_stack(per_respondent)
    keep = ~np.isnan(matrix).all(axis=1)
    for j, d in enumerate(q.dimensions):
        out[d.id] = np.nanmean(matrix[keep, j])
    return pd.Series(out)


def test_template_round_trip(tmp_path, questionnaire):
    sample = generate_sample(questionnaire, units=3, small_units=0, bad_row_share=0, seed=31)
    template = write_template(tmp_path / "template.xlsx", questionnaire)
    filled = fill_template(template, sample.frame, tmp_path / "filled.xlsx", questionnaire)

    runner = CliRunner()
    result = runner.invoke(main, ["validate", str(filled)])
    assert result.exit_code == 0, result.output
    thin = int((sample.truth["expected_reason"] == "too_few_answers").sum())
    assert thin == int((sample.truth["expected_reason"] != "").sum())  # no other bad rows were planted
    rows = len(sample.frame)
    assert f"rows in {rows} = accepted {rows - thin} + quarantined {thin}" in result.output

    responses = load_responses(filled, questionnaire)
    assert responses.source.sheet == "Responses"
    assert responses.summary["items_matched"] == 40
    scores = score(responses)
    got = scores.organisation.set_index("dimension")["mean"]
    pd.testing.assert_series_equal(got, expected_dimension_means(sample, questionnaire), check_names=False,
                                   rtol=1e-12)
    scored = scores.overall[scores.overall["scope"] == "unit"].set_index("group")["n"]
    thin = scores.responses.quarantine.query("reason == 'too_few_answers'")["unit"].value_counts()
    per_unit = scored.add(thin, fill_value=0).astype(int).to_dict()
    assert per_unit == sample.frame["business_unit"].value_counts().to_dict()


def test_template_workbook_has_instructions_and_drop_downs(tmp_path, questionnaire):
    path = write_template(tmp_path / "t.xlsx", questionnaire, rows=50)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Instructions", "Responses", "Lists", "Items"]
    assert wb["Instructions"]["A1"].value == questionnaire.title
    headers = [c.value for c in wb["Responses"][1]]
    assert headers == template_headers(questionnaire)
    rules = wb["Responses"].data_validations.dataValidation
    answer_rule = next(r for r in rules if "Lists!$A$1" in r.formula1)
    assert answer_rule.type == "list" and "E2:AR51" in str(answer_rule.sqref)
    choices = [wb["Lists"].cell(row=i, column=1).value for i in range(1, 9)]
    assert choices == [*questionnaire.scale.labels, *questionnaire.scale.na_labels]
    role_rule = next(r for r in rules if "Lists!$B$1" in r.formula1)
    assert "C2:C51" in str(role_rule.sqref)


def test_csv_template_has_the_header_row(tmp_path, questionnaire):
    path = write_template(tmp_path / "t.csv", questionnaire)
    header = pd.read_csv(path).columns.tolist()
    assert header == template_headers(questionnaire)
    assert load_responses(path, questionnaire).summary["rows_in"] == 0


def test_template_refuses_other_suffixes(tmp_path, questionnaire):
    with pytest.raises(ValueError, match=".xlsx or .csv"):
        write_template(tmp_path / "t.ods", questionnaire)
