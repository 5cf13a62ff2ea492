"""Spreadsheet formula injection is neutralised in every export (OWASP ASVS V1.2.10, CWE-1236)."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from pmo_maturity.export import neutralise, neutralise_frame, write_csv, write_xlsx

DANGEROUS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_dangerous_cells_are_prefixed(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["Finance", "", "a=b", 5, -3, None])
def test_other_cells_are_untouched(value):
    assert neutralise(value) == value


def test_frames_and_files(tmp_path):
    frame = pd.DataFrame({"comment": DANGEROUS, "n": range(6), "=head": ["ok"] * 6})
    safe = neutralise_frame(frame)
    assert safe["comment"].tolist() == ["'" + v for v in DANGEROUS]
    assert safe["n"].tolist() == list(range(6)) and "'=head" in safe.columns
    assert frame["comment"].tolist() == DANGEROUS  # input not mutated
    csv_text = write_csv(frame, tmp_path / "x.csv").read_text(encoding="utf-8-sig")
    assert "\n=1+1" not in csv_text and "'=1+1" in csv_text
    wb = load_workbook(write_xlsx({"x": frame}, tmp_path / "x.xlsx"))
    values = [c.value for c in wb["x"]["A"]][1:]
    assert all(isinstance(v, str) and v.startswith("'") for v in values)
    assert [c.value for c in wb["x"]["B"]][1:] == list(range(6))
