"""Reading XLSX workbooks cell by cell, so that nothing a spreadsheet holds is silently lost.

pandas' reader turns a formula error (``#DIV/0!``, ``#N/A``) and a formula saved without its value
into a blank cell, and a ``TRUE`` beside numbers into ``1``. This reader keeps what each cell is:
numbers, text, dates and booleans as they are, a formula error as :class:`CellError` and a formula
whose value the workbook does not store as :class:`Uncomputed` (both are text, showing the error or
the formula), so that the loader can quarantine such answers with their own reasons.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass


class CellError(str):
    """A formula that evaluated to an error (the error's text, such as ``#DIV/0!``)."""

    __slots__ = ()


class Uncomputed(str):
    """A formula cell whose value the workbook does not store (the formula, such as ``=A2+1``): the
    file was saved by a program that does not calculate."""

    __slots__ = ()


@dataclass
class Sheet:
    """A sheet's header cells and data rows (trailing empty rows and columns dropped)."""

    name: str
    names: list[str]
    header: list[object]
    rows: list[list[object]]


def open_workbook(data: bytes, *, formulas: bool = False):
    """A read-only workbook (values as stored; with ``formulas``, the formulas instead)."""
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(data), read_only=True, data_only=not formulas)


def headers(data: bytes) -> dict[str, list[object]]:
    """The first row of every sheet (one pass over the workbook)."""
    book = open_workbook(data)
    try:
        out = {}
        for ws in book.worksheets:
            ws.reset_dimensions()  # some writers store a wrong size; pandas does the same
            first = next(ws.iter_rows(max_row=1, values_only=True), ())
            out[ws.title] = list(first)
        return out
    finally:
        book.close()


def read_sheet(data: bytes, name: str, *, header_only: bool = False) -> Sheet:
    """The cells of one sheet: header (first row) and data rows, each cell as the workbook holds it."""
    book = open_workbook(data)
    try:
        ws = book[name]
        ws.reset_dimensions()
        rows = [[_value(cell) for cell in row] for row in ws.iter_rows(max_row=1 if header_only else None)]
    finally:
        book.close()
    if not header_only and _has_formulas(data):
        _mark_uncomputed(data, name, rows)
    while rows and not any(v is not None for v in rows[-1]):
        rows.pop()  # formatted but empty rows below the data are not rows
    header = rows[0] if rows else []
    body = rows[1:]
    width = max([len(header), *(len(r) for r in body)]) if rows else 0
    while width and (width > len(header) or header[width - 1] is None) and not any(
            len(r) >= width and r[width - 1] is not None for r in body):
        width -= 1  # trailing columns with neither a header nor a value
    header = (list(header) + [None] * width)[:width]
    body = [(r + [None] * (width - len(r)))[:width] for r in body]
    return Sheet(name, [str(h) for h in header], header, body)


def _value(cell) -> object:
    kind = getattr(cell, "data_type", None)
    if kind == "e":
        return CellError(cell.value)
    return cell.value


def _has_formulas(data: bytes) -> bool:
    """Whether any worksheet of the workbook holds a formula (cheap: the XML is searched, not parsed)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in z.namelist()
                       if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    except (zipfile.BadZipFile, KeyError, OSError):
        return False


def _mark_uncomputed(data: bytes, name: str, rows: list[list[object]]) -> None:
    """Cells read as blank that hold a formula become :class:`Uncomputed` (a second pass)."""
    book = open_workbook(data, formulas=True)
    try:
        ws = book[name]
        ws.reset_dimensions()
        for values, cells in zip(rows, ws.iter_rows(), strict=False):
            for j, cell in enumerate(cells):
                if j < len(values) and values[j] is None and getattr(cell, "data_type", None) == "f":
                    values[j] = Uncomputed(str(cell.value))
    finally:
        book.close()
