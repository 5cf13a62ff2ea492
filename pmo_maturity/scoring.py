"""Scoring: the rules of DESIGN section 4, applied to loaded responses.

:func:`score` turns :class:`~pmo_maturity.responses.Responses` into :class:`Scores`, a bundle of tidy
DataFrames (respondents, organisation, units, roles, overall, reliability, agreement, icc, gaps) with
the rules, the data-quality summary and the provenance needed to reproduce the numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import stats
from ._scan import (ItemSums, PairSums, accumulate, group_pair_sums, group_scores, head_centre, map_threads,
                    renumbered)
from ._version import kit_version
from .errors import ConfigurationError, UnitNotFound
from .privacy import Hidden, protect_statistic, suppress_crossing, suppressed_groups
from .questionnaire import Questionnaire
from .responses import Responses, _too_few_detail

ORGANISATION = "Organisation"
NO_ROLE = "Role not stated"
# Why a shown group's dimension is hidden: its own few answers, or to protect a smaller group.
HIDDEN_WORDS = {False: "too few answers", True: "hidden to protect a smaller group"}
_LEVEL_INTERVAL_COLUMNS = ("level_ci_low", "level_ci_high", "level_ci_low_name", "level_ci_high_name", "borderline")


@dataclass(frozen=True)
class ScoringRules:
    """The settings of the scoring rules; recorded in every result and printed in every report.

    Parameters
    ----------
    min_answered : float
        Share of a dimension's items a respondent must answer for a dimension score (rounded up).
    min_group_size : int
        Smallest reportable group (never below 3).
    min_comment_group : int, optional
        Smallest group whose free-text comments may be shown; by default 10, or ``min_group_size``
        when that is larger.
    gap_threshold : float or None
        Perception gap flagged at this difference in points; None = one eighth of the scale range.
    reliability_threshold, agreement_threshold : float
        Alpha and rwg(j) below these are flagged (rules of thumb, not laws).
    min_reliability_n : int
        Fewer respondents than this: alpha is reported as "not enough data".
    confidence : float
        Level of every interval.
    n_resamples : int
        Bootstrap resamples per group.
    bootstrap_max_n : int
        Groups larger than this use the Student-t / delta-method interval instead of the bootstrap.
    seed : int
        Seed of every random draw (combined with the group's name).
    """

    min_answered: float = 0.6
    min_group_size: int = 5
    min_comment_group: int = None  # type: ignore[assignment]  # resolved in __post_init__
    gap_threshold: float | None = None
    reliability_threshold: float = 0.70
    agreement_threshold: float = 0.70
    min_reliability_n: int = 10
    confidence: float = 0.95
    n_resamples: int = 2000
    bootstrap_max_n: int = 2000
    seed: int = 20261126

    def __post_init__(self) -> None:
        if self.min_comment_group is None:
            object.__setattr__(self, "min_comment_group", max(10, self.min_group_size))
        problems = []
        if not 0 < self.min_answered <= 1:
            problems.append(f"min_answered must be a share in (0, 1]; got {self.min_answered!r}")
        if int(self.min_group_size) != self.min_group_size or self.min_group_size < 3:
            problems.append(f"min_group_size must be a whole number of at least 3; got {self.min_group_size!r}")
        if self.min_comment_group < self.min_group_size:
            problems.append(f"min_comment_group ({self.min_comment_group}) must be at least min_group_size "
                            f"({self.min_group_size})")
        if self.gap_threshold is not None and self.gap_threshold <= 0:
            problems.append(f"gap_threshold must be positive; got {self.gap_threshold!r}")
        if not 0.5 <= self.confidence < 1:
            problems.append(f"confidence must be in [0.5, 1); got {self.confidence!r}")
        if self.n_resamples < 200:
            problems.append(f"n_resamples must be at least 200; got {self.n_resamples!r}")
        if problems:
            raise ConfigurationError("invalid scoring rules: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, values: dict) -> ScoringRules:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigurationError(f"unknown scoring rule(s) {unknown}; known rules are {sorted(known)}")
        return cls(**values)

    def gap_points(self, questionnaire: Questionnaire) -> float:
        return self.gap_threshold if self.gap_threshold is not None else questionnaire.default_gap_threshold

    def describe(self, questionnaire: Questionnaire) -> list[str]:
        """The scoring rules in plain words, with this run's settings (technical names in parentheses)."""
        s = questionnaire.scale
        bounds = questionnaire.level_bounds
        bands = ", ".join(f"{lv.level} {lv.name} from {bounds[i]:.2f}" for i, lv in enumerate(questionnaire.levels))
        pct = int(round(self.min_answered * 100))
        return [
            f"Answers are on a {s.min}-{s.max} scale; labels count as their scale point; "
            f"{', '.join(s.na_labels)} and blanks are missing, not zero; anything else is set aside with its reason.",
            f"Statements worded the other way round are turned round before scoring: x' = {s.min} + {s.max} - x "
            f"(reverse-keyed items).",
            f"A person's score on a dimension is the mean of their answers to its statements, when they answered at "
            f"least {pct}% of them (rounded up); otherwise they have no score on it.",
            f"A group's score is the mean of its people's scores, with how many they are (n) and a {self.confidence:.0%} "
            f"interval: {self.n_resamples} seeded resamples of the group's people (percentile bootstrap) for groups of "
            f"up to {self.bootstrap_max_n}, Student's t above that.",
            f"Index 0-100 = (score - {s.min}) / ({s.max} - {s.min}) x 100.",
            f"Levels are score bands: {bands} (up to {s.max}); a score is read as displayed, to two decimals.",
            "The overall integration index is the weighted mean of the dimension scores. Its level is the band of "
            "that index; the strictest reading is the lowest dimension level (staged level: an organisation is "
            "only as integrated as its least integrated dimension).",
            f"A dimension's statements should hang together: consistency of {self.reliability_threshold:.2f} or more "
            f"on a 0-1 scale (Cronbach's alpha with pairwise-complete covariances and a Feldt interval), not "
            f"reported under {self.min_reliability_n} respondents.",
            f"Agreement within a unit is read against answers as scattered as chance (rwg(j) with the uniform null "
            f"(A^2 - 1)/12 = {stats.uniform_null_variance(s.points):.2f}); under {self.agreement_threshold:.2f} the "
            f"average hides divergent views (a rule of thumb). How much units differ: ICC(1) and ICC(2) from a "
            f"one-way ANOVA across the units shown.",
            f"Gaps between roles count from {self.gap_points(questionnaire):.2f} points (one eighth of the scale "
            f"range unless set) when they stay clear of zero after allowing for the number of comparisons in the "
            f"scope (Welch's interval, Holm's adjustment), and only between groups large enough to show.",
            f"Privacy: groups under {self.min_group_size} respondents are not shown, nor anything that would let "
            f"one be worked out by subtraction, dimension by dimension (complementary suppression, checked "
            f"exactly); comments are shown only for groups of at least {self.min_comment_group}, with personal "
            f"details removed.",
        ]


@dataclass
class Scores:
    """Everything :func:`score` computes, as tidy DataFrames plus provenance.

    Attributes
    ----------
    respondents : DataFrame
        One row per scored respondent: ``respondent_id, row, unit, role``, one column per
        dimension id (NaN = not scored) and ``overall``.
    organisation : DataFrame
        One row per dimension: ``dimension, name, weight, n, mean, ci_low, ci_high, index, level,
        level_name``.
    units, roles : DataFrame
        The same per group (``unit``/``role`` first), with ``suppressed`` and ``suppressed_reason``;
        the numbers of suppressed groups are blank.
    overall : DataFrame
        One row per group (``scope, group``): ``n, score, ci_low, ci_high, index,
        continuous_level, staged_level``, their names, ``levels_differ``, ``suppressed``.
    reliability : DataFrame
        ``dimension, n, k, alpha, ci_low, ci_high, status`` (ok / low / not enough data).
    agreement : DataFrame
        ``unit, dimension, n, items, mean_variance, rwg_j, status`` (``scope`` organisation too).
    icc : DataFrame
        ``dimension, icc1, icc2, msb, msw, f, p, units, mean_group_size``.
    gaps : DataFrame
        ``scope, dimension, higher, lower, mean_higher, n_higher, mean_lower, n_lower,
        difference, ci_low, ci_high, p_value, p_adjusted, comparisons, flagged``, between
        reportable role groups; ``scope`` is ``Organisation`` or a unit. The interval is Welch's
        for the difference; ``p_adjusted`` is Holm's over the ``comparisons`` of the scope;
        ``flagged`` when the difference reaches the threshold and ``p_adjusted`` is under 0.05.
    role_cells : DataFrame
        Unit x role means per dimension with the crossed-table suppression applied.
    data_quality : dict
    provenance : dict
    item_hidden : DataFrame
        Per scope (``Organisation``, then each unit) and item: the item's answers may not be shown
        (too few answers, or they would let a hidden unit's answers be worked out).
    """

    questionnaire: Questionnaire
    rules: ScoringRules
    respondents: pd.DataFrame
    organisation: pd.DataFrame
    units: pd.DataFrame
    roles: pd.DataFrame
    overall: pd.DataFrame
    reliability: pd.DataFrame
    agreement: pd.DataFrame
    icc: pd.DataFrame
    gaps: pd.DataFrame
    role_cells: pd.DataFrame
    data_quality: dict
    provenance: dict
    item_hidden: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    responses: Responses | None = field(default=None, repr=False)
    digest: object | None = field(default=None, repr=False)  # pmo_maturity.digest.Digest, built on demand

    @property
    def has_units(self) -> bool:
        return bool(self.data_quality.get("has_units"))

    @property
    def has_roles(self) -> bool:
        return bool(self.data_quality.get("has_roles"))

    # --- views -------------------------------------------------------------------------------

    @property
    def unit_names(self) -> list[str]:
        return list(self.units["unit"].drop_duplicates()) if len(self.units) else []

    @property
    def reportable_units(self) -> list[str]:
        units = self.overall[self.overall["scope"] == "unit"] if len(self.overall) else self.overall
        return list(units.loc[~units["suppressed"].astype(bool), "group"]) if len(units) else []

    @property
    def suppressed_units(self) -> dict[str, str]:
        units = self.overall[self.overall["scope"] == "unit"] if len(self.overall) else self.overall
        if not len(units):
            return {}
        rows = units[units["suppressed"].astype(bool)]
        return dict(zip(rows["group"], rows["suppressed_reason"]))

    def _unit_not_found(self, unit: str, what: str = "scores", available: list[str] | None = None) -> UnitNotFound:
        source = str(self.provenance.get("input_file") or "")
        if not self.has_units:
            return UnitNotFound(unit, [], source=source, what=what,
                                reason="the file has no business unit column (name it with --by, or unit_column)")
        return UnitNotFound(unit, self.unit_names if available is None else available, self.suppressed_units,
                            source=source, what=what)

    def check_reportable(self, unit: str | None, what: str = "a report") -> None:
        """Raise :class:`UnitNotFound` unless ``unit`` is None (the organisation) or a reportable unit."""
        if unit is not None and unit not in self.reportable_units:
            raise self._unit_not_found(unit, what, self.reportable_units)

    def overall_for(self, unit: str | None = None) -> pd.Series:
        """The overall row of the organisation (no unit) or of a unit."""
        scope = "organisation" if unit is None else "unit"
        rows = self.overall[(self.overall["scope"] == scope) & (self.overall["group"] == (unit or ORGANISATION))]
        if rows.empty:
            raise self._unit_not_found(unit)
        return rows.iloc[0]

    def dimensions_for(self, unit: str | None = None) -> pd.DataFrame:
        """The per-dimension table of the organisation (unit None) or of a unit."""
        if unit is None:
            return self.organisation
        frame = self.units[self.units["unit"] == unit]
        if frame.empty:
            raise self._unit_not_found(unit)
        return frame.drop(columns=["unit"]).reset_index(drop=True)

    def scorecard(self, unit: str | None = None) -> pd.DataFrame:
        """A readable scorecard: dimension, n, score with interval, index, level; overall last
        (:func:`pmo_maturity.export.scorecard`)."""
        from .export import scorecard

        return scorecard(self, unit)

    def to_frame(self) -> pd.DataFrame:
        """One tidy table of every reportable number: organisation, units, roles, overall."""
        parts = []
        org = self.organisation.assign(scope="organisation", group=ORGANISATION, suppressed=False)
        parts.append(org)
        if len(self.units):
            parts.append(self.units.rename(columns={"unit": "group"}).assign(scope="unit"))
        if len(self.roles):
            parts.append(self.roles.rename(columns={"role": "group"}).assign(scope="role"))
        overall = self.overall.rename(columns={"score": "mean", "continuous_level": "level",
                                               "continuous_level_name": "level_name",
                                               **{f"continuous_{c}": c for c in _LEVEL_INTERVAL_COLUMNS}})
        parts.append(overall.assign(dimension="overall", name="Overall integration index"))
        cols = ["scope", "group", "dimension", "name", "n", "mean", "ci_low", "ci_high", "index", "level",
                "level_name", *_LEVEL_INTERVAL_COLUMNS, "suppressed"]
        frame = pd.concat([p.reindex(columns=cols) for p in parts], ignore_index=True)
        q = self.questionnaire
        frame["questionnaire"] = f"{q.id} v{q.version}"
        # What a later cycle needs to know that it compares like with like (pmo_maturity.trend).
        frame["questionnaire_id"], frame["questionnaire_version"] = q.id, q.version
        frame["scale_min"], frame["scale_max"] = q.scale.min, q.scale.max
        frame["input_sha256"] = self.provenance["input_sha256"]
        return frame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The named tables of the result (without respondent-level rows)."""
        return {
            "scores": self.to_frame(), "reliability": self.reliability, "agreement": self.agreement,
            "icc": self.icc, "gaps": self.gaps,
        }

    def write(self, path: str | Path, *, include_respondents: bool = False) -> Path:
        """Write the scores as ``.csv``, ``.xlsx`` or ``.json`` (:func:`pmo_maturity.export.write_scores`)."""
        from .export import write_scores

        return write_scores(self, path, include_respondents=include_respondents)


# ---------------------------------------------------------------------------------------------
# The scoring run


def score(responses: Responses, questionnaire: Questionnaire | None = None, rules: ScoringRules | None = None,
          **rule_overrides) -> Scores:
    """Score loaded responses with the rules of DESIGN section 4.

    Parameters
    ----------
    responses : Responses
        From :func:`~pmo_maturity.load_responses`.
    questionnaire : Questionnaire, optional
        Defaults to the questionnaire the responses were loaded with.
    rules : ScoringRules, optional
        Defaults to ``ScoringRules()``; keyword overrides such as ``min_group_size=7`` are applied
        on top.

    Returns
    -------
    Scores

    Examples
    --------
    >>> from pmo_maturity import load_responses
    >>> from pmo_maturity.sample import sample_path
    >>> scores = score(load_responses(sample_path()))
    >>> list(scores.organisation.columns[:4])
    ['dimension', 'name', 'weight', 'n']
    """
    q = questionnaire or responses.questionnaire
    rules = rules or ScoringRules()
    if rule_overrides:
        rules = ScoringRules.from_dict({**asdict(rules), **rule_overrides})
    raw = responses.data[q.item_ids].to_numpy(dtype=float)
    units_index, roles_index = _groupings(responses)
    sums = _item_sums(raw, q, rules, None if units_index is None else units_index.codes,
                      len(units_index.names) if units_index else 0, weights=q.weights.to_numpy())
    unit_names = units_index.names if units_index else []
    block = sums.scores  # (respondents, dimensions + overall), column-major
    scored = ~np.isnan(sums.dimension_scores).all(axis=1)
    if not scored.all():  # a stricter min_answered than the loader's
        dropped = _item_sums(raw[~scored], q, rules, None if units_index is None else units_index.codes[~scored],
                             len(unit_names))
        block = np.asfortranarray(block[scored])
        sums = replace(sums.without(dropped), scores=block)
    dim_scores = block[:, :len(q.dimensions)]
    if not scored.all():
        responses = responses.subset(scored, reason="too_few_answers", detail=_too_few_detail(rules.min_answered))
        units_index, roles_index = _groupings(responses)
    hidden_units, hidden_roles, cell_mask = _privacy(units_index, roles_index, rules)
    family = _Family.of(units_index, roles_index, dim_scores, hidden_units, hidden_roles, cell_mask, rules)
    respondents = _respondent_frame(responses, q, block)
    large_org, (large_units, large_roles) = _large_group_sums(dim_scores, [units_index, roles_index], rules)
    organisation, overall_org, _ = _group_tables(dim_scores, None, q, rules, key=None, large=large_org,
                                                 hidden=family.total[None, :])
    units, overall_units, unit_stats = _group_tables(dim_scores, units_index, q, rules, key="unit",
                                                     suppressed=hidden_units, large=large_units,
                                                     hidden=family.rows)
    roles, _, role_stats = _group_tables(dim_scores, roles_index, q, rules, key="role", suppressed=hidden_roles,
                                         large=large_roles, hidden=family.columns)
    overall = pd.concat([overall_org, overall_units], ignore_index=True)
    reliability = _reliability(sums, q, rules)
    agreement = _agreement(sums, unit_names, units_index, hidden_units, family.rows, q, rules)
    icc = _icc(unit_stats, hidden_units, family.rows, units_index, q)
    role_cells = _role_cells(units_index, roles_index, family, q) if cell_mask is not None else \
        pd.DataFrame(columns=["unit", "role", "dimension", "n", "mean", "suppressed"])
    variances = _variances(roles_index, role_stats, units_index, family, q)
    gaps = _gaps(roles, role_cells, variances, q, rules)
    item_hidden = _item_hidden(sums, units_index, hidden_units, q, rules)
    quality = _data_quality(responses)
    provenance = {
        "questionnaire_id": q.id, "questionnaire_version": q.version, "questionnaire_title": q.title,
        "questionnaire_file": q.source, "kit_version": kit_version(),
        "input_file": responses.source.path, "input_sha256": responses.input_hash,
        "scored_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "rules": asdict(rules), "interval_method": _interval_method(respondents, rules),
    }
    return Scores(questionnaire=q, rules=rules, respondents=respondents, organisation=organisation, units=units,
                  roles=roles, overall=overall, reliability=reliability, agreement=agreement, icc=icc, gaps=gaps,
                  role_cells=role_cells, data_quality=quality, provenance=provenance, item_hidden=item_hidden,
                  responses=responses)


def _groupings(responses: Responses) -> tuple[_Groups | None, _Groups | None]:
    """The unit and role groups (None without the column), worked out side by side."""
    columns = [responses.data["unit"] if responses.has_units else None,
               responses.data["role"].fillna(NO_ROLE) if responses.has_roles else None]
    return tuple(map_threads(lambda c: None if c is None else _Groups.of(c), columns, len(responses.data)))


def _item_sums(raw: np.ndarray, q: Questionnaire, rules: ScoringRules, unit_codes, units: int,
               weights: np.ndarray | None = None) -> ItemSums:
    return accumulate(raw, membership=_membership(q), needed=np.array([d.min_answered(rules.min_answered)
                                                                        for d in q.dimensions]),
                      reverse=np.array([i.reverse for i in q.items]), low=q.scale.min, high=q.scale.max,
                      group_codes=unit_codes, groups=units, weights=weights)


def _membership(q: Questionnaire) -> np.ndarray:
    """(items x dimensions) 0/1 matrix: which dimension each item belongs to."""
    member = np.zeros((len(q.item_ids), len(q.dimensions)))
    start = 0
    for j, d in enumerate(q.dimensions):
        member[start:start + len(d.items), j] = 1.0
        start += len(d.items)
    return member


def _respondent_frame(responses: Responses, q: Questionnaire, scores: np.ndarray) -> pd.DataFrame:
    """One row per respondent: identity, unit, role, then ``scores`` (respondents x dimensions and the
    overall score, column-major: the frame's columns are views of it, not copies)."""
    data = responses.data
    n = len(data)
    frame = pd.DataFrame({"respondent_id": data["respondent_id"].array, "row": data["row"].to_numpy()})
    frame["unit"] = data["unit"].array if responses.has_units else pd.array([ORGANISATION] * n, dtype="str")
    frame["role"] = data["role"].fillna(NO_ROLE).array if responses.has_roles else pd.array([NO_ROLE] * n, dtype="str")
    dims = pd.DataFrame(scores, columns=[*q.dimension_ids, "overall"], copy=False)
    return pd.concat([frame, dims], axis=1)


class _Groups:
    """The groups of a grouping column: a code per respondent (-1 = none), names and sizes."""

    def __init__(self, labels: pd.Series):
        codes, uniques = pd.factorize(labels, sort=True)
        self.codes = codes
        self.names = [str(u) for u in uniques]
        self.sizes = np.bincount(codes[codes >= 0], minlength=len(uniques))

    @classmethod
    def of(cls, labels: pd.Series) -> _Groups:
        return cls(labels)

    def members(self, selected: np.ndarray) -> dict[int, np.ndarray]:
        """Row numbers of each selected group (a mask over the groups), in row order."""
        if not selected.any():
            return {}
        codes = self.codes
        rows = np.flatnonzero((codes >= 0) & selected[np.maximum(codes, 0)])
        keys = codes[rows]
        if len(self.names) < 2**15:  # numpy's stable sort of 16-bit keys is a radix sort: linear time
            keys = keys.astype(np.int16)
        rows = rows[np.argsort(keys, kind="stable")]
        out, start = {}, 0
        for g in np.flatnonzero(selected):
            out[int(g)] = rows[start:start + self.sizes[g]]
            start += self.sizes[g]
        return out


def _large_group_sums(dim_scores: np.ndarray, groupings: list[_Groups | None], rules: ScoringRules
                      ) -> tuple[dict[int, PairSums], list[dict[int, PairSums]]]:
    """Pair sums of the organisation and of every group above the bootstrap size (their intervals
    need nothing else), in one pass over the scores; by group number, per grouping (None: no
    grouping)."""
    limit = rules.bootstrap_max_n
    sizes = [np.array([len(dim_scores)]), *(np.array([], dtype=int) if g is None else g.sizes for g in groupings)]
    codes = [None, *(None if g is None else g.codes for g in groupings)]
    wanted = [i for i, size in enumerate(sizes) if size.max(initial=0) > limit]
    if not wanted:
        return {}, [{} for _ in groupings]
    large = [np.flatnonzero(sizes[i] > limit) for i in range(len(sizes))]
    numbered = [(None, 1) if codes[i] is None else (renumbered(codes[i], large[i], len(sizes[i])), len(large[i]))
                for i in wanted]  # only the large groups: the work is per group
    found = dict(zip(wanted, group_pair_sums(dim_scores, head_centre(dim_scores), numbered)))
    out = [{int(g): found[i][k] for k, g in enumerate(large[i])} if i in found else {} for i in range(len(sizes))]
    return out[0], out[1:]


NO_UNIT = "\x00no unit"  # respondents without a unit: never shown, but they count for subtraction


@dataclass
class _Family:
    """Units x roles for every dimension: counts and sums per cell, and what the disclosure control
    hides (:func:`~pmo_maturity.privacy.protect_statistic`, one dimension at a time).

    Rows are the units (then one row of respondents without a unit, always hidden); columns are the
    roles. Without a unit column there is one row (the organisation) and no published rows;
    without a role column, one column and no published columns or cells.
    """

    counts: np.ndarray  # (dimensions, rows, columns): respondents who scored the dimension
    sums: np.ndarray  # (dimensions, rows, columns): the sum of their scores
    squares: np.ndarray  # (dimensions, rows, columns): the sum of their squared scores
    sizes: np.ndarray  # (rows, columns): respondents
    hidden: list[Hidden]  # per dimension
    n_units: int
    n_roles: int

    @property
    def rows(self) -> np.ndarray:
        """(units x dimensions): the unit's dimension is hidden."""
        return np.stack([h.rows[:self.n_units] for h in self.hidden], axis=1)

    @property
    def total(self) -> np.ndarray:
        """(dimensions,): the organisation's dimension is hidden (scored by fewer than the minimum)."""
        return np.array([h.total for h in self.hidden], dtype=bool)

    @property
    def columns(self) -> np.ndarray:
        """(roles x dimensions): the role's dimension is hidden."""
        return np.stack([h.columns[:self.n_roles] for h in self.hidden], axis=1)

    @classmethod
    def of(cls, units: _Groups | None, roles: _Groups | None, dim_scores: np.ndarray, hidden_units: dict,
           hidden_roles: dict, cell_mask: pd.DataFrame | None, rules: ScoringRules) -> _Family:
        n = len(dim_scores)
        if roles is not None and not roles.names:  # nobody scored has a role
            roles, cell_mask = None, None
        n_units = len(units.names) if units is not None else 0
        n_roles = len(roles.names) if roles is not None else 0
        outside = units is not None and bool((units.codes < 0).any())
        n_rows = n_units + 1 if units is not None else 1
        n_columns = max(n_roles, 1)
        row = np.where(units.codes >= 0, units.codes, n_units) if units is not None else np.zeros(n, dtype=np.int64)
        column = roles.codes if roles is not None else np.zeros(n, dtype=np.int64)
        cell = (row * n_columns + column).astype(np.int64)
        counts, sums = group_scores(dim_scores, cell, n_rows * n_columns)
        _, squares = group_scores(np.square(dim_scores), cell, n_rows * n_columns)
        counts = np.rint(counts.T).astype(np.int64).reshape(-1, n_rows, n_columns)
        sums = sums.T.reshape(-1, n_rows, n_columns)
        squares = squares.T.reshape(-1, n_rows, n_columns)
        sizes = np.bincount(cell, minlength=n_rows * n_columns).reshape(n_rows, n_columns)
        preset_rows = np.zeros(n_rows, dtype=bool)
        if units is not None:
            preset_rows[:n_units] = [name in hidden_units for name in units.names]
            preset_rows[n_units] = True  # respondents without a unit: never shown
        preset_columns = np.array([name in hidden_roles for name in roles.names]) if roles is not None else \
            np.zeros(1, dtype=bool)
        preset_cells = np.zeros((n_rows, n_columns), dtype=bool)
        if cell_mask is not None:
            preset_cells[:n_units] = cell_mask.reindex(index=units.names, columns=roles.names,
                                                       fill_value=False).to_numpy(dtype=bool)
            preset_cells[n_units] = True
        publish = {"publish_rows": units is not None, "publish_columns": roles is not None,
                   "publish_cells": units is not None and roles is not None}
        if not outside and units is not None:  # no row of respondents without a unit
            counts, sums, squares, sizes = counts[:, :n_units], sums[:, :n_units], squares[:, :n_units], sizes[:n_units]
            preset_rows, preset_cells = preset_rows[:n_units], preset_cells[:n_units]
        hidden = [protect_statistic(counts[j], rules.min_group_size, rows=preset_rows, columns=preset_columns,
                                    cells=preset_cells, **publish) for j in range(counts.shape[0])]
        return cls(counts=counts, sums=sums, squares=squares, sizes=sizes, hidden=hidden, n_units=n_units,
                   n_roles=n_roles)


def _privacy(units: _Groups | None, roles: _Groups | None, rules: ScoringRules) -> tuple[dict, dict, pd.DataFrame | None]:
    """Hidden units, hidden roles and the hidden unit x role cells, settled together.

    Units and roles are each a breakdown of the organisation, and unit x role cells are shown in
    unit reports: a suppressed role must stay hidden inside every unit, and a cell that a shown
    total would reveal hides that total too (:func:`~pmo_maturity.privacy.suppress_crossing`).
    Respondents without a unit are a hidden group of their own.
    """
    min_size = rules.min_group_size
    unit_sizes = dict(zip(units.names, units.sizes.tolist())) if units is not None else {}
    if units is not None and (units.codes < 0).any():
        unit_sizes[NO_UNIT] = int((units.codes < 0).sum())
    role_sizes = dict(zip(roles.names, roles.sizes.tolist())) if roles is not None else {}
    if units is None or roles is None:
        hidden_units = suppressed_groups(unit_sizes, min_size)
        hidden_units.pop(NO_UNIT, None)
        return hidden_units, suppressed_groups(role_sizes, min_size), None
    row = np.where(units.codes >= 0, units.codes, len(units.names))
    counts = np.bincount(row * len(roles.names) + roles.codes, minlength=(len(units.names) + 1) * len(roles.names))
    table = pd.DataFrame(counts.reshape(len(units.names) + 1, len(roles.names)), index=[*units.names, NO_UNIT],
                         columns=roles.names)
    if NO_UNIT not in unit_sizes:
        table = table.drop(index=NO_UNIT)
    hidden_units, hidden_roles, mask = suppress_crossing(table, min_size, row_sizes=unit_sizes,
                                                         column_sizes=role_sizes)
    hidden_units.pop(NO_UNIT, None)
    return hidden_units, hidden_roles, mask.drop(index=NO_UNIT, errors="ignore")


def _interval_method(respondents: pd.DataFrame, rules: ScoringRules) -> str:
    if len(respondents) <= rules.bootstrap_max_n:
        return f"percentile bootstrap ({rules.n_resamples} resamples, seed {rules.seed})"
    return (f"percentile bootstrap ({rules.n_resamples} resamples, seed {rules.seed}) for groups up to "
            f"{rules.bootstrap_max_n}; Student t above")


def _group_tables(dim_scores: np.ndarray, groups: _Groups | None, q: Questionnaire, rules: ScoringRules,
                  key: str | None, suppressed: dict | None = None, large: dict[int, PairSums] | None = None,
                  hidden: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[stats.MeanIntervals]]:
    """Per-dimension and overall tables for the organisation (key None) or each group of ``key``,
    and each group's unblanked statistics (for the ICCs).

    ``hidden`` (groups x dimensions) marks the dimensions the disclosure control hides inside a
    shown group (:class:`_Family`); the group's overall index is then computed on its shown
    dimensions only, so that no hidden score can be worked back out. ``large`` holds the pair sums
    of the groups above the bootstrap size (see :func:`_large_group_sums`); the other groups' rows
    are gathered here.
    """
    if key is not None and (groups is None or not groups.names):
        return _empty_group_table(key), pd.DataFrame(), []
    weights = q.weights.to_numpy()
    large = large or {}
    if groups is None:
        parts = [(ORGANISATION, None if 0 in large else dim_scores, large.get(0), len(dim_scores))]
    else:
        rows = groups.members(np.array([g not in large for g in range(len(groups.names))], dtype=bool))
        parts = [(name, np.asfortranarray(np.take(dim_scores, rows[g], axis=0)) if g in rows else None,
                  large.get(g), int(groups.sizes[g])) for g, name in enumerate(groups.names)]
    suppressed = suppressed or {}

    def intervals(name, block, sums, size, shown=None, label=""):
        if shown is not None:
            block = None if block is None else block[:, shown]
            sums = None if sums is None else sums.columns(shown)
        return stats.mean_intervals(
            block, weights if shown is None else weights[shown],
            rng=stats.group_rng(rules.seed, f"{key or 'organisation'}:{name}{label}"), confidence=rules.confidence,
            n_resamples=rules.n_resamples, bootstrap_max_n=rules.bootstrap_max_n, sums=sums, size=size)

    results = map_threads(lambda part: intervals(*part), parts, len(dim_scores))
    if hidden is None:
        hidden = np.zeros((len(parts), len(q.dimensions)), dtype=bool)
    dim_rows, overall_rows = [], []
    for g, (part, result) in enumerate(zip(parts, results)):
        name, size = part[0], part[3]
        reason = suppressed.get(name)
        hidden_dims = hidden[g] & (result.n > 0)
        overall = result
        if hidden_dims.any() and not hidden_dims.all() and reason is None:  # the overall index on the shown dimensions
            overall = intervals(*part, shown=~hidden_dims, label=":shown")
        levels = np.where(hidden_dims, np.nan, q.level_of(result.mean))
        lows = np.where(hidden_dims, np.nan, q.level_of(result.low))
        highs = np.where(hidden_dims, np.nan, q.level_of(result.high))
        for j, d in enumerate(q.dimensions):
            row = {"dimension": d.id, "name": d.name, "weight": d.weight, "n": int(result.n[j]),
                   "mean": result.mean[j], "ci_low": result.low[j], "ci_high": result.high[j],
                   "index": float(q.index(result.mean[j])), "level": levels[j],
                   "level_name": (HIDDEN_WORDS[result.n[j] >= rules.min_group_size] if hidden_dims[j]
                                  else q.level_name(levels[j])),
                   **_level_interval("", q, levels[j], lows[j], highs[j])}
            if key is not None:
                row = {key: name, **row, "suppressed": reason is not None, "suppressed_reason": reason or "",
                       "hidden": bool(hidden_dims[j])}
            dim_rows.append(row)
        all_hidden = bool(hidden_dims[result.n > 0].all()) if (result.n > 0).any() else False
        staged = np.nanmin(levels) if np.isfinite(levels).any() else np.nan
        # The staged level of the interval's bounds: the lowest dimension level at each bound.
        staged_low = np.nanmin(lows) if np.isfinite(lows).any() else np.nan
        staged_high = np.nanmin(highs) if np.isfinite(highs).any() else np.nan
        continuous = None if all_hidden else q.level_of(overall.overall)
        overall_rows.append({
            "scope": "organisation" if key is None else key, "group": name, "n": size,
            "score": np.nan if all_hidden else overall.overall, "ci_low": overall.overall_low,
            "ci_high": overall.overall_high, "index": float(q.index(overall.overall)), "continuous_level": continuous,
            "continuous_level_name": q.level_name(continuous),
            **_level_interval("continuous_", q, continuous, q.level_of(overall.overall_low),
                              q.level_of(overall.overall_high)),
            "staged_level": staged, "staged_level_name": q.level_name(staged),
            **_level_interval("staged_", q, staged, staged_low, staged_high),
            "levels_differ": bool(continuous is not None and np.isfinite(staged) and continuous != staged),
            "dimensions_scored": int((np.isfinite(result.mean) & ~hidden_dims).sum()), "method": result.method,
            "suppressed": reason is not None or all_hidden, "suppressed_reason": reason or ("small" if all_hidden else ""),
        })
    dim_table = pd.DataFrame(dim_rows)
    overall = pd.DataFrame(overall_rows)
    if len(dim_table):
        # Nothing of a hidden group or cell is published, its counts included ("fewer than 5").
        hidden_rows = dim_table["suppressed"] | dim_table["hidden"] if key is not None else \
            pd.Series(hidden[0] & (results[0].n > 0), index=dim_table.index)
        dim_table.loc[hidden_rows, ["n", "mean", "ci_low", "ci_high", "index", "level", "level_ci_low",
                                    "level_ci_high"]] = np.nan
        dim_table.loc[hidden_rows, ["level_ci_low_name", "level_ci_high_name"]] = dim_table.loc[hidden_rows,
                                                                                               "level_name"]
        dim_table.loc[hidden_rows, "borderline"] = False
        if key is not None:
            dim_table.loc[dim_table["suppressed"], ["level_name", "level_ci_low_name", "level_ci_high_name"]] = \
                "suppressed"
        blank = overall["suppressed"]
        overall.loc[blank, ["n", "score", "ci_low", "ci_high", "index", "continuous_level", "staged_level",
                            *(f"{kind}_level_ci_{end}" for kind in ("continuous", "staged") for end in ("low", "high"))
                            ]] = np.nan
        overall.loc[blank, ["continuous_level_name", "staged_level_name",
                            *(f"{kind}_level_ci_{end}_name" for kind in ("continuous", "staged")
                              for end in ("low", "high"))]] = "suppressed"
        overall.loc[blank, ["levels_differ", "continuous_borderline", "staged_borderline"]] = False
        dim_table["n"] = dim_table["n"].astype("Int64")  # whole counts, blank where hidden
        overall["n"] = overall["n"].astype("Int64")
    return dim_table, overall, results


def _level_interval(prefix: str, q: Questionnaire, level, low, high) -> dict:
    """The levels of an interval's bounds, their names and whether they differ (borderline)."""
    def number(x):
        return np.nan if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)

    low, high = number(low), number(high)
    return {f"{prefix}level_ci_low": low, f"{prefix}level_ci_high": high,
            f"{prefix}level_ci_low_name": q.level_name(low), f"{prefix}level_ci_high_name": q.level_name(high),
            f"{prefix}borderline" if prefix else "borderline": bool(np.isfinite(low) and np.isfinite(high)
                                                                   and low != high)}


def _empty_group_table(key: str) -> pd.DataFrame:
    return pd.DataFrame(columns=[key, "dimension", "name", "weight", "n", "mean", "ci_low", "ci_high", "index",
                                 "level", "level_name", "level_ci_low", "level_ci_high", "level_ci_low_name",
                                 "level_ci_high_name", "borderline", "suppressed", "suppressed_reason", "hidden"])


def _reliability(sums: ItemSums, q: Questionnaire, rules: ScoringRules) -> pd.DataFrame:
    """Alpha per dimension from the pairwise-complete covariance matrix of all items."""
    cov = sums.covariance()
    rows, start = [], 0
    for j, d in enumerate(q.dimensions):
        k = len(d.items)
        block = cov[start:start + k, start:start + k]
        start += k
        n = int(sums.scorable[j])
        row = {"dimension": d.id, "name": d.name, "n": n, "k": k, "alpha": np.nan, "ci_low": np.nan,
               "ci_high": np.nan}
        if k < 2:
            rows.append({**row, "status": "single item"})
        elif n < rules.min_reliability_n:
            rows.append({**row, "status": "not enough data"})
        else:
            alpha = stats.alpha_from_covariance(block)
            low, high = stats.feldt_interval(alpha, n, k, rules.confidence)
            rows.append({**row, "alpha": alpha, "ci_low": low, "ci_high": high,
                         "status": "low" if alpha < rules.reliability_threshold else "ok"})
    return pd.DataFrame(rows)


def _agreement(sums: ItemSums, unit_names: list[str], units: _Groups | None, suppressed: dict, hidden: np.ndarray,
               q: Questionnaire, rules: ScoringRules) -> pd.DataFrame:
    """rwg(j) per shown unit and dimension, from the within-unit variance of each item (suppressed
    units are left out; a dimension the disclosure control hides in a unit has no value)."""
    cols = ["unit", "dimension", "name", "n", "items", "mean_variance", "rwg_j", "status"]
    if units is None or sums.group_counts is None:
        return pd.DataFrame(columns=cols)
    size_of = dict(zip(units.names, units.sizes.tolist()))
    row_of = {name: i for i, name in enumerate(units.names)}
    variances = sums.group_variances()
    rows, start = [], 0
    for j, d in enumerate(q.dimensions):
        block = variances[:, start:start + len(d.items)]
        start += len(d.items)
        usable = ~np.isnan(block)
        k = usable.sum(axis=1)
        mean_v = np.where(k > 0, np.where(usable, block, 0.0).sum(axis=1) / np.maximum(k, 1), np.nan)
        values = stats.rwg_j_from_variances(mean_v, k, q.scale.points)
        for g, unit in enumerate(unit_names):
            if unit not in size_of or unit in suppressed:  # dropped, or suppressed: not even listed
                continue
            is_hidden = bool(hidden[row_of[unit], j])
            value = float(values[g])
            status = ("too few answers" if is_hidden else "not enough data" if np.isnan(value)
                      else "low" if value < rules.agreement_threshold else "ok")
            rows.append({"unit": unit, "dimension": d.id, "name": d.name, "n": int(size_of[unit]),
                         "items": int(k[g]), "mean_variance": np.nan if is_hidden else float(mean_v[g]),
                         "rwg_j": np.nan if is_hidden else value, "status": status})
    return pd.DataFrame(rows, columns=cols).sort_values(["unit"], kind="stable").reset_index(drop=True)


def _icc(intervals: list[stats.MeanIntervals], suppressed: dict, hidden: np.ndarray, units: _Groups | None,
         q: Questionnaire) -> pd.DataFrame:
    """ICC(1)/ICC(2) per dimension from the shown units' n, mean and variance.

    Only units shown on the dimension take part: with a hidden unit in it, the between-unit mean
    square, the organisation's mean and the units' sizes would give that unit's mean back (a
    quadratic in one unknown). With fewer than two shown units the row is left blank.
    """
    cols = ["dimension", "name", "icc1", "icc2", "msb", "msw", "f", "p", "units", "mean_group_size"]
    if len(intervals) < 2 or units is None:
        return pd.DataFrame(columns=cols)
    shown = np.array([name not in suppressed for name in units.names])[:, None] & ~hidden[:len(units.names)]
    n = np.array([r.n for r in intervals], dtype=float)
    shown &= n > 0
    mean = np.nan_to_num(np.array([r.mean for r in intervals]))
    var = np.nan_to_num(np.array([r.var for r in intervals]))
    sums, squares = n * mean, (n - 1).clip(min=0) * var + n * mean * mean
    rows = []
    for j, d in enumerate(q.dimensions):
        keep = shown[:, j]
        row = {"dimension": d.id, "name": d.name}
        if keep.sum() >= 2:
            r = stats.icc_from_sums(n[keep, j], sums[keep, j], squares[keep, j])
            row.update({"icc1": r.icc1, "icc2": r.icc2, "msb": r.msb, "msw": r.msw, "f": r.f, "p": r.p,
                        "units": r.groups, "mean_group_size": r.mean_group_size})
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def _role_cells(units: _Groups, roles: _Groups, family: _Family, q: Questionnaire) -> pd.DataFrame:
    """Unit x role means per dimension (cells with respondents), with what the disclosure control
    hides per dimension (:class:`_Family`): hidden cells have no mean and no n."""
    if not units.names or not roles.names:  # nobody scored with a unit (or a role)
        return pd.DataFrame(columns=["unit", "role", "dimension", "n", "mean", "suppressed"])
    n_units = len(units.names)
    size = family.sizes[:n_units]
    used = np.argwhere(size > 0)  # (unit, role) pairs with respondents, unit-major
    table = pd.DataFrame({"unit": [units.names[u] for u in used[:, 0]], "role": [roles.names[r] for r in used[:, 1]]})
    frames = []
    for j, d in enumerate(q.dimension_ids):
        counts = family.counts[j][used[:, 0], used[:, 1]]
        with np.errstate(invalid="ignore", divide="ignore"):
            means = family.sums[j][used[:, 0], used[:, 1]] / counts
        hidden = family.hidden[j].cells[used[:, 0], used[:, 1]] | (counts == 0)
        frames.append(table.assign(dimension=d, n=pd.Series(counts, dtype="Int64").mask(hidden),
                                   mean=np.where(hidden, np.nan, means), suppressed=hidden))
    out = pd.concat(frames, ignore_index=True)
    return out[["unit", "role", "dimension", "n", "mean", "suppressed"]]


def _item_hidden(sums: ItemSums, units: _Groups | None, suppressed: dict, q: Questionnaire,
                 rules: ScoringRules) -> pd.DataFrame:
    """Which items' answers each scope may show (the answer charts): the organisation and each
    unit, one item at a time, with the same disclosure control as the dimensions (1-D: units)."""
    total = np.diag(sums.pair_counts).astype(np.int64)
    if units is None or sums.group_counts is None:
        hidden = np.array([protect_statistic(np.array([[n]]), rules.min_group_size, publish_rows=False,
                                             publish_columns=False, publish_cells=False).total for n in total])
        return pd.DataFrame([hidden], index=[ORGANISATION], columns=q.item_ids)
    counts = np.rint(sums.group_counts).astype(np.int64)  # (units, items)
    outside = total - counts.sum(axis=0)  # respondents without a unit
    preset = np.array([*(name in suppressed for name in units.names), True])
    rows = []
    for i in range(len(q.item_ids)):
        h = protect_statistic(np.append(counts[:, i], outside[i])[:, None], rules.min_group_size, rows=preset,
                              publish_columns=False, publish_cells=False)
        rows.append([h.total, *h.rows[:len(units.names)]])
    return pd.DataFrame(np.array(rows).T, index=[ORGANISATION, *units.names], columns=q.item_ids)


def _variances(roles: _Groups | None, role_stats: list[stats.MeanIntervals], units: _Groups | None,
               family: _Family, q: Questionnaire) -> pd.DataFrame:
    """Within-group variance (ddof 1) of every role and unit x role cell, per dimension: what the
    perception gaps' intervals need (not published)."""
    cols = ["scope", "role", "dimension", "var"]
    if roles is None or not roles.names:
        return pd.DataFrame(columns=cols)
    dims = q.dimension_ids
    parts = [pd.DataFrame({"scope": ORGANISATION, "role": role, "dimension": dims, "var": r.var})
             for role, r in zip(roles.names, role_stats)]
    if units is not None and units.names:
        n, total, squares = (a[:, :len(units.names)] for a in (family.counts, family.sums, family.squares))
        with np.errstate(invalid="ignore", divide="ignore"):
            var = np.where(n >= 2, (squares - total * total / np.maximum(n, 1)) / (n - 1), np.nan)
        j, u, r = np.nonzero(n > 0)
        parts.append(pd.DataFrame({"scope": [units.names[i] for i in u], "role": [roles.names[i] for i in r],
                                   "dimension": [dims[i] for i in j], "var": np.maximum(var[j, u, r], 0.0)}))
    return pd.concat(parts, ignore_index=True)


def _gaps(roles: pd.DataFrame, role_cells: pd.DataFrame, variances: pd.DataFrame, q: Questionnaire,
          rules: ScoringRules) -> pd.DataFrame:
    """Differences between reportable role groups, organisation-wide and within each unit, with
    Welch's interval and Holm's adjustment across the comparisons of each scope.

    A gap is flagged when it reaches the threshold (one eighth of the scale range unless set) and
    its Holm-adjusted p-value is under 1 - confidence (the interval, adjusted for the number of
    comparisons in the scope, excludes zero).
    """
    threshold = rules.gap_points(q)
    cols = ["scope", "dimension", "higher", "lower", "mean_higher", "n_higher", "mean_lower", "n_lower",
            "difference", "ci_low", "ci_high", "p_value", "p_adjusted", "comparisons", "flagged"]
    parts = []
    if len(roles):
        shown = roles[~roles["suppressed"].astype(bool) & (roles["role"] != NO_ROLE)]
        parts.append(shown.assign(scope=ORGANISATION)[["scope", "dimension", "role", "mean", "n"]])
    if len(role_cells):
        shown = role_cells[~role_cells["suppressed"].astype(bool) & (role_cells["role"] != NO_ROLE)]
        parts.append(shown.rename(columns={"unit": "scope"})[["scope", "dimension", "role", "mean", "n"]])
    groups = pd.concat(parts, ignore_index=True).dropna(subset=["mean"]) if parts else pd.DataFrame()
    if groups.empty:
        return pd.DataFrame(columns=cols)
    groups = groups.merge(variances, on=["scope", "role", "dimension"], how="left")
    pairs = groups.merge(groups, on=["scope", "dimension"], suffixes=("_higher", "_lower"))
    pairs = pairs[(pairs["mean_higher"] > pairs["mean_lower"])
                  | ((pairs["mean_higher"] == pairs["mean_lower"]) & (pairs["role_higher"] < pairs["role_lower"]))]
    out = pairs.rename(columns={"role_higher": "higher", "role_lower": "lower"}).reset_index(drop=True)
    d = stats.welch(out["mean_higher"], out["var_higher"], out["n_higher"].astype(float), out["mean_lower"],
                    out["var_lower"], out["n_lower"].astype(float), rules.confidence)
    out = out.assign(difference=d.difference, ci_low=d.low, ci_high=d.high, p_value=d.p)
    out["p_adjusted"] = np.nan
    out["comparisons"] = 0
    for _, index in out.groupby("scope", sort=False).groups.items():
        out.loc[index, "p_adjusted"] = stats.holm(out.loc[index, "p_value"].to_numpy())
        out.loc[index, "comparisons"] = int(out.loc[index, "p_value"].notna().sum())
    out["flagged"] = (out["difference"] >= threshold - 1e-9) & (out["p_adjusted"] < 1 - rules.confidence)
    out["scope"] = pd.Categorical(out["scope"], categories=[ORGANISATION, *sorted(set(out["scope"]) - {ORGANISATION})])
    out = out.sort_values(["scope", "difference"], ascending=[True, False], kind="stable")
    out["scope"] = out["scope"].astype(str)
    return out[cols].reset_index(drop=True)


def _data_quality(responses: Responses) -> dict:
    s = responses.summary
    return {
        "rows_in": s["rows_in"], "rows_scored": s["rows_accepted"], "rows_quarantined": s["rows_quarantined"],
        "respondents_scored": s["respondents"], "quarantined_by_reason": s["quarantined_by_reason"],
        "flagged": s["flagged"], "items_missing": s["items_missing"], "layout": s["layout"],
        "source": s["source"], "identifiers_dropped": list(s.get("identifiers_dropped", [])),
        "comments_screened": s.get("comments_screened"), "has_units": responses.has_units,
        "has_roles": responses.has_roles,
    }
