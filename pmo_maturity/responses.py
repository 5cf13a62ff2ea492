"""Loading responses so that nothing is silently lost (DESIGN section 5).

:func:`load_responses` maps a survey export onto a questionnaire and returns a :class:`Responses`:
the accepted rows, a quarantine table (input row, respondent, column, reason code, value, detail)
and a summary in which ``rows_in == rows_accepted + rows_quarantined`` always holds. Suspect but
plausible answers (straight-lining across reverse-keyed items, speeders) are flagged and kept unless
``exclude_flagged=True``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from .errors import ResponsesError
from .personal import minimise
from .questionnaire import Questionnaire, Scale, load_questionnaire, normalise_text
from ._scan import AnswerScan, arrow_strings, arrow_valid, map_threads, scan_answers, split_rows
from .readers import RawTable, SourceInfo, peek_header, read_table

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
    "malformed_row": "a line with more fields than the header",
    "too_few_answers": "too few answers to score any dimension",
    "straight_lining": "flagged straight-lining, excluded on request",
    "speeder": "flagged speeder, excluded on request",
}
# Row-level priority: the first reason a row has is the one it is counted under.
_ROW_PRIORITY = ("malformed_row", "empty_row", "missing_id", "unknown_item", "out_of_range", "not_on_scale",
                 "unknown_label", "too_few_answers", "missing_unit", "superseded", "straight_lining", "speeder")
FLAGS = {
    "straight_lining": "the same answer to every item, reverse-keyed ones included",
    "speeder": "completed in less than a third of the median completion time",
}

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
_NUMBER_LABEL = re.compile(r"^\s*(-?\d+)\s*[-=:.)]?\s*(.*?)\s*$")
_LABEL_NUMBER = re.compile(r"^\s*(.*?)\s*\((-?\d+)\)\s*$")

_OK, _MISSING = 0, 1
_VALUE_REASONS = ("", "", "out_of_range", "not_on_scale", "unknown_label")  # index = code


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
        reason), ``quarantined_by_reason``, ``flagged``, ``respondents``, the column map and the
        source (file, format, encoding, delimiter, sheet, sha256).
    questionnaire : Questionnaire
    columns : ColumnMap
    source : SourceInfo
    """

    data: pd.DataFrame
    quarantine: pd.DataFrame
    flags: pd.DataFrame
    summary: dict
    questionnaire: Questionnaire
    columns: ColumnMap
    source: SourceInfo
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
                           self.summary["layout"])
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
        summary = _summary(rows_in, data, quarantine, flags, self.columns, self.source, self.summary["layout"])
        summary.update({k: self.summary[k] for k in _CARRIED if k in self.summary})
        summary["scope"] = f"unit {unit}"
        summary["file_rows_in"] = self.summary.get("file_rows_in", self.summary["rows_in"])
        return replace(self, data=data, quarantine=quarantine, flags=flags, summary=summary)


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


def _find_column(headers: list[str], wanted: str | None, what: str, path: str) -> str | None:
    if wanted is None:
        return None
    if wanted in headers:
        return wanted
    folded = {normalise_text(h): h for h in headers}
    if normalise_text(wanted) in folded:
        return folded[normalise_text(wanted)]
    raise ResponsesError(path, f"the column {wanted!r} given as {what} is not in the file; columns are "
                               f"{_shorten(headers)}")


def _shorten(headers: list[str], limit: int = 12) -> str:
    shown = ", ".join(repr(h if len(h) < 40 else h[:37] + "...") for h in headers[:limit])
    return shown + (f", ... ({len(headers)} in all)" if len(headers) > limit else "")


def match_items(headers: list[str], questionnaire: Questionnaire, mapping: Mapping[str, str] | None = None,
                alternative_headers: Mapping[str, str] | None = None, path: str = "") -> tuple[dict, dict]:
    """Map headers to item ids: explicit mapping, item id, question text, or survey-tool patterns.

    Recognised: the item id (``INS1``), the statement text (MS Forms), ``Question [statement]``
    (Google Forms grids), ``Question - statement`` (Qualtrics matrices), ``INS1. text`` or
    ``[INS1] text`` (LimeSurvey codes). Matching ignores case, spacing and curly quotes.
    """
    by_id = {i.id.casefold(): i.id for i in questionnaire.items}
    by_text = {normalise_text(i.text): i.id for i in questionnaire.items}
    mapping = dict(mapping or {})
    for header, item in mapping.items():
        if item not in questionnaire.item_ids:
            raise ResponsesError(path, f"the mapping sends column {header!r} to item {item!r}, which questionnaire "
                                       f"{questionnaire.id!r} does not have")
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
    if " - " in header:
        tail = normalise_text(header.rsplit(" - ", 1)[1])
        if tail in by_text:
            return by_text[tail], "question - statement"
    code = _CODE_PREFIX.match(header)
    if code and code.group(1).casefold() in by_id:
        return by_id[code.group(1).casefold()], "item code prefix"
    contained = [item for text, item in by_text.items() if len(text) >= 20 and text in key]
    if len(contained) == 1:
        return contained[0], "contains question text"
    return None, ""


def _detect_meta(headers: list[str], taken: set[str]) -> dict[str, str]:
    free = [h for h in headers if h not in taken]
    folded = {normalise_text(h): h for h in free}
    found: dict[str, str] = {}
    for role, names in _META_NAMES.items():
        for name in names:
            if name in folded and folded[name] not in found.values():
                found[role] = folded[name]
                break
    for role, parts in _META_CONTAINS.items():
        if role in found:
            continue
        hits = [h for key, h in folded.items() if any(p in key for p in parts) and h not in found.values()]
        if len(hits) == 1:
            found[role] = hits[0]
    return found


def resolve_columns(headers: list[str], questionnaire: Questionnaire, *, meta: Mapping[str, str | bool | None],
                    mapping: Mapping[str, str] | None, alternative_headers: Mapping[str, str] | None,
                    path: str) -> ColumnMap:
    """Decide which header is which item and which metadata column."""
    items, how = match_items(headers, questionnaire, mapping, alternative_headers, path)
    explicit = {}
    for role, wanted in meta.items():
        if wanted is False or wanted is None:
            continue
        explicit[role] = _find_column(headers, str(wanted), role.replace("_", " ") + " column", path)
    clash = set(explicit.values()) & set(items.values())
    if clash:
        raise ResponsesError(path, f"column {sorted(clash)[0]!r} is both an item and a metadata column")
    detected = _detect_meta(headers, set(items.values()) | set(explicit.values()))
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


def parse_answer(value: object, scale: Scale) -> tuple[float, int]:
    """One raw cell -> (scale value or NaN, code). Codes: 0 ok, 1 missing, 2 out of range,
    3 not on scale, 4 unknown label."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return np.nan, _MISSING
    if isinstance(value, (bool, np.bool_)):
        return np.nan, 4
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _check_number(float(value), scale)
    text = str(value).strip()
    if not text:
        return np.nan, _MISSING
    key = normalise_text(text)
    if key in scale.na_keys:
        return np.nan, _MISSING
    if key in scale.label_values:
        return float(scale.label_values[key]), _OK
    try:
        return _check_number(float(text.replace(",", ".")) if text.count(",") <= 1 else float("x"), scale)
    except ValueError:
        pass
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
                integer_columns: set[str] = frozenset()) -> AnswerScan:
    """Validate every item column: numbers checked in row chunks, text columns parsed by value."""
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
            converted[j] = convert_column(column, q.scale)
    reverse = np.array([i.reverse for i in q.items])
    return scan_answers(len(frame), numeric, converted, len(q.item_ids), q.scale.min, q.scale.max, reverse, whole)


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype)


def convert_column(column: pd.Series, scale: Scale) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`parse_answer` over a column: (values, codes)."""
    if _is_numeric(column):
        x = column.to_numpy(dtype=float, na_value=np.nan)
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
    index, uniques = pd.factorize(column, use_na_sentinel=True)
    parsed = [parse_answer(u, scale) for u in uniques]
    lookup_values = np.array([p[0] for p in parsed] + [np.nan], dtype=float)
    lookup_codes = np.array([p[1] for p in parsed] + [_MISSING], dtype=np.int8)
    return lookup_values[index], lookup_codes[index]


# ---------------------------------------------------------------------------------------------
# Loading


def load_responses(
    source: str | Path | pd.DataFrame,
    questionnaire: Questionnaire | str | Path | None = None,
    *,
    id_column: str | bool | None = None,
    unit_column: str | bool | None = None,
    role_column: str | bool | None = None,
    submitted_column: str | bool | None = None,
    start_column: str | bool | None = None,
    comment_column: str | bool | None = None,
    mapping: Mapping[str, str] | None = None,
    layout: str = "auto",
    sheet: str | int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    require_unit: bool = True,
    exclude_flagged: bool = False,
    min_answered: float = 0.6,
    keep_identifiers: bool = False,
    screen_comments: bool = True,
) -> Responses:
    """Load a survey export and map it onto a questionnaire, quarantining bad rows.

    Parameters
    ----------
    source : path or DataFrame
        CSV (UTF-8, UTF-8 with BOM, Windows-1252; comma, semicolon, tab or pipe delimited) or XLSX.
    questionnaire : Questionnaire or path, optional
        Default: the bundled PMO integration instrument.
    id_column, unit_column, role_column, submitted_column, start_column, comment_column : str or False
        Metadata columns. ``None`` (default) detects common names (``ID``, ``Business unit``,
        ``Role``, ``Completion time``, ...); ``False`` means the file has none. Without a unit
        column the whole file is one organisation; without an id column, row numbers serve.
    mapping : dict, optional
        ``{header: item_id}`` for columns the automatic matching cannot recognise.
    layout : {"auto", "wide", "long"}
        Wide: one row per respondent. Long: one row per answer (respondent, item, answer).
    sheet : str or int, optional
        XLSX sheet (default: the first).
    require_unit : bool
        With a unit column, quarantine rows whose unit is blank (reason ``missing_unit``).
    exclude_flagged : bool
        Move straight-liners and speeders to quarantine instead of keeping them flagged.
    min_answered : float
        A respondent who has answered fewer than this share of the items of every dimension cannot
        be scored at all and is quarantined (``too_few_answers``); the same rule as
        :class:`~pmo_maturity.ScoringRules` (scoring with a stricter share quarantines more).
    keep_identifiers : bool
        Direct identifiers in the export (e-mail, name, IP address, survey tools' recipient
        fields) are dropped at load (:mod:`pmo_maturity.personal`). True keeps them apart, in
        ``Responses.identifiers``, to link responses to another source; they never reach scores,
        reports or exports.
    screen_comments : bool
        Replace e-mail addresses, phone numbers, links, @handles and the export's names in
        comments by "[removed]" (default). False is for a consultant's private reading only.

    Returns
    -------
    Responses

    Raises
    ------
    ResponsesError
        When the file cannot be read at all or no column matches the questionnaire.

    Examples
    --------
    >>> from pmo_maturity.sample import sample_path
    >>> r = load_responses(sample_path())
    >>> r.summary["rows_in"] == r.summary["rows_accepted"] + r.summary["rows_quarantined"]
    True
    """
    q = questionnaire if isinstance(questionnaire, Questionnaire) else load_questionnaire(questionnaire)
    if layout not in ("auto", "wide", "long"):
        raise ResponsesError(source if not isinstance(source, pd.DataFrame) else "<DataFrame>",
                             f"layout must be 'auto', 'wide' or 'long'; got {layout!r}")
    meta = {"respondent_id": id_column, "unit": unit_column, "role": role_column,
            "submitted_at": submitted_column, "start_time": start_column, "comment": comment_column}
    path_text = "<DataFrame>" if isinstance(source, pd.DataFrame) else str(source)

    # 1. Read the header and decide what each column is, then read the body with that knowledge.
    if isinstance(source, pd.DataFrame):
        headers = list(map(str, source.columns))
    else:
        sheet = _choose_sheet(Path(source), q, sheet)
        headers = peek_header(Path(source), encoding=encoding, delimiter=delimiter, sheet=sheet)
    columns = resolve_columns(headers, q, meta=meta, mapping=mapping, alternative_headers=None, path=path_text)
    # Identifiers and labels are read as text (leading zeros kept); times are left for the reader
    # to type, numbers stay numbers.
    text_columns = {h for role, h in columns.meta.items() if role not in ("submitted_at", "start_time")}
    text_columns |= set(columns.extra)
    table = read_table(source, encoding=encoding, delimiter=delimiter, sheet=sheet, text_columns=text_columns,
                       answer_columns=set(columns.items.values()))
    if table.info.alternative_headers:
        columns = resolve_columns(list(table.frame.columns), q, meta=meta, mapping=mapping,
                                  alternative_headers=table.info.alternative_headers, path=path_text)

    # 2. Wide or long.
    long_cols = _long_columns(table.frame.columns, columns)
    if layout == "long" or (layout == "auto" and not columns.items and long_cols):
        if not long_cols:
            raise ResponsesError(path_text, "layout 'long' needs an item column (item/question) and an answer column "
                                            f"(answer/value/response); columns are {_shorten(headers)}")
        loaded = _load_long(table, q, columns, long_cols, require_unit, exclude_flagged)  # scored rows checked later
        return minimise(loaded, keep_identifiers=keep_identifiers, screen_comments=screen_comments)
    if not columns.items:
        raise ResponsesError(path_text, f"no column matches an item of questionnaire {q.describe()}: expected item "
                                        f"ids such as {q.item_ids[0]!r} or question texts such as "
                                        f"{q.items[0].text!r}; columns are {_shorten(headers)}. Check the "
                                        f"questionnaire, or pass mapping={{header: item_id}}")
    loaded = _load_wide(table, q, columns, require_unit, exclude_flagged, min_answered)
    return minimise(loaded, keep_identifiers=keep_identifiers, screen_comments=screen_comments)


def _choose_sheet(path: Path, q: Questionnaire, sheet: str | int | None) -> str | int | None:
    """Without a sheet named, take the first sheet whose headers match the questionnaire."""
    if sheet is not None or path.suffix.lower() not in (".xlsx", ".xlsm") or not path.is_file():
        return sheet
    try:
        names = pd.ExcelFile(path, engine="openpyxl").sheet_names
    except Exception:  # unreadable: let read_table raise the clear error
        return sheet
    for name in names:
        items, _ = match_items(peek_header(path, sheet=name), q)
        if items:
            return name
    return sheet


def _long_columns(headers, columns: ColumnMap) -> tuple[str, str] | None:
    folded = {normalise_text(h): h for h in headers}
    item = next((folded[n] for n in _LONG_ITEM if n in folded), None)
    answer = next((folded[n] for n in _LONG_ANSWER if n in folded), None)
    return (item, answer) if item and answer else None


def _meta_frame(frame: pd.DataFrame, rows: np.ndarray, columns: ColumnMap) -> pd.DataFrame:
    """Canonical metadata columns (text, stripped; blanks missing; ids default to the row)."""
    out = pd.DataFrame({"row": rows})
    text_roles, time_roles = ("respondent_id", "unit", "role", "comment"), ("submitted_at", "start_time")
    given = [role for role in (*text_roles, *time_roles) if role in columns.meta]

    def clean(role: str):
        column = frame[columns.meta[role]]
        return _text(column).array if role in text_roles else _parse_times(column)

    cleaned = dict(zip(given, map_threads(clean, given, len(frame))))  # side by side on large files
    for role in text_roles:
        out[role] = cleaned[role] if role in cleaned else pd.Series([None] * len(out), dtype="str").array
    ids = out["respondent_id"]
    if ids.isna().any():
        out["respondent_id"] = ids.where(ids.notna(), "row " + out["row"].astype(str))
    for role in time_roles:
        out[role] = cleaned[role] if role in cleaned else pd.NaT
    return out


def _text(column: pd.Series) -> pd.Series:
    """Stripped text with blanks as missing; vectorised for the string columns CSV files give."""
    if isinstance(column.dtype, pd.StringDtype):
        if _already_clean(column):  # the usual ids, units and roles: nothing to strip, nothing blank
            return column
        stripped = column.str.strip()
        return stripped.where(stripped.str.len() > 0)
    return column.map(_clean_text).astype("str")


# Bytes that may begin or end white space in UTF-8: ASCII spaces and controls, and every byte of a
# multi-byte character (non-breaking and other Unicode spaces among them).
_MAY_BE_SPACE = np.zeros(256, dtype=bool)
_MAY_BE_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_MAY_BE_SPACE[0x80:] = True


def _already_clean(column: pd.Series) -> bool:
    """True when no value of an Arrow string column is blank or begins or ends with what may be
    white space, read from the column's own buffers (then stripping would copy it unchanged)."""
    text = _arrow_text(column)
    if text is None:
        return False
    for chunk in (text.chunks if isinstance(text, pa.ChunkedArray) else [text]):
        if len(chunk) == chunk.null_count:
            continue
        offsets, data = arrow_strings(chunk)
        present = np.diff(offsets) > 0
        if (arrow_valid(chunk) & ~present).any():
            return False  # a blank value
        if _MAY_BE_SPACE[data[offsets[:-1][present]]].any() or _MAY_BE_SPACE[data[offsets[1:][present] - 1]].any():
            return False
    return True


def _arrow_text(column: pd.Series):
    """The Arrow strings behind a text column, without a copy for Arrow-backed ones (None when the
    values are not strings)."""
    try:
        text = pa.array(column.array)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, UnicodeError):
        return None
    return text if pa.types.is_string(text.type) or pa.types.is_large_string(text.type) else None


def _clean_text(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


_TIME_FORMATS = ("ISO8601", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M",
                 "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%m/%d/%y %H:%M:%S", "%m/%d/%y %H:%M")


def _parse_times(column: pd.Series) -> np.ndarray:
    """Timestamps: typed cells as they are; text tried against common export formats first
    (vectorised), then parsed value by value; what cannot be parsed is missing (NaT)."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        values = pd.to_datetime(column)
    else:
        text = _text(column) if column.dtype != object else column.map(_clean_text)
        values = None
        present = int(text.notna().sum())
        for fmt in _TIME_FORMATS:
            parsed = pd.to_datetime(text, errors="coerce", format=fmt)
            if int(parsed.notna().sum()) == present:
                values = parsed
                break
        if values is None:
            values = pd.to_datetime(text.astype(object), errors="coerce", format="mixed")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert(None)
    return values.to_numpy(dtype="datetime64[ns]")


def _load_wide(table: RawTable, q: Questionnaire, columns: ColumnMap, require_unit: bool,
               exclude_flagged: bool, min_answered: float) -> Responses:
    frame, rows = table.frame, table.rows
    n = len(frame)
    meta = _meta_frame(frame, rows, columns)
    # Whether any id repeats (a hash of every id) is worked out beside the answer scan: pyarrow
    # releases the GIL, so on a large file it costs little extra time.
    with ThreadPoolExecutor(max_workers=1) as pool:
        ids_unique = pool.submit(_all_different, meta["respondent_id"])
        scan = _scan_items(frame, columns.items, q, table.info.integer_columns)
        ids_unique = ids_unique.result()
    values = scan.values
    records = []
    bad_row = np.zeros(n, dtype=bool)
    bad_row[scan.bad_rows] = True
    for j in np.unique(scan.bad_cols):
        header = columns.items[q.item_ids[j]]
        here = scan.bad_cols == j
        idx, cell_codes = scan.bad_rows[here], scan.bad_codes[here]
        raw = frame[header].iloc[idx].to_numpy(dtype=object)
        records.append(_records(meta, idx, header, np.array(_VALUE_REASONS, dtype=object)[cell_codes],
                                [_value_detail(code, q.scale) for code in cell_codes], value=raw))
    empty = (scan.answered == 0) & ~bad_row
    if empty.any():
        idx = np.flatnonzero(empty)
        has_comment = meta["comment"].iloc[idx].notna().to_numpy()
        records.append(_records(meta, idx, "", "empty_row",
                                np.where(has_comment, "no answers (only a comment)", "no answers")))
    rejected = bad_row | empty
    too_few = ~_scorable(values, q, min_answered) & ~rejected
    if too_few.any():
        records.append(_records(meta, np.flatnonzero(too_few), "", "too_few_answers",
                                _too_few_detail(min_answered)))
        rejected |= too_few
    if require_unit:
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
    with ThreadPoolExecutor(max_workers=1) as pool:
        flags = pool.submit(_flags, meta, q, ~rejected, scan)
        if rejected.any():
            keep = ~rejected
            meta, extra = _keep_rows(meta, keep), _keep_rows(extra, keep)
            values = _compact_rows(values, keep)
        flags = flags.result()
    data = pd.concat([meta, pd.DataFrame(values, columns=q.item_ids, copy=False), extra], axis=1)
    return _finish(data, records, flags, n, q, columns, table.info, "wide", exclude_flagged)


def _finish(data: pd.DataFrame, records: list, flags: pd.DataFrame, n: int, q: Questionnaire, columns: ColumnMap,
            info: SourceInfo, layout: str, exclude_flagged: bool) -> Responses:
    """Assemble the result: malformed lines join the quarantine, and every input row is counted."""
    quarantine = _concat_quarantine([*records, *_malformed_records(info)])
    summary = _summary(n + len(info.malformed), data, quarantine, flags, columns, info, layout)
    responses = Responses(data=data, quarantine=quarantine, flags=flags, summary=summary, questionnaire=q,
                          columns=columns, source=info)
    return _exclude_flagged(responses) if exclude_flagged else responses


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
             columns: ColumnMap, info: SourceInfo, layout: str) -> dict:
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
        "layout": layout,
        "items_matched": len(columns.items),
        "items_missing": list(columns.missing_items),
        "metadata_columns": dict(columns.meta),
        "extra_columns": list(columns.extra),
        "source": {"file": info.path, "format": info.format, "encoding": info.encoding,
                   "delimiter": info.delimiter, "sheet": info.sheet, "sha256": info.sha256,
                   "header_rows": info.header_rows},
    }
    if summary["rows_in"] != summary["rows_accepted"] + summary["rows_quarantined"]:
        raise RuntimeError(f"row accounting broken: {summary['rows_in']} in, {summary['rows_accepted']} accepted, "
                           f"{summary['rows_quarantined']} quarantined; please report this bug")
    return summary


# ---------------------------------------------------------------------------------------------
# Long format


def _load_long(table: RawTable, q: Questionnaire, columns: ColumnMap, long_cols: tuple[str, str],
               require_unit: bool, exclude_flagged: bool) -> Responses:
    item_col, answer_col = long_cols
    frame, rows = table.frame, table.rows
    cols = replace(columns, extra=[c for c in columns.extra if c not in long_cols])
    meta = _meta_frame(frame, rows, cols)
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
    vals, codes = convert_column(frame[answer_col], q.scale)
    bad = (codes >= 2) & ~rejected
    if bad.any():
        idx = np.flatnonzero(bad)
        records.append(_records(meta, idx, answer_col, np.array(_VALUE_REASONS, dtype=object)[codes[idx]],
                                [_value_detail(c, q.scale) for c in codes[idx]],
                                value=frame[answer_col].to_numpy(dtype=object)[idx]))
        rejected |= bad
    if require_unit:
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
    return _finish(data, records, flags, n, q, cols, table.info, "long", exclude_flagged)
