"""Reading survey exports: CSV in any common encoding and delimiter, XLSX, or a DataFrame.

The reader's only job is to turn a file into a table of raw cells and to say, for each data row,
which row of the spreadsheet it was (header = row 1). Nothing is dropped here: blank lines become
empty rows that the loader quarantines, and lines that cannot be split into the header's fields are
reported with their row numbers (:mod:`pmo_maturity._csv_exact`).

CSV files are read by Arrow's parser when they are clean, which a few cheap checks establish
after the parse (no column of undecodable bytes, no value whose line breaks hold whole rows, no
answer read as a non-finite number); otherwise by the exact path, line by line. A survey tool's
extra header rows are handled by :mod:`pmo_maturity.layouts`.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import _csv_exact, _xlsx
from ._scan import Done, column_extremes
from .errors import ResponsesError
from .layouts import apply_layout

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
DELIMITERS = (",", ";", "\t", "|")
_SEP_LINE = re.compile(r"^sep=(.)\s*$")  # Excel's first line naming the delimiter


@dataclass
class SourceInfo:
    """Where a table came from and how it was read."""

    path: str
    format: str
    sha256: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_rows: int = 1
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (row, detail)
    integer_columns: set[str] = field(default_factory=set)  # typed as whole numbers by the parser
    alternative_headers: dict[str, str] = field(default_factory=dict)  # column -> question text
    blank_headers: set[str] = field(default_factory=set)  # names given to columns without a header
    tool: str | None = None  # the survey tool whose layout this is (Qualtrics, SurveyMonkey, ...)
    # (row, column, warning code, value, detail): rows decoded in another encoding, bytes replaced
    warnings: list[tuple[int, str, str, object, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass
class RawTable:
    """Raw cells and the spreadsheet row number of each data row."""

    frame: pd.DataFrame
    rows: np.ndarray
    info: SourceInfo


def sniff_encoding(data: bytes, *, full: bool = False) -> str:
    """BOM first, then UTF-8 if the bytes decode, else Windows-1252 (the Excel-on-Windows default).

    Only the first 64 KB are tried unless ``full``: the CSV parser validates UTF-8 itself, and a
    file that turns out not to be UTF-8 further on is decoded row by row.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data if full else data[:65536]
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as err:
        if not full and err.start >= len(sample) - 4:  # a character cut at the end of the sample
            return "utf-8"
    return "cp1252"


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header line into the most fields (quotes respected)."""
    best, best_count = ",", 1
    for delim in DELIMITERS:
        count = len(next(csv.reader([header_line], delimiter=delim), []))
        if count > best_count:
            best, best_count = delim, count
    return best


def peek_header(path: Path, *, encoding: str | None = None, delimiter: str | None = None,
                sheet: str | int | None = None) -> list[str]:
    """Column headers of a file without reading its body (used to decide column types)."""
    table = read_table(path, encoding=encoding, delimiter=delimiter, sheet=sheet, header_only=True)
    return [str(c) for c in table.frame.columns]


def read_table(source: str | Path | pd.DataFrame, *, encoding: str | None = None,
               delimiter: str | None = None, sheet: str | int | None = None,
               text_columns: set[str] | None = None, answer_columns: set[str] | None = None,
               header_only: bool = False) -> RawTable:
    """Read a CSV/XLSX file (or take a DataFrame) into raw cells with spreadsheet row numbers.

    ``text_columns`` are read as text (identifiers such as ``00123`` keep their zeros); other
    columns keep the types the file gives them (numbers stay numbers). Those of
    ``answer_columns`` that a CSV parser types as whole numbers stay Arrow arrays
    (``pd.ArrowDtype``): the answer scan converts them once, straight into the answer matrix.
    ``encoding`` and ``delimiter`` are checked already (:class:`~pmo_maturity.LoadOptions`).
    """
    if isinstance(source, pd.DataFrame):
        frame = source.reset_index(drop=True).copy()
        frame.columns = [str(c) for c in frame.columns]
        digest = hashlib.sha256(pd.util.hash_pandas_object(frame.astype(str), index=False).values.tobytes())
        info = SourceInfo(path="<DataFrame>", format="frame", sha256=digest.hexdigest())
        return RawTable(frame, np.arange(2, len(frame) + 2), info)
    path = Path(source)
    if not path.exists():
        raise ResponsesError(path, "file not found")
    if path.is_dir():
        raise ResponsesError(path, "is a folder, not a response file")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise ResponsesError(path, "old .xls workbooks are not supported; save it as .xlsx or .csv")
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError as err:
        raise ResponsesError(path, f"cannot be read: {err.strerror or err}") from err
    if suffix in EXCEL_SUFFIXES or head[:4] == b"PK\x03\x04":
        return _read_excel(path, sheet, text_columns, header_only)
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ResponsesError(path, "is an old .xls workbook (or another Office file); save it as .xlsx or .csv")
    return _read_csv(path, _Content(path, head), encoding, delimiter, text_columns, answer_columns, header_only)


class _Content:
    """A CSV file's first 64 KB, and its whole bytes only when a slower path needs them: the fast
    parser reads the file itself (overlapping disk reads with parsing)."""

    def __init__(self, path: Path, head: bytes):
        self.path, self.head, self._whole = path, head, None

    def whole(self) -> bytes:
        if self._whole is None:
            try:
                self._whole = self.path.read_bytes()
            except OSError as err:
                raise ResponsesError(self.path, f"cannot be read: {err.strerror or err}") from err
        return self._whole


def _file_sha256(path: Path) -> str:
    # Read through hashlib's reused buffer, not a memory map: a file that shrinks (or a network
    # share that fails) under a map kills the process with SIGBUS instead of raising an error.
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as err:
        raise ResponsesError(path, f"cannot be read: {err.strerror or err}") from err


def _read_csv(path, content: _Content, encoding, delimiter, text_columns, answer_columns, header_only) -> RawTable:
    # The hash (for provenance) runs in a thread while the file is parsed: hashlib releases the GIL.
    # A file that fits in the first read (64 KB) is hashed at once: a thread costs more.
    if header_only or len(content.head) < 65536:
        digest_future = Done(hashlib.sha256(content.head).hexdigest())
    else:
        hashing = ThreadPoolExecutor(max_workers=1)
        digest_future = hashing.submit(_file_sha256, path)
        hashing.shutdown(wait=False)
    try:
        return _parse_csv(path, content, encoding, delimiter, text_columns, answer_columns, header_only,
                          digest_future)
    finally:
        digest_future.exception()  # wait for the thread (a read error shows up in the parse)


# Control characters that text files do not hold (all but tab, line feed and carriage return).
_CONTROL = np.zeros(256, dtype=bool)
_CONTROL[[*range(0, 9), 11, 12, *range(14, 32), 127]] = True


def _binary(head: bytes) -> bool:
    """More than one byte in twenty a control character (and no UTF-16 byte-order mark): not text."""
    if not head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return int(_CONTROL[np.frombuffer(head, dtype=np.uint8)].sum()) > len(head) // 20


@dataclass
class _Plan:
    """How a CSV file is to be read: encoding, delimiter, lines before the header, header."""

    encoding: str
    given: bool  # the encoding was given, or declared by a byte-order mark: no guessing per row
    delimiter: str
    skip: int  # lines before the header (Excel's "sep=;" line)
    header: list[str]


def _parse_csv(path, content: _Content, encoding, delimiter, text_columns, answer_columns, header_only,
               digest_future) -> RawTable:
    data = content.head
    if not data.strip() and (len(data) < 65536 or not content.whole().strip()):
        raise ResponsesError(path, "the file is empty")
    if _binary(data[:4096]):
        raise ResponsesError(path, "looks like a binary file, not CSV text (expected a CSV or XLSX export)")
    plan = _plan(path, data, encoding, delimiter)
    info = SourceInfo(path=str(path), format="csv", sha256="", encoding=plan.encoding, delimiter=plan.delimiter)
    header = unique_headers(plan.header, path, info)
    if header_only:
        return RawTable(pd.DataFrame(columns=header), np.array([], int), info)
    if plan.encoding == "cp1252" and not plan.given:
        # A head that is not UTF-8: the whole file says whether it is Windows-1252 throughout, or
        # UTF-8 with some rows in Windows-1252 (decoded row by row by the exact path).
        plan.encoding = info.encoding = _csv_exact.whole_file_encoding(content.whole())
        mixed = plan.encoding == "utf-8"
    else:
        mixed = False
    simple_header = not any("\n" in h or "\r" in h for h in header) and not mixed
    frame = None
    if simple_header:
        columns = (text_columns, answer_columns, _small_whole_numbers(data, plan, header, answer_columns))
        frame = _read_csv_arrow(str(path), plan, header, columns, info)
        if frame is None and not plan.given and plan.encoding == "utf-8":
            # Not UTF-8 after the first 64 KB: Windows-1252 throughout (the fast parser again), or
            # mixed (the exact path).
            whole = content.whole()
            try:
                whole.decode("utf-8")
            except UnicodeDecodeError:
                if _csv_exact.whole_file_encoding(whole) == "cp1252":
                    plan.encoding = info.encoding = "cp1252"
                    frame = _read_csv_arrow(whole, plan, header, columns, info)
    if frame is None:
        frame, rows = _read_csv_records(path, content.whole(), plan, info)
    else:
        rows = np.arange(2, len(frame) + 2)
    info.sha256 = digest_future.result()
    frame, rows = apply_layout(frame, rows, info)
    return RawTable(frame, rows, info)


def _plan(path, data: bytes, encoding, delimiter) -> _Plan:
    enc = encoding or sniff_encoding(data)
    given = encoding is not None or enc in ("utf-8-sig", "utf-16")
    try:
        head_text = data.decode(enc, errors="replace")
    except LookupError as err:
        raise ResponsesError(path, f"unknown encoding {enc!r}") from err
    head_text = head_text.lstrip("\ufeff")
    skip = 0
    sep = _SEP_LINE.match(_first_line(head_text))
    if sep:
        delimiter = delimiter or sep.group(1)
        rest = head_text[len(_first_line(head_text)):]
        head_text = rest[2:] if rest.startswith("\r\n") else rest[1:]
        skip = 1
    delim = delimiter or sniff_delimiter(_first_line(head_text))
    header = next(csv.reader(io.StringIO(head_text, newline=""), delimiter=delim), [])
    return _Plan(enc, given, delim, skip, header)


def _first_line(text: str) -> str:
    return re.match(r"[^\r\n]*", text).group(0)


def _small_whole_numbers(head: bytes, plan: _Plan, names, answer_columns) -> set[str]:
    """Answer columns whose cells in the file's first 64 KB are all whole numbers from -128 to
    127 (or blank): the parser is asked for 8-bit integers there, an eighth of the memory of its
    default 64-bit ones, and falls back to its own types if a later cell does not fit."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    wanted = [c for c in names if c in (answer_columns or ())]
    end = head.rfind(b"\n")
    if not wanted or end <= 0:
        return set()
    try:
        sample = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(head[:end + 1])),
            read_options=pacsv.ReadOptions(encoding=_arrow_encoding(plan.encoding), column_names=names,
                                           skip_rows=1 + plan.skip),
            parse_options=pacsv.ParseOptions(delimiter=plan.delimiter),
            convert_options=pacsv.ConvertOptions(include_columns=wanted, null_values=[""], true_values=[],
                                                 false_values=[]))
    except (pa.ArrowInvalid, UnicodeDecodeError):  # e.g. a quoted line break: no guess, the parser's own types
        return set()
    small = set()
    for name in wanted:
        column = sample.column(name)
        if pa.types.is_integer(column.type):
            lo, hi = column_extremes(column)
            if -128 <= lo and hi <= 127:  # False when every cell is blank (NaN)
                small.add(name)
    return small


def _read_csv_arrow(data: str | bytes, plan: _Plan, names, columns, info: SourceInfo) -> pd.DataFrame | None:
    """Fast path (pyarrow) over a file path or bytes. Returns None when the exact path must read
    the file: a malformed line, bytes that are not text in the encoding, a value whose line breaks
    hold rows of their own (a stray quote), an answer read as a non-finite number ("nan", "inf").
    ``columns`` is (text columns, answer columns, answer columns to read as 8-bit integers)."""
    text_columns, answer_columns, small = columns
    import pyarrow as pa
    import pyarrow.csv as pacsv

    text_types = {c: pa.string() for c in names if text_columns and c in text_columns}
    table = None
    # Always quote-aware block splitting: without it, a quoted line break that falls on a block
    # boundary drops that respondent's row silently (and can make a row of the rest). A cell that
    # does not fit the 8-bit guess fails the first try; the parser's own types follow. TRUE and
    # FALSE are text, never booleans (a TRUE among 1s would turn every 1 into TRUE). A line with
    # more or fewer fields than the header stops the parser: the exact path reports it.
    for answer_types in ([{c: pa.int8() for c in small}, {}] if small else [{}]):
        try:
            table = pacsv.read_csv(
                data if isinstance(data, str) else pa.BufferReader(pa.py_buffer(data)),
                read_options=pacsv.ReadOptions(encoding=_arrow_encoding(plan.encoding), block_size=1 << 22,
                                               column_names=names, skip_rows=1 + plan.skip),
                parse_options=pacsv.ParseOptions(delimiter=plan.delimiter, ignore_empty_lines=False,
                                                 newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(column_types={**text_types, **answer_types}, null_values=[""],
                                                     strings_can_be_null=True, quoted_strings_can_be_null=True,
                                                     true_values=[], false_values=[]),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError) as err:
            table = None
            if "columns" in str(err) or isinstance(err, UnicodeDecodeError):
                break  # a malformed line or undecodable bytes: no other types will do
            continue
        break
    if table is None or not _clean(table, plan, answer_columns):
        return None
    info.integer_columns = {f.name for f in table.schema if pa.types.is_integer(f.type)}
    # Whole-number answers stay Arrow arrays (no float copy of every answer column here: a million
    # rows of 40 items is 320 MB); everything else becomes the usual pandas columns.
    arrow = {name: pd.arrays.ArrowExtensionArray(table.column(name))
             for name in sorted(info.integer_columns & set(answer_columns or ()))}
    rest = table.drop_columns(list(arrow)) if arrow else table
    del table
    frame = rest.to_pandas(self_destruct=True, split_blocks=True)
    del rest
    if arrow:
        frame = pd.DataFrame({name: arrow[name] if name in arrow else frame[name] for name in names}, copy=False)
    return frame


def _clean(table, plan: _Plan, answer_columns) -> bool:
    """The cheap checks on a parsed table: what the fast parser read is what the file says."""
    import pyarrow as pa
    import pyarrow.compute as pc

    width = table.num_columns
    for name, column in zip(table.column_names, table.columns):
        kind = column.type
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            return False  # bytes that are not UTF-8 text: decoded row by row on the exact path
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            if _has_line_breaks(column):
                broken = pc.filter(column, pc.match_substring_regex(column, "[\r\n]"))
                if any(_csv_exact.looks_swallowed(v, plan.delimiter, width) for v in broken.to_pylist()):
                    return False
        elif pa.types.is_floating(kind) and answer_columns and name in answer_columns:
            if not pc.all(pc.or_kleene(pc.is_finite(column), pc.is_null(column))).as_py():
                return False  # "nan" or "inf" typed as numbers: not answers a spreadsheet would read
    return True


def _has_line_breaks(column) -> bool:
    """Whether any value of an Arrow string column holds a line break (read from its data buffers)."""
    for chunk in column.chunks:
        data = chunk.buffers()[2]
        if data is not None and len(data):
            raw = np.frombuffer(data, dtype=np.uint8)
            if (raw == 10).any() or (raw == 13).any():
                return True
    return False


def _arrow_encoding(enc: str) -> str:
    return "utf8" if enc in ("utf-8", "utf-8-sig") else enc


def _read_csv_records(path, data: bytes, plan: _Plan, info: SourceInfo) -> tuple[pd.DataFrame, np.ndarray]:
    """Exact path: every record with its spreadsheet row; malformed lines and lines in another
    encoding reported, not dropped."""
    decoded = _csv_exact.decode_lines(data, plan.encoding, mixed=not plan.given and plan.encoding == "utf-8")
    lines = decoded.lines[plan.skip:]
    trouble = {k - plan.skip: kind for k, kind in decoded.trouble.items() if k >= plan.skip}
    header, width, good, rows = None, 0, [], []
    try:
        for record, at, last in _csv_exact.split_records(lines, plan.delimiter):
            if header is None:
                header = unique_headers(record.fields, path, info)
                width = len(header)
                continue
            if record.fields is None:
                info.malformed.append((record.row, record.detail))
                continue
            fields = record.fields
            if len(fields) > width and not any(cell.strip() for cell in fields[width:]):
                fields = fields[:width]
            if len(fields) > width:
                info.malformed.append((record.row, f"{len(fields)} fields where the header has {width}"))
                continue
            fields = fields + [""] * (width - len(fields))
            kinds = {trouble[j] for j in range(at, last + 1) if j in trouble}
            for kind in sorted(kinds):
                _warn_fields(info, record.row, header, fields, kind, decoded.encoding)
            good.append(fields)
            rows.append(record.row)
    except csv.Error as err:
        raise ResponsesError(path, f"is not valid CSV: {err}") from err
    if header is None:
        raise ResponsesError(path, "the file has no header row")
    frame = pd.DataFrame(good, columns=header, dtype=object).replace({"": None})
    return frame, np.array(rows, dtype=int)


def _warn_fields(info: SourceInfo, row: int, header: list[str], fields: list[str], kind: str, encoding: str) -> None:
    """Warnings for the fields of a row that was decoded in another encoding or had bytes replaced."""
    for column, value in zip(header, fields):
        if kind == "invalid_bytes" and "\ufffd" in value:
            info.warnings.append((row, column, kind, value, f"bytes that are not {encoding} text, shown as \ufffd"))
        elif kind == "mixed_encoding" and not value.isascii():
            info.warnings.append((row, column, kind, value, "this row is in Windows-1252, the rest of the file in "
                                                            "UTF-8; read as Windows-1252"))


def _read_excel(path, sheet, text_columns, header_only) -> RawTable:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ResponsesError(path, f"cannot be read: {err.strerror or err}") from err
    try:
        sheets = list(_xlsx.headers(data))
        chosen = _sheet_name(path, sheets, sheet)
        cells = _xlsx.read_sheet(data, chosen, header_only=header_only)
    except ResponsesError:
        raise
    except Exception as err:  # openpyxl raises many types for a damaged file
        raise ResponsesError(path, f"is not a readable XLSX workbook ({type(err).__name__}: {err})") from err
    info = SourceInfo(path=str(path), format="xlsx", sha256=hashlib.sha256(data).hexdigest(), sheet=chosen)
    names = unique_headers([_cell_text(h) or "" for h in cells.header], path, info)
    frame = pd.DataFrame(cells.rows, columns=names, dtype=object) if cells.rows else pd.DataFrame(
        columns=names, dtype=object)
    if text_columns:
        for column in text_columns & set(frame.columns):
            frame[column] = frame[column].map(_cell_text)
    rows = np.arange(2, len(frame) + 2)
    if header_only:
        return RawTable(frame.iloc[:0], rows[:0], info)
    frame, rows = apply_layout(frame, rows, info)
    return RawTable(frame, rows, info)


def _sheet_name(path, sheets: list[str], sheet: str | int | None) -> str:
    if sheet is None:
        return sheets[0]
    if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in sheets):
        index = int(sheet)
        if not 0 <= index < len(sheets):
            raise ResponsesError(path, f"has no sheet number {index}; sheets are {sheets}")
        return sheets[index]
    if sheet in sheets:
        return sheet
    raise ResponsesError(path, f"has no sheet {sheet!r}; sheets are {sheets}")


def excel_headers(path: Path) -> dict[str, list[str]]:
    """The header row of every sheet of a workbook ({} when it cannot be read: the reader will say why)."""
    try:
        return {name: [_cell_text(h) or "" for h in header] for name, header in _xlsx.headers(path.read_bytes()).items()}
    except Exception:  # noqa: BLE001 - unreadable: read_table raises the clear error
        return {}


def _cell_text(value: object) -> object:
    """Excel stores ids typed as numbers: 123.0 -> '123'; blanks stay missing; a formula error or a
    formula without a stored value is missing (the loader records it)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (_xlsx.CellError, _xlsx.Uncomputed)):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def unique_headers(header: list[str], path, info: SourceInfo | None = None) -> list[str]:
    """Headers as names: blanks named ``column N`` (and remembered in ``info.blank_headers``),
    repeated names refused."""
    out, seen = [], {}
    for i, name in enumerate(header):
        name = str(name).strip()
        if not name or name.startswith("Unnamed:"):
            name = f"column {i + 1}"
            if info is not None:
                info.blank_headers.add(name)
        if name in seen:
            raise ResponsesError(path, f"column header {name!r} appears twice (columns {seen[name] + 1} "
                                       f"and {i + 1}); rename one of them")
        seen[name] = i
        out.append(name)
    return out
