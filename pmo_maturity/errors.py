"""Exceptions raised by the kit.

Every error a user can cause derives from :class:`PmoMaturityError` and says which file, row, key or
value is wrong and what was expected, so that the CLI can print it without a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    """A questionnaire or action catalogue file is unreadable or invalid.

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
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{self.path}: invalid ({len(self.problems)} problem(s)):\n{lines}")


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


class ReportError(PmoMaturityError):
    """A report could not be produced (notebook failure, export failure)."""


__all__ = [
    "ConfigurationError",
    "PmoMaturityError",
    "Problem",
    "QuestionnaireError",
    "ReportError",
    "ResponsesError",
]
