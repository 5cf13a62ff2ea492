"""Headcounts: how many people were invited, for the response rate.

A response rate needs the number invited, which no survey export holds. It is given as a number (the
organisation), a mapping ``{unit: people}`` (an ``"Organisation"`` entry is the organisation's own
count; otherwise it is the sum of the units'), or a small CSV file with a unit column and a count
column (``unit,headcount``; headers such as ``Business unit`` and ``Invited`` or ``Employees`` are
recognised).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError, ResponsesError
from .questionnaire import normalise_text

LOW_RESPONSE_RATE = 0.30  # under this the results may not represent the group (a caution, not a rule)
_UNIT_HEADERS = ("unit", "business unit", "business_unit", "department", "division", "team", "group")
_COUNT_HEADERS = ("headcount", "head count", "invited", "people", "employees", "staff", "population", "count")
ORGANISATION_KEYS = ("organisation", "organization", "*", "total")


def read_headcount(value: int | Mapping | str | Path | None) -> int | dict[str, int] | None:
    """A headcount parameter as a number or a ``{unit: people}`` mapping (a CSV file is read).

    >>> read_headcount({"Finance": 80, "Sales": "45"})
    {'Finance': 80, 'Sales': 45}
    """
    if value is None or isinstance(value, bool):
        return None if value is None else _bad(value)
    if isinstance(value, int):
        return value if value > 0 else _bad(value)
    if isinstance(value, Mapping):
        out = {}
        for unit, count in value.items():
            out[str(unit)] = _count(count, f"headcount[{unit!r}]")
        return out
    if isinstance(value, (str, Path)):
        text = str(value).strip()
        if text.isdigit():
            return _count(text, "headcount")
        return _read_file(Path(text))
    return _bad(value)


def _bad(value):
    raise ConfigurationError(f"headcount must be a positive number, a mapping of unit -> people, or a CSV file; "
                             f"got {value!r}")


def _count(value, where: str) -> int:
    try:
        number = float(str(value).replace(",", "").strip())
    except ValueError:
        number = float("nan")
    if not number > 0 or number != int(number):
        raise ConfigurationError(f"{where} must be a whole number of people above 0; got {value!r}")
    return int(number)


def _read_file(path: Path) -> dict[str, int]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as err:
        raise ResponsesError(path, "headcount file not found") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ResponsesError(path, f"cannot read the headcount file ({err})") from err
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise ResponsesError(path, "the headcount file is empty; expected a header row 'unit,headcount'")
    header = [normalise_text(h) for h in rows[0]]
    unit = next((i for i, h in enumerate(header) if h in _UNIT_HEADERS), None)
    count = next((i for i, h in enumerate(header) if h in _COUNT_HEADERS), None)
    if unit is None or count is None:
        raise ResponsesError(path, f"row 1: expected a unit column and a headcount column (for example "
                                   f"'unit,headcount'); got {rows[0]!r}")
    out: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(unit, count):
            raise ResponsesError(path, f"row {number}: expected a unit and a headcount; got {row!r}")
        name = row[unit].strip()
        if not name:
            raise ResponsesError(path, f"row {number}, column {rows[0][unit]!r}: the unit is blank")
        if name in out:
            raise ResponsesError(path, f"row {number}, column {rows[0][unit]!r}: unit {name!r} is listed twice")
        try:
            out[name] = _count(row[count], f"row {number}, column {rows[0][count]!r}")
        except ConfigurationError as err:
            raise ResponsesError(path, str(err)) from err
    return out


@dataclass(frozen=True)
class ResponseRate:
    """Respondents of a scope against the people invited."""

    respondents: int
    invited: int | None
    note: str = ""  # why there is no rate, or what to check

    @property
    def rate(self) -> float | None:
        return self.respondents / self.invited if self.invited else None

    @property
    def low(self) -> bool:
        return self.rate is not None and self.rate < LOW_RESPONSE_RATE

    def describe(self) -> str:
        """Plain words for a report.

        >>> ResponseRate(55, 76).describe()
        '55 of 76 people invited answered (72%)'
        >>> ResponseRate(20, 80).describe()
        '20 of 80 people invited answered (25%, under 30%: the answers may not represent everyone)'
        """
        if self.invited is None:
            return f"{self.respondents} people answered{f' ({self.note})' if self.note else ''}"
        text = f"{self.respondents} of {self.invited} people invited answered ({self.rate:.0%}"
        if self.respondents > self.invited:
            return text + "; more answers than people invited: check the headcount)"
        if self.low:
            return text + f", under {LOW_RESPONSE_RATE:.0%}: the answers may not represent everyone)"
        return text + ")"


def response_rate(headcount: int | Mapping | None, respondents: int, unit: str | None = None,
                  units: list[str] | None = None) -> ResponseRate:
    """The response rate of the organisation (``unit`` None) or of a unit."""
    if headcount is None:
        return ResponseRate(respondents, None, "no headcount given, so the response rate is not known")
    if isinstance(headcount, int):
        if unit is None:
            return ResponseRate(respondents, headcount)
        return ResponseRate(respondents, None, "the headcount given is the organisation's")
    if unit is not None:
        invited = headcount.get(unit)
        return ResponseRate(respondents, invited, "" if invited else f"no headcount for {unit}")
    own = next((v for k, v in headcount.items() if normalise_text(k) in ORGANISATION_KEYS), None)
    if own is not None:
        return ResponseRate(respondents, own)
    missing = [u for u in (units or []) if u not in headcount]
    if missing:
        return ResponseRate(respondents, None, f"no headcount for {len(missing)} units")
    return ResponseRate(respondents, sum(headcount.values()))
