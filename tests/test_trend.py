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
