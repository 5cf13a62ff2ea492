"""The loader's options, defined once: for :func:`~pmo_maturity.load_responses`, the command line
(``validate``, ``score``, ``report``, ``batch``), the batch runner, the report helpers and the
notebooks' ``load_options`` parameter.

:class:`LoadOptions` is a frozen dataclass: each field carries its command-line flag and help
text, so that the command line's options are generated from it (see :mod:`pmo_maturity.cli`).
Values are checked when an instance is made; a bad value raises :class:`~pmo_maturity.errors.OptionError`
naming the option, the value and what was expected.

A **mapping file** (YAML) says once how a survey export's columns map onto the questionnaire, so a
consultant need not repeat ``--map`` options::

    items:                    # column header -> item id
      "Q5_1": INS1
      "Q5_2": INS2
    unit: Q1                  # metadata columns: unit, role, id, submitted, start, comment
    role: Q2                  # (false: the file has no such column)
    na_codes: [6]             # answer codes that mean "Don't know" (missing, not an answer)
    values:                   # codes of a numeric export's unit and role answers
      unit: {1: Finance, 2: Operations}
      role: {1: Executive sponsor, 2: PMO staff}

Options given directly (in Python or on the command line) win over the mapping file's.
"""

from __future__ import annotations

import codecs
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import MappingFileError, OptionError, UnknownNameError

LAYOUTS = ("auto", "wide", "long")
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
META_FIELDS = {"respondent_id": "id_column", "unit": "unit_column", "role": "role_column",
               "submitted_at": "submitted_column", "start_time": "start_column", "comment": "comment_column"}


def _cli(flag: str, help: str, metavar: str | None = None, **more) -> dict:
    """Field metadata: how the option appears on the command line."""
    return {"flag": flag, "help": help, "metavar": metavar, **more}


@dataclass(frozen=True)
class LoadOptions:
    """How to read a survey export and map its columns (every field optional).

    Parameters
    ----------
    unit_column, id_column, role_column, submitted_column, start_column, comment_column : str or False
        Metadata columns. ``None`` (default) detects common names (``Business unit``, ``ID``,
        ``Role``, ``Completion time``, survey tools' question texts, ...); ``False`` means the file
        has none. Without a unit column the whole file is one organisation; without an id column,
        row numbers serve.
    mapping : dict
        ``{header: item_id}`` for columns the automatic matching cannot recognise.
    mapping_file : path
        A YAML mapping file (items, metadata columns, don't-know codes, unit and role codes).
    na_codes : tuple of numbers
        Answer codes that mean "Don't know" (for example 6 in a numeric Qualtrics export of a 1-5
        scale): missing, not out of range. The questionnaire's ``scale.na_codes`` count too.
    values : dict
        ``{"unit": {code: name}, "role": {code: name}}``: names for a numeric export's codes.
    layout : {"auto", "wide", "long"}
    sheet : str or int
        XLSX sheet (default: the first whose headers match the questionnaire).
    encoding : str
        CSV encoding (default: detected; rows in another encoding are decoded and reported).
    delimiter : str
        One character, or ``tab``, ``comma``, ``semicolon``, ``pipe`` (default: detected).
    require_unit : bool
        With a unit column, quarantine rows whose unit is blank (``missing_unit``).
    exclude_flagged : bool
        Quarantine straight-liners and speeders instead of keeping them flagged.
    keep_identifiers : bool
        Direct identifiers in the export (e-mail, name, IP address, survey tools' recipient
        fields) are dropped at load (:mod:`pmo_maturity.personal`). True keeps them apart, in
        ``Responses.identifiers``, to link responses to another source; they never reach scores,
        reports or exports. (Python only: no command-line option.)
    screen_comments : bool
        Replace e-mail addresses, phone numbers, links, @handles and the export's names in
        comments by "[removed]" (default). False is for a consultant's private reading only.

    Examples
    --------
    >>> LoadOptions(unit_column="Department", delimiter="tab").delimiter
    '\\t'
    >>> LoadOptions.from_dict({"role_column": "Position"}).role_column
    'Position'
    """

    unit_column: str | bool | None = field(default=None, metadata=_cli(
        "--by", "Business unit column (default: detected, e.g. 'Business unit'; 'none': the whole file is one "
                "organisation).", "COLUMN"))
    id_column: str | bool | None = field(default=None, metadata=_cli(
        "--id-column", "Respondent id column (default: detected; else row numbers; 'none': no ids).", "COLUMN"))
    role_column: str | bool | None = field(default=None, metadata=_cli(
        "--role-column", "Respondent role column (default: detected; 'none': no roles).", "COLUMN"))
    submitted_column: str | bool | None = field(default=None, metadata=_cli(
        "--submitted-column", "Submission time column (default: detected, e.g. 'Completion time').", "COLUMN"))
    start_column: str | bool | None = field(default=None, metadata=_cli(
        "--start-column", "Start time column, for speeders (default: detected, e.g. 'Start time').", "COLUMN"))
    comment_column: str | bool | None = field(default=None, metadata=_cli(
        "--comment-column", "Free-text comment column (default: detected).", "COLUMN"))
    mapping: Mapping[str, str] = field(default_factory=dict, metadata=_cli(
        "--map", "Map a column header to an item id (repeatable).", "HEADER=ITEM", multiple=True))
    mapping_file: str | None = field(default=None, metadata=_cli(
        "--mapping-file", "YAML file mapping headers to items and metadata columns, with don't-know codes and "
                          "unit and role codes (replaces repeated --map).", "FILE", path=True))
    na_codes: tuple[float, ...] = field(default=(), metadata=_cli(
        "--na-code", "An answer code meaning \"Don't know\" (e.g. 6 in a numeric export of a 1-5 scale); "
                     "repeatable.", "NUMBER", multiple=True))
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict, metadata={"flag": None})
    layout: str = field(default="auto", metadata=_cli(
        "--layout", "One row per respondent (wide) or per answer (long).", None, choices=LAYOUTS))
    sheet: str | int | None = field(default=None, metadata=_cli(
        "--sheet", "XLSX sheet (default: the first sheet with item columns).", "NAME"))
    encoding: str | None = field(default=None, metadata=_cli(
        "--encoding", "CSV encoding (default: detected: UTF-8, UTF-8 BOM, UTF-16 or Windows-1252, row by row).",
        "NAME"))
    delimiter: str | None = field(default=None, metadata=_cli(
        "--delimiter", "CSV delimiter: one character, or tab, comma, semicolon, pipe (default: detected).", "CHAR"))
    require_unit: bool = field(default=True, metadata=_cli(
        "--require-unit/--no-require-unit", "Quarantine rows whose business unit is blank (default), or keep "
                                            "them in the organisation's results.", None, flag_pair=True))
    exclude_flagged: bool = field(default=False, metadata=_cli(
        "--exclude-flagged", "Quarantine straight-liners and speeders instead of keeping them flagged.", None,
        is_flag=True))
    keep_identifiers: bool = field(default=False, metadata={"flag": None})
    screen_comments: bool = field(default=True, metadata={"flag": None})

    def __post_init__(self) -> None:
        for name in META_FIELDS.values():
            _set(self, name, _column(name, getattr(self, name)))
        _set(self, "mapping", _mapping(self.mapping))
        if self.mapping_file is not None:
            if not isinstance(self.mapping_file, (str, Path)) or not str(self.mapping_file).strip():
                raise OptionError(self._name("mapping_file"), self.mapping_file, "the path of a YAML mapping file")
            _set(self, "mapping_file", str(self.mapping_file))
        _set(self, "na_codes", _codes(self._name("na_codes"), self.na_codes))
        _set(self, "values", _values(self._name("values"), self.values))
        if self.layout not in LAYOUTS:
            raise OptionError(self._name("layout"), self.layout, " or ".join(repr(v) for v in LAYOUTS))
        if self.sheet is not None and (isinstance(self.sheet, bool) or not isinstance(self.sheet, (str, int))):
            raise OptionError(self._name("sheet"), self.sheet, "a sheet name or number")
        if self.encoding is not None:
            _set(self, "encoding", _encoding(self._name("encoding"), self.encoding))
        if self.delimiter is not None:
            _set(self, "delimiter", _delimiter(self._name("delimiter"), self.delimiter))
        for name in ("require_unit", "exclude_flagged", "keep_identifiers", "screen_comments"):
            if not isinstance(getattr(self, name), bool):
                raise OptionError(self._name(name), getattr(self, name), "True or False")

    @staticmethod
    def _name(name: str) -> str:
        flag = next(f.metadata.get("flag") for f in fields(LoadOptions) if f.name == name)
        return f"{name} ({flag.split('/')[0]})" if flag else name

    # --- building ----------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None, *, where: str = "load_options") -> LoadOptions:
        """Options from a dict (a notebook parameter, a batch task), refusing unknown names."""
        if values is None:
            return cls()
        if not isinstance(values, Mapping):
            raise OptionError(where, values, "a dict of loader options such as {'role_column': 'Position'}")
        names = [f.name for f in fields(cls)]
        for key in values:
            if key not in names:
                raise UnknownNameError("loader option", key, names, where=where)
        return cls(**dict(values))

    @classmethod
    def coerce(cls, options: LoadOptions | Mapping[str, Any] | None, **overrides: Any) -> LoadOptions:
        """``options`` as LoadOptions (None: the defaults; a dict: :meth:`from_dict`), with ``overrides``
        that are not None applied on top."""
        base = options if isinstance(options, LoadOptions) else cls.from_dict(options)
        changes = {k: v for k, v in overrides.items() if v is not None}
        return base.replace(**changes) if changes else base

    def replace(self, **changes: Any) -> LoadOptions:
        """A copy with some fields changed (checked again)."""
        names = [f.name for f in fields(self)]
        for key in changes:
            if key not in names:
                raise UnknownNameError("loader option", key, names)
        return dataclasses.replace(self, **changes)

    def to_dict(self, *, changed_only: bool = False) -> dict[str, Any]:
        """Plain values (JSON-ready: a notebook parameter, a batch task, the settings of a run)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            default = f.default_factory() if callable(f.default_factory) else f.default
            if changed_only and value == default:
                continue
            if isinstance(value, Mapping):
                value = {k: dict(v) if isinstance(v, Mapping) else v for k, v in value.items()}
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @property
    def meta(self) -> dict[str, str | bool | None]:
        """The metadata columns by role (``respondent_id``, ``unit``, ...), as the loader uses them."""
        return {role: getattr(self, name) for role, name in META_FIELDS.items()}

    def merged_with(self, spec: MappingSpec | None) -> LoadOptions:
        """These options completed from a mapping file's content (the options given directly win)."""
        if spec is None:
            return self
        changes: dict[str, Any] = {}
        for role, name in META_FIELDS.items():
            given = spec.columns.get(role)
            if getattr(self, name) is None and given is not None:
                changes[name] = given
        changes["mapping"] = {**spec.items, **self.mapping}
        changes["na_codes"] = tuple(dict.fromkeys((*self.na_codes, *spec.na_codes)))
        changes["values"] = {**spec.values, **self.values}
        return dataclasses.replace(self, **changes)


def _set(options: LoadOptions, name: str, value: Any) -> None:
    object.__setattr__(options, name, value)


def _column(name: str, value: Any) -> str | bool | None:
    if value is None or value is False:
        return value
    if isinstance(value, str) and value.strip():
        return False if value.strip().lower() == "none" else value
    raise OptionError(LoadOptions._name(name), value, "a column header, 'none' or False (no such column)")


def _mapping(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise OptionError(LoadOptions._name("mapping"), value, "a dict {column header: item id}")
    for header, item in value.items():
        if not isinstance(header, str) or not isinstance(item, str) or not header or not item:
            raise OptionError(LoadOptions._name("mapping"), {header: item}, "a column header mapped to an item id")
    return dict(value)


def _number(option: str, value: Any) -> float:
    if isinstance(value, bool):
        raise OptionError(option, value, "a number such as 6")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError as err:
            raise OptionError(option, value, "a number such as 6") from err
    if not isinstance(value, (int, float)) or value != value:
        raise OptionError(option, value, "a number such as 6")
    return float(value)


def _codes(option: str, value: Any) -> tuple[float, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, int, float)):
        value = [value]
    return tuple(dict.fromkeys(_number(option, v) for v in value))


def _values(option: str, value: Any) -> dict[str, dict[str, str]]:
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise OptionError(option, value, "a dict such as {'unit': {1: 'Finance'}}")
    out = {}
    for role, codes in value.items():
        if role not in ("unit", "role"):
            raise UnknownNameError("column with coded values", role, ["role", "unit"], where=option)
        if not isinstance(codes, Mapping):
            raise OptionError(f"{option}[{role!r}]", codes, "a dict {code: name}")
        out[role] = {_code_text(code): str(name) for code, name in codes.items()}
    return out


def _code_text(code: Any) -> str:
    """A code as the file's text shows it: 1, 1.0 and "1" are the same code."""
    if isinstance(code, float) and code.is_integer():
        return str(int(code))
    return str(code).strip()


def _encoding(option: str, value: Any) -> str:
    try:
        return codecs.lookup(str(value)).name if isinstance(value, str) else codecs.lookup(value).name
    except (LookupError, TypeError) as err:
        raise OptionError(option, value, "a text encoding such as utf-8, cp1252 or latin-1") from err


def _delimiter(option: str, value: Any) -> str:
    if not isinstance(value, str):
        raise OptionError(option, value, "one character such as ',', ';', '|' or 'tab'")
    value = DELIMITER_NAMES.get(value.lower(), value)
    if len(value) != 1 or value in "\r\n\"":
        raise OptionError(option, value, "one character such as ',', ';', '|' or 'tab' (not a quote or line break)")
    return value


# ---------------------------------------------------------------------------------------------
# Mapping files


@dataclass(frozen=True)
class MappingSpec:
    """A mapping file's content, checked."""

    path: str
    items: dict[str, str]
    columns: dict[str, str | bool]  # metadata role -> header (False: none)
    na_codes: tuple[float, ...]
    values: dict[str, dict[str, str]]


_FILE_META = {"id": "respondent_id", "unit": "unit", "role": "role", "submitted": "submitted_at",
              "start": "start_time", "comment": "comment"}
_FILE_KEYS = ("items", *_FILE_META, "na_codes", "values")


def read_mapping_file(path: str | Path) -> MappingSpec:
    """Read and check a mapping file (YAML, safe loading); errors name the file and the key.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "m.yaml").write_text("items: {Q5_1: INS1}\\nunit: Q1\\nna_codes: [6]\\n")
    >>> spec = read_mapping_file(folder / "m.yaml")
    >>> spec.items, spec.columns, spec.na_codes
    ({'Q5_1': 'INS1'}, {'unit': 'Q1'}, (6.0,))
    """
    from ._yaml import read_yaml_mapping
    from .errors import Problem, closest

    data = read_yaml_mapping(Path(path), error=MappingFileError)
    problems = []
    for key in data:
        if key not in _FILE_KEYS:
            hint = closest(str(key), _FILE_KEYS)
            problems.append(Problem(str(key), f"unknown key{f' (did you mean {hint!r}?)' if hint else ''}; "
                                              f"accepted: {', '.join(_FILE_KEYS)}"))
    items = data.get("items") or {}
    if not isinstance(items, dict):
        problems.append(Problem("items", "expected a mapping {column header: item id}", type(items).__name__))
        items = {}
    clean_items = {}
    for header, item in items.items():
        if not isinstance(item, str) or not str(header).strip():
            problems.append(Problem(f"items[{header!r}]", "expected an item id", item))
        else:
            clean_items[str(header)] = item
    columns: dict[str, str | bool] = {}
    for key, role in _FILE_META.items():
        if key in data:
            value = data[key]
            if value is False or value is None:
                columns[role] = False
            elif isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                columns[role] = str(value)
            else:
                problems.append(Problem(key, "expected a column header, or false for none", value))
    na_codes: tuple[float, ...] = ()
    values: dict = {}
    try:
        na_codes = _codes("na_codes", data.get("na_codes"))
    except OptionError as err:
        problems.append(Problem("na_codes", "expected numbers such as [6]", err.value))
    try:
        values = _values("values", data.get("values"))
    except (OptionError, UnknownNameError) as err:
        problems.append(Problem("values", str(err)))
    if problems:
        raise MappingFileError(path, problems)
    return MappingSpec(str(path), clean_items, columns, na_codes, values)
