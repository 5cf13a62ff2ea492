"""Scoring: the rules of DESIGN section 4, applied to loaded responses.

:func:`score` turns :class:`~pmo_maturity.responses.Responses` into :class:`Scores`, a bundle of tidy
DataFrames (respondents, organisation, units, roles, overall, reliability, agreement, icc, gaps) with
the rules, the data-quality summary and the provenance needed to reproduce the numbers.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from . import stats
from ._version import kit_version
from .errors import ConfigurationError
from .privacy import suppress_table, suppressed_groups
from .questionnaire import Questionnaire
from .responses import Responses

ORGANISATION = "Organisation"
NO_ROLE = "Role not stated"


@dataclass(frozen=True)
class ScoringRules:
    """The settings of the scoring rules; recorded in every result and printed in every report.

    Parameters
    ----------
    min_answered : float
        Share of a dimension's items a respondent must answer for a dimension score (rounded up).
    min_group_size : int
        Smallest reportable group (never below 3).
    min_comment_group : int
        Smallest group whose free-text comments may be shown.
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
    min_comment_group: int = 10
    gap_threshold: float | None = None
    reliability_threshold: float = 0.70
    agreement_threshold: float = 0.70
    min_reliability_n: int = 10
    confidence: float = 0.95
    n_resamples: int = 2000
    bootstrap_max_n: int = 2000
    seed: int = 20261126

    def __post_init__(self) -> None:
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
        """The scoring rules in plain words, with this run's settings."""
        s = questionnaire.scale
        bounds = questionnaire.level_bounds
        bands = ", ".join(f"{lv.level} {lv.name} from {bounds[i]:.2f}" for i, lv in enumerate(questionnaire.levels))
        pct = int(round(self.min_answered * 100))
        return [
            f"Answers are on a {s.min}-{s.max} scale; labels count as their scale point; "
            f"{', '.join(s.na_labels)} and blanks are missing, not zero; anything else is quarantined.",
            f"Reverse-keyed items are reversed before scoring: x' = {s.min} + {s.max} - x.",
            f"A respondent's dimension score is the mean of their answered items of that dimension, when at "
            f"least {pct}% of the items (rounded up) are answered; otherwise it is missing.",
            f"A group's dimension score is the mean of its respondents' dimension scores, with n and a "
            f"{self.confidence:.0%} interval: a seeded percentile bootstrap ({self.n_resamples} resamples) for "
            f"groups of up to {self.bootstrap_max_n}, a Student t interval above that.",
            f"Index 0-100 = (score - {s.min}) / ({s.max} - {s.min}) x 100.",
            f"Levels are score bands: {bands} (up to {s.max}).",
            "The overall integration index is the weighted mean of the dimension scores. Its continuous level "
            "is the band of that index; its staged level is the lowest dimension level (an organisation is "
            "only as integrated as its least integrated dimension).",
            f"Reliability: Cronbach's alpha on reverse-scored items with pairwise-complete covariances and a "
            f"Feldt interval; flagged under {self.reliability_threshold:.2f}; not reported under "
            f"{self.min_reliability_n} respondents.",
            f"Agreement within a unit: rwg(j) against the uniform null (A^2 - 1)/12 = "
            f"{stats.uniform_null_variance(s.points):.2f}; flagged under {self.agreement_threshold:.2f} "
            f"(a rule of thumb). ICC(1) and ICC(2) from a one-way ANOVA across units.",
            f"Perception gaps between roles are flagged at {self.gap_points(questionnaire):.2f} points "
            f"(one eighth of the scale range unless set), only between reportable groups.",
            f"Privacy: groups under {self.min_group_size} respondents are suppressed, with complementary "
            f"suppression so that no group can be recovered by subtraction; comments are shown only for "
            f"groups of at least {self.min_comment_group}.",
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
        difference, flagged``, between reportable role groups.
    role_cells : DataFrame
        Unit x role means per dimension with the crossed-table suppression applied.
    data_quality : dict
    provenance : dict
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
    responses: Responses | None = field(default=None, repr=False)

    # --- views -------------------------------------------------------------------------------

    @property
    def unit_names(self) -> list[str]:
        return list(self.units["unit"].drop_duplicates()) if len(self.units) else []

    @property
    def reportable_units(self) -> list[str]:
        if self.units.empty:
            return []
        ok = self.units.loc[~self.units["suppressed"], "unit"]
        return list(ok.drop_duplicates())

    @property
    def suppressed_units(self) -> dict[str, str]:
        if self.units.empty:
            return {}
        rows = self.units[self.units["suppressed"]].drop_duplicates("unit")
        return dict(zip(rows["unit"], rows["suppressed_reason"]))

    def overall_for(self, group: str = ORGANISATION) -> pd.Series:
        """The overall row of the organisation or of a unit."""
        rows = self.overall[self.overall["group"] == group]
        if rows.empty:
            raise KeyError(f"no group {group!r}; groups are {list(self.overall['group'])}")
        return rows.iloc[0]

    def dimensions_for(self, unit: str | None = None) -> pd.DataFrame:
        """The per-dimension table of the organisation (unit None) or of a unit."""
        if unit is None:
            return self.organisation
        frame = self.units[self.units["unit"] == unit]
        if frame.empty:
            raise KeyError(f"no unit {unit!r}; units are {self.unit_names}")
        return frame.drop(columns=["unit"]).reset_index(drop=True)

    def scorecard(self, unit: str | None = None) -> pd.DataFrame:
        """A readable scorecard: dimension, n, score with interval, index, level; overall last."""
        table = self.dimensions_for(unit)
        group = ORGANISATION if unit is None else unit
        overall = self.overall_for(group)
        rows = []
        for _, r in table.iterrows():
            rows.append({"Dimension": r["name"], "n": _int(r["n"]), "Score": _fmt(r["mean"]),
                         "95% CI": _fmt_ci(r["ci_low"], r["ci_high"]), "Index": _fmt(r["index"], 0),
                         "Level": r["level_name"]})
        rows.append({"Dimension": "Overall integration index", "n": _int(overall["n"]),
                     "Score": _fmt(overall["score"]), "95% CI": _fmt_ci(overall["ci_low"], overall["ci_high"]),
                     "Index": _fmt(overall["index"], 0),
                     "Level": f"{overall['continuous_level_name']} (staged: {overall['staged_level_name']})"})
        frame = pd.DataFrame(rows)
        frame.attrs["title"] = f"{self.questionnaire.title}: {group}"
        return frame

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
                                               "continuous_level_name": "level_name"})
        parts.append(overall.assign(dimension="overall", name="Overall integration index"))
        cols = ["scope", "group", "dimension", "name", "n", "mean", "ci_low", "ci_high", "index", "level",
                "level_name", "suppressed"]
        frame = pd.concat([p.reindex(columns=cols) for p in parts], ignore_index=True)
        frame["questionnaire"] = f"{self.questionnaire.id} v{self.questionnaire.version}"
        frame["input_sha256"] = self.provenance["input_sha256"]
        return frame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The named tables of the result (without respondent-level rows)."""
        return {
            "scores": self.to_frame(), "reliability": self.reliability, "agreement": self.agreement,
            "icc": self.icc, "gaps": self.gaps,
        }

    def write(self, path: str | Path, *, include_respondents: bool = False) -> Path:
        """Write the scores: ``.csv`` (tidy table), ``.xlsx`` (one sheet per table) or ``.json`` (all).

        Respondent-level scores are left out unless asked for: with unit and role they can identify
        people. Text cells are neutralised against spreadsheet formula injection.
        """
        from .export import frame_records, write_csv, write_json, write_xlsx

        path = Path(path)
        suffix = path.suffix.lower()
        tables = self.tables()
        if include_respondents:
            tables["respondents"] = self.respondents
        if suffix == ".csv":
            return write_csv(tables["scores"], path)
        if suffix == ".xlsx":
            sheets = {**tables, "data quality": _quality_frame(self.data_quality),
                      "provenance": pd.DataFrame(_flatten(self.provenance).items(), columns=["key", "value"])}
            return write_xlsx(sheets, path)
        if suffix == ".json":
            payload = {"provenance": self.provenance, "rules": asdict(self.rules),
                       "scoring_rules": self.rules.describe(self.questionnaire), "data_quality": self.data_quality,
                       **{name: frame_records(t) for name, t in tables.items()}}
            return write_json(payload, path)
        raise ConfigurationError(f"cannot write scores to {path.name!r}: use a .csv, .xlsx or .json file")


def _int(x) -> object:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else int(x)


def _fmt(x, digits: int = 2) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _fmt_ci(low, high) -> str:
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (low, high)):
        return ""
    return f"{low:.2f}-{high:.2f}"


def _flatten(data: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value if not isinstance(value, (list, tuple)) else ", ".join(map(str, value))
    return out


def _quality_frame(quality: dict) -> pd.DataFrame:
    rows = [("rows in", quality["rows_in"]), ("rows scored", quality["rows_scored"]),
            ("rows quarantined", quality["rows_quarantined"])]
    rows += [(f"quarantined: {k}", v) for k, v in quality["quarantined_by_reason"].items()]
    rows += [(f"flagged: {k}", v) for k, v in quality["flagged"].items()]
    return pd.DataFrame(rows, columns=["measure", "count"])


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
    items = responses.items(reverse=True)
    dim_scores = respondent_dimension_scores(items.to_numpy(dtype=float), q, rules.min_answered)
    scored = ~np.isnan(dim_scores).all(axis=1)
    if not scored.all():
        responses = responses.subset(scored, reason="too_few_answers",
                                     detail=f"fewer than {rules.min_answered:.0%} of the items answered in every "
                                            f"dimension")
        dim_scores, items = dim_scores[scored], items[scored].reset_index(drop=True)
    respondents = _respondent_frame(responses, q, dim_scores)
    organisation, overall_org = _group_tables(respondents, q, rules, key=None)
    units, overall_units = _unit_tables(respondents, responses, q, rules)
    roles, _ = _role_tables(respondents, responses, q, rules)
    overall = pd.concat([overall_org, overall_units], ignore_index=True)
    reliability = _reliability(items, q, rules)
    agreement = _agreement(items, respondents, responses, q, rules)
    icc = _icc(respondents, responses, q)
    role_cells = _role_cells(respondents, responses, q, rules, units)
    gaps = _gaps(roles, role_cells, q, rules)
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
                  role_cells=role_cells, data_quality=quality, provenance=provenance, responses=responses)


def respondent_dimension_scores(items: np.ndarray, q: Questionnaire, min_answered: float) -> np.ndarray:
    """(respondents x dimensions) means of answered, reverse-scored items; NaN under the minimum."""
    out = np.full((items.shape[0], len(q.dimensions)), np.nan)
    start = 0
    for j, d in enumerate(q.dimensions):
        block = items[:, start:start + len(d.items)]
        start += len(d.items)
        answered = (~np.isnan(block)).sum(axis=1)
        total = np.nansum(block, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, j] = np.where(answered >= d.min_answered(min_answered), total / answered, np.nan)
    return out


def _respondent_frame(responses: Responses, q: Questionnaire, dim_scores: np.ndarray) -> pd.DataFrame:
    data = responses.data
    frame = pd.DataFrame({"respondent_id": data["respondent_id"].to_numpy(), "row": data["row"].to_numpy()})
    frame["unit"] = data["unit"].to_numpy() if responses.has_units else ORGANISATION
    frame["role"] = data["role"].fillna(NO_ROLE).to_numpy() if responses.has_roles else NO_ROLE
    dims = pd.DataFrame(dim_scores, columns=q.dimension_ids)
    w = q.weights.to_numpy()
    has = ~np.isnan(dim_scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        overall = np.where(has, dim_scores, 0.0) @ w / (has @ w)
    return pd.concat([frame, dims], axis=1).assign(overall=overall)


def _interval_method(respondents: pd.DataFrame, rules: ScoringRules) -> str:
    if len(respondents) <= rules.bootstrap_max_n:
        return f"percentile bootstrap ({rules.n_resamples} resamples, seed {rules.seed})"
    return (f"percentile bootstrap ({rules.n_resamples} resamples, seed {rules.seed}) for groups up to "
            f"{rules.bootstrap_max_n}; Student t above")


def _group_tables(respondents: pd.DataFrame, q: Questionnaire, rules: ScoringRules, key: str | None,
                  suppressed: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-dimension and overall tables for the organisation (key None) or each group of ``key``."""
    dims = q.dimension_ids
    weights = q.weights.to_numpy()
    groups = [(ORGANISATION, respondents)] if key is None else list(respondents.groupby(key, sort=True))
    suppressed = suppressed or {}
    dim_rows, overall_rows = [], []
    for name, frame in groups:
        result = stats.mean_intervals(frame[dims].to_numpy(dtype=float), weights,
                                      rng=stats.group_rng(rules.seed, f"{key or 'organisation'}:{name}"),
                                      confidence=rules.confidence, n_resamples=rules.n_resamples,
                                      bootstrap_max_n=rules.bootstrap_max_n)
        reason = suppressed.get(name)
        levels = q.level_of(result.mean)
        for j, d in enumerate(q.dimensions):
            row = {"dimension": d.id, "name": d.name, "weight": d.weight, "n": int(result.n[j]),
                   "mean": result.mean[j], "ci_low": result.low[j], "ci_high": result.high[j],
                   "index": float(q.index(result.mean[j])), "level": levels[j],
                   "level_name": q.level_name(levels[j])}
            if key is not None:
                row = {key: name, **row, "suppressed": reason is not None, "suppressed_reason": reason or ""}
            dim_rows.append(row)
        staged = np.nanmin(levels) if np.isfinite(levels).any() else np.nan
        continuous = q.level_of(result.overall)
        overall_rows.append({
            "scope": "organisation" if key is None else key, "group": name, "n": len(frame),
            "score": result.overall, "ci_low": result.overall_low, "ci_high": result.overall_high,
            "index": float(q.index(result.overall)), "continuous_level": continuous,
            "continuous_level_name": q.level_name(continuous), "staged_level": staged,
            "staged_level_name": q.level_name(staged),
            "levels_differ": bool(continuous is not None and np.isfinite(staged) and continuous != staged),
            "dimensions_scored": int(np.isfinite(result.mean).sum()), "method": result.method,
            "suppressed": reason is not None, "suppressed_reason": reason or "",
        })
    dim_table = pd.DataFrame(dim_rows)
    overall = pd.DataFrame(overall_rows)
    if key is not None and len(dim_table):
        blank = dim_table["suppressed"]
        dim_table.loc[blank, ["mean", "ci_low", "ci_high", "index", "level"]] = np.nan
        dim_table.loc[blank, "level_name"] = "suppressed"
        blank = overall["suppressed"]
        overall.loc[blank, ["score", "ci_low", "ci_high", "index", "continuous_level", "staged_level"]] = np.nan
        overall.loc[blank, ["continuous_level_name", "staged_level_name"]] = "suppressed"
        overall.loc[blank, "levels_differ"] = False
    return dim_table, overall


def _unit_tables(respondents, responses, q, rules):
    if not responses.has_units:
        return _empty_group_table("unit"), pd.DataFrame()
    sizes = respondents["unit"].value_counts().to_dict()
    suppressed = suppressed_groups(sizes, rules.min_group_size)
    return _group_tables(respondents, q, rules, key="unit", suppressed=suppressed)


def _role_tables(respondents, responses, q, rules):
    if not responses.has_roles:
        return _empty_group_table("role"), pd.DataFrame()
    sizes = respondents["role"].value_counts().to_dict()
    suppressed = suppressed_groups(sizes, rules.min_group_size)
    table, overall = _group_tables(respondents, q, rules, key="role", suppressed=suppressed)
    return table, overall


def _empty_group_table(key: str) -> pd.DataFrame:
    return pd.DataFrame(columns=[key, "dimension", "name", "weight", "n", "mean", "ci_low", "ci_high", "index",
                                 "level", "level_name", "suppressed", "suppressed_reason"])


def _reliability(items: pd.DataFrame, q: Questionnaire, rules: ScoringRules) -> pd.DataFrame:
    rows = []
    for d in q.dimensions:
        block = items[d.item_ids].to_numpy(dtype=float)
        n = int(((~np.isnan(block)).sum(axis=1) >= 2).sum())
        k = len(d.items)
        if k < 2:
            rows.append({"dimension": d.id, "name": d.name, "n": n, "k": k, "alpha": np.nan, "ci_low": np.nan,
                         "ci_high": np.nan, "status": "single item"})
            continue
        if n < rules.min_reliability_n:
            rows.append({"dimension": d.id, "name": d.name, "n": n, "k": k, "alpha": np.nan, "ci_low": np.nan,
                         "ci_high": np.nan, "status": "not enough data"})
            continue
        alpha = stats.cronbach_alpha(block)
        low, high = stats.feldt_interval(alpha, n, k, rules.confidence)
        status = "low" if alpha < rules.reliability_threshold else "ok"
        rows.append({"dimension": d.id, "name": d.name, "n": n, "k": k, "alpha": alpha, "ci_low": low,
                     "ci_high": high, "status": status})
    return pd.DataFrame(rows)


def _agreement(items: pd.DataFrame, respondents: pd.DataFrame, responses: Responses, q: Questionnaire,
               rules: ScoringRules) -> pd.DataFrame:
    """rwg(j) per unit and dimension (and for the organisation when there are no units)."""
    points = q.scale.points
    groups = respondents["unit"].to_numpy()
    variances = items.groupby(groups, sort=True).var(ddof=1)
    sizes = pd.Series(groups).value_counts()
    suppressed = set()
    if responses.has_units:
        suppressed = set(suppressed_groups(sizes.to_dict(), rules.min_group_size))
    rows = []
    for unit in variances.index:
        for d in q.dimensions:
            v = variances.loc[unit, d.item_ids].to_numpy(dtype=float)
            usable = ~np.isnan(v)
            mean_v = float(v[usable].mean()) if usable.any() else np.nan
            value = float(stats.rwg_j_from_variances(mean_v, usable.sum(), points)) if usable.any() else np.nan
            hidden = unit in suppressed
            status = ("suppressed" if hidden else "not enough data" if np.isnan(value)
                      else "low" if value < rules.agreement_threshold else "ok")
            rows.append({"unit": unit, "dimension": d.id, "name": d.name, "n": int(sizes[unit]),
                         "items": int(usable.sum()), "mean_variance": np.nan if hidden else mean_v,
                         "rwg_j": np.nan if hidden else value, "status": status})
    return pd.DataFrame(rows)


def _icc(respondents: pd.DataFrame, responses: Responses, q: Questionnaire) -> pd.DataFrame:
    rows = []
    if not responses.has_units or respondents["unit"].nunique() < 2:
        return pd.DataFrame(columns=["dimension", "name", "icc1", "icc2", "msb", "msw", "f", "p", "units",
                                     "mean_group_size"])
    for d in q.dimensions:
        r = stats.icc_oneway(respondents[d.id].to_numpy(), respondents["unit"].to_numpy())
        rows.append({"dimension": d.id, "name": d.name, "icc1": r.icc1, "icc2": r.icc2, "msb": r.msb, "msw": r.msw,
                     "f": r.f, "p": r.p, "units": r.groups, "mean_group_size": r.mean_group_size})
    return pd.DataFrame(rows)


def _role_cells(respondents, responses, q, rules, units) -> pd.DataFrame:
    """Unit x role means per dimension, with suppression applied along units and roles."""
    cols = ["unit", "role", "dimension", "n", "mean", "suppressed"]
    if not (responses.has_units and responses.has_roles):
        return pd.DataFrame(columns=cols)
    counts = respondents.groupby(["unit", "role"]).size().unstack(fill_value=0)
    hidden_units = set(units.loc[units["suppressed"], "unit"]) if len(units) else set()
    mask = suppress_table(counts, rules.min_group_size, suppressed_rows=hidden_units)
    means = respondents.groupby(["unit", "role"])[q.dimension_ids].mean()
    rows = []
    for (unit, role), values in means.iterrows():
        hidden = bool(mask.loc[unit, role])
        for d in q.dimension_ids:
            rows.append({"unit": unit, "role": role, "dimension": d, "n": int(counts.loc[unit, role]),
                         "mean": np.nan if hidden else values[d], "suppressed": hidden})
    return pd.DataFrame(rows, columns=cols)


def _gaps(roles: pd.DataFrame, role_cells: pd.DataFrame, q: Questionnaire, rules: ScoringRules) -> pd.DataFrame:
    """Differences between reportable role groups, organisation-wide and within each unit."""
    threshold = rules.gap_points(q)
    rows = []
    if len(roles):
        shown = roles[~roles["suppressed"] & (roles["role"] != NO_ROLE)]
        rows += _pairwise(shown.rename(columns={"role": "group"}), "organisation", threshold)
    if len(role_cells):
        shown = role_cells[~role_cells["suppressed"] & (role_cells["role"] != NO_ROLE)]
        for unit, frame in shown.groupby("unit", sort=True):
            rows += _pairwise(frame.rename(columns={"role": "group"}), str(unit), threshold)
    cols = ["scope", "dimension", "higher", "lower", "mean_higher", "n_higher", "mean_lower", "n_lower",
            "difference", "flagged"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["scope", "difference"], ascending=[True, False], kind="stable").reset_index(drop=True)


def _pairwise(frame: pd.DataFrame, scope: str, threshold: float) -> list[dict]:
    rows = []
    for dim, block in frame.groupby("dimension", sort=False):
        block = block.dropna(subset=["mean"]).sort_values("mean", ascending=False)
        values = list(block[["group", "mean", "n"]].itertuples(index=False))
        for i, high in enumerate(values):
            for low in values[i + 1:]:
                diff = float(high.mean - low.mean)
                rows.append({"scope": scope, "dimension": dim, "higher": high.group, "lower": low.group,
                             "mean_higher": float(high.mean), "n_higher": int(high.n), "mean_lower": float(low.mean),
                             "n_lower": int(low.n), "difference": diff, "flagged": diff >= threshold - 1e-9})
    return rows


def _data_quality(responses: Responses) -> dict:
    s = responses.summary
    return {
        "rows_in": s["rows_in"], "rows_scored": s["rows_accepted"], "rows_quarantined": s["rows_quarantined"],
        "respondents_scored": s["respondents"], "quarantined_by_reason": s["quarantined_by_reason"],
        "flagged": s["flagged"], "items_missing": s["items_missing"], "layout": s["layout"],
        "source": s["source"],
    }
