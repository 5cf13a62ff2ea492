"""The prioritised improvement plan: a catalogue of actions, a target profile and a ranking.

The catalogue (``questionnaires/recommendations.yaml``, beside the instrument) lists improvement
actions per dimension and current level, and actions triggered by findings (perception gaps,
divergent views, archetypes, unreliable items). :func:`recommend` compares each dimension with the
target profile (default: level 3 on every dimension) and ranks the applicable actions by

    priority = gap x weight x impact / effort

with ``gap`` the points between the dimension's score and the lowest score of its target level,
``weight`` the dimension's weight, ``impact`` 1-5 from the catalogue and ``effort`` S = 1, M = 2,
L = 3. Dimensions at or above their target get no level action; actions triggered by findings
answer the finding (see :data:`TRIGGER_GAPS`). The plan keeps at most
``cap_per_dimension`` level actions per dimension and ``max_actions`` in all, grouped into 30, 60
and 90-day horizons.
"""

from __future__ import annotations

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
from .questionnaire import Questionnaire
from .scoring import ORGANISATION, Scores

DEFAULT_CATALOGUE = "recommendations.yaml"
EFFORT_COST = {"S": 1, "M": 2, "L": 3}
PRIORITY_FORMULA = "priority = gap to target (points) x dimension weight x impact (1-5) / effort (S=1, M=2, L=3)"
TRIGGER_GAPS = ("Actions triggered by a finding (a perception gap, divergent views, an archetype, unreliable "
                "items) answer that finding, so they can concern a dimension that has reached its target; "
                "their gap is the size of the finding in points: the perception gap itself; for divergent "
                "views, the shortfall of rwg(j) under its threshold times half the scale range; for an "
                "archetype, its share of respondents times how far it falls below the organisation on its "
                "weakest dimension; for unreliable items, the shortfall of alpha times half the scale range.")

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
    catalogue: Catalogue = validate_model(Catalogue, raw, file)  # type: ignore[assignment]
    if questionnaire is not None:
        problems = []
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


@dataclass
class Plan:
    """A ranked action plan.

    Attributes
    ----------
    actions : DataFrame
        One row per action, best first: ``rank, horizon, id, title, dimension, dimension_name,
        source, reason, gap, weight, impact, effort, priority, what, why, owner, success_measure``.
    targets : DataFrame
        Per dimension: ``dimension, name, score, level, target_level, target_score, gap, scored,
        at_target`` (an unscored dimension is neither at target nor given level actions).
    scope : str
    formula : str
    notes : list of str
    """

    actions: pd.DataFrame
    targets: pd.DataFrame
    scope: str
    formula: str = PRIORITY_FORMULA
    notes: list[str] = field(default_factory=list)

    def horizon(self, days: int) -> pd.DataFrame:
        return self.actions[self.actions["horizon"] == days]

    def top(self, n: int = 3) -> pd.DataFrame:
        return self.actions.head(n)

    def write(self, path: str | Path) -> Path:
        """Write the plan to ``.csv`` or ``.xlsx`` (text cells neutralised against formulas)."""
        from .export import write_csv, write_xlsx

        path = Path(path)
        columns = ["rank", "horizon", "title", "dimension_name", "reason", "what", "why", "owner", "effort",
                   "impact", "gap", "priority", "success_measure", "id", "source"]
        table = self.actions[columns].rename(columns={"horizon": "horizon (days)", "dimension_name": "dimension"})
        if path.suffix.lower() == ".xlsx":
            notes = pd.DataFrame({"note": [self.formula, TRIGGER_GAPS, *self.notes]})
            return write_xlsx({"action plan": table, "targets": self.targets, "method": notes}, path)
        if path.suffix.lower() == ".csv":
            return write_csv(table, path)
        raise ConfigurationError(f"cannot write a plan to {path.name!r}: use a .csv or .xlsx file")


def recommend(scores: Scores, *, unit: str | None = None, target: int | Mapping | None = None,
              catalogue: Catalogue | str | Path | None = None, findings: Findings | None = None,
              archetypes=None, cap_per_dimension: int = 3, max_actions: int = 12) -> Plan:
    """Rank the catalogue's actions for the organisation or one unit.

    Parameters
    ----------
    scores : Scores
    unit : str, optional
        Plan for this (reportable) unit.
    target : int or mapping, optional
        Target level(s); see :func:`resolve_target`. Default: level 3 on every dimension.
    catalogue : Catalogue or path, optional
        Default: the bundled catalogue (for the bundled instrument).
    findings : Findings, optional
        Findings to trigger actions (default: computed with :func:`find_findings`).
    archetypes : Archetypes, optional
        Passed to :func:`find_findings` when findings are computed here.
    cap_per_dimension : int
        Most level actions per dimension.
    max_actions : int
        Most actions in the plan.

    Returns
    -------
    Plan

    Examples
    --------
    >>> import pmo_maturity as pm
    >>> scores = pm.score(pm.load_responses(pm.sample_path()))
    >>> plan = pm.recommend(scores)
    >>> plan.actions.iloc[0]["title"]
    'Run joint vision briefings for executives and delivery teams'
    """
    q = scores.questionnaire
    if cap_per_dimension < 1 or max_actions < 1:
        raise ConfigurationError("cap_per_dimension and max_actions must be at least 1")
    if catalogue is None:
        catalogue = default_catalogue(q)
    elif not isinstance(catalogue, Catalogue):
        catalogue = load_catalogue(catalogue, q)
    findings = findings if findings is not None else find_findings(scores, unit=unit, archetypes=archetypes)
    targets = _targets(scores, q, resolve_target(target, q, unit), unit)
    below = targets.set_index("dimension")
    if catalogue is None:
        return Plan(actions=_empty_actions(), targets=targets, scope=unit or ORGANISATION,
                    notes=[f"No action catalogue was found for questionnaire {q.id!r}: put a {DEFAULT_CATALOGUE} "
                           f"for it beside the questionnaire file to get a plan."])
    rows = []
    for dim, t in below[~below["at_target"] & below["scored"]].iterrows():
        level = int(t["level"])
        candidates = catalogue.for_dimension(dim, level)
        scored = sorted((_row(a, dim, t["gap"], q.dimension(dim).weight, "level",
                              f"{q.dimension(dim).name} is at {t['level_name']} ({t['score']:.2f}); target "
                              f"{q.level_name(t['target_level'])} from {t['target_score']:.2f}", q)
                         for a in candidates),
                        key=lambda r: (-r["priority"], r["horizon"], r["id"]))
        rows += scored[:cap_per_dimension]
    rows += _triggered(catalogue, findings, q)
    notes = []
    if catalogue.questionnaire != q.id:
        notes.append(f"The catalogue {catalogue.id!r} was written for questionnaire {catalogue.questionnaire!r}, "
                     f"not {q.id!r}.")
    actions = pd.DataFrame(rows)
    if actions.empty:
        notes.append("Every dimension is at or above its target: no action is needed to reach it.")
        actions = _empty_actions()
    else:
        actions = (actions.sort_values(["priority", "horizon", "id"], ascending=[False, True, True], kind="stable")
                   .drop_duplicates("id").head(max_actions).reset_index(drop=True))
        actions.insert(0, "rank", np.arange(1, len(actions) + 1))
    return Plan(actions=actions, targets=targets, scope=unit or ORGANISATION, notes=notes)


def _empty_actions() -> pd.DataFrame:
    return pd.DataFrame(columns=["rank", "horizon", "id", "title", "dimension", "dimension_name", "source", "reason",
                                 "gap", "weight", "impact", "effort", "priority", "what", "why", "owner",
                                 "success_measure"])


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
    table = scores.dimensions_for(unit).set_index("dimension")
    rows = []
    for d in q.dimensions:
        score = float(table.loc[d.id, "mean"])
        target_score = q.level_floor(levels[d.id])
        gap = max(target_score - score, 0.0) if np.isfinite(score) else np.nan
        rows.append({"dimension": d.id, "name": d.name, "score": score, "level": table.loc[d.id, "level"],
                     "level_name": table.loc[d.id, "level_name"], "target_level": levels[d.id],
                     "target_score": target_score, "gap": gap, "scored": bool(np.isfinite(score)),
                     "at_target": bool(np.isfinite(score) and score >= target_score - 1e-9)})
    return pd.DataFrame(rows)


def _row(action, dimension: str | None, gap: float, weight: float, source: str, reason: str,
         q: Questionnaire) -> dict:
    priority = gap * weight * action.impact / EFFORT_COST[action.effort]
    return {"horizon": action.horizon, "id": action.id, "title": action.title, "dimension": dimension or "",
            "dimension_name": q.dimension(dimension).name if dimension else "", "source": source, "reason": reason, "gap": round(float(gap), 4), "weight": weight,
            "impact": action.impact, "effort": action.effort, "priority": round(float(priority), 6),
            "what": action.what, "why": action.why, "owner": action.owner, "success_measure": action.success_measure}


def _triggered(catalogue: Catalogue, findings: Findings, q: Questionnaire) -> list[dict]:
    half_range = q.scale.range / 2
    out = []
    for f in findings:
        dim = f.dimensions[0] if f.dimensions and f.kind != "archetype" else None
        if f.kind == "perception_gap":
            gap = f.evidence["difference"]
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
        out.append(_row(action, dim, gap, weight, f.kind, f.title, q))
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
    return (specific or generic or [None])[0]
