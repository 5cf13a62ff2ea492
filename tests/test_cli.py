"""The command line, through click's test runner."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from pmo_maturity.cli import main
from pmo_maturity.sample import sample_path

COMMANDS = ["validate", "score", "sample", "template", "demo", "report", "batch"]


@pytest.fixture
def runner():
    return CliRunner()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(runner, command):
    result = runner.invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "pmo-maturity " + command in result.output


def test_main_help_lists_the_commands(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


def test_validate_prints_the_data_quality_report(runner, tmp_path):
    out = tmp_path / "q.xlsx"
    result = runner.invoke(main, ["validate", str(sample_path()), "--quarantine", str(out)])
    assert result.exit_code == 0, result.output
    assert "rows in 282 = accepted 267 + quarantined 15" in result.output
    for reason in ("superseded", "out_of_range", "unknown_label", "missing_unit", "empty_row", "too_few_answers"):
        assert reason in result.output
    assert pd.read_excel(out, sheet_name="quarantine")["row"].nunique() == 15


def test_validate_exit_code_one_when_nothing_can_be_scored(runner, tmp_path, questionnaire):
    path = tmp_path / "bad.csv"
    pd.DataFrame({questionnaire.item_ids[0]: ["Maybe", "9"]}).to_csv(path, index=False)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert "nothing could be scored" in result.output


def test_unreadable_file_is_one_line_not_a_traceback(runner, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("foo,bar\n1,2\n")
    result = runner.invoke(main, ["score", str(path)])
    assert result.exit_code == 2
    assert "error:" in result.output and "no column matches an item" in result.output
    assert "Traceback" not in result.output


def test_score_writes_outputs(runner, tmp_path):
    out = tmp_path / "scores.json"
    result = runner.invoke(main, ["score", str(sample_path()), "--by", "Business unit", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "organisation scorecard" in result.output and "Overall integration index" in result.output
    assert "Not shown, to protect anonymity" in result.output
    assert "Customer Service (fewer than 5 respondents)" in result.output
    payload = json.loads(out.read_text())
    assert payload["provenance"]["questionnaire_version"] == "1.0"


def test_score_without_units(runner, tmp_path):
    result = runner.invoke(main, ["score", str(sample_path()), "--by", "none"])
    assert result.exit_code == 0, result.output
    assert "Business units" not in result.output


def test_bad_map_option(runner):
    result = runner.invoke(main, ["validate", str(sample_path()), "--map", "nonsense"])
    assert result.exit_code == 2 and "HEADER=ITEM" in result.output


def test_sample_and_template_commands(runner, tmp_path):
    export = tmp_path / "export.xlsx"
    truth = tmp_path / "truth.csv"
    result = runner.invoke(main, ["sample", "-o", str(export), "--units", "3", "--layout", "ids", "--seed", "5",
                                  "--truth", str(truth)])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(truth)["segment"].nunique() == 3
    result = runner.invoke(main, ["validate", str(export)])
    assert result.exit_code == 0, result.output
    template = tmp_path / "t.xlsx"
    result = runner.invoke(main, ["template", "-o", str(template)])
    assert result.exit_code == 0 and template.exists()


def test_other_questionnaire_option(runner, tmp_path, tiny_yaml):
    path = tmp_path / "tiny.csv"
    pd.DataFrame({"A1": [4, 5, 3, 4, 4], "A2": [4, 4, 4, 5, 3], "A3": [2, 1, 2, 2, 3], "B1": [3] * 5,
                  "B2": [4] * 5}).to_csv(path, index=False)
    result = runner.invoke(main, ["score", str(path), "-q", str(tiny_yaml)])
    assert result.exit_code == 0, result.output
    assert "Tiny instrument" in result.output


def test_demo(runner, tmp_path):
    result = runner.invoke(main, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "organisation scorecard" in result.output
    assert (tmp_path / "demo" / "scores.xlsx").exists()


def test_score_plan_and_previous(runner, tmp_path):
    previous = tmp_path / "previous.csv"
    assert runner.invoke(main, ["score", str(sample_path()), "-o", str(previous)]).exit_code == 0
    plan = tmp_path / "plan.xlsx"
    result = runner.invoke(main, ["score", str(sample_path()), "--plan", str(plan), "--previous", str(previous),
                                  "--target", "3", "--target", "vision=4"])
    assert result.exit_code == 0, result.output
    assert "Action plan" in result.output and "[by day 30]" in result.output and "person-days)" in result.output
    assert "no clear change" in result.output
    sheet = pd.read_excel(plan, sheet_name="action plan")
    assert 3 <= len(sheet) <= 8 and set(sheet["by day"]) <= {30, 60, 90}
    targets = pd.read_excel(plan, sheet_name="targets").set_index("dimension")
    assert targets.loc["vision", "target_level"] == 4
    bad = runner.invoke(main, ["score", str(sample_path()), "--plan", str(plan), "--target", "vision=high"])
    assert bad.exit_code == 2 and "DIMENSION=LEVEL" in bad.output
