"""The report settings, defined once: for the notebooks' ``parameters`` cells, the command line
(``report``, ``batch``), :func:`~pmo_maturity.run_batch`, :func:`~pmo_maturity.render_report` and the
report helpers (:func:`~pmo_maturity.prepare`, :func:`~pmo_maturity.prepare_portfolio`).

:class:`ReportSettings` is a frozen dataclass. Each field says which notebooks take it, the types a
notebook parameter may have and, for the settings a user sets on the command line, its flag and
help text: the ``report`` and ``batch`` commands generate their options from it. Adding a setting
means adding a field here and a line to the notebooks' ``parameters`` cell (a test checks that the
cells and this class agree). Values are checked when an instance is made, with one clear error
naming the parameter, the value and what was expected.

This module imports nothing heavy: the command line and the batch workers read it before pandas is
loaded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigurationError, UnknownNameError

NOTEBOOKS = ("assessment", "portfolio")
_NONE = type(None)


def _setting(types: tuple[type, ...], help: str, *, notebooks: tuple[str, ...] = NOTEBOOKS, flag: str | None = None,
             metavar: str | None = None, internal: bool = False, **cli: Any) -> dict:
    """Field metadata: accepted types, the notebooks that take it, the parameters cell's comment
    (``help``) and, with ``flag``, how the command line offers it."""
    return {"types": types, "help": help, "notebooks": notebooks, "flag": flag, "metavar": metavar,
            "internal": internal, **cli}


@dataclass(frozen=True)
class ReportSettings:
    """What a report is made from and how (every field optional; the defaults run the bundled sample).

    Parameters
    ----------
    responses : str, optional
        The survey export (CSV or XLSX); None runs the bundled sample.
    questionnaire : str, optional
        A questionnaire YAML; None is the bundled PMO integration instrument.
    unit : str, optional
        A business unit for a unit report (assessment only); None reports on the organisation.
    unit_column : str, optional
        The business unit column; None detects it.
    load_options : dict, optional
        Loader options (:class:`~pmo_maturity.LoadOptions` fields), checked here.
    target : int or dict
        Target level for every dimension (3), or per dimension such as ``{"vision": 4}``.
    min_group_size : int
        Smallest group shown in any table or chart (at least 3).
    headcount : int, dict or str, optional
        People invited: a number, ``{unit: number}`` or a CSV file ``unit,headcount``.
    previous : str, optional
        A previous cycle's scores file, for the trend (assessment only).
    day_rate : float, optional
        Cost of a person-day, for an indicative cost of each action (assessment only).
    currency : str
        Shown beside costs (assessment only).
    organisation : str
        The organisation's name, shown in the titles ("Example Organisation" for the bundled sample).
    seed : int, optional
        Seed of every random draw; None is the scoring rules' seed.
    index_url, scores_file, scores_sha256 : str, optional
        Set by the batch runner: the link back to the index, the organisation's analysis computed
        once and its SHA-256.

    Examples
    --------
    >>> s = ReportSettings(unit="Finance", target={"vision": 4})
    >>> s.for_notebook("assessment")["target"], "unit" in s.for_notebook("portfolio")
    ({'vision': 4}, False)
    """

    responses: str | None = field(default=None, metadata=_setting(
        (str, _NONE), "survey export (CSV or XLSX); None runs the bundled sample"))
    questionnaire: str | None = field(default=None, metadata=_setting(
        (str, _NONE), "questionnaire YAML; None uses the bundled PMO integration instrument"))
    unit: str | None = field(default=None, metadata=_setting(
        (str, _NONE), "a business unit for a unit report; None reports on the whole organisation",
        notebooks=("assessment",)))
    unit_column: str | None = field(default=None, metadata=_setting(
        (str, _NONE), 'the business unit column; None detects it (e.g. "Business unit")'))
    load_options: Mapping[str, Any] | None = field(default=None, metadata=_setting(
        (dict, _NONE), "dict of loader options: role_column, id_column, mapping_file, sheet, encoding, delimiter, ..."))
    target: int | Mapping[str, int] = field(default=3, metadata=_setting(
        (int, dict), 'target level for every dimension, or per dimension such as {"vision": 4}',
        flag="--target", metavar="LEVEL|DIMENSION=LEVEL", multiple=True, parse="target",
        cli_help="Target level for every dimension (e.g. 3) or one dimension (vision=4); repeatable; default 3."))
    min_group_size: int = field(default=5, metadata=_setting(
        (int,), "smallest group shown in any table or chart (never below 3)", flag="--min-group-size",
        metavar="N", minimum=3, cli_help="Smallest group shown in any table or chart (at least 3).", show_default=True))
    headcount: int | Mapping[str, int] | str | None = field(default=None, metadata=_setting(
        (int, dict, str, _NONE), "people invited: a number, {unit: number} or a CSV file (unit,headcount); the "
                                 "sample's by default",
        flag="--headcount", metavar="N|FILE", parse="headcount",
        cli_help="People invited, for the response rate: a number, or a CSV file 'unit,headcount'."))
    previous: str | None = field(default=None, metadata=_setting(
        (str, _NONE), "a previous cycle's scores file (from pmo-maturity score -o) to show the trend",
        notebooks=("assessment",)))
    day_rate: float | None = field(default=None, metadata=_setting(
        (int, float, _NONE), "cost of a person-day, for an indicative cost of each action; None shows person-days "
                             "only",
        notebooks=("assessment",), flag="--day-rate", metavar="AMOUNT", kind=float, minimum_open=0,
        cli_help="Cost of a person-day, for an indicative cost per action and window (default: person-days only)."))
    currency: str = field(default="", metadata=_setting(
        (str,), 'shown beside costs, for example "EUR"', notebooks=("assessment",), flag="--currency",
        cli_help="Shown beside costs, e.g. EUR."))
    organisation: str = field(default="", metadata=_setting(
        (str,), 'shown in the titles; "" for the bundled sample shows "Example Organisation"',
        flag="--organisation", metavar="NAME", cli_help="Organisation name for the titles."))
    seed: int | None = field(default=None, metadata=_setting(
        (int, _NONE), "seed of every random draw (bootstrap, clustering); None is the scoring rules' seed"))
    index_url: str | None = field(default=None, metadata=_setting(
        (str, _NONE), "set by the batch runner: the link back to the index page", internal=True))
    scores_file: str | None = field(default=None, metadata=_setting(
        (str, _NONE), "set by the batch runner: the organisation's analysis, computed once", internal=True))
    scores_sha256: str | None = field(default=None, metadata=_setting(
        (str, _NONE), "its SHA-256, checked before the file is read", internal=True))

    def __post_init__(self) -> None:
        _check_types({f.name: getattr(self, f.name) for f in fields(self)}, "report settings")
        if self.min_group_size < 3:
            raise ConfigurationError(f"report settings: min_group_size must be at least 3; got {self.min_group_size}")
        if self.day_rate is not None and not self.day_rate > 0:
            raise ConfigurationError(f"report settings: day_rate must be a positive amount; got {self.day_rate!r}")
        if isinstance(self.target, Mapping):
            for name, level in self.target.items():
                if isinstance(level, bool) or not isinstance(level, int):
                    raise ConfigurationError(f"report settings: target level of {name!r} must be a whole number; "
                                             f"got {level!r}")
        if self.load_options is not None:
            from .options import LoadOptions

            checked = LoadOptions.from_dict(self.load_options, where="report settings: load_options")
            object.__setattr__(self, "load_options", checked.to_dict(changed_only=True) or None)

    # --- the notebooks ----------------------------------------------------------------------------

    @classmethod
    def spec(cls, notebook: str = "assessment") -> dict[str, tuple[type, ...]]:
        """The notebook's parameters: name -> accepted types."""
        if notebook not in NOTEBOOKS:
            raise UnknownNameError("notebook", notebook, NOTEBOOKS)
        return {f.name: f.metadata["types"] for f in fields(cls) if notebook in f.metadata["notebooks"]}

    @classmethod
    def from_parameters(cls, values: Mapping[str, Any], notebook: str = "assessment") -> ReportSettings:
        """Settings from a notebook's parameters (or any dict of them), refusing a name the notebook
        does not take with the closest accepted one, and a wrong type with what is accepted."""
        spec = cls.spec(notebook)
        where = f"{notebook}.ipynb"
        for name in sorted(set(values) - set(spec)):
            raise UnknownNameError("parameter", name, spec, where=where)
        _check_types(values, where)
        if values.get("load_options") is not None:
            from .options import LoadOptions

            LoadOptions.from_dict(values["load_options"], where=f"{where}: parameter 'load_options'")
        return cls(**values)

    @classmethod
    def from_notebook(cls, namespace: Mapping[str, Any], notebook: str) -> ReportSettings:
        """The settings of a running report notebook (its first call): ``namespace`` is the
        notebook's ``globals()``, with its ``parameters`` cell and the cell papermill injected after
        it (``-p name value``), whose every name must be one the notebook takes."""
        spec = cls.spec(notebook)
        for name in sorted(set(_injected_names(namespace)) - set(spec)):
            raise UnknownNameError("parameter", name, spec, where=f"{notebook}.ipynb")
        return cls.from_parameters({name: namespace[name] for name in spec if name in namespace}, notebook)

    def for_notebook(self, notebook: str = "assessment", *, changed_only: bool = False) -> dict[str, Any]:
        """The parameters to give the notebook (papermill's): the fields it takes, as plain values."""
        out = {}
        for f in fields(self):
            if notebook not in f.metadata["notebooks"]:
                continue
            value = getattr(self, f.name)
            if changed_only and value == f.default:
                continue
            out[f.name] = dict(value) if isinstance(value, Mapping) else value
        return out

    # --- building ---------------------------------------------------------------------------------

    @classmethod
    def coerce(cls, settings: ReportSettings | Mapping[str, Any] | None = None, **overrides: Any) -> ReportSettings:
        """``settings`` as ReportSettings (None: the defaults; a dict: its fields), with ``overrides``
        applied on top (unknown names refused)."""
        if settings is None:
            base = cls()
        elif isinstance(settings, ReportSettings):
            base = settings
        elif isinstance(settings, Mapping):
            base = cls.replace(cls(), **settings)
        else:
            raise ConfigurationError(f"report settings must be ReportSettings or a dict; got "
                                     f"{type(settings).__name__}")
        return base.replace(**overrides) if overrides else base

    def replace(self, **changes: Any) -> ReportSettings:
        """A copy with some fields changed (checked again)."""
        names = [f.name for f in fields(self)]
        for key in changes:
            if key not in names:
                raise UnknownNameError("report setting", key, names)
        return dataclasses.replace(self, **changes)

    def resolved(self) -> ReportSettings:
        """A copy whose file paths are absolute (a notebook runs in another folder, a batch worker in
        another process)."""
        changes: dict[str, Any] = {k: str(Path(getattr(self, k)).resolve()) for k in
                                   ("responses", "questionnaire", "previous", "scores_file") if getattr(self, k)}
        if isinstance(self.headcount, str) and not self.headcount.strip().isdigit():
            changes["headcount"] = str(Path(self.headcount).resolve())
        if self.load_options and self.load_options.get("mapping_file"):
            changes["load_options"] = {**self.load_options,
                                       "mapping_file": str(Path(self.load_options["mapping_file"]).resolve())}
        return dataclasses.replace(self, **changes) if changes else self

    @property
    def uses_sample(self) -> bool:
        """True when no export is named: the bundled sample runs."""
        return self.responses is None

    @classmethod
    def command_line(cls) -> list[dataclasses.Field]:
        """The fields the ``report`` and ``batch`` commands offer as options (see :mod:`.cli`)."""
        return [f for f in fields(cls) if f.metadata.get("flag")]


def parse_target(values: tuple[str, ...] | list[str]) -> int | dict[str, int]:
    """``--target`` values: a level for every dimension (``3``) and/or per dimension (``vision=4``).

    >>> parse_target(()), parse_target(("4",)), parse_target(("3", "vision=4"))
    (3, 4, {'*': 3, 'vision': 4})
    """
    target: dict[str, int] = {}
    for value in values:
        name, _, level = value.rpartition("=")
        try:
            target[name.strip() or "*"] = int(level)
        except ValueError:
            raise ConfigurationError(f"--target {value!r}: expected a level such as 3 or DIMENSION=LEVEL such as "
                                     f"vision=4") from None
    if not target:
        return 3
    if set(target) == {"*"}:
        return target["*"]
    return target


def parse_headcount(value: str | None) -> int | str | None:
    """``--headcount``: a number of people, or the path of a CSV file of unit headcounts (made absolute).

    >>> parse_headcount("250"), parse_headcount(None)
    (250, None)
    """
    if value is None:
        return None
    return int(value) if value.strip().isdigit() else str(Path(value).resolve())


PARSERS = {"target": parse_target, "headcount": parse_headcount}


def _check_types(values: Mapping[str, Any], where: str) -> None:
    types = {f.name: f.metadata["types"] for f in fields(ReportSettings)}
    for name, value in values.items():
        allowed = types[name]
        if isinstance(value, bool) or not isinstance(value, allowed):
            names = " or ".join("None" if t is _NONE else t.__name__ for t in allowed)
            raise ConfigurationError(f"{where}: parameter {name!r} must be {names}; got {type(value).__name__} "
                                     f"{value!r}")


def _injected_names(namespace: Mapping[str, Any]) -> list[str]:
    """The names assigned by papermill's injected cell (its source starts with ``# Parameters``)."""
    import ast

    for source in reversed(list(namespace.get("In") or [])):
        if isinstance(source, str) and source.lstrip().startswith("# Parameters"):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return []
            return [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                    if isinstance(t, ast.Name)]
    return []


__all__ = ["ReportSettings", "parse_headcount", "parse_target"]
