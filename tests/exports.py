"""Survey-tool exports of generated answers, laid out the way each tool writes them.

Every writer takes a :class:`~pmo_maturity.sample.SampleData` and writes the same answers as
``sample.write(path, layout="ids")`` (the plain export), so that a test can check that the tool's
file scores exactly like the plain one. The layouts follow the tools' documented exports:

- SurveyMonkey: two header rows (the question in row 1 over its first column, each matrix
  statement in row 2, "Response" under single questions, "Open-Ended Response" under text ones),
  US dates with AM/PM; CSV or XLSX.
- Qualtrics: three header rows (export tags Q1, Q3_1, ...; question texts with "Question -
  statement" for matrix rows; ImportId JSON), with the Status and Finished columns; choice text or
  numeric values (recode values, "Don't know" coded 6, units and roles coded). Preview, spam and
  unfinished responses are added as the tool would export them.
- Google Forms: ``Timestamp`` in the form's time zone with a "GMT+1" suffix, grid questions as
  ``Question [statement]``.
- MS Forms: the sample's ``forms`` layout (statement headers, ID, Start time, Completion time).
- LimeSurvey: "question code & question text" headings (``id. Response ID``,
  ``G02Q01[INS1]. Question [statement]``), incomplete responses with a blank submit date.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from pmo_maturity.sample import SampleData, export_frame

MATRIX = "How far do you agree with each statement?"
UNIT_QUESTION = "Which business unit do you work in?"
ROLE_QUESTION = "What is your role?"
COMMENT_QUESTION = "Anything else you would like to tell us?"


def _labels(sample: SampleData) -> pd.DataFrame:
    """The sample with label answers (as the tools' choice-text exports give them)."""
    return export_frame(sample, layout="forms").rename(columns={
        "ID": "respondent_id", "Start time": "start_time", "Completion time": "submitted_at",
        "Business unit": "business_unit", "Role": "role", "Anything else you would like to tell us?": "comment",
        **{i.text: i.id for i in sample.questionnaire.items}}).drop(columns=["Email", "Name"])


def _text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _write_rows(path: Path, rows: list[list], *, sheet: str = "Sheet") -> Path:
    """Write rows of cells as CSV (UTF-8 with BOM, as the tools do) or XLSX (by the suffix)."""
    path = Path(path)
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = sheet
        for row in rows:
            ws.append([None if c == "" else c for c in row])
        wb.save(path)
        return path
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    return path


def surveymonkey(sample: SampleData, path: Path) -> Path:
    """SurveyMonkey "all responses data", expanded, actual answer text (CSV or XLSX)."""
    q = sample.questionnaire
    data = _labels(sample)
    meta = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address", "First Name",
            "Last Name", "Custom Data 1"]
    row1, row2 = list(meta), [""] * len(meta)
    row1 += [UNIT_QUESTION, ROLE_QUESTION]
    row2 += ["Response", "Response"]
    for d in q.dimensions:  # one matrix question per dimension: its title over the first statement only
        for k, item in enumerate(d.items):
            row1.append(f"{d.name}: {MATRIX}" if k == 0 else "")
            row2.append(item.text)
    row1.append(COMMENT_QUESTION)
    row2.append("Open-Ended Response")
    rows = [row1, row2]

    def us(t) -> str:
        return pd.Timestamp(t).strftime("%m/%d/%Y %I:%M:%S %p")

    for i, r in enumerate(data.itertuples(index=False)):
        rows.append([_text(r.respondent_id), "431275001", us(r.start_time), us(r.submitted_at),
                     f"10.0.{i // 250}.{i % 250}", "", "", "", "", _text(r.business_unit), _text(r.role),
                     *(_text(getattr(r, item)) for item in q.item_ids), _text(r.comment)])
    return _write_rows(path, rows, sheet="Sheet")


QUALTRICS_META = [("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"Europe/Zurich"}'),
                  ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"Europe/Zurich"}'),
                  ("Status", "Response Type", '{"ImportId":"status"}'),
                  ("IPAddress", "IP Address", '{"ImportId":"ipAddress"}'),
                  ("Progress", "Progress", '{"ImportId":"progress"}'),
                  ("Duration (in seconds)", "Duration (in seconds)", '{"ImportId":"duration"}'),
                  ("Finished", "Finished", '{"ImportId":"finished"}'),
                  ("RecordedDate", "Recorded Date", '{"ImportId":"recordedDate","timeZone":"Europe/Zurich"}'),
                  ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
                  ("RecipientEmail", "Recipient Email", '{"ImportId":"recipientEmail"}'),
                  ("DistributionChannel", "Distribution Channel", '{"ImportId":"distributionChannel"}'),
                  ("UserLanguage", "User Language", '{"ImportId":"userLanguage"}')]
# The responses a real export also holds: (Status, Finished, Progress) as text and as numbers.
QUALTRICS_EXTRA = {"preview": ("Survey Preview", 1, "True", 1, 100), "spam": ("Spam", 8, "True", 1, 100),
                   "test": ("Survey Test", 2, "True", 1, 100), "unfinished": ("IP Address", 0, "False", 0, 45)}


def qualtrics(sample: SampleData, path: Path, *, numeric: bool = False, extra: tuple[str, ...] = tuple(QUALTRICS_EXTRA)
              ) -> Path:
    """Qualtrics "Download data table" CSV: choice text, or numeric values with ``numeric``.

    ``extra`` adds one response per kind (preview, spam, test, unfinished) after the real ones,
    with answers of their own, as the tool exports them unless filtered.
    """
    q = sample.questionnaire
    data = _labels(sample)
    plain = export_frame(sample, layout="ids")
    units = sorted(set(plain["business_unit"].dropna()) - {""})
    roles = sorted(set(plain["role"].dropna()))
    tags, texts, imports = (list(x) for x in zip(*QUALTRICS_META, strict=True))
    tags += ["Q1", "Q2"]
    texts += [UNIT_QUESTION, ROLE_QUESTION]
    imports += ['{"ImportId":"QID1"}', '{"ImportId":"QID2"}']
    for n, d in enumerate(q.dimensions, start=3):
        for k, item in enumerate(d.items, start=1):
            tags.append(f"Q{n}_{k}")
            texts.append(f"{d.name}: {MATRIX} - {item.text}")
            imports.append(f'{{"ImportId":"QID{n}_{k}"}}')
    tags.append(f"Q{len(q.dimensions) + 3}")
    texts.append(COMMENT_QUESTION)
    imports.append(f'{{"ImportId":"QID{len(q.dimensions) + 3}_TEXT"}}')
    rows = [tags, texts, imports]
    scale = q.scale
    dont_know = scale.max + 1

    def answer(label, number):
        if not numeric:
            return _text(label)
        return str(dont_know) if label == scale.na_labels[0] else _text(number)  # Don't know is the 6th choice

    def row(r, p, status, finished, progress, rid):
        start, end = pd.Timestamp(r.start_time), pd.Timestamp(r.submitted_at)
        unit = _text(r.business_unit)
        role = _text(r.role)
        if numeric:
            unit = str(units.index(unit) + 1) if unit in units else unit
            role = str(roles.index(role) + 1) if role in roles else role
        return [start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S"), str(status),
                "192.0.2.10", str(progress), str(int((end - start).total_seconds())), str(finished),
                end.strftime("%Y-%m-%d %H:%M:%S"), rid, "", "anonymous", "EN", unit, role,
                *(answer(getattr(r, i), getattr(p, i)) for i in q.item_ids), _text(r.comment)]

    for r, p in zip(data.itertuples(index=False), plain.itertuples(index=False), strict=True):
        rows.append(row(r, p, 0 if numeric else "IP Address", 1 if numeric else "True", 100, _text(r.respondent_id)))
    for k, kind in enumerate(extra):
        text_status, code, finished_text, finished_code, progress = QUALTRICS_EXTRA[kind]
        r, p = next(data.iloc[[k]].itertuples(index=False)), next(plain.iloc[[k]].itertuples(index=False))
        rows.append(row(r, p, code if numeric else text_status, finished_code if numeric else finished_text, progress,
                        f"R_{kind}{k}"))
    return _write_rows(path, rows)


def qualtrics_mapping(sample: SampleData, path: Path) -> Path:
    """The mapping file a numeric Qualtrics export needs: the don't-know code and the unit and role codes."""
    plain = export_frame(sample, layout="ids")
    units = sorted(set(plain["business_unit"].dropna()) - {""})
    roles = sorted(set(plain["role"].dropna()))
    text = {"na_codes": [sample.questionnaire.scale.max + 1],
            "values": {"unit": {i + 1: u for i, u in enumerate(units)},
                       "role": {i + 1: r for i, r in enumerate(roles)}}}
    Path(path).write_text("# Qualtrics numeric export of the PMO survey\n" + json.dumps(text, ensure_ascii=False,
                                                                                         indent=2), encoding="utf-8")
    return Path(path)


def google_forms(sample: SampleData, path: Path, *, offset_hours: int = 1) -> Path:
    """Google Forms "Download responses (.csv)": a Timestamp in the form's zone, e.g. ``2026/10/05
    9:00:00 AM GMT+1`` for 08:00 UTC, and grid questions as ``Question [statement]``."""
    frame = export_frame(sample, layout="google")
    zone = f"GMT{offset_hours:+d}" if offset_hours else "GMT"

    def stamp(t) -> str:
        local = pd.Timestamp(t) + pd.Timedelta(hours=offset_hours)
        return local.strftime("%Y/%m/%d ") + local.strftime("%I:%M:%S %p").lstrip("0") + f" {zone}"

    frame["Timestamp"] = frame["Timestamp"].map(stamp)
    rows = [list(frame.columns), *([_text(v) for v in r] for r in frame.itertuples(index=False))]
    return _write_rows(path, rows)


def ms_forms(sample: SampleData, path: Path) -> Path:
    """MS Forms "Open in Excel" export (XLSX), or the same columns as CSV."""
    return sample.write(path, layout="forms")


LIME_META = [("id", "Response ID"), ("submitdate", "Date submitted"), ("lastpage", "Last page"),
             ("startlanguage", "Start language"), ("seed", "Seed"), ("startdate", "Date started"),
             ("datestamp", "Date last action")]


def limesurvey(sample: SampleData, path: Path, *, incomplete: int = 2) -> Path:
    """LimeSurvey CSV export, "question code & question text" headings, full answers; ``incomplete``
    responses (blank submit date, an earlier last page) added after the complete ones."""
    q = sample.questionnaire
    data = _labels(sample)
    header = [f"{code}. {text}" for code, text in LIME_META]
    header += [f"BU. {UNIT_QUESTION}", f"ROLE. {ROLE_QUESTION}"]
    for n, d in enumerate(q.dimensions, start=1):
        header += [f"G02Q{n:02d}[{item.id}]. {MATRIX} [{item.text}]" for item in d.items]
    header.append(f"G03Q01. {COMMENT_QUESTION}")
    pages = len(q.dimensions) + 2
    rows = [header]

    def row(r, rid, submitted, lastpage):
        start, end = pd.Timestamp(r.start_time), pd.Timestamp(r.submitted_at)
        return [rid, end.strftime("%Y-%m-%d %H:%M:%S") if submitted else "", str(lastpage), "en", "1234567",
                start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S"), _text(r.business_unit),
                _text(r.role), *(_text(getattr(r, i)) for i in q.item_ids), _text(r.comment)]

    for r in data.itertuples(index=False):
        rows.append(row(r, _text(r.respondent_id), True, pages))
    for k in range(incomplete):
        rows.append(row(next(data.iloc[[k]].itertuples(index=False)), f"incomplete-{k}", False, 3))
    return _write_rows(path, rows)


TOOLS = {
    "surveymonkey_csv": (lambda s, p: surveymonkey(s, p / "surveymonkey.csv"), {}),
    "surveymonkey_xlsx": (lambda s, p: surveymonkey(s, p / "surveymonkey.xlsx"), {}),
    "qualtrics_text": (lambda s, p: qualtrics(s, p / "qualtrics.csv"), {}),
    "qualtrics_numeric": (lambda s, p: qualtrics(s, p / "qualtrics_numeric.csv", numeric=True),
                          {"mapping_file": "qualtrics_mapping.yaml"}),
    "google_forms": (lambda s, p: google_forms(s, p / "google.csv"), {}),
    "ms_forms_xlsx": (lambda s, p: ms_forms(s, p / "forms.xlsx"), {}),
    "ms_forms_csv": (lambda s, p: ms_forms(s, p / "forms.csv"), {}),
    "limesurvey": (lambda s, p: limesurvey(s, p / "limesurvey.csv"), {}),
}
# Rows each tool's file holds beyond the plain export's, and the reason they are set aside with.
TOOL_EXTRA_REASONS = {
    "qualtrics_text": {"preview": 2, "spam": 1, "unfinished": 1},
    "qualtrics_numeric": {"preview": 2, "spam": 1, "unfinished": 1},
    "limesurvey": {"unfinished": 2},
}
