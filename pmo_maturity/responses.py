"""Loading responses so that nothing is silently lost (DESIGN section 5).

:func:`load_responses` maps a survey export onto a questionnaire and returns a :class:`Responses`:
the accepted rows, a quarantine table (input row, respondent, column, reason code, value, detail)
and a summary in which ``rows_in == rows_accepted + rows_quarantined`` always holds. Suspect but
plausible answers (straight-lining across reverse-keyed items, speeders) are flagged and kept unless
``exclude_flagged=True``. What was read but may not be what the respondent meant (a row in another
encoding, an unreadable time) is kept and listed in a warnings table, by row and column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from . import layouts
from ._scan import AnswerScan, arrow_strings, beside, map_threads, scan_answers, split_rows
from ._xlsx import CellError, Uncomputed
from .errors import ResponsesError
from .metadata import arrow_text as _arrow_text, meta_frame
from .options import LoadOptions, MappingSpec, read_mapping_file
from .personal import minimise
from .questionnaire import Questionnaire, Scale, load_questionnaire, normalise_text
from .readers import RawTable, SourceInfo, excel_headers, read_table

# Reason codes (printed in every data-quality report; keep the wording user-facing).
REASONS = {
    "empty_row": "no answers at all",
    "out_of_range": "a number outside the answer scale",
    "not_on_scale": "a number between scale points (answers must be whole points)",
    "unknown_label": "an answer that is neither a scale label, a number nor a don't-know label",
    "missing_unit": "no business unit although the report is by unit",
    "missing_id": "no respondent id (long format needs one per row)",
    "unknown_item": "an item the questionnaire does not have (long format)",
    "superseded": "an earlier submission by the same respondent (the latest one is kept)",
    "malformed_row": "a line the CSV reader cannot split into the header's fields (too many fields, or a stray "
                     "quote that would swallow the lines after it)",
    "preview": "a preview or test response of the survey tool, not a respondent's",
    "spam": "a response the survey tool marked as spam",
    "unfinished": "a response the respondent never finished (the survey tool says so)",
    "boolean": "TRUE or FALSE in a spreadsheet cell where an answer was expected",
    "formula_error": "a spreadsheet formula that gave an error (#DIV/0!, #N/A, ...) where an answer was expected",
    "formula_not_computed": "a spreadsheet formula whose value the file does not store (saved without calculating)",
    "too_few_answers": "too few answers to score any dimension",
    "straight_lining": "flagged straight-lining, excluded on request",
    "speeder": "flagged speeder, excluded on request",
}
# Row-level priority: the first reason a row has is the one it is counted under.
_ROW_PRIORITY = ("malformed_row", "preview", "spam", "unfinished", "empty_row", "missing_id", "unknown_item",
                 "out_of_range", "not_on_scale", "unknown_label", "boolean", "formula_error", "formula_not_computed",
                 "too_few_answers", "missing_unit", "superseded", "straight_lining", "speeder")
FLAGS = {
    "straight_lining": "the same answer to every item, reverse-keyed ones included",
    "speeder": "completed in less than a third of the median completion time",
}
# Warnings: the row is kept, but a value may not be what the respondent meant (printed in the
# data-quality report; keep the wording user-facing).
WARNINGS = {
    "mixed_encoding": "a row in Windows-1252 in a file otherwise in UTF-8 (read as Windows-1252)",
    "invalid_bytes": "bytes that are not text in the file's encoding (shown as \ufffd)",
    "unreadable_time": "a date or time that cannot be read (taken as missing)",
    "dont_know_code": "a number just off the scale that may code \"Don't know\" (declare it with na_codes)",
    "unknown_code": "a unit or role code the mapping file's values do not name (kept as it is)",
    "formula_in_metadata": "a spreadsheet formula error, or a formula without a stored value, in a metadata "
                           "column (taken as blank)",
}
_WARNING_COLUMNS = ["row", "column", "warning", "value", "detail"]

META_ROLES = ("respondent_id", "unit", "role", "submitted_at", "start_time", "comment")
_META_NAMES = {
    "respondent_id": ["respondent_id", "respondent id", "respondent", "respondentid", "id", "response id",
                      "responseid", "response_id", "participant id", "participant_id", "respondent id number"],
    "unit": ["business_unit", "business unit", "unit", "department", "division", "business area", "team"],
    "role": ["role", "job role", "your role", "respondent role", "position"],
    "submitted_at": ["submitted_at", "completion time", "timestamp", "enddate", "end date", "submitdate",
                     "date submitted", "submitted", "submitted at", "recordeddate", "completed"],
    "start_time": ["start_time", "start time", "startdate", "start date", "started"],
    "comment": ["comment", "comments", "free text", "free-text comment", "remarks"],
}
_META_CONTAINS = {
    "unit": ["business unit", "department"],
    "role": ["role"],
    "comment": ["anything else", "comment"],
}
_LONG_ITEM = ["item", "item_id", "item id", "question", "question_id", "question id", "variable"]
_LONG_ANSWER = ["answer", "value", "response", "score", "rating"]
_CODE_PREFIX = re.compile(r"^\s*\[?([A-Za-z0-9][A-Za-z0-9_.\-]*?)\]?\s*(?:[.:)]\s*|\s+-\s+|\s+)\S")
_BRACKET_TAIL = re.compile(r"\[([^\[\]]+)\]\s*$")
_NUMBER_LABEL = re.compile(r"^\s*(-?[0-9]+)\s*[-=:.)]?\s*(.*?)\s*$")
_LABEL_NUMBER = re.compile(r"^\s*(.*?)\s*\((-?[0-9]+)\)\s*$")

_OK, _MISSING, _BOOLEAN, _FORMULA_ERROR, _NOT_COMPUTED = 0, 1, 5, 6, 7
_VALUE_REASONS = ("", "", "out_of_range", "not_on_scale", "unknown_label", "boolean", "formula_error",
                  "formula_not_computed")  # index = code
# A number as a spreadsheet reads it: ASCII digits, one decimal point or comma, an exponent; Python's
# float() also takes "0_3", "nan", "inf" and digits of other scripts, which no spreadsheet does.
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?$")


@dataclass(frozen=True)
class ColumnMap:
    """How the file's columns were understood."""

    items: dict[str, str]  # item id -> header
    meta: dict[str, str]  # canonical role (respondent_id, unit, ...) -> header
    extra: list[str]  # other columns, kept as metadata
    how: dict[str, str] = field(default_factory=dict)  # header -> how it was matched
    missing_items: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Responses:
    """Accepted answers, quarantine and data-quality summary of one response file.

    Attributes
    ----------
    data : DataFrame
        One row per accepted respondent: ``row`` (spreadsheet row), ``respondent_id``, ``unit``,
        ``role``, ``submitted_at``, ``start_time``, ``comment``, one float column per item id
        (raw answers on the scale, reverse-keyed items NOT yet reversed, NaN = missing) and the
        file's other columns, kept as metadata.
    quarantine : DataFrame
        ``row, respondent_id, column, reason, value, detail``: one record per problem (a row with
        two bad cells has two records). ``reason`` is a code of :data:`REASONS`.
    flags : DataFrame
        ``row, respondent_id, flag, detail`` for kept-but-suspect rows (:data:`FLAGS`).
    summary : dict
        ``rows_in, rows_accepted, rows_quarantined`` (rows counted once, under their first
        reason), ``quarantined_by_reason``, ``flagged``, ``warnings`` (records by code),
        ``respondents``, the column map, the don't-know codes and the source (file, format,
        encoding, delimiter, sheet, sha256, survey tool, header rows).
    questionnaire : Questionnaire
    columns : ColumnMap
    source : SourceInfo
    warnings : DataFrame
        ``row, column, warning, value, detail``: values kept although they may not be what the
        respondent meant (:data:`WARNINGS`), one record per row and column.
    """

    data: pd.DataFrame
    quarantine: pd.DataFrame
    flags: pd.DataFrame
    summary: dict
    questionnaire: Questionnaire
    columns: ColumnMap
    source: SourceInfo
    warnings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_WARNING_COLUMNS))
    identifiers: pd.DataFrame | None = field(default=None, repr=False)  # only with keep_identifiers=True

    @property
    def has_units(self) -> bool:
        return "unit" in self.columns.meta

    @property
    def has_roles(self) -> bool:
        return "role" in self.columns.meta

    @property
    def input_hash(self) -> str:
        return self.source.sha256

    def items(self, reverse: bool = True) -> pd.DataFrame:
        """Answers per item, reverse-keyed items reversed (``min + max - x``) unless told not to."""
        frame = self.data[self.questionnaire.item_ids].astype(float)
        if reverse:
            scale = self.questionnaire.scale
            rev = [i.id for i in self.questionnaire.items if i.reverse]
            frame[rev] = scale.min + scale.max - frame[rev]
        return frame

    def quarantine_rows(self) -> pd.DataFrame:
        """One record per quarantined row with its counted (first) reason."""
        return primary_reasons(self.quarantine)

    def subset(self, mask: pd.Series | np.ndarray, *, reason: str | None = None, detail: str = "") -> Responses:
        """Keep the rows where ``mask`` is true; with ``reason``, the others move to quarantine."""
        mask = np.asarray(mask, dtype=bool)
        kept = self.data[mask].reset_index(drop=True)
        if reason is None:
            return replace(self, data=kept)
        moved = self.data[~mask]
        if "input_rows" in moved.columns:  # long format: every input row of the respondent moves
            moved = moved[["respondent_id", "unit", "input_rows"]].explode("input_rows").rename(
                columns={"input_rows": "row"})
        records = pd.DataFrame({"row": moved["row"].to_numpy(), "respondent_id": moved["respondent_id"].to_numpy(),
                                "unit": moved["unit"].to_numpy(), "column": "", "reason": reason, "value": None,
                                "detail": detail})
        quarantine = _concat_quarantine([self.quarantine, records])
        summary = _summary(self.summary["rows_in"], kept, quarantine, self.flags, self.columns, self.source,
                           self.summary["layout"], self.warnings, self.summary["na_codes"])
        summary.update({k: self.summary[k] for k in _CARRIED if k in self.summary})
        return replace(self, data=kept, quarantine=quarantine, summary=summary)

    def for_unit(self, unit: str) -> Responses:
        """The rows of one business unit: its accepted rows, its quarantined rows and their summary.

        The summary counts the unit's own rows (``rows_in`` = its accepted + quarantined rows);
        rows whose unit is unknown (blank unit, unreadable line) stay in the file-wide summary.
        """
        if not self.has_units:
            raise ResponsesError(self.source.path, "has no business unit column; cannot select a unit")
        data = self.data[self.data["unit"] == unit].reset_index(drop=True)
        quarantine = self.quarantine[self.quarantine["unit"] == unit].reset_index(drop=True)
        flags = self.flags[self.flags["row"].isin(set(data["row"]))].reset_index(drop=True)
        accepted = int(data["input_rows"].map(len).sum()) if "input_rows" in data.columns else len(data)
        rows_in = accepted + quarantine["row"].nunique()
        own_rows = set(quarantine["row"]) | (set(data["row"]) if "input_rows" not in data.columns else {
            r for rows in data["input_rows"] for r in rows})
        warnings = self.warnings[self.warnings["row"].isin(own_rows)].reset_index(drop=True)
        summary = _summary(rows_in, data, quarantine, flags, self.columns, self.source, self.summary["layout"],
                           warnings, self.summary["na_codes"])
        summary.update({k: self.summary[k] for k in _CARRIED if k in self.summary})
        summary["scope"] = f"unit {unit}"
        summary["file_rows_in"] = self.summary.get("file_rows_in", self.summary["rows_in"])
        return replace(self, data=data, quarantine=quarantine, flags=flags, summary=summary, warnings=warnings)


_CARRIED = ("scope", "file_rows_in", "identifiers_dropped", "comments_screened")  # kept by subset and for_unit


def primary_reasons(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Each quarantined row once, under the first reason in priority order."""
    if quarantine.empty:
        return quarantine.copy()
    rank = quarantine["reason"].map({r: i for i, r in enumerate(_ROW_PRIORITY)}).fillna(len(_ROW_PRIORITY))
    ordered = quarantine.assign(_rank=rank).sort_values(["row", "_rank"], kind="stable")
    return ordered.drop_duplicates("row").drop(columns="_rank").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Column mapping


def _find_column(headers: list[str], wanted: str | None, what: str, path: str,
                 alternative: Mapping[str, str] | None = None) -> str | None:
    if wanted is None:
        return None
    if wanted in headers:
        return wanted
    folded = {normalise_text(h): h for h in headers}
    folded.update({normalise_text(t): h for h, t in (alternative or {}).items() if normalise_text(t) not in folded})
    if normalise_text(wanted) in folded:
        return folded[normalise_text(wanted)]
    raise ResponsesError(path, f"the column {wanted!r} given as {what} is not in the file; columns are "
                               f"{_shorten(headers)}")


def _shorten(headers: list[str], limit: int = 12) -> str:
    shown = ", ".join(repr(h if len(h) < 40 else h[:37] + "...") for h in headers[:limit])
    return shown + (f", ... ({len(headers)} in all)" if len(headers) > limit else "")


def match_items(headers: list[str], questionnaire: Questionnaire, mapping: Mapping[str, str] | None = None,
                alternative_headers: Mapping[str, str] | None = None, path: str = "",
                mapping_file: MappingSpec | None = None) -> tuple[dict, dict]:
    """Map headers to item ids: explicit mapping, item id, question text, or survey-tool patterns.

    Recognised: the item id (``INS1``), the statement text (MS Forms), ``Question [statement]``
    (Google Forms grids, LimeSurvey full text), ``Question - statement`` (Qualtrics and
    SurveyMonkey matrices), ``INS1. text`` or ``[INS1] text`` (LimeSurvey codes). Matching ignores
    case, spacing and curly quotes.
    """
    by_id = {i.id.casefold(): i.id for i in questionnaire.items}
    by_text = {normalise_text(i.text): i.id for i in questionnaire.items}
    mapping = dict(mapping or {})
    for header, item in mapping.items():
        if item not in questionnaire.item_ids:
            source = mapping_file.path if mapping_file and mapping_file.items.get(header) == item else path
            what = "the mapping file" if source != path else "the mapping"
            raise ResponsesError(source, f"{what} sends column {header!r} to item {item!r}, which questionnaire "
                                         f"{questionnaire.id!r} does not have (items are {questionnaire.item_ids[0]}, "
                                         f"{questionnaire.item_ids[1]}, ...)")
    found: dict[str, str] = {}
    how: dict[str, str] = {}
    for header in headers:
        candidates = [header]
        if alternative_headers and header in alternative_headers:
            candidates.append(alternative_headers[header])
        item, method = None, ""
        if header in mapping:
            item, method = mapping[header], "explicit mapping"
        else:
            for text in candidates:
                item, method = _match_one(text, by_id, by_text)
                if item:
                    break
        if not item:
            continue
        if item in found:
            raise ResponsesError(path, f"columns {found[item]!r} and {header!r} both match item {item!r}; "
                                       f"pass an explicit mapping to say which one to use")
        found[item] = header
        how[header] = method
    return found, how


def _match_one(header: str, by_id: dict, by_text: dict) -> tuple[str | None, str]:
    key = normalise_text(header)
    if key.casefold() in by_id:
        return by_id[key.casefold()], "item id"
    if key in by_text:
        return by_text[key], "question text"
    bracket = _BRACKET_TAIL.search(header)
    if bracket:
        inner = normalise_text(bracket.group(1))
        if inner in by_text:
            return by_text[inner], "question [statement]"
        if inner in by_id:
            return by_id[inner], "question [item id]"
    if " - " in header:  # the statement may hold " - " itself: every split is tried, longest tail first
        parts = header.split(" - ")
        for k in range(1, len(parts)):
            tail = normalise_text(" - ".join(parts[k:]))
            if tail in by_text:
                return by_text[tail], "question - statement"
    code = _CODE_PREFIX.match(header)
    if code and code.group(1).casefold() in by_id:
        return by_id[code.group(1).casefold()], "item code prefix"
    contained = [item for text, item in by_text.items() if len(text) >= 20 and text in key]
    if len(contained) == 1:
        return contained[0], "contains question text"
    return None, ""


def _detect_meta(headers: list[str], taken: set[str], alternative: Mapping[str, str] | None = None
                 ) -> dict[str, str]:
    """Metadata columns by their usual names, or by words their header (or a survey tool's question
    text, or LimeSurvey's ``code. text``) contains."""
    free = [h for h in headers if h not in taken]
    alternative = alternative or {}
    keys: dict[str, list[str]] = {}  # header -> the names it goes by
    for h in free:
        names = [normalise_text(h), layouts.code_of(h), normalise_text(layouts.text_of(h))]
        if h in alternative:
            names.append(normalise_text(alternative[h]))
        keys[h] = [n for n in dict.fromkeys(names) if n]
    found: dict[str, str] = {}
    for role, names in _META_NAMES.items():
        for name in names:
            hit = next((h for h in free if name in keys[h] and h not in found.values()), None)
            if hit is not None:
                found[role] = hit
                break
    for role, parts in _META_CONTAINS.items():
        if role in found:
            continue
        hits = [h for h in free if any(p in key for key in keys[h] for p in parts) and h not in found.values()]
        if len(hits) == 1:
            found[role] = hits[0]
    return found


def resolve_columns(headers: list[str], questionnaire: Questionnaire, *, meta: Mapping[str, str | bool | None],
                    mapping: Mapping[str, str] | None, alternative_headers: Mapping[str, str] | None,
                    path: str, mapping_file: MappingSpec | None = None) -> ColumnMap:
    """Decide which header is which item and which metadata column."""
    items, how = match_items(headers, questionnaire, mapping, alternative_headers, path, mapping_file)
    explicit = {}
    for role, wanted in meta.items():
        if wanted is False or wanted is None:
            continue
        explicit[role] = _find_column(headers, str(wanted), role.replace("_", " ") + " column", path,
                                      alternative_headers)
    clash = set(explicit.values()) & set(items.values())
    if clash:
        raise ResponsesError(path, f"column {sorted(clash)[0]!r} is both an item and a metadata column")
    detected = _detect_meta(headers, set(items.values()) | set(explicit.values()), alternative_headers)
    resolved = {}
    for role in META_ROLES:
        if meta.get(role) is False:
            continue
        if role in explicit:
            resolved[role] = explicit[role]
        elif role in detected:
            resolved[role] = detected[role]
    used = set(items.values()) | set(resolved.values())
    extra = [h for h in headers if h not in used]
    missing = [i for i in questionnaire.item_ids if i not in items]
    return ColumnMap(items=items, meta=resolved, extra=extra, how=how, missing_items=missing)


# ---------------------------------------------------------------------------------------------
# Answer conversion


def parse_answer(value: object, scale: Scale, na_codes: tuple[float, ...] = ()) -> tuple[float, int]:
    """One raw cell -> (scale value or NaN, code). Codes: 0 ok, 1 missing, 2 out of range,
    3 not on scale, 4 unknown label, 5 a spreadsheet boolean, 6 a formula error, 7 a formula
    without a stored value. Numbers in ``na_codes`` (and the scale's) mean "Don't know": missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return np.nan, _MISSING
    if isinstance(value, (bool, np.bool_)):
        return np.nan, _BOOLEAN
    if isinstance(value, CellError):
        return np.nan, _FORMULA_ERROR
    if isinstance(value, Uncomputed):
        return np.nan, _NOT_COMPUTED
    codes = (*scale.na_codes, *na_codes)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return (np.nan, _MISSING) if float(value) in codes else _check_number(float(value), scale)
    text = str(value).strip()
    if not text:
        return np.nan, _MISSING
    key = normalise_text(text)
    if key in scale.na_keys:
        return np.nan, _MISSING
    if key in scale.label_values:
        return float(scale.label_values[key]), _OK
    if _NUMBER.match(text) and text.count(",") + text.count(".") <= 1:
        number = float(text.replace(",", "."))
        return (np.nan, _MISSING) if number in codes else _check_number(number, scale)
    # "4 - Agree", "4. Agree", "Agree (4)": accept when number and label agree.
    for pattern, number_first in ((_NUMBER_LABEL, True), (_LABEL_NUMBER, False)):
        m = pattern.match(text)
        if m:
            number, label = (m.group(1), m.group(2)) if number_first else (m.group(2), m.group(1))
            if scale.label_values.get(normalise_text(label)) == int(number):
                return float(number), _OK
    return np.nan, 4


def _check_number(x: float, scale: Scale) -> tuple[float, int]:
    if np.isnan(x):
        return np.nan, _MISSING
    if x != np.round(x):
        return np.nan, 3
    if x < scale.min or x > scale.max:
        return np.nan, 2
    return x, _OK


def _scan_items(frame: pd.DataFrame, items: Mapping[str, str], q: Questionnaire,
                integer_columns: set[str] = frozenset(), na_codes: tuple[float, ...] = (),
                cells: bool = True) -> AnswerScan:
    """Validate every item column: numbers checked in row chunks, text columns parsed by value
    (``cells``: the values may be spreadsheet cells, not only text)."""
    numeric, converted, whole = {}, {}, set()
    for j, item in enumerate(q.item_ids):
        if item not in items:
            continue
        column = frame[items[item]]
        if isinstance(column.dtype, pd.ArrowDtype) and pa.types.is_integer(column.dtype.pyarrow_dtype):
            answers = pa.array(column.array)  # the Arrow data itself, converted block by block in the scan
            numeric[j] = answers if isinstance(answers, pa.ChunkedArray) else pa.chunked_array([answers])
            whole.add(j)
        elif _is_numeric(column):
            numeric[j] = (column.to_numpy() if column.dtype == np.float64
                          else column.to_numpy(dtype=float, na_value=np.nan))
            if items[item] in integer_columns or pd.api.types.is_integer_dtype(column.dtype):
                whole.add(j)
        else:
            converted[j] = convert_column(column, q.scale, na_codes, cells=cells)
    reverse = np.array([i.reverse for i in q.items])
    return scan_answers(len(frame), numeric, converted, len(q.item_ids), q.scale.min, q.scale.max, reverse, whole,
                        tuple(dict.fromkeys((*q.scale.na_codes, *na_codes))))


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype)


def convert_column(column: pd.Series, scale: Scale, na_codes: tuple[float, ...] = (), *,
                   cells: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`parse_answer` over a column: (values, codes). ``cells``: the column may
    hold spreadsheet cells (booleans, formula errors) besides numbers and text; a CSV's do not."""
    codes_missing = (*scale.na_codes, *na_codes)
    if _is_numeric(column):
        x = column.to_numpy(dtype=float, na_value=np.nan)
        if codes_missing:
            x = np.where(np.isin(x, codes_missing), np.nan, x)
        codes = np.zeros(len(x), dtype=np.int8)
        missing = np.isnan(x)
        codes[missing] = _MISSING
        with np.errstate(invalid="ignore"):
            off_scale = ~missing & (x != np.round(x))
            outside = ~missing & ~off_scale & ((x < scale.min) | (x > scale.max))
        codes[off_scale] = 3
        codes[outside] = 2
        values = np.where(codes == _OK, x, np.nan)
        return values, codes
    if cells and column.dtype == object:
        # Spreadsheet cells of other kinds are told apart before factorising: True == 1 in Python,
        # so a TRUE beside 1s would otherwise take their code (or give them its own).
        kinds = column.map(_cell_kind).to_numpy(dtype=np.int8)
        if kinds.any():
            values, codes = convert_column(column.where(kinds == 0, None), scale, na_codes)
            special = kinds > 0
            values[special], codes[special] = np.nan, kinds[special]
            return values, codes
    index, uniques = pd.factorize(column, use_na_sentinel=True)
    parsed = [parse_answer(u, scale, na_codes) for u in uniques]
    lookup_values = np.array([p[0] for p in parsed] + [np.nan], dtype=float)
    lookup_codes = np.array([p[1] for p in parsed] + [_MISSING], dtype=np.int8)
    return lookup_values[index], lookup_codes[index]


def _cell_kind(value: object) -> int:
    """The answer code of a spreadsheet cell that is not a number or text (0 for the others)."""
    if isinstance(value, (bool, np.bool_)):
        return _BOOLEAN
    if isinstance(value, CellError):
        return _FORMULA_ERROR
    if isinstance(value, Uncomputed):
        return _NOT_COMPUTED
    return 0


# ---------------------------------------------------------------------------------------------
# Loading


def load_responses(
    source: str | Path | pd.DataFrame,
    questionnaire: Questionnaire | str | Path | None = None,
    options: LoadOptions | Mapping | None = None,
    *,
    min_answered: float = 0.6,
    **option_values,
) -> Responses:
    """Load a survey export and map it onto a questionnaire, quarantining bad rows.

    Parameters
    ----------
    source : path or DataFrame
        CSV (UTF-8, UTF-8 with BOM, UTF-16, Windows-1252, or UTF-8 with some rows in Windows-1252;
        comma, semicolon, tab or pipe delimited) or XLSX, as written by hand or by MS Forms, Google
        Forms, Qualtrics, SurveyMonkey or LimeSurvey (their layouts are recognised).
    questionnaire : Questionnaire or path, optional
        Default: the bundled PMO integration instrument.
    options : LoadOptions or dict, optional
        How to read the file and map its columns (see :class:`~pmo_maturity.LoadOptions`: metadata
        columns, ``mapping``, ``mapping_file``, ``na_codes``, ``layout``, ``sheet``, ``encoding``,
        ``delimiter``, ``require_unit``, ``exclude_flagged``).
    min_answered : float
        A respondent who has answered fewer than this share of the items of every dimension cannot
        be scored at all and is quarantined (``too_few_answers``); the same rule as
        :class:`~pmo_maturity.ScoringRules` (scoring with a stricter share quarantines more).
    **option_values
        Any field of :class:`~pmo_maturity.LoadOptions` by name (``unit_column="Department"``),
        applied over ``options``: for example ``keep_identifiers=True`` keeps the export's direct
        identifiers apart, in ``Responses.identifiers`` (they are dropped at load otherwise), and
        ``screen_comments=False`` keeps comments verbatim, for a consultant's private reading.

    Returns
    -------
    Responses

    Raises
    ------
    ResponsesError
        When the file cannot be read at all or no column matches the questionnaire.
    ConfigurationError
        When an option is invalid (an :class:`~pmo_maturity.errors.OptionError` naming it).
    MappingFileError
        When the mapping file is unreadable or invalid.

    Examples
    --------
    >>> from pmo_maturity.sample import sample_path
    >>> r = load_responses(sample_path())
    >>> r.summary["rows_in"] == r.summary["rows_accepted"] + r.summary["rows_quarantined"]
    True
    >>> load_responses(sample_path(), unit_column="Business unit", role_column=False).has_roles
    False
    """
    q = questionnaire if isinstance(questionnaire, Questionnaire) else load_questionnaire(questionnaire)
    options = LoadOptions.coerce(options, **option_values)
    spec = read_mapping_file(options.mapping_file) if options.mapping_file else None
    options = options.merged_with(spec)
    path_text = "<DataFrame>" if isinstance(source, pd.DataFrame) else str(source)

    # 1. Read the header and decide what each column is, then read the body with that knowledge.
    sheet = options.sheet
    if isinstance(source, pd.DataFrame):
        headers = list(map(str, source.columns))
    else:
        sheet = _choose_sheet(Path(source), q, sheet)
        headers = peek_header(Path(source), options, sheet)
    columns = resolve_columns(headers, q, meta=options.meta, mapping=options.mapping, alternative_headers=None,
                              path=path_text, mapping_file=spec)
    # Identifiers and labels are read as text (leading zeros kept); times are left for the reader
    # to type, numbers stay numbers.
    text_columns = {h for role, h in columns.meta.items() if role not in ("submitted_at", "start_time")}
    text_columns |= set(columns.extra)
    table = read_table(source, encoding=options.encoding, delimiter=options.delimiter, sheet=sheet,
                       text_columns=text_columns, answer_columns=set(columns.items.values()))
    if table.info.alternative_headers or list(table.frame.columns) != headers:  # a survey tool's header rows
        columns = resolve_columns(list(table.frame.columns), q, meta=options.meta, mapping=options.mapping,
                                  alternative_headers=table.info.alternative_headers, path=path_text,
                                  mapping_file=spec)

    # 2. Wide or long.
    long_cols = _long_columns(table.frame.columns, columns)
    if options.layout == "long" or (options.layout == "auto" and not columns.items and long_cols):
        if not long_cols:
            raise ResponsesError(path_text, "layout 'long' needs an item column (item/question) and an answer column "
                                            f"(answer/value/response); columns are {_shorten(headers)}")
        loaded = _load_long(table, q, columns, long_cols, options)  # scored rows checked later
        return minimise(loaded, keep_identifiers=options.keep_identifiers, screen_comments=options.screen_comments)
    if not columns.items:
        raise ResponsesError(path_text, f"no column matches an item of questionnaire {q.describe()}: expected item "
                                        f"ids such as {q.item_ids[0]!r} or question texts such as "
                                        f"{q.items[0].text!r}; columns are {_shorten(headers)}. Check the "
                                        f"questionnaire, or map the columns with a mapping file (--mapping-file) "
                                        f"or --map HEADER=ITEM")
    loaded = _load_wide(table, q, columns, options, min_answered)
    return minimise(loaded, keep_identifiers=options.keep_identifiers, screen_comments=options.screen_comments)


def peek_header(path: Path, options: LoadOptions, sheet) -> list[str]:
    """The file's column headers, read without its body."""
    table = read_table(path, encoding=options.encoding, delimiter=options.delimiter, sheet=sheet, header_only=True)
    return [str(c) for c in table.frame.columns]


def _choose_sheet(path: Path, q: Questionnaire, sheet: str | int | None) -> str | int | None:
    """Without a sheet named, take the first sheet whose headers match the questionnaire."""
    if sheet is not None or not path.is_file():
        return sheet
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        try:
            with path.open("rb") as handle:
                if handle.read(4) != b"PK\x03\x04":
                    return sheet
        except OSError:
            return sheet
    for name, headers in excel_headers(path).items():
        items, _ = match_items([h for h in headers if h], q)
        if items:
            return name
    return sheet


def _long_columns(headers, columns: ColumnMap) -> tuple[str, str] | None:
    folded = {normalise_text(h): h for h in headers}
    item = next((folded[n] for n in _LONG_ITEM if n in folded), None)
    answer = next((folded[n] for n in _LONG_ANSWER if n in folded), None)
    return (item, answer) if item and answer else None


def _load_wide(table: RawTable, q: Questionnaire, columns: ColumnMap, options: LoadOptions,
               min_answered: float) -> Responses:
    frame, rows = table.frame, table.rows
    n = len(frame)
    warnings = list(table.info.warnings)
    meta = meta_frame(frame, rows, columns.meta, options.values, warnings)
    # Whether any id repeats (a hash of every id) is worked out beside the answer scan: pyarrow
    # releases the GIL, so on a large file it costs little extra time (on a small one, a thread
    # costs more than the work).
    with beside(n) as pool:
        ids_unique = pool.submit(_all_different, meta["respondent_id"])
        scan = _scan_items(frame, columns.items, q, table.info.integer_columns, options.na_codes,
                           cells=table.info.format != "csv")
        ids_unique = ids_unique.result()
    values = scan.values
    records = []
    # Responses the survey tool marks as previews, spam or unfinished are set aside first.
    rejected = _set_aside(frame, meta, table.info, records)
    bad_row = np.zeros(n, dtype=bool)
    bad_row[scan.bad_rows] = True
    bad_row &= ~rejected
    for j in np.unique(scan.bad_cols):
        header = columns.items[q.item_ids[j]]
        here = (scan.bad_cols == j) & ~rejected[scan.bad_rows]
        idx, cell_codes = scan.bad_rows[here], scan.bad_codes[here]
        if not len(idx):
            continue
        raw = frame[header].iloc[idx].to_numpy(dtype=object)
        records.append(_records(meta, idx, header, np.array(_VALUE_REASONS, dtype=object)[cell_codes],
                                [_value_detail(code, q.scale) for code in cell_codes], value=raw))
    warnings.extend(_dont_know_hint(frame, scan, columns, q, options.na_codes, rows))
    empty = (scan.answered == 0) & ~bad_row & ~rejected
    if empty.any():
        idx = np.flatnonzero(empty)
        has_comment = meta["comment"].iloc[idx].notna().to_numpy()
        records.append(_records(meta, idx, "", "empty_row",
                                np.where(has_comment, "no answers (only a comment)", "no answers")))
    rejected |= bad_row | empty
    too_few = ~_scorable(values, q, min_answered) & ~rejected
    if too_few.any():
        records.append(_records(meta, np.flatnonzero(too_few), "", "too_few_answers",
                                _too_few_detail(min_answered)))
        rejected |= too_few
    if options.require_unit:
        rejected |= _missing_units(meta, columns, rejected, records)
    superseded = _superseded(meta, rejected, ids_unique)
    if superseded.any():
        idx = np.flatnonzero(superseded)
        latest = meta[~rejected & ~superseded].set_index("respondent_id")["row"]
        detail = [f"superseded by row {int(latest[rid])}" for rid in meta["respondent_id"].iloc[idx]]
        records.append(_records(meta, idx, columns.meta.get("respondent_id", ""), "superseded", detail))
        rejected |= superseded
    extra = frame[columns.extra].rename(columns=lambda h: h if h not in meta.columns else f"{h} (file)")
    extra = extra.reset_index(drop=True)
    # The flags (mostly Python) are worked out while the accepted rows are compacted (numpy and
    # Arrow, which release the GIL); both only read what they share.
    with beside(n) as pool:
        flags = pool.submit(_flags, meta, q, ~rejected, scan)
        if rejected.any():
            keep = ~rejected
            meta, extra = _keep_rows(meta, keep), _keep_rows(extra, keep)
            values = _compact_rows(values, keep)
        flags = flags.result()
    data = pd.concat([meta, pd.DataFrame(values, columns=q.item_ids, copy=False), extra], axis=1)
    return _finish(data, records, flags, n, q, columns, table.info, "wide", options, warnings)


def _set_aside(frame: pd.DataFrame, meta: pd.DataFrame, info: SourceInfo, records: list) -> np.ndarray:
    """Rows a survey tool marks as previews, tests, spam or unfinished: quarantined with their reason."""
    found = layouts.set_aside(frame, info.tool, info.alternative_headers)
    if found is None:
        return np.zeros(len(frame), dtype=bool)
    marked = found.reasons != ""
    idx = np.flatnonzero(marked)
    details = {"preview": f"{info.tool} marks it as a preview or test response",
               "spam": f"{info.tool} marks it as spam",
               "unfinished": f"{info.tool} marks it as not finished"}
    records.append(_records(meta, idx, found.columns[idx], found.reasons[idx],
                            [details[r] for r in found.reasons[idx]], value=found.values[idx]))
    return marked


# Codes that survey tools and statistics packages give "Don't know" beside a scale.
_CODE_CANDIDATES = (9, 99, 999, -9, -99, -1)


def _dont_know_hint(frame: pd.DataFrame, scan: AnswerScan, columns: ColumnMap, q: Questionnaire,
                    na_codes: tuple[float, ...], rows: np.ndarray) -> list[tuple]:
    """A warning when one whole number just off the scale (or a usual missing code) makes up most
    of the out-of-range answers: it probably codes "Don't know" and should be declared once."""
    out_of_range = np.flatnonzero(scan.bad_codes == 2)
    if len(out_of_range) < 2:
        return []
    found_rows, numbers = [], []
    for j in np.unique(scan.bad_cols[out_of_range]):
        idx = scan.bad_rows[out_of_range[scan.bad_cols[out_of_range] == j]]
        raw = frame[columns.items[q.item_ids[j]]].iloc[idx].to_numpy(dtype=object)
        found_rows.append(idx)
        numbers.append(np.array([_number_or_nan(v) for v in raw]))
    found_rows, numbers = np.concatenate(found_rows), np.concatenate(numbers)
    values, counts = np.unique(numbers[~np.isnan(numbers)], return_counts=True)
    if not len(values):
        return []
    code, count = values[int(np.argmax(counts))], int(counts.max())
    candidates = {q.scale.max + 1, *_CODE_CANDIDATES} - set(range(q.scale.min, q.scale.max + 1)) - set(na_codes)
    if code not in candidates or count < 2 or count * 2 < len(numbers):
        return []
    first = int(rows[found_rows[numbers == code].min()])
    shown = f"{code:g}"
    return [(first, "", "dont_know_code", shown,
             f"{shown} is {count} of the {len(numbers)} answers outside {q.scale.min}-{q.scale.max} (first on row "
             f"{first}): if it codes \"Don't know\", declare it once with na_codes: [{shown}] in the questionnaire's "
             f"scale or in a mapping file (--mapping-file), or with --na-code {shown}")]


def _number_or_nan(value: object) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def _finish(data: pd.DataFrame, records: list, flags: pd.DataFrame, n: int, q: Questionnaire, columns: ColumnMap,
            info: SourceInfo, layout: str, options: LoadOptions, warnings: list) -> Responses:
    """Assemble the result: malformed lines join the quarantine, and every input row is counted."""
    quarantine = _concat_quarantine([*records, *_malformed_records(info)])
    table = _warning_table(warnings)
    na_codes = list(dict.fromkeys((*q.scale.na_codes, *options.na_codes)))
    summary = _summary(n + len(info.malformed), data, quarantine, flags, columns, info, layout, table,
                       [int(c) if float(c).is_integer() else c for c in na_codes])
    responses = Responses(data=data, quarantine=quarantine, flags=flags, summary=summary, questionnaire=q,
                          columns=columns, source=info, warnings=table)
    return _exclude_flagged(responses) if options.exclude_flagged else responses


def _warning_table(warnings: list) -> pd.DataFrame:
    if not warnings:
        return pd.DataFrame({c: pd.Series(dtype=object if c != "row" else int) for c in _WARNING_COLUMNS})
    table = pd.DataFrame(warnings, columns=_WARNING_COLUMNS, dtype=object)
    table["row"] = table["row"].astype(int)
    return table.sort_values(["row", "column"], kind="stable").reset_index(drop=True)


def _malformed_records(info: SourceInfo) -> list[pd.DataFrame]:
    """Quarantine records for lines the reader could not split into the header's fields."""
    return [pd.DataFrame({"row": [row], "respondent_id": [None], "unit": [None], "column": "", "reason": "malformed_row",
                          "value": None, "detail": detail}) for row, detail in info.malformed]


def _missing_units(meta: pd.DataFrame, columns: ColumnMap, rejected: np.ndarray, records: list) -> np.ndarray:
    """Rows not yet rejected whose unit is blank, when the file has a unit column (recorded)."""
    if "unit" not in columns.meta:
        return np.zeros(len(meta), dtype=bool)
    no_unit = meta["unit"].isna().to_numpy() & ~rejected
    if no_unit.any():
        records.append(_records(meta, np.flatnonzero(no_unit), columns.meta["unit"], "missing_unit",
                                "blank business unit"))
    return no_unit


def _scorable(values: np.ndarray, q: Questionnaire, min_answered: float) -> np.ndarray:
    """Rows with at least one dimension answered enough to be scored."""
    ok = np.zeros(len(values), dtype=bool)

    def part(first: int, last: int) -> None:
        start = 0
        for d in q.dimensions:
            count = np.zeros(last - first, dtype=np.int64)
            for j in range(start, start + len(d.items)):
                count += ~np.isnan(values[first:last, j])
            start += len(d.items)
            ok[first:last] |= count >= d.min_answered(min_answered)

    split_rows(len(values), 1 << 17, part)
    return ok


def _too_few_detail(min_answered: float) -> str:
    return f"fewer than {min_answered:.0%} of the items answered in every dimension"


def _keep_rows(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """``frame[keep]`` with a fresh index; on large frames the columns are filtered in threads."""
    if len(frame.columns) < 2:
        return frame[keep].reset_index(drop=True)
    kept = map_threads(lambda c: frame[c].array[keep], list(frame.columns), len(frame))  # Arrow filters per chunk
    return pd.DataFrame(dict(zip(frame.columns, kept)), columns=frame.columns)


def _compact_rows(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Keep the rows ``keep`` of a column-major matrix we own, in place (no new large array)."""
    m = int(keep.sum())

    def compact(j: int) -> None:
        column = values[:, j]
        column[:m] = column[keep]

    map_threads(compact, list(range(values.shape[1])), len(values))
    return values[:m]


def _records(meta: pd.DataFrame, idx: np.ndarray, column, reason, detail, value=None) -> pd.DataFrame:
    """Quarantine records for the rows ``idx`` of ``meta`` (row, respondent and unit filled in)."""
    return pd.DataFrame({**_picked(meta, idx, ("row", "respondent_id", "unit")), "column": column, "reason": reason,
                         "value": value, "detail": detail})


def _picked(frame: pd.DataFrame, idx: np.ndarray, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The rows ``idx`` of a few columns (text as objects), without taking the whole frame."""
    return {c: frame[c].take(idx).to_numpy(object if c != "row" else None) for c in columns}


def _value_detail(code: int, scale: Scale) -> str:
    labels = f" or a label ({', '.join(scale.labels)})" if scale.labels else ""
    if code == 2:
        return f"expected a whole number from {scale.min} to {scale.max}{labels}"
    if code == 3:
        return f"expected a whole scale point from {scale.min} to {scale.max}"
    if code == _BOOLEAN:
        return f"a TRUE/FALSE cell; expected a number from {scale.min} to {scale.max}{labels}"
    if code == _FORMULA_ERROR:
        return "a formula error in the workbook; fix the formula, or type the answer"
    if code == _NOT_COMPUTED:
        return "a formula without a stored value; open and save the workbook in a spreadsheet program"
    return (f"expected a number from {scale.min} to {scale.max}{labels}, or a don't-know label "
            f"({', '.join(scale.na_labels)})")


def _all_different(ids: pd.Series) -> bool:
    """Whether no id repeats (``ids.is_unique``). Ids of up to 8 bytes (the usual numbers and
    codes) are compared as 64-bit integers made of their bytes, one length at a time: exact, and
    several times faster on a million ids than hashing the strings."""
    text = _arrow_text(ids)
    if text is None or text.null_count or len(text) < 2:
        return bool(ids.is_unique)
    offsets, data = arrow_strings(text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text)
    lengths = np.diff(offsets)
    if lengths.max() > 8:
        return bool(ids.is_unique)
    same = lengths.min() == lengths.max()
    for length in [lengths[0]] if same else np.unique(lengths):
        keys = np.zeros((len(lengths) if same else int((lengths == length).sum()), 8), dtype=np.uint8)
        if length == 0:  # blank ids: more than one is a repeat
            if len(keys) > 1:
                return False
        elif same:  # the usual case: the bytes are one block of fixed-width rows
            keys[:, :length] = data[offsets[0]:offsets[-1]].reshape(-1, length)
        else:
            keys[:, :length] = data[offsets[:-1][lengths == length][:, None] + np.arange(length)]
        ordered = np.sort(keys.view(np.uint64).ravel())
        if (ordered[1:] == ordered[:-1]).any():
            return False
    return True


def _superseded(meta: pd.DataFrame, rejected: np.ndarray, ids_unique: bool) -> np.ndarray:
    """Earlier submissions of a respondent id among otherwise valid rows (latest kept)."""
    if ids_unique:  # the usual case, checked without copying the text columns
        return np.zeros(len(meta), dtype=bool)
    candidates = meta.loc[~rejected, ["respondent_id", "submitted_at", "row"]]
    if candidates.empty or candidates["respondent_id"].is_unique:
        return np.zeros(len(meta), dtype=bool)
    ids = candidates["respondent_id"]
    dup = ids.duplicated(keep=False)
    if not dup.any():
        return np.zeros(len(meta), dtype=bool)
    subset = candidates[dup.to_numpy()]
    order = subset.sort_values(["respondent_id", "submitted_at", "row"], na_position="first", kind="stable")
    earlier = order.index[order["respondent_id"].duplicated(keep="last").to_numpy()]
    out = np.zeros(len(meta), dtype=bool)
    out[earlier] = True
    return out


def _flags(data: pd.DataFrame, q: Questionnaire, kept: np.ndarray, scan: AnswerScan | None = None) -> pd.DataFrame:
    """Straight-lining across reverse-keyed items, and speeders (a third of the median time)."""
    if scan is None:
        values = data[q.item_ids].to_numpy(dtype=float)
        numeric = {j: values[:, j] for j in range(values.shape[1])}
        scan = scan_answers(len(values), numeric, {}, values.shape[1], q.scale.min, q.scale.max,
                            np.array([i.reverse for i in q.items]))
    answered, lo, hi = scan.answered, scan.low, scan.high
    parts = []
    if any(i.reverse for i in q.items):
        need = max(5, int(np.ceil(0.5 * len(q.item_ids))))
        straight = kept & (answered >= need) & (lo == hi) & scan.reverse_answered
        idx = np.flatnonzero(straight)
        parts.append(_flag_records(data, idx, "straight_lining",
                                   [f"answered {lo[i]:g} to all {answered[i]} items, reverse-keyed ones included"
                                    for i in idx]))
    if data["start_time"].notna().any() and data["submitted_at"].notna().any():
        seconds = _seconds_between(data["start_time"], data["submitted_at"])
        valid = kept & ~np.isnan(seconds)
        if valid.sum() >= 10:
            median = float(np.median(seconds[valid]))
            idx = np.flatnonzero(valid & (seconds < median / 3))
            parts.append(_flag_records(data, idx, "speeder",
                                       [f"{seconds[i]:.0f} s against a median of {median:.0f} s" for i in idx]))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["row", "respondent_id", "flag", "detail"])
    return pd.concat(parts, ignore_index=True).sort_values("row", kind="stable").reset_index(drop=True)


def _seconds_between(start: pd.Series, end: pd.Series) -> np.ndarray:
    """``end - start`` in seconds, NaN where either time is missing (no overflow, however far apart)."""
    a, b = end.to_numpy("datetime64[ns]"), start.to_numpy("datetime64[ns]")
    seconds = (a.view(np.int64).astype(float) - b.view(np.int64).astype(float)) / 1e9
    seconds[np.isnat(a) | np.isnat(b)] = np.nan
    return seconds


def _flag_records(data: pd.DataFrame, idx: np.ndarray, flag: str, details: list[str]) -> pd.DataFrame:
    return pd.DataFrame({**_picked(data, idx, ("row", "respondent_id")), "flag": flag, "detail": details})


def _exclude_flagged(responses: Responses) -> Responses:
    flags = responses.flags
    out = responses
    for flag in ("straight_lining", "speeder"):
        rows = set(flags.loc[flags["flag"] == flag, "row"])
        if rows:
            out = out.subset(~out.data["row"].isin(rows), reason=flag, detail=FLAGS[flag])
    return out


def _concat_quarantine(records: list[pd.DataFrame]) -> pd.DataFrame:
    cols = ["row", "respondent_id", "unit", "column", "reason", "value", "detail"]
    records = [r for r in records if len(r)]
    if not records:
        return pd.DataFrame({c: pd.Series(dtype=object if c != "row" else int) for c in cols})
    out = pd.concat([r[cols].astype(object) for r in records], ignore_index=True)
    out["row"] = out["row"].astype(int)
    return out.sort_values(["row", "column"], kind="stable").reset_index(drop=True)


def _summary(rows_in: int, data: pd.DataFrame, quarantine: pd.DataFrame, flags: pd.DataFrame,
             columns: ColumnMap, info: SourceInfo, layout: str, warnings: pd.DataFrame, na_codes: list) -> dict:
    primary = primary_reasons(quarantine)
    by_reason = primary["reason"].value_counts().to_dict() if len(primary) else {}
    rows_accepted = int(data["input_rows"].map(len).sum()) if "input_rows" in data.columns else len(data)
    summary = {
        "rows_in": int(rows_in),
        "rows_accepted": rows_accepted,
        "rows_quarantined": int(len(primary)),
        "respondents": int(len(data)),
        "quarantined_by_reason": {k: int(v) for k, v in sorted(by_reason.items(), key=lambda kv: -kv[1])},
        "flagged": {k: int(v) for k, v in flags["flag"].value_counts().items()} if len(flags) else {},
        "warnings": {k: int(v) for k, v in warnings["warning"].value_counts().items()} if len(warnings) else {},
        "layout": layout,
        "na_codes": list(na_codes),
        "items_matched": len(columns.items),
        "items_missing": list(columns.missing_items),
        "metadata_columns": dict(columns.meta),
        "extra_columns": list(columns.extra),
        "source": {"file": info.path, "format": info.format, "encoding": info.encoding,
                   "delimiter": info.delimiter, "sheet": info.sheet, "sha256": info.sha256,
                   "header_rows": info.header_rows, "tool": info.tool},
    }
    if summary["rows_in"] != summary["rows_accepted"] + summary["rows_quarantined"]:
        raise RuntimeError(f"row accounting broken: {summary['rows_in']} in, {summary['rows_accepted']} accepted, "
                           f"{summary['rows_quarantined']} quarantined; please report this bug")
    return summary


# ---------------------------------------------------------------------------------------------
# Long format


def _load_long(table: RawTable, q: Questionnaire, columns: ColumnMap, long_cols: tuple[str, str],
               options: LoadOptions) -> Responses:
    item_col, answer_col = long_cols
    frame, rows = table.frame, table.rows
    cols = replace(columns, extra=[c for c in columns.extra if c not in long_cols])
    warnings = list(table.info.warnings)
    meta = meta_frame(frame, rows, cols.meta, options.values, warnings)
    n = len(frame)
    records = []
    rejected = np.zeros(n, dtype=bool)
    ids_given = "respondent_id" in cols.meta
    if not ids_given:
        raise ResponsesError(table.info.path, "a long-format file needs a respondent id column (respondent/id)")
    no_id = frame[cols.meta["respondent_id"]].isna().to_numpy()
    if no_id.any():
        idx = np.flatnonzero(no_id)
        records.append(_records(meta.assign(respondent_id=None), idx, cols.meta["respondent_id"], "missing_id",
                                "blank respondent id"))
        rejected |= no_id
    by_key = {i.id.casefold(): i.id for i in q.items}
    by_key.update({normalise_text(i.text): i.id for i in q.items})
    raw_items = frame[item_col].astype(object).map(lambda v: None if v is None or v != v else str(v))
    item_of = raw_items.map(lambda v: by_key.get(normalise_text(v)) if v is not None else None)
    unknown = item_of.isna().to_numpy() & ~rejected
    if unknown.any():
        idx = np.flatnonzero(unknown)
        records.append(_records(meta, idx, item_col, "unknown_item", f"not an item of questionnaire {q.id}",
                                value=raw_items.to_numpy()[idx]))
        rejected |= unknown
    vals, codes = convert_column(frame[answer_col], q.scale, options.na_codes, cells=table.info.format != "csv")
    bad = (codes >= 2) & ~rejected
    if bad.any():
        idx = np.flatnonzero(bad)
        records.append(_records(meta, idx, answer_col, np.array(_VALUE_REASONS, dtype=object)[codes[idx]],
                                [_value_detail(c, q.scale) for c in codes[idx]],
                                value=frame[answer_col].to_numpy(dtype=object)[idx]))
        rejected |= bad
    if options.require_unit:
        rejected |= _missing_units(meta, cols, rejected, records)
    # Several answers to one item by one respondent: keep the latest.
    answers = meta.assign(item=item_of.to_numpy(), value=vals)
    live = answers[~rejected]
    order = live.sort_values(["respondent_id", "item", "submitted_at", "row"], na_position="first", kind="stable")
    dup = order.duplicated(["respondent_id", "item"], keep="last")
    if dup.any():
        idx = order.index[dup.to_numpy()]
        records.append(_records(meta, idx, item_col, "superseded",
                                "an earlier answer to the same item by the same respondent"))
        rejected[idx] = True
    # Respondents whose remaining answers are all don't-know/blank are empty.
    live = answers[~rejected]
    any_answer = live.groupby("respondent_id", sort=False)["value"].transform(lambda s: s.notna().any())
    empty_idx = live.index[~any_answer.to_numpy(dtype=bool)]
    if len(empty_idx):
        records.append(_records(meta, empty_idx, "", "empty_row", "the respondent gave no answer on the scale"))
        rejected[empty_idx] = True
    live = answers[~rejected]
    wide = live.pivot_table(index="respondent_id", columns="item", values="value", aggfunc="last", dropna=False,
                            sort=False)
    wide = wide.reindex(columns=q.item_ids)
    first = live.sort_values("row").groupby("respondent_id", sort=False)
    info = first.agg(row=("row", "min"), input_rows=("row", list), unit=("unit", "last"), role=("role", "last"),
                     comment=("comment", "last"), submitted_at=("submitted_at", "max"),
                     start_time=("start_time", "min"))
    data = info.join(wide).reset_index()
    data = data.sort_values("row").reset_index(drop=True)
    data = data[["row", "respondent_id", "unit", "role", "comment", "submitted_at", "start_time", "input_rows",
                 *q.item_ids]]
    flags = _flags(data, q, np.ones(len(data), dtype=bool))
    return _finish(data, records, flags, n, q, cols, table.info, "long", options, warnings)
