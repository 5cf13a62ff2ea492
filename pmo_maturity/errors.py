"""Exceptions raised by the kit.

Every error a user can cause derives from :class:`PmoMaturityError` and says which file, row, key or
value is wrong and what was expected, so that the CLI can print it without a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class PmoMaturityError(Exception):
    """Base class of every error the kit raises on bad input or configuration."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: where it is, the offending value and what was expected."""

    location: str
    message: str
    value: object = None

    def __str__(self) -> str:
        shown = "" if self.value is None else f" (got {self.value!r})"
        return f"{self.location}: {self.message}{shown}"


class QuestionnaireError(PmoMaturityError):
    """A questionnaire, action catalogue or mapping file is unreadable or invalid.

    Attributes
    ----------
    path : str
        The file that was being loaded.
    problems : list of Problem
        Each invalid key with its value and what was expected.
    """

    def __init__(self, path: object, problems: Sequence[Problem] | str):
        self.path = str(path)
        if isinstance(problems, str):
            problems = [Problem("file", problems)]
        self.problems = list(problems)
        if len(self.problems) == 1:
            super().__init__(f"{self.path}: invalid: {self.problems[0]}")
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            super().__init__(f"{self.path}: invalid ({len(self.problems)} problems):\n{lines}")


class MappingFileError(QuestionnaireError):
    """A mapping file (survey headers to item ids and metadata columns) is unreadable or invalid."""


class ResponsesError(PmoMaturityError):
    """A response file cannot be read or mapped onto the questionnaire at all.

    Row-level problems never raise: they go to the quarantine table. This error is for
    problems that stop the whole file (unreadable, no item columns, ambiguous columns, ...).
    """

    def __init__(self, path: object, message: str):
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


class ConfigurationError(PmoMaturityError, ValueError):
    """A setting (scoring rule, target profile, report parameter) has an invalid value."""


class OptionError(ConfigurationError):
    """One option has an invalid value.

    Attributes
    ----------
    option : str
        The option's name as the user gave it (``delimiter``, ``--delimiter``, ``load_options.sheet``).
    value : object
        The value given.
    expected : str
        What would have been accepted.
    """

    def __init__(self, option: str, value: object, expected: str):
        self.option, self.value, self.expected = option, value, expected
        super().__init__(f"option {option}: got {value!r}; expected {expected}")


class UnknownNameError(ConfigurationError):
    """A name (option, parameter, unit) that is not one of the accepted names, with the closest one."""

    def __init__(self, what: str, name: object, accepted: Iterable[str], where: str = ""):
        self.what, self.name, self.accepted = what, name, sorted(map(str, accepted))
        self.suggestion = closest(str(name), self.accepted)
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}unknown {what} {name!r}{hint}; accepted: {', '.join(self.accepted)}")


class ReportError(PmoMaturityError):
    """A report could not be produced (notebook failure, export failure)."""


class UnitNotFound(PmoMaturityError, KeyError):
    """A unit was asked for that the scores cannot give: unknown, suppressed as too small, or the file has
    no unit column. Raised by every accessor that takes a unit (scores, findings, plans, reports), so one
    ``except pm.UnitNotFound`` (or ``except KeyError``) catches them all.

    Attributes
    ----------
    unit : str
    available : list of str
        The units that could have been asked for (for a report: the units that have one).
    suppressed : dict
        Suppressed units and why (``small`` or ``complementary``).
    suggestion : str or None
        The closest available unit name.
    """

    def __init__(self, unit: str, available: Sequence[str], suppressed: dict | None = None, source: str = "",
                 what: str = "a report", reason: str = ""):
        self.unit, self.available, self.suppressed = unit, list(available), dict(suppressed or {})
        self.suggestion = closest(unit, self.available)
        if reason:
            why = reason
        elif unit in self.suppressed:
            why = "it has too few respondents to be reported on its own" if self.suppressed[unit] == "small" else (
                "it is suppressed so that a smaller unit cannot be worked out by subtraction")
        else:
            why = "there is no such unit"
            if self.suggestion:
                why += f" (did you mean {self.suggestion!r}?)"
        where = f"{source}: " if source else ""
        shown = ", ".join(repr(u) for u in self.available) or "none"
        self.message = f"{where}no {what.removeprefix('a ')} for unit {unit!r}: {why}; units with {what}: {shown}"
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message

    @property
    def reportable(self) -> list[str]:
        """The units that have a report (the name this list had before 0.2)."""
        return self.available


#: The name :class:`UnitNotFound` had before 0.2; kept so that old ``except`` clauses still work.
UnitNotReportableError = UnitNotFound


class NotebookError(ReportError):
    """A report notebook failed while it ran.

    Attributes
    ----------
    notebook : str
        The notebook that failed (the executed copy with the error, when it was kept).
    ename, evalue : str
        The exception raised inside the notebook and its message.
    """

    def __init__(self, notebook: str, ename: str, evalue: str):
        self.notebook, self.ename, self.evalue = notebook, ename, evalue
        super().__init__(f"{notebook}: the notebook failed: {ename}: {evalue}".rstrip(": "))


class OutputError(PmoMaturityError):
    """An output file or folder cannot be written (permissions, a missing drive, a full disk)."""

    def __init__(self, path: object, message: str):
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


class BatchLockedError(ReportError):
    """Another batch is writing into the same output folder.

    Attributes
    ----------
    folder : str
    pid : int or None
        The process holding the lock.
    started : str
        When that batch started (ISO 8601).
    """

    def __init__(self, folder: str, pid: int | None, started: str, host: str = ""):
        self.folder, self.pid, self.started, self.host = folder, pid, started, host
        on = f" on {host}" if host else ""
        super().__init__(f"{folder}: another batch is writing here (pid {pid}{on}, started {started}); wait for it "
                         f"to finish or choose another --out folder")


def closest(name: str, names: Iterable[str]) -> str | None:
    """The accepted name closest to ``name`` (case-insensitive), or None when none is close."""
    names = list(names)
    folded = {n.casefold(): n for n in names}
    if name.casefold() in folded:
        return folded[name.casefold()]
    match = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.6)
    return folded[match[0]] if match else None


__all__ = [
    "BatchLockedError",
    "ConfigurationError",
    "MappingFileError",
    "NotebookError",
    "OptionError",
    "OutputError",
    "PmoMaturityError",
    "Problem",
    "QuestionnaireError",
    "ReportError",
    "ResponsesError",
    "UnitNotFound",
    "UnitNotReportableError",
    "UnknownNameError",
]
