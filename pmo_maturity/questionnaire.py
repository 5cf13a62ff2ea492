"""The instrument: a Likert questionnaire described in YAML (DESIGN section 3).

The questionnaire is data, not code. :func:`load_questionnaire` reads a YAML file with
``yaml.safe_load`` semantics (duplicate keys refused), validates it, and returns a typed, immutable
:class:`Questionnaire`. Any integer Likert scale works (1-4, 1-5, 1-6, 0-10, ...), with or without
answer labels, any number of dimensions and items, reverse-keyed items, weights and optional explicit
level thresholds.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ._resources import bundled_file
from ._yaml import read_yaml_mapping, validate_model

DEFAULT_QUESTIONNAIRE = "pmo_integration.yaml"
MATURITY_LEVEL_NAMES = ("Ad hoc", "Emerging", "Defined", "Integrated", "Optimising")

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


def normalise_text(text: object) -> str:
    """Case-, width-, quote- and whitespace-insensitive form used to match labels and headers.

    >>> normalise_text("  Don\u2019t   KNOW ")
    "don't know"
    """
    s = unicodedata.normalize("NFKC", str(text)).translate(_QUOTES)
    return " ".join(s.casefold().split())


_Id = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
_Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Scale(_Strict):
    """The answer scale: integer points from ``min`` to ``max``, optional labels, missing labels,
    and optional numeric codes that mean "Don't know" (``na_codes``, for numeric exports that code
    that choice, for example 6 on a 1-5 scale; they must lie outside the scale)."""

    min: int
    max: int
    labels: tuple[_Text, ...] | None = None
    na_labels: tuple[_Text, ...] = ("Don't know", "Not applicable", "N/A")
    na_codes: tuple[float, ...] = ()

    @field_validator("na_codes", mode="before")
    @classmethod
    def _codes_as_list(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("expected numbers such as [6]")
        return [value] if isinstance(value, (int, float)) else value

    @model_validator(mode="after")
    def _check(self) -> Scale:
        if self.min >= self.max:
            raise ValueError(f"scale.min ({self.min}) must be smaller than scale.max ({self.max})")
        if self.labels is not None and len(self.labels) != self.points:
            raise ValueError(
                f"scale.labels has {len(self.labels)} labels but the scale {self.min}-{self.max} "
                f"has {self.points} points; give one label per point, lowest first"
            )
        inside = [code for code in self.na_codes if self.min <= code <= self.max]
        if inside:
            raise ValueError(f"scale.na_codes {inside} lie on the scale {self.min}-{self.max}: a don't-know code must "
                             f"be outside it (such as {self.max + 1})")
        seen: dict[str, str] = {}
        for label in (*(self.labels or ()), *self.na_labels):
            key = normalise_text(label)
            if key in seen:
                raise ValueError(f"label {label!r} is given twice (also as {seen[key]!r})")
            seen[key] = label
        return self

    @property
    def points(self) -> int:
        """Number of answer options A (5 for a 1-5 scale), used by the rwg null distribution."""
        return self.max - self.min + 1

    @property
    def range(self) -> int:
        return self.max - self.min

    @cached_property
    def label_values(self) -> dict[str, int]:
        """Normalised label -> scale value."""
        if self.labels is None:
            return {}
        return {normalise_text(label): self.min + i for i, label in enumerate(self.labels)}

    @cached_property
    def na_keys(self) -> frozenset[str]:
        return frozenset(normalise_text(label) for label in self.na_labels)

    def label_of(self, value: int) -> str:
        """The label of a scale point, or the number itself when the scale has no labels."""
        if self.labels is None:
            return str(value)
        return self.labels[int(value) - self.min]


class Level(_Strict):
    """A maturity level; ``min`` is its explicit lower threshold (optional, all or none)."""

    level: int = Field(ge=1)
    name: _Text
    min: float | None = None
    description: str = ""


class Item(_Strict):
    """One statement respondents rate."""

    id: _Id
    text: _Text
    reverse: bool = False
    meta: dict[str, Any] = Field(default_factory=dict)


class Dimension(_Strict):
    """A dimension of the model: its items, weight and level descriptors."""

    id: _Id
    name: _Text
    weight: float = Field(default=1.0, gt=0)
    description: str = ""
    level_descriptors: dict[int, str] = Field(default_factory=dict)
    items: tuple[Item, ...] = Field(min_length=1)
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def item_ids(self) -> list[str]:
        return [item.id for item in self.items]

    @property
    def short(self) -> str:
        """A short name for running text (``meta.short``, else the name in lower case)."""
        return str(self.meta.get("short") or self.name[:1].lower() + self.name[1:])

    def min_answered(self, share: float) -> int:
        """Answered items needed for a respondent score: ``ceil(share * k)``, at least 1."""
        return max(1, math.ceil(round(share * len(self.items), 9)))


class Questionnaire(BaseModel):
    """A validated instrument. Top-level keys beyond the documented ones are kept in ``extra``."""

    model_config = ConfigDict(extra="allow", frozen=True, str_strip_whitespace=True)

    id: _Id
    version: str
    title: _Text
    description: str = ""
    instructions: str = ""
    roles: tuple[_Text, ...] = ()
    scale: Scale
    levels: tuple[Level, ...] = ()
    dimensions: tuple[Dimension, ...] = Field(min_length=1)
    _source: str | None = PrivateAttr(default=None)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        # ``version: 1.0`` in YAML is a float; keep what the author wrote.
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _check(self) -> Questionnaire:
        dim_ids = [d.id for d in self.dimensions]
        _refuse_duplicates("dimension id", dim_ids)
        _refuse_duplicates("item id", [i.id.casefold() for d in self.dimensions for i in d.items])
        if not self.levels:
            object.__setattr__(self, "levels", _default_levels(5))
        numbers = [lv.level for lv in self.levels]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"levels must be numbered 1, 2, ... in order; got {numbers}")
        bounds = [lv.min for lv in self.levels]
        if any(b is not None for b in bounds):
            if any(b is None for b in bounds):
                raise ValueError("give a 'min' threshold for every level or for none")
            if bounds[0] != self.scale.min:
                raise ValueError(f"the first level's min must be the scale minimum {self.scale.min}; got {bounds[0]}")
            limits = [float(b) for b in bounds if b is not None]
            if any(b2 <= b1 for b1, b2 in itertools.pairwise(limits)) or limits[-1] >= self.scale.max:
                raise ValueError(f"level thresholds must increase and stay below scale.max; got {bounds}")
        for d in self.dimensions:
            unknown = sorted(set(d.level_descriptors) - set(numbers))
            if unknown:
                raise ValueError(f"dimension {d.id!r}: level_descriptors for unknown level(s) {unknown}")
        return self

    # --- structure ---------------------------------------------------------------------------

    @property
    def items(self) -> list[Item]:
        return [item for d in self.dimensions for item in d.items]

    @property
    def item_ids(self) -> list[str]:
        return [item.id for item in self.items]

    @property
    def dimension_ids(self) -> list[str]:
        return [d.id for d in self.dimensions]

    def dimension(self, dimension_id: str) -> Dimension:
        for d in self.dimensions:
            if d.id == dimension_id:
                return d
        raise KeyError(f"questionnaire {self.id!r} has no dimension {dimension_id!r}; it has {self.dimension_ids}")

    @property
    def weights(self) -> pd.Series:
        return pd.Series({d.id: d.weight for d in self.dimensions}, name="weight")

    # --- levels and indices ------------------------------------------------------------------

    @property
    def level_bounds(self) -> np.ndarray:
        """Lower bound of each level followed by scale.max (length ``n_levels + 1``)."""
        if self.levels[0].min is not None:
            return np.array([lv.min for lv in self.levels] + [self.scale.max], dtype=float)
        return np.linspace(self.scale.min, self.scale.max, len(self.levels) + 1)

    def level_of(self, score: Any) -> Any:
        """Level number(s) of score(s) as reports show them; NaN stays NaN.

        A score is classified as it is displayed, rounded to two decimals (:func:`displayed`), so
        that a printed score never contradicts its printed level: 2.5951 shows as "2.60" and is
        Defined, 2.5949 shows as "2.59" and is Emerging. A score on a boundary takes the upper level.

        >>> q = load_questionnaire()
        >>> q.level_of(2.5951), q.level_of(2.5949), q.level_of(2.6)
        (3, 2, 3)
        """
        values = displayed(score)
        inner = self.level_bounds[1:-1]
        # Round the bounds too, so that 2.6000000000000001 and 2.5999999999999996 land in the same band.
        levels = np.searchsorted(np.round(inner, 9), values, side="right") + 1.0
        levels = np.where(np.isnan(values), np.nan, levels)
        if levels.ndim == 0:
            return None if np.isnan(levels) else int(levels)
        return levels

    def level_name(self, level: int | float | None) -> str:
        if level is None or (isinstance(level, float) and math.isnan(level)):
            return "not scored"
        return self.levels[int(level) - 1].name

    def level_reading(self, level, low, high) -> str:
        """A level read with its interval: "Defined", "Defined, borderline with Emerging" (the
        interval's bounds fall in two levels) or "Defined, between Emerging and Integrated".

        >>> q = load_questionnaire()
        >>> q.level_reading(3, 2, 3), q.level_reading(3, 3, 3), q.level_reading(3, 2, 4)
        ('Defined, borderline with Emerging', 'Defined', 'Defined, between Emerging and Integrated')
        """
        name = self.level_name(level)
        if _missing(level) or _missing(low) or _missing(high) or int(low) == int(high):
            return name
        if int(low) == int(level) or int(high) == int(level):
            other = int(high) if int(low) == int(level) else int(low)
            return f"{name}, borderline with {self.level_name(other)}"
        return f"{name}, between {self.level_name(low)} and {self.level_name(high)}"

    def level_floor(self, level: int) -> float:
        """The lowest score that reaches ``level`` (the target score for a target level)."""
        return float(self.level_bounds[int(level) - 1])

    def index(self, score: Any) -> Any:
        """Score on the 0-100 index: ``(score - min) / (max - min) * 100``."""
        return (np.asarray(score, dtype=float) - self.scale.min) / self.scale.range * 100

    def descriptor(self, dimension_id: str, level: int) -> str:
        """The dimension's description of a level, or the level's generic description."""
        d = self.dimension(dimension_id)
        return d.level_descriptors.get(int(level)) or self.levels[int(level) - 1].description

    @property
    def default_gap_threshold(self) -> float:
        """One eighth of the scale range (0.5 on 1-5)."""
        return self.scale.range / 8

    # --- provenance ---------------------------------------------------------------------------

    @property
    def source(self) -> str | None:
        """The file the questionnaire was loaded from, if any."""
        return self._source

    def describe(self) -> str:
        return f"{self.title} ({self.id} v{self.version})"


DISPLAY_DIGITS = 2  # scores are shown with two decimals everywhere


def displayed(score: Any) -> np.ndarray:
    """Score(s) rounded as they are displayed (``f"{x:.2f}"``, exactly as printed).

    >>> displayed([2.5951, 2.5949, float("nan")]).tolist()
    [2.6, 2.59, nan]
    """
    values = np.asarray(score, dtype=float)
    flat = [float(f"{v:.{DISPLAY_DIGITS}f}") if np.isfinite(v) else v for v in values.ravel().tolist()]
    return np.array(flat, dtype=float).reshape(values.shape)


def _missing(x) -> bool:
    return x is None or (isinstance(x, (float, np.floating)) and math.isnan(x))


def _default_levels(count: int) -> tuple[Level, ...]:
    names = MATURITY_LEVEL_NAMES if count == 5 else [f"Level {i}" for i in range(1, count + 1)]
    return tuple(Level(level=i + 1, name=n) for i, n in enumerate(names))


def _refuse_duplicates(what: str, values: list[str]) -> None:
    seen: set[str] = set()
    dupes = [v for v in values if v in seen or seen.add(v)]  # type: ignore[func-returns-value]
    if dupes:
        raise ValueError(f"duplicate {what}(s): {sorted(set(dupes))}")


def load_questionnaire(path: str | Path | None = None) -> Questionnaire:
    """Load and validate a questionnaire YAML file.

    Parameters
    ----------
    path : str or Path, optional
        A questionnaire file (DESIGN section 3). Without a path, the bundled PMO Integration
        Maturity instrument is loaded; this works from a checkout and from an installed wheel.

    Returns
    -------
    Questionnaire
        Immutable, with attribute access: ``q.id``, ``q.version``, ``q.scale``,
        ``q.dimensions[0].items[0].id``, ``.text``, ``.reverse``.

    Raises
    ------
    QuestionnaireError
        Naming the file, the key (for example ``dimensions[2] (id 'action').items[0].reverse``),
        the bad value and what was expected.

    Examples
    --------
    >>> q = load_questionnaire()
    >>> q.id, len(q.dimensions), q.scale.min, q.scale.max
    ('pmo-integration', 8, 1, 5)
    """
    file = Path(path) if path is not None else bundled_file(DEFAULT_QUESTIONNAIRE)
    data = read_yaml_mapping(file)
    data = {k: v for k, v in data.items() if not str(k).startswith("_")}
    questionnaire = validate_model(Questionnaire, data, file)
    questionnaire._source = str(file)
    return questionnaire

