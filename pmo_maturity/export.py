"""Writing what clients open in spreadsheets, without formula injection (CWE-1236), and the
scores' readable scorecard and files.

A text cell is **neutralised** when it starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage
return or a line feed, or when any of these follows a line break or control character inside it:
the cell is prefixed with a single quote (OWASP ASVS 5.0 V1.2.10), and so is every such place
inside it, so that neither a spreadsheet nor a reader that splits the cell at its line breaks sees
a formula. In CSV and XLSX alike: a comment such as ``=HYPERLINK(...)`` is shown as text and never
runs. Numbers are left as numbers.

CSV files are written as RFC 4180 says: records end with CRLF, and every field holding a carriage
return, a line feed, the delimiter or a quote is quoted (a bare carriage return left unquoted
would start a new row in a spreadsheet, at a cell that was never neutralised). XLSX cells cannot
hold most control characters: they are written as U+FFFD.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._files import atomic_write_bytes, file_mode
from .errors import ConfigurationError, OutputError

if TYPE_CHECKING:
    from .scoring import Scores

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
_TRIGGER = "=+\\-@\t\r\n"
_BREAK = "\\r\\n|[\\x00-\\x1f\\x7f\\x85\\u2028\\u2029]"  # a line break or control character
# A cell a spreadsheet could read as a formula: one that starts with a trigger, or where a trigger
# follows a line break or control character (a reader splitting there would start a cell with it).
# Quotes already before a trigger count too, so that neutralising can always be undone exactly.
_RISKY = re.compile(f"^'*[{_TRIGGER}]|(?:{_BREAK})'*[{_TRIGGER}]")
_INSIDE = re.compile(f"({_BREAK})(?='*[{_TRIGGER}])")
_INSIDE_NEUTRALISED = re.compile(f"({_BREAK})'(?='*[{_TRIGGER}])")
# Characters an XLSX cell cannot hold (openpyxl refuses them).
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: object) -> object:
    """Prefix a text value that a spreadsheet could read as a formula with a single quote (and each
    line inside it that would start with a formula's first character).

    >>> neutralise("=1+1"), neutralise("Finance"), neutralise(3), neutralise("Ops\\r=1+2")
    ("'=1+1", 'Finance', 3, "'Ops\\r'=1+2")
    """
    if isinstance(value, str) and _RISKY.search(value):
        return "'" + _INSIDE.sub(r"\1'", value)
    return value


def restore(value: object) -> object:
    """The value :func:`neutralise` was given, from what it returned (for files read back)."""
    if isinstance(value, str) and value.startswith("'"):
        original = _INSIDE_NEUTRALISED.sub(r"\1", value[1:])
        if neutralise(original) == value:
            return original
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and header) neutralised."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            text = series.astype(object)
            risky = text.map(lambda v: isinstance(v, str) and _RISKY.search(v) is not None)
            if risky.any():
                out[column] = text.where(~risky, text[risky].map(neutralise))
    out.columns = [neutralise(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """A neutralised frame as CSV text: CRLF records, every field with a line break or a carriage
    return quoted."""
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)


def write_csv(frame: pd.DataFrame, path: str | Path, *, private: bool = False) -> Path:
    """Write a neutralised CSV (UTF-8 with BOM, so Excel reads accents correctly).

    Files follow the user's umask; ``private`` (respondent-level rows) makes them owner-only.
    """
    path = Path(path)
    atomic_write_bytes(path, csv_text(frame).encode("utf-8-sig"), private=private)
    return path


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | Path, *, autosize: bool = True,
               private: bool = False) -> Path:
    """Write neutralised sheets to one XLSX workbook, with frozen headers and sized columns
    (mode as :func:`write_csv`)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".xlsx")
        os.close(fd)
    except OSError as err:
        raise OutputError(path, f"cannot be written: {err.strerror or err}") from err
    try:
        file_mode(tmp, private)
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, frame in sheets.items():
                safe = neutralise_frame(_xlsx_text(_excel_ready(frame)))
                sheet = _sheet_name(name)
                safe.to_excel(writer, sheet_name=sheet, index=False)
                ws = writer.sheets[sheet]
                ws.freeze_panes = "A2"
                if autosize:
                    for i, column in enumerate(safe.columns, start=1):
                        values = [str(column)] + [str(v) for v in safe[column].head(200)]
                        width = min(max(len(v) for v in values) + 2, 60)
                        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(path, f"cannot be written: {err.strerror or err}") from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _xlsx_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Control characters that XLSX cannot hold, in text cells and headers, as U+FFFD."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].map(lambda v: _NOT_IN_XLSX.sub("\ufffd", v) if isinstance(v, str) else v)
    out.columns = [_NOT_IN_XLSX.sub("\ufffd", c) if isinstance(c, str) else c for c in out.columns]
    return out


def _excel_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_localize(None)
    return out


def _sheet_name(name: str) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(name))
    return cleaned[:31] or "Sheet"


def _json_default(value: object) -> object:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def frame_records(frame: pd.DataFrame) -> list[dict]:
    """Rows of a frame as JSON-ready dicts (NaN becomes null)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict(orient="records")


def write_json(data: object, path: str | Path, *, private: bool = False) -> Path:
    """Write JSON atomically (NaN as null, numpy and pandas scalars converted; mode as
    :func:`write_csv`)."""
    path = Path(path)
    text = json.dumps(data, indent=2, default=_json_default, allow_nan=False, ensure_ascii=False)
    atomic_write_bytes(path, text.encode("utf-8"), private=private)
    return path


# ---------------------------------------------------------------------------------------------
# Scores, rendered and written (Scores.scorecard and Scores.write delegate here)


def scorecard(scores: Scores, unit: str | None = None) -> pd.DataFrame:
    """A readable scorecard of the organisation (unit None) or a unit: dimension, n, score with its
    95% interval, index and level (borderline readings spelt out); the overall index last."""
    from .scoring import ORGANISATION

    table = scores.dimensions_for(unit)
    overall = scores.overall_for(unit)
    q = scores.questionnaire
    rows = []
    for _, r in table.iterrows():
        level = (q.level_reading(r["level"], r["level_ci_low"], r["level_ci_high"]) if pd.notna(r["level"])
                 else r["level_name"])
        rows.append({"Dimension": r["name"], "n": _int(r["n"]), "Score": _fmt(r["mean"]),
                     "95% CI": _fmt_ci(r["ci_low"], r["ci_high"]), "Index": _fmt(r["index"], 0), "Level": level})
    continuous = q.level_reading(overall["continuous_level"], overall["continuous_level_ci_low"],
                                 overall["continuous_level_ci_high"])
    staged = q.level_reading(overall["staged_level"], overall["staged_level_ci_low"], overall["staged_level_ci_high"])
    rows.append({"Dimension": "Overall integration index", "n": _int(overall["n"]),
                 "Score": _fmt(overall["score"]), "95% CI": _fmt_ci(overall["ci_low"], overall["ci_high"]),
                 "Index": _fmt(overall["index"], 0), "Level": f"{continuous} (staged: {staged})"})
    frame = pd.DataFrame(rows)
    frame.attrs["title"] = f"{q.title}: {ORGANISATION if unit is None else unit}"
    return frame


def write_scores(scores: Scores, path: str | Path, *, include_respondents: bool = False) -> Path:
    """Write scores: ``.csv`` (the tidy table), ``.xlsx`` (one sheet per table, data quality and
    provenance) or ``.json`` (all of it).

    Respondent-level scores are left out unless asked for: with unit and role they can identify
    people. With them, the file is readable by its owner only (a CSV holds one table: the
    respondents go to ``<name>_respondents.csv`` beside it); without them, files follow the
    user's umask. Text cells are neutralised against spreadsheet formula injection.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    tables = scores.tables()
    private = include_respondents
    if include_respondents:
        tables["respondents"] = scores.respondents
    if suffix == ".csv":
        if include_respondents:
            write_csv(scores.respondents, path.with_name(f"{path.stem}_respondents.csv"), private=True)
        return write_csv(tables["scores"], path)
    if suffix == ".xlsx":
        sheets = {**tables, "data quality": _quality_frame(scores.data_quality),
                  "provenance": pd.DataFrame(_flatten(scores.provenance).items(), columns=["key", "value"])}
        return write_xlsx(sheets, path, private=private)
    if suffix == ".json":
        payload = {"provenance": scores.provenance, "rules": asdict(scores.rules),
                   "scoring_rules": scores.rules.describe(scores.questionnaire), "data_quality": scores.data_quality,
                   **{name: frame_records(t) for name, t in tables.items()}}
        return write_json(payload, path, private=private)
    raise ConfigurationError(f"cannot write scores to {path.name!r}: use a .csv, .xlsx or .json file")


def _int(x) -> object:
    return "" if pd.isna(x) else int(x)


def _fmt(x, digits: int = 2) -> str:
    return "" if pd.isna(x) else f"{x:.{digits}f}"


def _fmt_ci(low, high) -> str:
    if pd.isna(low) or pd.isna(high):
        return ""
    return f"{low:.2f}-{high:.2f}"


def _flatten(data: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value if not isinstance(value, (list, tuple)) else ", ".join(map(str, value))
    return out


def _quality_frame(quality: dict) -> pd.DataFrame:
    rows = [("rows in", quality["rows_in"]), ("rows scored", quality["rows_scored"]),
            ("rows quarantined", quality["rows_quarantined"])]
    rows += [(f"quarantined: {k}", v) for k, v in quality["quarantined_by_reason"].items()]
    rows += [(f"flagged: {k}", v) for k, v in quality["flagged"].items()]
    return pd.DataFrame(rows, columns=["measure", "count"])
