"""A blank response sheet to send to respondents (``pmo-maturity template``).

The XLSX workbook has an *Instructions* sheet (title, instructions, the scale, privacy), a
*Responses* sheet with one row per respondent, headers ``INS1. <statement>`` that the loader
recognises, and drop-down validation of the scale labels (plus the don't-know labels) on every
answer cell and of the roles on the role column; and an *Items* sheet listing the statements by
dimension. The CSV template carries the same header row.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import ConfigurationError, OutputError
from .export import neutralise
from .questionnaire import Questionnaire, load_questionnaire

META_HEADERS = ("Respondent ID", "Business unit", "Role", "Submitted at")
COMMENT_HEADER = "Comment"


def item_header(item_id: str, text: str) -> str:
    """The column header of an item in the template: ``INS1. <statement>``."""
    return f"{item_id}. {text}"


def template_headers(questionnaire: Questionnaire) -> list[str]:
    return [*META_HEADERS, *(item_header(i.id, i.text) for i in questionnaire.items), COMMENT_HEADER]


def write_template(path: str | Path, questionnaire: Questionnaire | None = None, *, rows: int = 500) -> Path:
    """Write a blank response sheet as XLSX (with drop-downs) or CSV (headers only).

    Parameters
    ----------
    path : str or Path
        ``.xlsx`` or ``.csv``.
    questionnaire : Questionnaire, optional
        Default: the bundled instrument.
    rows : int
        Number of respondent rows prepared with drop-downs in the XLSX sheet.
    """
    q = questionnaire or load_questionnaire()
    path = Path(path)
    headers = template_headers(q)
    if path.suffix.lower() == ".csv":
        from .export import write_csv

        return write_csv(pd.DataFrame(columns=headers), path)
    if path.suffix.lower() != ".xlsx":
        raise ConfigurationError(f"{path}: a template is written as .xlsx or .csv; got {path.suffix or 'no suffix'!r}")
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    info = wb.active
    info.title = "Instructions"
    lines = [
        (q.title, Font(bold=True, size=14)),
        (f"Questionnaire {q.id}, version {q.version}", Font(italic=True)),
        ("", None),
        (q.description, None),
        ("", None),
        (q.instructions or "For each statement, choose how far you agree, based on your own experience.", None),
        ("", None),
        ("Answer scale", Font(bold=True)),
    ]
    answer_labels = list(q.scale.labels or [str(v) for v in range(q.scale.min, q.scale.max + 1)])
    for value in range(q.scale.min, q.scale.max + 1):
        lines.append((f"{value} = {q.scale.label_of(value)}", None))
    lines.append((f"If you do not know or it does not apply: {', '.join(q.scale.na_labels)}", None))
    lines += [("", None), ("Fill in one row per respondent on the 'Responses' sheet; the drop-downs show the "
                          "allowed answers.", None),
              ("Results are only reported for groups of at least 5 people; comments only for groups of at least "
               "10, without names.", None)]
    for r, (text, font) in enumerate(lines, start=1):
        cell = info.cell(row=r, column=1, value=neutralise(text))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if font is not None:
            cell.font = font
    info.column_dimensions["A"].width = 110

    sheet = wb.create_sheet("Responses")
    header_fill = PatternFill("solid", fgColor="DDE6F0")
    for c, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=c, value=neutralise(header))
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(c)].width = 16 if c <= len(META_HEADERS) else 28
    sheet.row_dimensions[1].height = 120
    sheet.freeze_panes = sheet.cell(row=2, column=len(META_HEADERS) + 1)

    lists = wb.create_sheet("Lists")
    choices = answer_labels + list(q.scale.na_labels)
    for r, label in enumerate(choices, start=1):
        lists.cell(row=r, column=1, value=neutralise(label))
    for r, role in enumerate(q.roles, start=1):
        lists.cell(row=r, column=2, value=neutralise(role))
    lists.sheet_state = "hidden"

    first_item = len(META_HEADERS) + 1
    last_item = len(META_HEADERS) + len(q.items)
    answers = DataValidation(type="list", formula1=f"=Lists!$A$1:$A${len(choices)}", allow_blank=True,
                             showErrorMessage=True, errorTitle="Not an allowed answer",
                             error="Choose an answer from the list.")
    answers.add(f"{get_column_letter(first_item)}2:{get_column_letter(last_item)}{rows + 1}")
    sheet.add_data_validation(answers)
    if q.roles:
        roles = DataValidation(type="list", formula1=f"=Lists!$B$1:$B${len(q.roles)}", allow_blank=True,
                               showErrorMessage=True, error="Choose a role from the list.")
        roles.add(f"C2:C{rows + 1}")
        sheet.add_data_validation(roles)

    items = wb.create_sheet("Items")
    items.append(["Item", "Dimension", "Statement"])
    for d in q.dimensions:
        for item in d.items:
            items.append([item.id, neutralise(d.name), neutralise(item.text)])
    items.column_dimensions["B"].width = 40
    items.column_dimensions["C"].width = 100
    wb.active = 1
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(tmp)
        tmp.replace(path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise OutputError(path, f"cannot be written: {err.strerror or err}") from err
    return path


def fill_template(template: str | Path, frame: pd.DataFrame, path: str | Path,
                  questionnaire: Questionnaire | None = None) -> Path:
    """Fill a template workbook with answers (as labels), keeping its validation; for round trips.

    ``frame`` has the canonical sample columns (``respondent_id, business_unit, role,
    submitted_at``, item ids, ``comment``), as :func:`pmo_maturity.sample.generate_sample` makes.
    """
    from openpyxl import load_workbook

    q = questionnaire or load_questionnaire()
    wb = load_workbook(template)
    sheet = wb["Responses"]
    meta = ["respondent_id", "business_unit", "role", "submitted_at"]
    for r, (_, row) in enumerate(frame.iterrows(), start=2):
        values = [row.get(m) for m in meta]
        values[3] = pd.Timestamp(values[3]).strftime("%Y-%m-%d %H:%M:%S") if pd.notna(values[3]) else None
        for item in q.item_ids:
            value = row[item]
            if isinstance(value, (int, float)) and pd.notna(value) and float(value).is_integer() \
                    and q.scale.min <= value <= q.scale.max:
                value = q.scale.label_of(int(value))
            values.append(None if value is None or (isinstance(value, float) and pd.isna(value)) else value)
        values.append(row.get("comment") or None)
        for c, value in enumerate(values, start=1):
            sheet.cell(row=r, column=c, value=neutralise(value) if isinstance(value, str) else value)
    path = Path(path)
    wb.save(path)
    return path
