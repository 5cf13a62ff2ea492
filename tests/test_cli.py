"""The command line, through click's test runner."""

from __future__ import annotations

import io
import json
import subprocess
import sys

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


@pytest.mark.slow  # the whole demo: every report
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


# --- No traceback, one line: what the issue found ---------------------------------------------


def _one_error_line(result, *needles):
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


@pytest.mark.parametrize(("args", "needles"), [
    (["sample", "-o", "x.json"], ["'x.json'", ".csv or .xlsx"]),
    (["template", "-o", "t.ods"], ["'t.ods'", ".xlsx or .csv"]),
    (["score", "SAMPLE", "-o", "s.txt"], ["'s.txt'", ".csv or .xlsx or .json"]),
    (["score", "SAMPLE", "--plan", "p.pdf"], ["'p.pdf'", ".csv or .xlsx"]),
    (["validate", "SAMPLE", "--quarantine", "q.txt"], ["'q.txt'", ".csv or .xlsx"]),
    (["report", "SAMPLE", "-o", "f.pdf"], ["'f.pdf'", ".html"]),
    (["score", "SAMPLE", "--target", "4"], ["--target", "--plan"]),
    (["score", "SAMPLE", "--include-respondents"], ["--include-respondents", "-o FILE"]),
    (["validate", "SAMPLE", "--na-code", "six"], ["na_codes (--na-code)", "'six'"]),
    (["validate", "SAMPLE", "--sheet", "Data", "--delimiter", "||"], ["delimiter (--delimiter)", "'||'"]),
    (["validate", "missing.csv"], ["'missing.csv'", "file not found"]),
    (["validate", "SAMPLE", "--by", "Departement"], ["'Departement'", "unit column"]),
])
def test_bad_arguments_are_one_line_before_any_work(runner, tmp_path, monkeypatch, args, needles):
    args = [str(sample_path()) if a == "SAMPLE" else a for a in args]
    monkeypatch.chdir(tmp_path)
    _one_error_line(runner.invoke(main, args), *needles)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # nothing was written


@pytest.mark.parametrize("command", [
    ["validate", "SAMPLE", "--quarantine", "OUT/q.csv"], ["score", "SAMPLE", "-o", "OUT/s.xlsx"],
    ["score", "SAMPLE", "--plan", "OUT/p.csv"], ["sample", "-o", "OUT/x.csv"], ["template", "-o", "OUT/t.xlsx"],
    ["report", "SAMPLE", "-o", "OUT/r.html"], ["batch", "SAMPLE", "--out", "OUT/batch"],
    ["demo", "--out", "OUT/demo"],
])
def test_an_output_path_that_cannot_be_written_is_one_line(runner, tmp_path, command):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder is expected")
    args = [a.replace("OUT", str(blocker)) if "OUT" in a else str(sample_path()) if a == "SAMPLE" else a
            for a in command]
    _one_error_line(runner.invoke(main, args), str(blocker), "cannot be written")


def test_a_write_refused_by_the_system_is_one_line(runner, tmp_path, monkeypatch):
    # (A permission error cannot be provoked with chmod when the tests run as root.)
    import pmo_maturity._files as files

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.tempfile, "mkstemp", refused)
    out = tmp_path / "s.csv"
    line = _one_error_line(runner.invoke(main, ["score", str(sample_path()), "-o", str(out)]), str(out))
    assert "Permission denied" in line and not out.exists()


def test_unknown_or_suppressed_unit_is_refused_before_any_kernel(runner, tmp_path, monkeypatch):
    from pmo_maturity import execution

    started = []
    monkeypatch.setattr(execution, "execute_notebook", lambda *a, **k: started.append(a))
    out = tmp_path / "finance.html"
    line = _one_error_line(runner.invoke(main, ["report", str(sample_path()), "--unit", "Fiance", "-o", str(out)]),
                           "'Fiance'", "did you mean 'Finance'?", "'Sales & Marketing'")
    assert "Customer Service" not in line  # a suppressed unit is not offered
    line = _one_error_line(runner.invoke(main, ["report", str(sample_path()), "--unit", "Customer Service",
                                                "-o", str(out)]), "too few respondents")
    assert not started and not list(tmp_path.iterdir())  # no kernel, no .error.ipynb, no report


def test_a_kernel_that_does_not_start_is_one_line_and_leaves_nothing(runner, tmp_path, monkeypatch):
    import tempfile

    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": [str(tmp_path / "no-python"), "-m", "ipykernel_launcher",
                                                           "-f", "{connection_file}"],
                                                  "display_name": "broken", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    temp = tmp_path / "temp"  # a temp folder of its own: other processes use the shared one
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    out = tmp_path / "out" / "finance.html"
    _one_error_line(runner.invoke(main, ["report", str(sample_path()), "--unit", "Finance", "-o", str(out)]),
                    "kernel 'python3' could not start", "ipykernel")
    assert not list(temp.iterdir())  # no kernel socket or analysis folder left
    assert not (out.parent.exists() and any(out.parent.iterdir()))


def test_dash_reads_standard_input_and_writes_standard_output(runner, tmp_path):
    data = sample_path().read_bytes()
    result = runner.invoke(main, ["score", "-", "-o", "-"], input=data)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout))
    assert set(table["scope"]) == {"organisation", "unit", "role"}
    assert "organisation scorecard" in result.stderr and "organisation scorecard" not in result.stdout
    result = runner.invoke(main, ["validate", "-", "--quarantine", "-"], input=data)
    assert result.exit_code == 0
    assert pd.read_csv(io.StringIO(result.stdout))["row"].nunique() == 15
    result = runner.invoke(main, ["sample", "-o", "-", "--units", "2", "--small-units", "0", "--layout", "ids"])
    assert result.exit_code == 0 and result.stdout.startswith("respondent_id,")
    result = runner.invoke(main, ["template", "-o", "-"])
    assert result.exit_code == 0 and "INS1. " in result.stdout


def test_python_dash_m_runs_the_command_line():
    run = subprocess.run([sys.executable, "-m", "pmo_maturity", "validate", str(sample_path())],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "rows in 282 = accepted 267 + quarantined 15" in run.stdout


def test_include_respondents_writes_respondent_rows_beside_a_csv(runner, tmp_path):
    out = tmp_path / "scores.csv"
    result = runner.invoke(main, ["score", str(sample_path()), "-o", str(out), "--include-respondents"])
    assert result.exit_code == 0, result.output
    respondents = pd.read_csv(tmp_path / "scores_respondents.csv")
    assert len(respondents) == 267 and "respondent_id" in respondents.columns


def test_loader_options_are_the_same_on_every_command():
    from dataclasses import fields

    from pmo_maturity.options import LoadOptions

    flags = {f.metadata["flag"].split("/")[0] for f in fields(LoadOptions) if f.metadata.get("flag")}
    for command in ("validate", "score", "report", "batch"):
        options = {opt for p in main.commands[command].params for opt in p.opts}
        assert flags <= options, (command, flags - options)


def test_mapping_file_and_na_code_on_the_command_line(runner, tmp_path, questionnaire):
    ids = questionnaire.item_ids[:5]
    path = tmp_path / "coded.csv"
    answers = [1, 2, 6, 4, 5, 3] * 2
    frame = pd.DataFrame({"Dept": ["A"] * 6 + ["B"] * 6, **{f"Q{k}": answers[k:] + answers[:k] for k in range(5)}})
    frame.to_csv(path, index=False)
    mapping = tmp_path / "map.yaml"
    mapping.write_text("items:\n" + "".join(f"  Q{k}: {item}\n" for k, item in enumerate(ids)) + "unit: Dept\n")
    result = runner.invoke(main, ["validate", str(path), "--mapping-file", str(mapping)])
    assert result.exit_code == 0 and "out_of_range" in result.output and "warning dont_know_code" in result.output
    result = runner.invoke(main, ["validate", str(path), "--mapping-file", str(mapping), "--na-code", "6"])
    assert result.exit_code == 0, result.output
    assert "rows in 12 = accepted 12 + quarantined 0" in result.output and "don't-know codes: 6" in result.output


def test_control_characters_in_a_unit_name_reach_every_workbook(runner, tmp_path, questionnaire):
    frame = pd.read_csv(sample_path())
    frame.loc[frame["Business unit"] == "Finance", "Business unit"] = "Fin\x00ance\x07"
    frame.loc[frame.index[:3], questionnaire.items[0].text] = "=cmd|' /C calc'!A0\r=1+2"
    path = tmp_path / "control.csv"
    frame.to_csv(path, index=False, lineterminator="\r\n")  # the CR inside a value is quoted
    scores, quarantine = tmp_path / "s.xlsx", tmp_path / "q.xlsx"
    result = runner.invoke(main, ["score", str(path), "-o", str(scores)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["validate", str(path), "--quarantine", str(quarantine)])
    assert result.exit_code == 0, result.output
    groups = set(pd.read_excel(scores, sheet_name="scores")["group"])
    assert "Fin\ufffdance\ufffd" in groups
    values = pd.read_excel(quarantine, sheet_name="quarantine")["value"].dropna().tolist()
    risky = [v for v in values if "cmd" in v]  # (XML reads the CR back as a line feed)
    assert len(risky) == 3 and all(v.startswith("'=cmd") and v.endswith("\n'=1+2") for v in risky)
