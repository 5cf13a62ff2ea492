"""Reading survey exports: CSV in any common encoding and delimiter, XLSX, or a DataFrame.

The reader's only job is to turn a file into a table of raw cells and to say, for each data row,
which row of the spreadsheet it was (header = row 1). Nothing is dropped here: blank lines become
empty rows that the loader quarantines, and a file with malformed lines (too many fields) is read
again record by record so that each malformed line is reported with its row number.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._scan import column_extremes
from .errors import ResponsesError

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
DELIMITERS = (",", ";", "\t", "|")


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

    Only the first 64 KB are tried unless ``full``: the CSV parser validates UTF-8 itself, and the
    reader sniffs the whole file again if it fails.
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
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


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
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, sheet, text_columns, header_only)
    if suffix == ".xls":
        raise ResponsesError(path, "old .xls workbooks are not supported; save it as .xlsx or .csv")
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError as err:
        raise ResponsesError(path, f"cannot be read: {err.strerror or err}") from err
    if head[:4] == b"PK\x03\x04":
        return _read_excel(path, sheet, text_columns, header_only)
    return _read_csv(path, _Content(path, head), encoding, _delimiter(delimiter, path), text_columns, answer_columns,
                     header_only)


_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def _delimiter(delimiter: str | None, path: Path) -> str | None:
    """The delimiter asked for: one character, or a name such as ``tab`` (None: detect it)."""
    if delimiter is None:
        return None
    delimiter = _DELIMITER_NAMES.get(str(delimiter).lower(), delimiter)
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ResponsesError(path, f"the delimiter must be one character (such as ',', ';', '|' or 'tab'); "
                                   f"got {delimiter!r}")
    return delimiter


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
    hashing = ThreadPoolExecutor(max_workers=1)
    if header_only:  # only the headers are wanted: hash what was read
        digest_future = hashing.submit(lambda: hashlib.sha256(content.head).hexdigest())
    else:
        digest_future = hashing.submit(_file_sha256, path)
    hashing.shutdown(wait=False)
    try:
        return _parse_csv(path, content, encoding, delimiter, text_columns, answer_columns, header_only,
                          digest_future)
    finally:
        digest_future.exception()  # wait for the thread (a read error shows up in the parse)


def _parse_csv(path, content: _Content, encoding, delimiter, text_columns, answer_columns, header_only,
               digest_future) -> RawTable:
    data = content.head
    if not data.strip() and (len(data) < 65536 or not content.whole().strip()):
        raise ResponsesError(path, "the file is empty")
    head = data[:4096]
    if head.count(b"\x00") > len(head) // 20 and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ResponsesError(path, "looks like a binary file, not CSV text (expected a CSV or XLSX export)")
    enc = encoding or sniff_encoding(data)
    try:
        head_text = data.decode(enc, errors="replace")
    except LookupError as err:
        raise ResponsesError(path, f"unknown encoding {enc!r}") from err
    head_text = head_text.lstrip("\ufeff")
    header_line = head_text.splitlines()[0] if head_text.splitlines() else ""
    delim = delimiter or sniff_delimiter(header_line)
    info = SourceInfo(path=str(path), format="csv", sha256="", encoding=enc, delimiter=delim)
    header = _unique_headers(next(csv.reader(io.StringIO(head_text, newline=""), delimiter=delim), []), path)
    if header_only:
        return RawTable(pd.DataFrame(columns=header), np.array([], int), info)
    simple_header = not any("\n" in h or "\r" in h for h in header)
    columns = (text_columns, answer_columns,
               _small_whole_numbers(data, enc, delim, header, answer_columns) if simple_header else set())
    frame = _read_csv_arrow(str(path), enc, delim, header, columns, info) if simple_header else None
    if frame is None and encoding is None:
        whole = sniff_encoding(content.whole(), full=True)  # a non-UTF-8 byte after the first 64 KB
        if whole != enc:
            enc = info.encoding = whole
            frame = _read_csv_arrow(content.whole(), enc, delim, header, columns, info) if simple_header else None
    if frame is None:
        frame, rows, malformed = _read_csv_records(path, content.whole(), enc, delim)
        info.malformed = malformed
    else:
        rows = np.arange(2, len(frame) + 2)
    info.sha256 = digest_future.result()
    return _strip_extra_header_rows(RawTable(frame, rows, info))


def _small_whole_numbers(head: bytes, enc, delim, names, answer_columns) -> set[str]:
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
            read_options=pacsv.ReadOptions(encoding=_arrow_encoding(enc), column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delim),
            convert_options=pacsv.ConvertOptions(include_columns=wanted, null_values=[""]))
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


def _read_csv_arrow(data: str | bytes, enc, delim, names, columns, info: SourceInfo) -> pd.DataFrame | None:
    """Fast path (pyarrow) over a file path or bytes. Returns None when a line is malformed, for
    the exact slow path. ``columns`` is (text columns, answer columns, answer columns to read as
    8-bit integers), as for :func:`read_table` and :func:`_small_whole_numbers`."""
    text_columns, answer_columns, small = columns
    import pyarrow as pa
    import pyarrow.csv as pacsv

    invalid = []

    def on_invalid(row):
        invalid.append(row)
        return "skip"

    text_types = {c: pa.string() for c in names if text_columns and c in text_columns}
    table = None
    # Always quote-aware block splitting: without it, a quoted line break that falls on a block
    # boundary drops that respondent's row silently (and can make a row of the rest). A cell that
    # does not fit the 8-bit guess fails the first try; the parser's own types follow.
    for answer_types in ([{c: pa.int8() for c in small}, {}] if small else [{}]):
        invalid.clear()
        try:
            table = pacsv.read_csv(
                data if isinstance(data, str) else pa.BufferReader(pa.py_buffer(data)),
                read_options=pacsv.ReadOptions(encoding=_arrow_encoding(enc), block_size=1 << 22,
                                               column_names=names, skip_rows=1),
                parse_options=pacsv.ParseOptions(delimiter=delim, ignore_empty_lines=False,
                                                 newlines_in_values=True, invalid_row_handler=on_invalid),
                convert_options=pacsv.ConvertOptions(column_types={**text_types, **answer_types}, null_values=[""],
                                                     strings_can_be_null=True, quoted_strings_can_be_null=True),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError):
            table = None
            continue
        break
    if invalid:  # malformed lines: the exact path reports each with its row number
        table = None
    if table is None:
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


def _arrow_encoding(enc: str) -> str:
    return "utf8" if enc in ("utf-8", "utf-8-sig") else enc


def _read_csv_records(path, data, enc, delim) -> tuple[pd.DataFrame, np.ndarray, list[tuple[int, str]]]:
    """Exact path: every record with its spreadsheet row; malformed lines reported, not dropped."""
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as err:
        raise ResponsesError(path, f"cannot be decoded as {enc}: {err}") from err
    text = text.lstrip("\ufeff")
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    except csv.Error as err:
        raise ResponsesError(path, f"is not valid CSV: {err}") from err
    if not records:
        raise ResponsesError(path, "the file has no header row")
    header = _unique_headers(records[0], path)
    width = len(header)
    good, rows, malformed = [], [], []
    for offset, record in enumerate(records[1:]):
        row = offset + 2
        if len(record) > width and not any(cell.strip() for cell in record[width:]):
            record = record[:width]
        if len(record) > width:
            malformed.append((row, f"{len(record)} fields where the header has {width}"))
            continue
        good.append(record + [""] * (width - len(record)))
        rows.append(row)
    frame = pd.DataFrame(good, columns=header, dtype=object).replace({"": None})
    return frame, np.array(rows, dtype=int), malformed


def _read_excel(path, sheet, text_columns, header_only) -> RawTable:
    try:
        data = path.read_bytes()
        workbook = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
    except Exception as err:  # openpyxl raises many types for a damaged file
        raise ResponsesError(path, f"is not a readable XLSX workbook ({type(err).__name__}: {err})") from err
    sheets = workbook.sheet_names
    if sheet is None:
        chosen = sheets[0]
    elif isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in sheets):
        index = int(sheet)
        if not 0 <= index < len(sheets):
            raise ResponsesError(path, f"has no sheet number {index}; sheets are {sheets}")
        chosen = sheets[index]
    elif sheet in sheets:
        chosen = sheet
    else:
        raise ResponsesError(path, f"has no sheet {sheet!r}; sheets are {sheets}")
    info = SourceInfo(path=str(path), format="xlsx", sha256=hashlib.sha256(data).hexdigest(), sheet=chosen)
    frame = pd.read_excel(workbook, sheet_name=chosen, dtype=object, nrows=0 if header_only else None,
                          keep_default_na=False, na_values=[""])
    frame.columns = _unique_headers([str(c) for c in frame.columns], path)
    if text_columns:
        for column in text_columns & set(frame.columns):
            frame[column] = frame[column].map(_cell_text)
    table = RawTable(frame.reset_index(drop=True), np.arange(2, len(frame) + 2), info)
    return table if header_only else _strip_extra_header_rows(table)


def _cell_text(value: object) -> object:
    """Excel stores ids typed as numbers: 123.0 -> '123'; blanks stay missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _unique_headers(header: list[str], path) -> list[str]:
    out, seen = [], {}
    for i, name in enumerate(header):
        name = str(name).strip()
        if not name or name.startswith("Unnamed:"):
            name = f"column {i + 1}"
        if name in seen:
            raise ResponsesError(path, f"column header {name!r} appears twice (columns {seen[name] + 1} "
                                       f"and {i + 1}); rename one of them")
        seen[name] = i
        out.append(name)
    return out


def _strip_extra_header_rows(table: RawTable) -> RawTable:
    """Qualtrics exports carry two more header rows (question text, then ImportId JSON)."""
    frame = table.frame
    if len(frame) < 2:
        return table
    def has_import_id(i):
        values = frame.iloc[i].astype(str)
        return values.str.startswith('{"ImportId"').any()
    for last in (1, 0):
        if has_import_id(last):
            texts = frame.iloc[0] if last == 1 else None
            if texts is not None:
                table.info.alternative_headers = {
                    c: str(v) for c, v in texts.items() if isinstance(v, str) and v.strip()
                }
            table.info.header_rows = last + 2
            table.frame = frame.iloc[last + 1:].reset_index(drop=True)
            table.rows = table.rows[last + 1:]
            return table
    return table
