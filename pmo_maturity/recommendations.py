"""The prioritised improvement plan: a catalogue of actions, a target profile and a ranking.

The catalogue (``questionnaires/recommendations.yaml``, beside the instrument) lists improvement
actions per dimension and current level, and actions triggered by findings (perception gaps,
divergent views, archetypes, unreliable items). :func:`recommend` compares each dimension with the
target profile (default: level 3 on every dimension), reading each score with its interval, and
ranks the applicable actions by

    priority = gap x weight x impact / effort

with ``gap`` the points between the dimension's score and the lowest score of its target level,
``weight`` the dimension's weight, ``impact`` 1-5 from the catalogue and ``effort`` S = 1, M = 2,
L = 3. The plan then holds together by construction (:data:`PLAN_RULES`): three windows of 30, 60
and 90 days, each action in the window of its own deadlines, at most three actions per window and
eight in all (the rest listed as "also considered"), the weakest dimension in the first window, a
90-day step towards the next level for dimensions already at target, and catalogue texts worded for
the plan's scope and for the roles of the finding they answer. Each action carries its effort in
person-days and, with a day rate, an indicative cost.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._resources import bundled_file
from ._yaml import read_yaml_mapping, validate_model
from .errors import ConfigurationError, QuestionnaireError
from .findings import Findings, find_findings
from .questionnaire import Questionnaire, displayed
from .scoring import ORGANISATION, Scores

DEFAULT_CATALOGUE = "recommendations.yaml"
EFFORT_COST = {"S": 1, "M": 2, "L": 3}
# Person-days an action of each effort class takes when the catalogue gives no range of its own.
EFFORT_DAYS = {"S": (1, 5), "M": (3, 15), "L": (10, 40)}
WINDOWS = (30, 60, 90)
PRIORITY_FORMULA = "priority = gap to target (points) x dimension weight x impact (1-5) / effort (S=1, M=2, L=3)"
TRIGGER_GAPS = ("Actions triggered by a finding (a perception gap, divergent views, an archetype, unreliable "
                "items) answer that finding, so they can concern a dimension that has reached its target; "
                "their gap is the size of the finding in points: the perception gap itself; for divergent "
                "views, the shortfall of rwg(j) under its threshold times half the scale range; for an "
                "archetype, its share of respondents times how far it falls below the organisation on its "
                "weakest dimension; for unreliable items, the shortfall of alpha times half the scale range.")
PLAN_RULES = (
    "A dimension has reached its target when the lower bound of its 95% interval reaches the target's "
    "cut-off; it is borderline when the interval spans the cut-off (it gets consolidating actions, ranked on "
    "its score's distance to the cut-off, or half its lower bound's when the score is above it) and not "
    "reached when the whole interval is below it (actions for its current level). A dimension at target gets "
    "one 90-day step towards the next level (at half its distance to it).",
    "Each action sits in the window of its first deadline: by day 30 (days 1-30), 60 (days 31-60) or 90 "
    "(days 61-90); later deadlines in its success measure are follow-ups. At most three actions per window "
    "and eight in all, at most two per dimension; the others are listed as also considered.",
    "The weakest dimension below its target always has an action in the first 30 days, placed first unless "
    "a flagged finding's action has a higher priority.",
    "Only flagged findings trigger actions: perception gaps of at least the threshold that stay clear of "
    "zero after adjusting for the number of comparisons, divergent views, unreliable items, archetypes.",
)
# Words of a catalogue text that change with the plan's scope, and with the finding it answers.
SCOPE_FIELDS = ("scope", "units", "each_unit")
FINDING_FIELDS = ("higher", "lower", "dimension")
TEXT_FIELDS = ("title", "what", "why", "success_measure")
_DEADLINE = re.compile(r"\bday (\d+)\b", re.IGNORECASE)

_Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Trigger(_Strict):
    """The finding that triggers an action."""

    finding: Literal["perception_gap", "low_agreement", "archetype", "low_reliability"]
    dimension: str | None = None
    high: tuple[str, ...] = ()
    low: tuple[str, ...] = ()


class _ActionFields(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")]
    title: Annotated[str, Field(min_length=1, max_length=90)]
    what: _Text
    why: _Text
    effort: Literal["S", "M", "L"]
    impact: Annotated[int, Field(ge=1, le=5)]
    horizon: Literal[30, 60, 90]
    owner: _Text
    success_measure: _Text
    days: tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _consistent(self):
        if self.days is not None and self.days[0] > self.days[1]:
            raise ValueError(f"days must be [low, high] with low <= high; got {list(self.days)}")
        return self

    @property
    def person_days(self) -> tuple[int, int]:
        """Effort in person-days (the catalogue's range, else the default of the effort class)."""
        return (self.days[0], self.days[1]) if self.days is not None else EFFORT_DAYS[self.effort]

    def deadlines(self) -> list[int]:
        """The days named in the success measure ("by day 45")."""
        return [int(d) for d in _DEADLINE.findall(self.success_measure)]

    def placeholders(self) -> set[str]:
        return {name for text in (getattr(self, f) for f in TEXT_FIELDS)
                for _, name, _, _ in string.Formatter().parse(text) if name is not None}

    def worded(self, words: Mapping[str, str]) -> dict[str, str]:
        """The action's texts with the scope's (and the finding's) words filled in."""
        return {f: getattr(self, f).format_map(words) for f in TEXT_FIELDS}


class Action(_ActionFields):
    """An improvement action for a dimension at given current levels."""

    dimension: _Text
    levels: tuple[Annotated[int, Field(ge=1)], ...] = Field(min_length=1)


class TriggeredAction(_ActionFields):
    """An action fired by a finding rather than by a level."""

    when: Trigger


class Catalogue(BaseModel):
    """A validated action catalogue."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: _Text
    version: str
    questionnaire: _Text
    title: str = ""
    actions: tuple[Action, ...] = Field(min_length=1)
    triggers: tuple[TriggeredAction, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _version_text(cls, data):
        if isinstance(data, dict) and isinstance(data.get("version"), (int, float)):
            data = {**data, "version": str(data["version"])}
        return data

    @model_validator(mode="after")
    def _unique(self) -> Catalogue:
        ids = [a.id for a in self.actions] + [t.id for t in self.triggers]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate action id(s): {dupes}")
        return self

    def for_dimension(self, dimension: str, level: int) -> list[Action]:
        return [a for a in self.actions if a.dimension == dimension and level in a.levels]


def load_catalogue(path: str | Path | None = None, questionnaire: Questionnaire | None = None) -> Catalogue:
    """Load and validate an action catalogue (default: the bundled one).

    With a questionnaire, every dimension the catalogue names must exist in it and every level
    must be one of its levels below the top.
    """
    file = Path(path) if path is not None else bundled_file(DEFAULT_CATALOGUE)
    return _catalogue_from(read_yaml_mapping(file), file, questionnaire)


def _catalogue_from(raw: dict, file: Path, questionnaire: Questionnaire | None) -> Catalogue:
    """Validate a catalogue's parsed YAML (and check it against the questionnaire when given)."""
    catalogue = validate_model(Catalogue, raw, file)
    problems = []
    if questionnaire is not None:
        dims = set(questionnaire.dimension_ids)
        top = len(questionnaire.levels)
        for i, a in enumerate(catalogue.actions):
            if a.dimension not in dims:
                problems.append(f"actions[{i}] (id {a.id!r}).dimension: {a.dimension!r} is not a dimension of "
                                f"{questionnaire.id!r} ({sorted(dims)})")
            bad = [lv for lv in a.levels if not 1 <= lv < top]
            if bad:
                problems.append(f"actions[{i}] (id {a.id!r}).levels: {bad} outside 1-{top - 1}")
        for i, t in enumerate(catalogue.triggers):
            named = [d for d in (t.when.dimension, *t.when.high, *t.when.low) if d is not None]
            unknown = [d for d in named if d not in dims]
            if unknown:
                problems.append(f"triggers[{i}] (id {t.id!r}).when: unknown dimension(s) {unknown}")
    for section, entries, allowed in (("actions", catalogue.actions, set(SCOPE_FIELDS)),
                                      ("triggers", catalogue.triggers, {*SCOPE_FIELDS, *FINDING_FIELDS})):
        for i, entry in enumerate(entries):
            try:
                unknown = sorted(entry.placeholders() - allowed)
            except ValueError as err:  # an unmatched brace
                unknown = [f"malformed braces ({err})"]
            if unknown:
                problems.append(f"{section}[{i}] (id {entry.id!r}).text: unknown placeholder(s) {unknown}; the "
                                f"texts may use {', '.join('{' + f + '}' for f in sorted(allowed))}")
    if problems:
        from .errors import Problem

        raise QuestionnaireError(file, [Problem(p.split(": ", 1)[0], p.split(": ", 1)[1]) for p in problems])
    return catalogue


# ---------------------------------------------------------------------------------------------
# Targets


def resolve_target(target: int | Mapping | None, questionnaire: Questionnaire, unit: str | None = None
                   ) -> dict[str, int]:
    """The target level of every dimension for the organisation or a unit.

    ``target`` is a level for every dimension (``3``), per dimension (``{"vision": 4}``; others stay
    at the default 3), or per unit (``{"Finance": {"vision": 4}, "*": 3}``).
    """
    levels = len(questionnaire.levels)
    dims = questionnaire.dimension_ids
    default = 3 if levels >= 3 else levels
    out = dict.fromkeys(dims, default)
    if target is None:
        return out
    if isinstance(target, (int, np.integer)):
        return {d: _level(target, levels, "target") for d in dims}
    if not isinstance(target, Mapping):
        raise ConfigurationError(f"target must be a level, a mapping of dimension -> level or of unit -> "
                                 f"mapping; got {type(target).__name__}")
    per_unit = {k: v for k, v in target.items() if isinstance(v, Mapping)}
    flat = {k: v for k, v in target.items() if not isinstance(v, Mapping)}
    if "*" in flat:
        out = dict.fromkeys(dims, _level(flat.pop("*"), levels, "target['*']"))
    for dim, level in flat.items():
        if dim not in dims:
            raise ConfigurationError(f"target names {dim!r}, which is not a dimension of {questionnaire.id!r}; "
                                     f"dimensions are {dims}")
        out[dim] = _level(level, levels, f"target[{dim!r}]")
    if unit is not None and unit in per_unit:
        out.update(resolve_target({**out, **per_unit[unit]}, questionnaire))
    return out


def _level(value, levels: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= int(value) <= levels:
        raise ConfigurationError(f"{where} must be a level from 1 to {levels}; got {value!r}")
    return int(value)


# ---------------------------------------------------------------------------------------------
# The plan


ACTION_COLUMNS = ["rank", "window", "id", "title", "dimension", "dimension_name", "source", "reason", "gap",
                  "weight", "impact", "effort", "days_low", "days_high", "cost_low", "cost_high", "priority", "what",
                  "why", "owner", "success_measure", "deadline", "units"]


@dataclass
class Plan:
    """A bounded, ranked action plan for the organisation or one unit.

    Attributes
    ----------
    actions : DataFrame
        The plan, in display order (``rank`` 1, 2, 3 ... = the order a reader sees them): ``rank,
        window`` (30, 60 or 90: the action is done by that day), ``id, title, dimension,
        dimension_name, source`` (``level``, ``consolidate``, ``next level`` or the finding
        that triggered it), ``reason, gap, weight, impact, effort, days_low, days_high`` (effort in
        person-days), ``cost_low, cost_high`` (with a day rate), ``priority, what, why, owner,
        success_measure, deadline`` (the first day named in the success measure) and ``units``
        (in an organisation plan, the units whose own plans have the action).
    considered : DataFrame
        The candidate actions left out by the plan's bounds (same columns, ``rank`` blank).
    targets : DataFrame
        Per dimension: ``dimension, name, score, ci_low, ci_high, level, level_name, target_level,
        target_score, gap, status`` (``reached``, ``borderline``, ``not reached``, ``not scored``),
        ``scored, at_target`` (at target = reached).
    scope : str
    day_rate : float or None
        Cost of a person-day, for the indicative costs; None shows person-days only.
    currency : str
    owner_load : DataFrame
        Actions per owner role and window (for an organisation plan, the organisation's and every
        unit's plan together, shared actions counted once).
    formula, notes
    """

    actions: pd.DataFrame
    targets: pd.DataFrame
    scope: str
    considered: pd.DataFrame = field(default_factory=lambda: _empty_actions())
    day_rate: float | None = None
    currency: str = ""
    owner_load: pd.DataFrame = field(default_factory=pd.DataFrame)
    all_plans: tuple[int, int, int] | None = None  # person-days (low, high) and number of plans, when consolidated
    formula: str = PRIORITY_FORMULA
    notes: list[str] = field(default_factory=list)

    def window(self, days: int) -> pd.DataFrame:
        """The actions to be done by day ``days`` (30, 60 or 90)."""
        return self.actions[self.actions["window"] == days]

    horizon = window  # the name of earlier versions

    def top(self, n: int = 3) -> pd.DataFrame:
        """The first ``n`` actions a reader sees."""
        return self.actions.head(n)

    def totals(self) -> pd.DataFrame:
        """Per window: ``window, actions, days_low, days_high, cost_low, cost_high``."""
        rows = []
        for days in WINDOWS:
            part = self.window(days)
            rows.append({"window": days, "actions": len(part), "days_low": int(part["days_low"].sum()),
                         "days_high": int(part["days_high"].sum()),
                         "cost_low": part["cost_low"].sum() if self.day_rate else np.nan,
                         "cost_high": part["cost_high"].sum() if self.day_rate else np.nan})
        return pd.DataFrame(rows)

    def write(self, path: str | Path) -> Path:
        """Write the plan to ``.csv`` or ``.xlsx`` (text cells neutralised against formulas)."""
        from .export import write_csv, write_xlsx

        path = Path(path)
        columns = ["rank", "window", "title", "dimension_name", "reason", "what", "why", "owner", "effort",
                   "days_low", "days_high", *(["cost_low", "cost_high"] if self.day_rate else []), "impact",
                   "gap", "priority", "success_measure", "units", "id", "source"]
        names = {"window": "by day", "dimension_name": "dimension", "days_low": "person-days (low)",
                 "days_high": "person-days (high)", "cost_low": f"cost (low, {self.currency or 'per day rate'})",
                 "cost_high": f"cost (high, {self.currency or 'per day rate'})"}
        table = self.actions[columns].rename(columns=names)
        if path.suffix.lower() == ".xlsx":
            notes = pd.DataFrame({"note": [self.formula, *PLAN_RULES, TRIGGER_GAPS, *self.notes]})
            sheets = {"action plan": table, "also considered": self.considered[columns].rename(columns=names),
                      "targets": self.targets, "method": notes}
            if len(self.owner_load):
                sheets["owner load"] = self.owner_load
            return write_xlsx(sheets, path)
        if path.suffix.lower() == ".csv":
            return write_csv(table, path)
        raise ConfigurationError(f"cannot write a plan to {path.name!r}: use a .csv or .xlsx file")


def scope_words(unit: str | None) -> dict[str, str]:
    """The catalogue's scope placeholders for the organisation's plan or a unit's.

    >>> scope_words("Finance")["units"], scope_words(None)["each_unit"]
    ('teams in Finance', 'each business unit')
    """
    if unit is None:
        return {"scope": "the organisation", "units": "business units", "each_unit": "each business unit"}
    return {"scope": unit, "units": f"teams in {unit}", "each_unit": f"each team in {unit}"}


def recommend(scores: Scores, *, unit: str | None = None, target: int | Mapping | None = None,
              catalogue: Catalogue | str | Path | None = None, findings: Findings | None = None,
              archetypes=None, per_window: int = 3, max_actions: int = 8, per_dimension: int = 2,
              day_rate: float | None = None, currency: str = "") -> Plan:
    """A bounded 30/60/90-day plan for the organisation or one unit.

    Parameters
    ----------
    scores : Scores
    unit : str, optional
        Plan for this (reportable) unit.
    target : int or mapping, optional
        Target level(s); see :func:`resolve_target`. Default: level 3 on every dimension.
    catalogue : Catalogue or path, optional
        Default: the catalogue beside the questionnaire (the bundled one for the bundled instrument).
    findings : Findings, optional
        Findings to trigger actions (default: computed with :func:`find_findings`).
    archetypes : Archetypes, optional
        Passed to :func:`find_findings` when findings are computed here.
    per_window, max_actions, per_dimension : int
        The plan's bounds: actions per window (3), in all (8) and per dimension (2); the other
        candidates are kept in ``Plan.considered``.
    day_rate : float, optional
        Cost of a person-day, for an indicative cost per action and window.
    currency : str
        Shown beside costs (for example "EUR").

    Returns
    -------
    Plan

    Examples
    --------
    >>> import pmo_maturity as pm
    >>> scores = pm.score(pm.load_responses(pm.sample_path()))
    >>> plan = pm.recommend(scores)
    >>> list(plan.actions["window"].head(1)), len(plan.actions) <= 8
    ([30], True)
    """
    scores.check_reportable(unit, "a plan")
    q = scores.questionnaire
    if per_window < 1 or max_actions < 1 or per_dimension < 1:
        raise ConfigurationError("per_window, max_actions and per_dimension must be at least 1")
    if day_rate is not None and not day_rate > 0:
        raise ConfigurationError(f"day_rate must be a positive amount per person-day; got {day_rate!r}")
    if catalogue is None:
        catalogue = default_catalogue(q)
    elif not isinstance(catalogue, Catalogue):
        catalogue = load_catalogue(catalogue, q)
    findings = findings if findings is not None else find_findings(scores, unit=unit, archetypes=archetypes)
    targets = _targets(scores, q, resolve_target(target, q, unit), unit)
    scope = unit or ORGANISATION
    if catalogue is None:
        return Plan(actions=_empty_actions(), targets=targets, scope=scope, day_rate=day_rate, currency=currency,
                    notes=[f"No action catalogue was found for questionnaire {q.id!r}: put a {DEFAULT_CATALOGUE} "
                           f"for it beside the questionnaire file to get a plan."])
    words = scope_words(unit)
    candidates = _level_candidates(catalogue, targets, q, words) + _triggered(catalogue, findings, q, words)
    notes = []
    if catalogue.questionnaire != q.id:
        notes.append(f"The catalogue {catalogue.id!r} was written for questionnaire {catalogue.questionnaire!r}, "
                     f"not {q.id!r}.")
    if not candidates:
        notes.append("Every dimension is at or above its target and nothing else calls for an action.")
        return Plan(actions=_empty_actions(), targets=targets, scope=scope, day_rate=day_rate, currency=currency,
                    notes=notes)
    pool = (pd.DataFrame(candidates).sort_values(["priority", "window", "id"], ascending=[False, True, True],
                                                 kind="stable").drop_duplicates("id").reset_index(drop=True))
    chosen = _choose(pool, _weakest(targets), per_window, max_actions, per_dimension)
    actions = _finish(pool.loc[chosen], day_rate)
    considered = _finish(pool.drop(index=chosen), day_rate, ranked=False)
    plan = Plan(actions=actions, targets=targets, scope=scope, considered=considered, day_rate=day_rate,
                currency=currency, notes=notes)
    plan.owner_load = owner_load([plan])
    return plan


def _empty_actions() -> pd.DataFrame:
    return pd.DataFrame(columns=ACTION_COLUMNS)


def _weakest(targets: pd.DataFrame) -> str | None:
    """The weakest scored dimension below its target (not reached or borderline), if any."""
    below = targets[targets["status"].isin(["not reached", "borderline"])]
    return None if below.empty else below.sort_values(["score", "dimension"]).iloc[0]["dimension"]


def _choose(pool: pd.DataFrame, weakest: str | None, per_window: int, max_actions: int,
            per_dimension: int) -> list[int]:
    """The candidates the plan keeps (row labels of ``pool``, in display order).

    The weakest dimension's best first-window action comes first, after any flagged finding's
    action of higher priority; then each window in turn takes its best candidates within the
    bounds (so that a later window is only short when the overall bound is reached).
    """
    chosen: list[int] = []
    per_dim: dict[str, int] = {}

    def take(i) -> None:
        row = pool.loc[i]
        in_window = sum(pool.loc[j, "window"] == row["window"] for j in chosen)
        if (i in chosen or in_window >= per_window or len(chosen) >= max_actions
                or (row["dimension"] and per_dim.get(row["dimension"], 0) >= per_dimension)):
            return
        chosen.append(i)
        if row["dimension"]:
            per_dim[row["dimension"]] = per_dim.get(row["dimension"], 0) + 1

    first_window = pool["window"] == WINDOWS[0]
    if weakest is not None:
        own = pool[first_window & (pool["dimension"] == weakest) & pool["source"].isin(["level", "consolidate"])]
        if len(own):
            findings = pool[first_window & ~pool["source"].isin(["level", "consolidate", "next level"])]
            for j in findings.index[findings["priority"] > own["priority"].iloc[0]][:per_window - 1]:
                take(j)
            take(own.index[0])
    for days in WINDOWS:
        for i in pool.index[pool["window"] == days]:
            take(i)
    return chosen


def _finish(table: pd.DataFrame, day_rate: float | None, ranked: bool = True) -> pd.DataFrame:
    out = table.copy()
    out["cost_low"] = out["days_low"] * day_rate if day_rate else np.nan
    out["cost_high"] = out["days_high"] * day_rate if day_rate else np.nan
    out["rank"] = np.arange(1, len(out) + 1) if ranked else pd.NA
    if "units" not in out.columns:
        out["units"] = ""
    return out.reindex(columns=ACTION_COLUMNS).reset_index(drop=True)


def owner_load(plans: list[Plan]) -> pd.DataFrame:
    """Actions per owner role and window across plans (an action shared by several plans once)."""
    frames = [p.actions[["id", "owner", "window"]] for p in plans if len(p.actions)]
    if not frames:
        return pd.DataFrame(columns=["owner", *(f"by day {d}" for d in WINDOWS), "total"])
    every = pd.concat(frames, ignore_index=True).drop_duplicates(["id", "window"])
    table = pd.crosstab(every["owner"], every["window"]).reindex(columns=list(WINDOWS), fill_value=0)
    table.columns = [f"by day {d}" for d in WINDOWS]
    table["total"] = table.sum(axis=1)
    return table.sort_values(["total", *table.columns[:1]], ascending=False).reset_index()


def consolidate(organisation: Plan, units: Mapping[str, Plan]) -> Plan:
    """The organisation's plan with the units' plans folded in: each of its actions lists the units
    whose plans have it too, actions that several units plan but the organisation's plan does not
    are added to ``considered`` with their units, and the owner load counts every plan (an action
    shared by several plans once, as one organisation-wide action)."""
    where: dict[str, list[str]] = {}
    rows: dict[str, pd.Series] = {}
    for name, plan in units.items():
        for _, row in plan.actions.iterrows():
            where.setdefault(row["id"], []).append(name)
            rows.setdefault(row["id"], row)
    actions = organisation.actions.copy()
    actions["units"] = [", ".join(where.get(i, [])) for i in actions["id"]]
    shared = [rows[i].copy() for i, names in where.items() if len(names) > 1 and i not in set(actions["id"])]
    considered = organisation.considered[~organisation.considered["id"].isin(
        [r["id"] for r in shared])].copy()
    if shared:
        extra = pd.DataFrame(shared)
        extra["units"] = [", ".join(where[i]) for i in extra["id"]]
        extra["rank"] = pd.NA
        extra["reason"] = [f"In the plans of {len(where[i])} units" for i in extra["id"]]
        considered = pd.concat([extra.reindex(columns=ACTION_COLUMNS), considered], ignore_index=True)
    plan = Plan(actions=actions, targets=organisation.targets, scope=organisation.scope, considered=considered,
                day_rate=organisation.day_rate, currency=organisation.currency, formula=organisation.formula,
                notes=list(organisation.notes))
    plan.owner_load = owner_load([organisation, *units.values()])
    every = [organisation, *units.values()]
    plan.all_plans = (int(sum(p.actions["days_low"].sum() for p in every)),
                      int(sum(p.actions["days_high"].sum() for p in every)), len(every))
    return plan


def default_catalogue(questionnaire: Questionnaire) -> Catalogue | None:
    """The catalogue written for this questionnaire: a ``recommendations.yaml`` beside its file, else
    the bundled one when it serves this questionnaire; None when there is none."""
    candidates = []
    if questionnaire.source:
        candidates.append(Path(questionnaire.source).parent / DEFAULT_CATALOGUE)
    candidates.append(bundled_file(DEFAULT_CATALOGUE))
    for path in candidates:
        if path.is_file():
            raw = read_yaml_mapping(path)
            if raw.get("questionnaire") == questionnaire.id:
                return _catalogue_from(raw, path, questionnaire)
    return None


def _targets(scores: Scores, q: Questionnaire, levels: dict[str, int], unit: str | None) -> pd.DataFrame:
    """Each dimension against its target level, read with its interval (see :data:`PLAN_RULES`)."""
    table = scores.dimensions_for(unit).set_index("dimension")
    rows = []
    for d in q.dimensions:
        score = float(table.loc[d.id, "mean"])
        low, high = float(table.loc[d.id, "ci_low"]), float(table.loc[d.id, "ci_high"])
        cut = q.level_floor(levels[d.id])
        shown_low, shown_high, shown = displayed([low, high, score])  # as printed, so print and status agree
        if not np.isfinite(score):
            status, gap = "not scored", np.nan
        elif not (np.isfinite(low) and np.isfinite(high)):  # no interval (one respondent): the point alone
            status, gap = ("reached", 0.0) if shown >= cut else ("not reached", cut - score)
        elif shown_low >= cut:
            status, gap = "reached", 0.0
        elif shown_high >= cut:  # ranked on the central estimate; above it, on half the lower bound's shortfall
            status, gap = "borderline", cut - score if score < cut else (cut - low) / 2
        else:
            status, gap = "not reached", cut - score
        rows.append({"dimension": d.id, "name": d.name, "score": score, "ci_low": low, "ci_high": high,
                     "level": table.loc[d.id, "level"], "level_name": table.loc[d.id, "level_name"],
                     "target_level": levels[d.id], "target_score": cut, "gap": max(gap, 0.0) if np.isfinite(gap)
                     else gap, "status": status, "scored": status != "not scored", "at_target": status == "reached"})
    return pd.DataFrame(rows)


def _row(action, dimension: str | None, gap: float, weight: float, source: str, reason: str, q: Questionnaire,
         words: Mapping[str, str], window: int | None = None) -> dict:
    priority = gap * weight * action.impact / EFFORT_COST[action.effort]
    low, high = action.person_days
    deadlines = action.deadlines()
    return {"window": window or action.horizon, "id": action.id, **action.worded(words), "dimension": dimension or "",
            "dimension_name": q.dimension(dimension).name if dimension else "", "source": source, "reason": reason,
            "gap": round(float(gap), 4), "weight": weight, "impact": action.impact, "effort": action.effort,
            "days_low": low, "days_high": high, "priority": round(float(priority), 6), "owner": action.owner,
            "deadline": min(deadlines) if deadlines else (window or action.horizon)}


def _level_candidates(catalogue: Catalogue, targets: pd.DataFrame, q: Questionnaire,
                      words: Mapping[str, str]) -> list[dict]:
    """Catalogue actions for each dimension by its status: its current level's actions when its target
    is not reached; the target level's groundwork, worded as consolidation, when borderline; one
    90-day step towards the next level when reached."""
    rows = []
    top = len(q.levels)
    for t in targets.itertuples():
        if t.status == "not scored":
            continue
        d = q.dimension(t.dimension)
        where = f"{t.score:.2f} (95% CI {t.ci_low:.2f}-{t.ci_high:.2f})" if np.isfinite(t.ci_low) else f"{t.score:.2f}"
        target = q.level_name(t.target_level)
        if t.status == "not reached":
            level, source, gap, window = int(t.level), "level", t.gap, None
            reason = f"{d.name} is at {t.level_name}, {where}; target {target} from {t.target_score:.2f}"
        elif t.status == "borderline":
            level, source, gap, window = max(int(t.target_level) - 1, 1), "consolidate", t.gap, None
            reason = (f"Consolidate {d.name}: {where} spans the {target} cut-off {t.target_score:.2f}, so {target} "
                      f"is not yet secure")
        else:
            level = int(t.level)
            if level >= top:
                continue  # already at the top level
            nxt = q.level_name(level + 1)
            gap = (q.level_floor(level + 1) - t.score) / 2
            source, window = "next level", WINDOWS[-1]
            reason = (f"{d.name} has reached its target ({where}); a first step towards {nxt} from "
                      f"{q.level_floor(level + 1):.2f}")
        actions = catalogue.for_dimension(t.dimension, level)
        if source == "next level":  # one step, done within the last window: the most impact for the effort
            late = [a for a in actions if a.horizon == WINDOWS[-1]] or actions
            actions = sorted(late, key=lambda a: (-a.impact / EFFORT_COST[a.effort], a.id))[:1]
        rows += [_row(a, t.dimension, gap, d.weight, source, reason, q, words, window) for a in actions]
    return rows


def _triggered(catalogue: Catalogue, findings: Findings, q: Questionnaire, words: Mapping[str, str]) -> list[dict]:
    half_range = q.scale.range / 2
    out = []
    for f in findings:
        dim = f.dimensions[0] if f.dimensions and f.kind != "archetype" else None
        finding_words = {"higher": "", "lower": "", "dimension": q.dimension(dim).name if dim else ""}
        if f.kind == "perception_gap":
            gap = f.evidence["difference"]
            finding_words.update(higher=f.groups[0], lower=f.groups[1])
        elif f.kind == "low_agreement":
            values = list(f.evidence.get("units", {}).values()) or [f.evidence["rwg_j"]]
            gap = (f.evidence["threshold"] - min(values)) * half_range
        elif f.kind == "archetype":
            if "shortfall" not in f.evidence:
                continue  # a unit's share of an organisation-wide archetype triggers nothing itself
            gap = f.evidence["share"] * f.evidence["shortfall"]
        elif f.kind == "low_reliability":
            gap = (f.evidence["threshold"] - f.evidence["alpha"]) * half_range
        else:
            continue
        action = _match(catalogue, f, dim)
        if action is None:
            continue
        weight = q.dimension(dim).weight if dim else 1.0
        out.append(_row(action, dim, gap, weight, f.kind.replace("_", " "), f.title, q, {**words, **finding_words}))
    return out


def _match(catalogue: Catalogue, finding, dim: str | None):
    """The trigger for a finding: dimension-specific first, then generic; archetypes by profile."""
    candidates = [t for t in catalogue.triggers if t.when.finding == finding.kind]
    if finding.kind == "archetype":
        high, low = set(finding.evidence["high"]), set(finding.evidence["low"])
        best, best_score = None, 0.0
        for t in candidates:
            sides = [(set(t.when.high), high), (set(t.when.low), low)]
            used = [(want, got) for want, got in sides if want]
            if not used or any(len(want & got) * 2 < len(want) for want, got in used):
                continue
            score = sum(len(want & got) / len(want) for want, got in used) / len(used)
            if score > best_score:
                best, best_score = t, score
        return best
    specific = [t for t in candidates if t.when.dimension == dim and dim is not None]
    generic = [t for t in candidates if t.when.dimension is None]
    return next(iter(specific or generic), None)
