"""The exact CSV path: every line decoded on its own, every record with the lines it spans.

The fast reader (:mod:`pmo_maturity.readers`, Arrow) handles clean files. A file comes here when a
cheap check finds something the fast reader would get wrong or could not say where:

- **Bytes that are not text in the file's encoding.** Each line is decoded on its own, so one bad
  row does not spoil the others: in a UTF-8 file (detected, no byte-order mark), a line that is not
  UTF-8 is read as Windows-1252 (``mixed_encoding``: files pasted together from two exports); bytes
  that are not text in any case become U+FFFD (``invalid_bytes``). Both are recorded by row and column.
- **Quotes that swallow lines.** A value opened by a stray quote runs on, across line breaks, to the
  next quote, taking whole rows with it. A record whose quoted value holds lines that are rows in
  their own right (as many fields as the header), or a quote never closed, is reported as a
  malformed row at its first line, and reading starts again on the next line: the rows it had
  swallowed are read as the rows they are.
- **Too many fields.** Reported as malformed rows (trailing empty fields are ignored).
"""

from __future__ import annotations

import codecs
import csv
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass

# Lines end with \r\n, \n or \r; no other character breaks a line in a CSV file (str.splitlines
# would also split on form feeds, \x1c-\x1e and Unicode separators inside values).
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
# A whole UTF-8 multi-byte character: a file holding one is (at least partly) UTF-8 text.
UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


@dataclass
class Record:
    """One CSV record: its row (header = 1), its fields (None: malformed) and why it is malformed."""

    row: int
    fields: list[str] | None
    detail: str = ""


@dataclass
class DecodedLines:
    """A file's lines as text, and the lines that needed another decoding (line index -> kind)."""

    lines: list[str]
    trouble: dict[int, str]
    encoding: str


def whole_file_encoding(data: bytes) -> str:
    """For a file that is not all UTF-8: ``utf-8`` when it holds UTF-8 text anywhere (rows in
    another encoding are then decoded one by one), else ``cp1252`` (a Windows-1252 file)."""
    return "utf-8" if UTF8_MULTIBYTE.search(data) else "cp1252"


def decode_lines(data: bytes, encoding: str, *, mixed: bool) -> DecodedLines:
    """Decode ``data`` line by line. ``mixed``: the encoding was detected as UTF-8 without a
    byte-order mark, so a line that is not UTF-8 is tried as Windows-1252 before bytes are replaced."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        text = None
    if text is not None:
        return DecodedLines(_LINES.findall(text.lstrip("\ufeff")), {}, encoding)
    if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
        # Not byte-compatible with ASCII: decode the whole text, marking lines with replaced bytes.
        lines = _LINES.findall(data.decode(encoding, errors="replace").lstrip("\ufeff"))
        return DecodedLines(lines, {k: "invalid_bytes" for k, line in enumerate(lines) if "\ufffd" in line}, encoding)
    lines, trouble = [], {}
    for k, raw in enumerate(data.splitlines(keepends=True)):  # \n, \r and \r\n only, as bytes
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError:
            line = None
            if mixed:
                try:
                    line = raw.decode("cp1252")
                    trouble[k] = "mixed_encoding"
                except UnicodeDecodeError:
                    pass
            if line is None:
                line = raw.decode(encoding, errors="replace")
                trouble[k] = "invalid_bytes"
        lines.append(line)
    if lines:
        lines[0] = lines[0].lstrip("\ufeff")
    return DecodedLines(lines, trouble, encoding)


def split_records(lines: list[str], delimiter: str, width: int | None = None, first_row: int = 1
                  ) -> Iterator[tuple[Record, int, int]]:
    """Every record of ``lines`` with the first and last line it spans (``width``: the header's
    number of fields, once known; the first record is the header). See the module's docstring for
    the records that swallow lines."""
    _allow_large_fields()
    start, row = 0, first_row
    while start < len(lines):
        reader = csv.reader(_from(lines, start), delimiter=delimiter)
        at, restart = start, None
        for fields in reader:
            last = start + reader.line_num - 1
            if width is not None and last > at:
                swallowed = _swallowed(lines, at, last, delimiter, width)
                if swallowed:
                    yield Record(row, None, swallowed), at, at
                    row += 1
                    restart = at + 1
                    break
            yield Record(row, fields), at, last
            row += 1
            if width is None:
                width = len(fields)
            at = last + 1
        if restart is None:
            return
        start = restart


def _from(lines: list[str], start: int) -> Iterator[str]:
    for k in range(start, len(lines)):
        yield lines[k]


def _swallowed(lines: list[str], first: int, last: int, delimiter: str, width: int) -> str:
    """Why the record on lines ``first..last`` swallowed lines (empty when it did not)."""
    if sum(lines[k].count('"') for k in range(first, last + 1)) % 2:
        return (f"a quote (\") opens a value here that is never closed: the {last - first} lines after it were "
                f"read as rows of their own")
    if width >= 3:
        for k in range(first + 1, last + 1):
            if len(next(csv.reader([lines[k]], delimiter=delimiter), [])) >= width:
                return (f"a quote (\") opens a value here that runs over {last - first} lines, which hold rows of "
                        f"their own: they were read as rows, and this line set aside")
    return ""


def looks_swallowed(value: str, delimiter: str, width: int) -> bool:
    """Whether a value read by the fast parser holds a line that is a row in its own right (the
    cheap check: only values with line breaks are looked at)."""
    if width < 3:
        return False
    parts = _LINES.findall(value)
    return any(len(next(csv.reader([p], delimiter=delimiter), [])) >= width for p in parts[1:])


def _allow_large_fields() -> None:
    # A 1 MB comment is a legitimate field; the csv module's default limit is 128 KB.
    if csv.field_size_limit() < sys.maxsize // 2:
        try:
            csv.field_size_limit(sys.maxsize)
        except OverflowError:  # 32-bit C long
            csv.field_size_limit(2**31 - 1)
