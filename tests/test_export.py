"""Spreadsheet formula injection is neutralised in every export (OWASP ASVS V1.2.10, CWE-1236)."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from pmo_maturity.export import csv_text, neutralise, neutralise_frame, restore, write_csv, write_xlsx

DANGEROUS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "\nx"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_dangerous_cells_are_prefixed(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["Finance", "", "a=b", 5, -3, None])
def test_other_cells_are_untouched(value):
    assert neutralise(value) == value


def test_frames_and_files(tmp_path):
    frame = pd.DataFrame({"comment": DANGEROUS, "n": range(7), "=head": ["ok"] * 7})
    safe = neutralise_frame(frame)
    assert safe["comment"].tolist() == ["'" + v for v in DANGEROUS]
    assert safe["n"].tolist() == list(range(7)) and "'=head" in safe.columns
    assert frame["comment"].tolist() == DANGEROUS  # input not mutated
    csv_text = write_csv(frame, tmp_path / "x.csv").read_text(encoding="utf-8-sig")
    assert "\n=1+1" not in csv_text and "'=1+1" in csv_text
    wb = load_workbook(write_xlsx({"x": frame}, tmp_path / "x.xlsx"))
    values = [c.value for c in wb["x"]["A"]][1:]
    assert all(isinstance(v, str) and v.startswith("'") for v in values)
    assert [c.value for c in wb["x"]["B"]][1:] == list(range(7))


TRIGGERS = "=+-@\t\r\n"
HOSTILE = st.text(alphabet=st.one_of(st.sampled_from(list("=+-@\t\r\n\x00\x07\x1b\x7f\x85\u2028\u2029'\",; aZ1")),
                                     st.characters(codec="utf-8")), max_size=24)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.lists(HOSTILE, min_size=1, max_size=6))
def test_no_hostile_text_reaches_a_spreadsheet_as_a_formula(values):
    frame = pd.DataFrame({"unit": values, "n": range(len(values))})
    text = csv_text(frame)
    # A CSV reader gets one row per value (every carriage return and line feed is quoted), each
    # cell neutralised and exactly recoverable.
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == len(values) + 1
    for value, row in zip(values, rows[1:], strict=True):
        cell = row[0]
        assert cell == neutralise(value) and restore(cell) == value and row[1] == str(rows.index(row) - 1)
        # Neither the cell nor any part of it after a line break or control character starts a formula.
        for part in re.split(r"\r\n|[\x00-\x1f\x7f\x85\u2028\u2029]", cell):
            assert not part or part[0] not in "=+-@", (value, cell)
        assert not cell or cell[0] not in TRIGGERS


def test_a_bare_carriage_return_cannot_start_a_row(tmp_path):
    frame = pd.DataFrame({"unit": ["Ops\r=1+2", "fine"], "score": [3.5, 2.0]})
    raw = write_csv(frame, tmp_path / "s.csv").read_bytes().decode("utf-8-sig")
    assert "\"'Ops\r'=1+2\"" in raw and "\r=1+2" not in raw
    assert pd.read_csv(tmp_path / "s.csv")["unit"].tolist() == ["'Ops\r'=1+2", "fine"]


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(st.lists(HOSTILE, min_size=1, max_size=4))
def test_any_text_can_be_written_to_xlsx(tmp_path_factory, values):
    path = tmp_path_factory.mktemp("x") / "x.xlsx"
    write_xlsx({"units": pd.DataFrame({"unit": values})}, path)
    cells = [c.value for c in load_workbook(path)["units"]["A"]][1:]
    for cell in cells:
        cell = cell or ""
        assert not cell or cell[0] not in TRIGGERS
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", cell)
