"""Trend against a previous cycle's scores file."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pmo_maturity import ResponsesError, compare_cycles


@pytest.mark.parametrize("suffix", [".csv", ".json", ".xlsx"])
def test_changes_beyond_the_intervals(tmp_path, sample_scores, suffix):
    path = sample_scores.write(tmp_path / f"previous{suffix}")
    if suffix == ".csv":  # last cycle, change was 0.6 points lower
        frame = pd.read_csv(path, encoding="utf-8-sig")
        mask = (frame["scope"] == "organisation") & (frame["dimension"] == "change")
        frame.loc[mask, ["mean", "ci_low", "ci_high"]] -= 0.6
        frame.to_csv(path, index=False)
    trend = compare_cycles(sample_scores, path).set_index("dimension")
    assert "overall" in trend.index and len(trend) == 9
    if suffix == ".csv":
        assert trend.loc["change", "change"] == pytest.approx(0.6)
        assert trend.loc["change", "beyond"] and trend.loc["change", "reading"].startswith("up")
    assert not trend.drop(index="change" if suffix == ".csv" else [])["beyond"].any()


def test_unit_trend_and_bad_files(tmp_path, sample_scores):
    path = sample_scores.write(tmp_path / "previous.json")
    unit = sample_scores.reportable_units[0]
    assert len(compare_cycles(sample_scores, path, unit=unit)) == 9
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"nothing": []}))
    with pytest.raises(ResponsesError, match="not a scores file"):
        compare_cycles(sample_scores, bad)
    with pytest.raises(ResponsesError, match="not found"):
        compare_cycles(sample_scores, tmp_path / "missing.csv")


def _copy_of_instrument(tmp_path, questionnaire_path, **changes):
    import yaml

    data = yaml.safe_load(questionnaire_path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if key == "scale_max":
            data["scale"]["max"] = value
            data["scale"].pop("labels", None)
        elif key == "drop_dimension":
            data["dimensions"] = [d for d in data["dimensions"] if d["id"] != value]
        else:
            data[key] = value
    path = tmp_path / f"instrument-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _scores_with(questionnaire_path, seed=3):
    from pmo_maturity import load_questionnaire, load_responses, score
    from pmo_maturity.sample import generate_sample

    q = load_questionnaire(questionnaire_path)
    data = generate_sample(q, units=2, small_units=0, bad_row_share=0, seed=seed)
    return score(load_responses(data.frame, q), n_resamples=200)


@pytest.fixture(scope="module")
def bundled_yaml():
    from pmo_maturity._resources import bundled_file

    return bundled_file("pmo_integration.yaml")


def test_another_scale_is_refused_naming_both_files(tmp_path, bundled_yaml, sample_scores):
    four_points = _scores_with(_copy_of_instrument(tmp_path, bundled_yaml, scale_max=4))
    previous = four_points.write(tmp_path / "cycle_2025.csv")
    with pytest.raises(ResponsesError, match=r"cycle_2025\.csv.*1-4 scale.*sample_export\.csv.*on 1-5"):
        compare_cycles(sample_scores, previous)
    # A file of an older kit, without the scale columns: the scale follows from mean and index.
    frame = pd.read_csv(previous, encoding="utf-8-sig").drop(columns=["scale_min", "scale_max", "questionnaire_id",
                                                                       "questionnaire_version"])
    frame.to_csv(previous, index=False)
    with pytest.raises(ResponsesError, match="1-4 scale"):
        compare_cycles(sample_scores, previous)


def test_another_questionnaire_is_refused(tmp_path, bundled_yaml, sample_scores):
    other = _scores_with(_copy_of_instrument(tmp_path, bundled_yaml, id="other-survey"))
    with pytest.raises(ResponsesError, match="questionnaire 'other-survey'.*'pmo-integration'"):
        compare_cycles(sample_scores, other.write(tmp_path / "other.json"))


def test_another_version_compares_the_dimensions_both_have(tmp_path, bundled_yaml, sample_scores):
    older = _scores_with(_copy_of_instrument(tmp_path, bundled_yaml, version="0.9", drop_dimension="ppt"))
    trend = compare_cycles(sample_scores, older.write(tmp_path / "older.xlsx"))
    assert set(trend["dimension"]) == set(sample_scores.questionnaire.dimension_ids) - {"ppt"}
    assert trend.attrs["left_out"] == ["ppt", "overall"]
    assert trend.attrs["note"] == ("The previous cycle (version 0.9; now 1.0) is compared on the dimensions both "
                                   "cycles have; left out: ppt, overall.")


def test_cli_refuses_an_incompatible_previous_cycle_with_exit_2(tmp_path, bundled_yaml):
    from click.testing import CliRunner

    from pmo_maturity.cli import main
    from pmo_maturity.sample import sample_path

    previous = _scores_with(_copy_of_instrument(tmp_path, bundled_yaml, scale_max=4)).write(tmp_path / "old.csv")
    out = tmp_path / "new.xlsx"
    result = CliRunner().invoke(main, ["score", str(sample_path()), "--previous", str(previous), "-o", str(out)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "old.csv" in result.output and "sample_export.csv" in result.output and "1-4 scale" in result.output
    assert not out.exists()  # refused before anything was written
