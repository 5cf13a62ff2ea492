"""Respondent metadata as the loader keeps it: ids, units, roles and comments as clean text, times
in UTC, coded units and roles named.

- Text is stripped, blanks are missing; Arrow string columns that need no cleaning are kept as
  read (a million ids are checked from their buffers, not copied).
- Times: typed cells as they are; text tried against common export formats (vectorised), with
  ``GMT+1``/``UTC-5`` suffixes read as the offsets they are (Google Forms writes the form's zone so,
  and the usual parsers take ``GMT+1`` the POSIX way, one hour the wrong side of UTC); offsets are
  converted to UTC, even when they differ from row to row. A time that cannot be read is missing
  and recorded as a warning (``unreadable_time``) with its row and column.
- Codes: with ``values`` (a mapping file's ``{unit: {1: Finance}}``), a numeric export's unit and
  role codes are named; a code without a name is kept and recorded (``unknown_code``).
"""

from __future__ import annotations

import re
import warnings as _warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from ._scan import arrow_strings, arrow_valid, map_threads
from ._xlsx import CellError, Uncomputed

TEXT_ROLES = ("respondent_id", "unit", "role", "comment")
TIME_ROLES = ("submitted_at", "start_time")

Warning = tuple[int, str, str, object, str]  # (row, column, warning code, value, detail)


def meta_frame(frame: pd.DataFrame, rows: np.ndarray, meta: Mapping[str, str],
               values: Mapping[str, Mapping[str, str]] | None = None,
               warnings: list[Warning] | None = None) -> pd.DataFrame:
    """Canonical metadata columns (``row``, text roles stripped, blanks missing, ids defaulting to
    the row; time roles in UTC). ``meta`` maps each role to its column; problems are appended to
    ``warnings``."""
    out = pd.DataFrame({"row": rows})
    given = [role for role in (*TEXT_ROLES, *TIME_ROLES) if role in meta]
    found: dict[str, list[Warning]] = {role: [] for role in given}

    def clean(role: str):
        column = frame[meta[role]]
        if role in TIME_ROLES:
            parsed, unreadable = parse_times(column)
            if unreadable.any():  # (the raw values only then: a million timestamps as objects is slow)
                bad = np.flatnonzero(unreadable)
                raw = column.take(bad).to_numpy(dtype=object)
                found[role] = [(int(rows[k]), meta[role], "unreadable_time", value,
                                "not a date and time in a format the kit reads; taken as missing")
                               for k, value in zip(bad, raw)]
            return parsed
        cleaned = text(column)
        if column.dtype == object:
            found[role].extend(_formula_cells(column, rows, meta[role]))
        if values and role in values:
            cleaned, unknown = _named(cleaned, values[role])
            found[role].extend((int(rows[k]), meta[role], "unknown_code", cleaned.iloc[k],
                                f"the mapping file's values give no {role} for this code; kept as it is")
                               for k in unknown)
        return cleaned.array

    cleaned = dict(zip(given, map_threads(clean, given, len(frame))))  # side by side on large files
    for role in TEXT_ROLES:
        out[role] = cleaned[role] if role in cleaned else pd.Series([None] * len(out), dtype="str").array
    ids = out["respondent_id"]
    if ids.isna().any():
        out["respondent_id"] = ids.where(ids.notna(), "row " + out["row"].astype(str))
    for role in TIME_ROLES:
        out[role] = cleaned[role] if role in cleaned else pd.NaT
    if warnings is not None:
        for role in given:
            warnings.extend(found[role])
    return out


def _formula_cells(column: pd.Series, rows: np.ndarray, name: str) -> list[Warning]:
    """Spreadsheet formula errors and formulas without a value in a metadata column (read as blank)."""
    raw = column.to_numpy(dtype=object)
    return [(int(rows[k]), name, "formula_in_metadata", str(v),
             "a formula error" if isinstance(v, CellError) else "a formula whose value the file does not store")
            for k, v in enumerate(raw) if isinstance(v, (CellError, Uncomputed))]


def _named(column: pd.Series, names: Mapping[str, str]) -> tuple[pd.Series, np.ndarray]:
    """Codes replaced by their names; the positions of codes that have none."""
    keys = column.map(lambda v: None if v is None or v is pd.NA or v != v else _code_key(v))
    named = keys.map(names)
    unknown = np.flatnonzero((keys.notna() & named.isna()).to_numpy())
    return named.where(named.notna(), column).astype("str"), unknown


def _code_key(value: object) -> str:
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def text(column: pd.Series) -> pd.Series:
    """Stripped text with blanks as missing; vectorised for the string columns CSV files give."""
    if isinstance(column.dtype, pd.StringDtype):
        if already_clean(column):  # the usual ids, units and roles: nothing to strip, nothing blank
            return column
        stripped = column.str.strip()
        return stripped.where(stripped.str.len() > 0)
    return column.map(clean_text).astype("str")


# Bytes that may begin or end white space in UTF-8: ASCII spaces and controls, and every byte of a
# multi-byte character (non-breaking and other Unicode spaces among them).
_MAY_BE_SPACE = np.zeros(256, dtype=bool)
_MAY_BE_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_MAY_BE_SPACE[0x80:] = True


def already_clean(column: pd.Series) -> bool:
    """True when no value of an Arrow string column is blank or begins or ends with what may be
    white space, read from the column's own buffers (then stripping would copy it unchanged)."""
    strings = arrow_text(column)
    if strings is None:
        return False
    for chunk in (strings.chunks if isinstance(strings, pa.ChunkedArray) else [strings]):
        if len(chunk) == chunk.null_count:
            continue
        offsets, data = arrow_strings(chunk)
        present = np.diff(offsets) > 0
        if (arrow_valid(chunk) & ~present).any():
            return False  # a blank value
        if _MAY_BE_SPACE[data[offsets[:-1][present]]].any() or _MAY_BE_SPACE[data[offsets[1:][present] - 1]].any():
            return False
    return True


def arrow_text(column: pd.Series):
    """The Arrow strings behind a text column, without a copy for Arrow-backed ones (None when the
    values are not strings)."""
    try:
        strings = pa.array(column.array)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, UnicodeError):
        return None
    return strings if pa.types.is_string(strings.type) or pa.types.is_large_string(strings.type) else None


def clean_text(value: object) -> object:
    """One cell as stripped text (None for blanks, spreadsheet errors and uncomputed formulas)."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (CellError, Uncomputed)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    stripped = str(value).strip()
    return stripped or None


_TIME_FORMATS = ("ISO8601", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M",
                 "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%m/%d/%y %H:%M:%S", "%m/%d/%y %H:%M",
                 "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%Y/%m/%d %I:%M:%S %p %z", "%Y/%m/%d %H:%M:%S %z",
                 "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %I:%M:%S %p")
# "GMT+1", "UTC-05:30", "GMT": an offset written after the zone's name (not the POSIX reading).
_ZONE = re.compile(r"\s*\b(?:GMT|UTC)(?:\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?)?\s*$", re.IGNORECASE)
_ZONE_NAME = re.compile(r"\b(?:GMT|UTC)(?:\s*[+-]\s*\d|\s*$)", re.IGNORECASE)


def _offset(match: re.Match) -> str:
    sign, hours, minutes = match.group(1), match.group(2), match.group(3)
    if not sign:
        return " +00:00"
    return f" {sign}{int(hours):02d}:{minutes or '00'}"


def parse_times(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Times in UTC (naive ``datetime64[ns]``) and a mask of the values that could not be read.

    Typed cells are taken as they are; text is tried against common export formats first
    (vectorised), then value by value. Values with an offset are converted to UTC; values without
    one are taken as they are.
    """
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        values = pd.to_datetime(column)
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert(None)
        return values.to_numpy(dtype="datetime64[ns]"), np.zeros(len(column), dtype=bool)
    strings = text(column) if column.dtype != object else column.map(_time_text).astype("str")
    present = strings.notna().to_numpy()
    values = _by_format(strings, present)
    if values is None and strings.str.contains(_ZONE_NAME, na=False).any():
        strings = strings.str.replace(_ZONE, _offset, regex=True)
        values = _by_format(strings, present)
    if values is None:
        values = _value_by_value(strings)
    unreadable = present & values.isna().to_numpy()
    return values.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]"), unreadable


def _time_text(value: object) -> object:
    if hasattr(value, "isoformat") and not isinstance(value, str):  # a spreadsheet's date cell
        return pd.Timestamp(value).isoformat()
    return clean_text(value)


def _by_format(strings: pd.Series, present: np.ndarray) -> pd.Series | None:
    """The first common format that reads every present value (in UTC), or None."""
    count = int(present.sum())
    for fmt in _TIME_FORMATS:
        try:
            parsed = pd.to_datetime(strings, errors="coerce", format=fmt, utc=True)
        except (ValueError, OverflowError, TypeError):
            continue
        if int(parsed.notna().sum()) == count:
            return parsed
    return None


def _value_by_value(strings: pd.Series) -> pd.Series:
    """Each value parsed on its own (any format the parser knows); unreadable ones missing."""
    def one(value):
        if value is None or value is pd.NA or value != value:
            return pd.NaT
        try:
            with _warnings.catch_warnings():
                _warnings.simplefilter("ignore")
                return pd.to_datetime(value, utc=True)
        except (ValueError, OverflowError, TypeError, pd.errors.OutOfBoundsDatetime):
            return pd.NaT

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # dateutil's warnings on unknown zone names
        try:
            return pd.to_datetime(strings.astype(object), errors="coerce", format="mixed", utc=True)
        except (ValueError, OverflowError, TypeError):
            return pd.to_datetime(strings.astype(object).map(one), utc=True)
