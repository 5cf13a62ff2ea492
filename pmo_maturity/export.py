"""Writing tables that clients open in spreadsheets, without formula injection (CWE-1236).

Any text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with
a single quote (OWASP ASVS 5.0 V1.2.10), in CSV and in XLSX alike, so that a comment such as
``=HYPERLINK(...)`` is shown as text and never runs. Numbers are left as numbers.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ._files import atomic_write_bytes, file_mode

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix a text value that a spreadsheet would read as a formula with a single quote.

    >>> neutralise("=1+1"), neutralise("Finance"), neutralise(3)
    ("'=1+1", 'Finance', 3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and header) neutralised."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            text = series.astype(object)
            risky = text.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_PREFIXES))
            if risky.any():
                out[column] = text.where(~risky, "'" + text[risky].astype(str))
    out.columns = [neutralise(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, *, private: bool = False) -> Path:
    """Write a neutralised CSV (UTF-8 with BOM, so Excel reads accents correctly).

    Files follow the user's umask; ``private`` (respondent-level rows) makes them owner-only.
    """
    path = Path(path)
    text = neutralise_frame(frame).to_csv(index=False, lineterminator="\n")
    atomic_write_bytes(path, text.encode("utf-8-sig"), private=private)
    return path


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | Path, *, autosize: bool = True,
               private: bool = False) -> Path:
    """Write neutralised sheets to one XLSX workbook, with frozen headers and sized columns
    (mode as :func:`write_csv`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".xlsx")
    os.close(fd)
    try:
        file_mode(tmp, private)
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, frame in sheets.items():
                safe = neutralise_frame(_excel_ready(frame))
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
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
