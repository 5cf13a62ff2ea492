"""Survey-tool layouts: which rows are headers, which tool wrote the file, which responses to set aside.

Each tool writes its export its own way; the reader reads the first row as the header and this
module makes sense of the rest:

=============  =================================================================================
Qualtrics      Three header rows: export tags (``Q1``, ``Q3_1``), question texts (``Question -
               statement`` for matrix rows), ``{"ImportId": ...}`` JSON. The question texts
               serve to find items, the business unit and the role. ``Status`` (``Survey
               Preview``, ``Survey Test``, ``Spam``, or their codes 1, 2, 8, ... in a numeric
               export) and ``Finished`` (``False`` or 0) set responses aside.
SurveyMonkey   Two header rows: each question over its first column, the statements of a matrix
               (``Response`` under a single question, ``Open-Ended Response`` under a text one)
               in row 2. Columns are named ``Question - statement``.
LimeSurvey     ``submitdate`` and ``lastpage`` columns (also as ``submitdate. Date submitted``):
               a response with no submit date was never completed and is set aside.
Google Forms   ``Timestamp`` in the form's time zone (``2026/10/05 9:00:00 AM GMT+1``), grids as
               ``Question [statement]``.
MS Forms       ``ID``, ``Start time``, ``Completion time``, ``Email``, ``Name``; statements as headers.
=============  =================================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .questionnaire import normalise_text

SURVEYMONKEY_SUBHEADERS = {"response", "open-ended response"}

# Why a response is set aside, as the quarantine reports it.
SET_ASIDE = ("preview", "spam", "unfinished")


def apply_layout(frame: pd.DataFrame, rows: np.ndarray, info) -> tuple[pd.DataFrame, np.ndarray]:
    """Strip a survey tool's extra header rows from ``frame`` (recording them in ``info``: header
    rows, alternative headers, the tool), and name the tool when its columns show it."""
    last = _import_id_row(frame) if len(frame) >= 2 else None
    if last is not None:
        if last == 1:
            info.alternative_headers = {c: str(v).strip() for c, v in frame.iloc[0].items()
                                        if isinstance(v, str) and v.strip()}
        info.header_rows = last + 2
        info.tool = "Qualtrics"
        return frame.iloc[last + 1:].reset_index(drop=True), rows[last + 1:]
    if len(frame) >= 1 and _surveymonkey(frame, info):
        names, alternative = _surveymonkey_names(frame, info)
        frame = frame.iloc[1:].reset_index(drop=True)
        frame.columns = names
        info.alternative_headers = alternative
        info.header_rows = 2
        info.tool = "SurveyMonkey"
        return frame, rows[1:]
    info.tool = tool_of(list(frame.columns))
    return frame, rows


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _import_id_row(frame: pd.DataFrame) -> int | None:
    for k in (1, 0):
        if k < len(frame) and any(_cell(v).startswith('{"ImportId"') for v in frame.iloc[k]):
            return k
    return None


def _surveymonkey(frame: pd.DataFrame, info) -> bool:
    """Row 2 is SurveyMonkey's second header row: blank under the respondent columns, and either
    the tool's own column names or its ``Response`` sub-headers."""
    first = [_cell(v) for v in frame.iloc[0]]
    if first[0]:
        return False
    names = [normalise_text(c) for c in frame.columns]
    return ("collector id" in names and "respondent id" in names) or any(
        normalise_text(v) in SURVEYMONKEY_SUBHEADERS for v in first)


def _surveymonkey_names(frame: pd.DataFrame, info) -> tuple[list[str], dict[str, str]]:
    """``Question - statement`` for matrix columns (the question carried over blank header cells),
    the question alone over ``Response``; the statement is an alternative header for matching."""
    names, alternative, question = [], {}, ""
    for header, sub in zip(frame.columns, (_cell(v) for v in frame.iloc[0]), strict=True):
        if header not in info.blank_headers:
            question = header
        if not sub or normalise_text(sub) in SURVEYMONKEY_SUBHEADERS:
            name = question if header not in info.blank_headers else f"{question} - {sub or header}"
        else:
            name = f"{question} - {sub}"
            alternative[name] = sub
        names.append(name)
    from .readers import unique_headers

    return unique_headers(names, info.path), alternative


# The columns each tool writes first, in order (by name, or by LimeSurvey's code).
_TOOL_SIGNS = (
    ("LimeSurvey", ("id", "submitdate", "lastpage")),
    ("MS Forms", ("id", "start time", "completion time")),
    ("Google Forms", ("timestamp",)),
)


def tool_of(headers: list[str]) -> str | None:
    """The survey tool whose columns these are, when its first columns show it (else None)."""
    for tool, signs in _TOOL_SIGNS:
        first = headers[:len(signs)]
        if len(first) == len(signs) and all(sign in (normalise_text(h), code_of(h))
                                            for sign, h in zip(signs, first, strict=True)):
            return tool
    return None


_CODE_TEXT = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*(?:\[[^\]]+\])?)\.\s+\S")


def code_of(header: str) -> str:
    """LimeSurvey's ``code. Question text`` heading: the code (lower case), else ''."""
    m = _CODE_TEXT.match(str(header))
    return m.group(1).casefold() if m else ""


def text_of(header: str) -> str:
    """LimeSurvey's ``code. Question text`` heading: the text, else the header itself."""
    m = _CODE_TEXT.match(str(header))
    return str(header)[m.end() - 1:].strip() if m else str(header)


# ---------------------------------------------------------------------------------------------
# Responses to set aside


@dataclass(frozen=True)
class SetAside:
    """Rows the survey tool marks as not real responses: the reason and the column that says so."""

    reasons: np.ndarray  # per row: "", "preview", "spam" or "unfinished"
    columns: np.ndarray  # per row: the column that says so
    values: np.ndarray  # per row: its value


def set_aside(frame: pd.DataFrame, tool: str | None, alternative: dict[str, str]) -> SetAside | None:
    """Preview, test and spam responses and unfinished ones, from the tool's own columns."""
    if tool not in ("Qualtrics", "LimeSurvey"):
        return None  # no other tool exports responses that are not real ones
    n = len(frame)
    reasons = np.full(n, "", dtype=object)
    columns = np.full(n, "", dtype=object)
    values = np.full(n, None, dtype=object)

    def mark(column: str, verdicts) -> None:
        raw = frame[column].to_numpy(dtype=object)
        for k, verdict in enumerate(verdicts):
            if verdict and not reasons[k]:
                reasons[k], columns[k], values[k] = verdict, column, raw[k]

    if tool == "Qualtrics":
        by_name = {normalise_text(c): c for c in frame.columns}
        by_text = {normalise_text(t): c for c, t in alternative.items()}
        status = by_name.get("status") or by_text.get("response type")
        channel = by_name.get("distributionchannel") or by_text.get("distribution channel")
        finished = by_name.get("finished") or by_text.get("finished")
        if status:
            mark(status, map(_qualtrics_status, frame[status].to_numpy(dtype=object)))
        if channel:
            mark(channel, ("preview" if normalise_text(_cell(v)) in ("preview", "test") else ""
                           for v in frame[channel].to_numpy(dtype=object)))
        if finished:
            mark(finished, ("unfinished" if normalise_text(_cell(v)) in ("false", "0", "no") else ""
                            for v in frame[finished].to_numpy(dtype=object)))
    elif tool == "LimeSurvey":
        submitted = next((c for c in frame.columns if code_of(c) == "submitdate"
                          or normalise_text(c) == "submitdate"), None)
        if submitted:
            blank = frame[submitted].isna().to_numpy() | (frame[submitted].astype(str).str.strip() == "").to_numpy()
            mark(submitted, ("unfinished" if b else "" for b in blank))
    if not reasons.any():
        return None
    return SetAside(reasons, columns, values)


def _qualtrics_status(value) -> str:
    """Qualtrics' Response Type: 0 IP Address, 1 Survey Preview, 2 Survey Test, 4 Imported, 8 Spam,
    9 Survey Preview Spam, 12 Imported Spam, 16 Offline, 17 Offline Survey Preview, ... (bits)."""
    text = normalise_text(_cell(value))
    if not text:
        return ""
    try:
        code = int(float(text))
    except ValueError:
        return "preview" if ("preview" in text or "test" in text) else "spam" if "spam" in text else ""
    return "preview" if code & 3 else "spam" if code & 8 else ""
