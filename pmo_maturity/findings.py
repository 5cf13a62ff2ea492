"""Findings: what the numbers say, as records with their evidence.

:func:`find_findings` turns scores (and archetypes) into a list of :class:`Finding` records: the
strongest and weakest dimensions, dimensions clearly above or below the overall index, a staged
level below the continuous one, perception gaps between roles, divergent views inside units
(rwg(j)), dimensions whose items do not hang together (alpha), archetypes, and data-quality
caveats. The narrative and the action plan are built from these records, and tests check them.
Suppressed groups never appear in a finding.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from .archetypes import PROFILE_THRESHOLD as PATTERN_THRESHOLD
from .archetypes import Archetypes
from .digest import digest_of
from .scoring import ORGANISATION, Scores

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
KINDS = ("weakness", "levels_differ", "perception_gap", "low_agreement", "low_reliability", "strength",
         "archetype", "no_archetypes", "data_quality")


@dataclass(frozen=True)
class Finding:
    """One thing the data shows, with the evidence behind it.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    severity : str
        ``high``, ``medium``, ``low`` or ``info``.
    title : str
        The finding in plain words, with its numbers.
    scope : str
        ``Organisation`` or the unit the finding is about.
    dimensions : tuple of str
        Dimension ids involved.
    groups : tuple of str
        Roles, units or archetypes involved (never a suppressed group).
    evidence : dict
        The numbers (means, intervals, n, thresholds) the title cites.
    """

    kind: str
    severity: str
    title: str
    scope: str = ORGANISATION
    dimensions: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    evidence: dict = field(default_factory=dict)


class Findings(list):
    """A list of :class:`Finding` with tidy-table and filter helpers."""

    def frame(self) -> pd.DataFrame:
        """One row per finding: ``kind, severity, title, scope, dimensions, groups, evidence``."""
        rows = [{**asdict(f), "dimensions": ", ".join(f.dimensions), "groups": ", ".join(f.groups)} for f in self]
        return pd.DataFrame(rows, columns=["kind", "severity", "title", "scope", "dimensions", "groups", "evidence"])

    def of(self, *kinds: str) -> Findings:
        return Findings(f for f in self if f.kind in kinds)

    def first(self, kind: str) -> Finding | None:
        return next((f for f in self if f.kind == kind), None)


def find_findings(scores: Scores, *, unit: str | None = None, archetypes: Archetypes | None = None) -> Findings:
    """Findings for the organisation, or for one business unit.

    Parameters
    ----------
    scores : Scores
    unit : str, optional
        Report on this unit (it must be reportable, not suppressed).
    archetypes : Archetypes, optional
        From :func:`~pmo_maturity.cluster_respondents`, to add archetype findings.

    Returns
    -------
    Findings
        Ordered by severity, then by kind.

    Examples
    --------
    >>> import pmo_maturity as pm
    >>> scores = pm.score(pm.load_responses(pm.sample_path()))
    >>> pm.find_findings(scores).first("weakness").dimensions
    ('change',)
    """
    q = scores.questionnaire
    scores.check_reportable(unit, "findings")
    scope = unit or ORGANISATION
    table = scores.dimensions_for(unit).set_index("dimension")
    overall = scores.overall_for(unit)
    out: list[Finding] = []
    out += _strengths_and_weaknesses(table, overall, q, scope)
    if overall["levels_differ"]:
        weakest = table["mean"].idxmin()
        out.append(Finding(
            "levels_differ", "medium",
            f"The overall index ({overall['score']:.2f}) is at level {overall['continuous_level_name']}, but the "
            f"staged level is {overall['staged_level_name']}: {q.dimension(weakest).name} holds the organisation "
            f"back." if unit is None else
            f"The unit's overall index ({overall['score']:.2f}) is at level {overall['continuous_level_name']}, but "
            f"its staged level is {overall['staged_level_name']}: {q.dimension(weakest).name} holds it back.",
            scope, (weakest,), (), {"continuous": overall["continuous_level_name"],
                                    "staged": overall["staged_level_name"], "score": float(overall["score"])}))
    out += _gaps(scores, scope)
    out += _agreement(scores, unit, scope)
    out += _reliability(scores, unit, scope)
    if archetypes is not None:
        out += (_archetypes(archetypes, scope, table["mean"]) if unit is None
                else _unit_archetypes(archetypes, unit))
    out += _data_quality(scores, unit, scope)
    out.sort(key=lambda f: (SEVERITY_ORDER[f.severity], KINDS.index(f.kind)))
    return Findings(out)


def _dim_evidence(row: pd.Series) -> dict:
    return {"mean": float(row["mean"]), "ci_low": float(row["ci_low"]), "ci_high": float(row["ci_high"]),
            "n": int(row["n"]), "level": row["level_name"], "index": float(row["index"])}


def _strengths_and_weaknesses(table: pd.DataFrame, overall: pd.Series, q, scope: str) -> list[Finding]:
    scored = table.dropna(subset=["mean"])
    if scored.empty:
        return []
    best, worst = scored["mean"].idxmax(), scored["mean"].idxmin()
    out = []
    for dim, row in scored.iterrows():
        above = row["ci_low"] > overall["score"]
        below = row["ci_high"] < overall["score"]
        name = q.dimension(dim).name
        where = f"{row['mean']:.2f} (95% CI {row['ci_low']:.2f}-{row['ci_high']:.2f}, n={int(row['n'])})"
        if dim == best or above:
            lead = "Strongest dimension" if dim == best else "Above the overall index"
            out.append(Finding("strength", "info", f"{lead}: {name}, {where}, level {row['level_name']}.",
                               scope, (dim,), (), {**_dim_evidence(row), "strongest": dim == best}))
        if dim == worst or below:
            lead = "Weakest dimension" if dim == worst else "Below the overall index"
            severity = "high" if row["level"] <= 2 else "medium"
            out.append(Finding("weakness", severity, f"{lead}: {name}, {where}, level {row['level_name']}.",
                               scope, (dim,), (), {**_dim_evidence(row), "weakest": dim == worst}))
    # The strongest and the weakest dimension come first within their kinds.
    out.sort(key=lambda f: (f.kind, not f.evidence.get("strongest", f.evidence.get("weakest", False))))
    return out


def _gaps(scores: Scores, scope: str) -> list[Finding]:
    gaps = scores.gaps
    flagged = gaps[(gaps["scope"] == scope) & gaps["flagged"]]
    if flagged.empty:
        return []
    threshold = scores.rules.gap_points(scores.questionnaire)
    out = []
    for dim, block in flagged.groupby("dimension", sort=False):
        g = block.sort_values("difference", ascending=False).iloc[0]
        name = scores.questionnaire.dimension(dim).name
        severity = "high" if g["difference"] >= 2 * threshold else "medium"
        out.append(Finding(
            "perception_gap", severity,
            f"Perception gap on {name}: {g['higher']} {g['mean_higher']:.2f} (n={int(g['n_higher'])}) against "
            f"{g['lower']} {g['mean_lower']:.2f} (n={int(g['n_lower'])}), {g['difference']:.2f} points apart "
            f"({gap_interval(g)}).",
            scope, (dim,), (g["higher"], g["lower"]),
            {"difference": float(g["difference"]), "mean_higher": float(g["mean_higher"]),
             "mean_lower": float(g["mean_lower"]), "n_higher": int(g["n_higher"]), "n_lower": int(g["n_lower"]),
             "ci_low": float(g["ci_low"]), "ci_high": float(g["ci_high"]), "p_adjusted": float(g["p_adjusted"]),
             "comparisons": int(g["comparisons"]), "threshold": threshold, "pairs_flagged": int(len(block))}))
    out.sort(key=lambda f: -f.evidence["difference"])
    return out


def gap_interval(gap) -> str:
    """A gap's interval and what the adjustment for many comparisons says, in plain words."""
    clear = "clear" if gap["p_adjusted"] < 0.05 else "not clear"
    return (f"95% CI {gap['ci_low']:.2f} to {gap['ci_high']:.2f}; {clear} after allowing for the "
            f"{int(gap['comparisons'])} comparisons made")


def _agreement(scores: Scores, unit: str | None, scope: str) -> list[Finding]:
    agreement = scores.agreement
    if agreement.empty:
        return []
    threshold = scores.rules.agreement_threshold
    low = agreement[agreement["status"] == "low"]
    out = []
    if unit is not None:
        for r in low[low["unit"] == unit].itertuples():
            out.append(Finding(
                "low_agreement", "medium",
                f"Views diverge on {r.name}: agreement {r.rwg_j:.2f} (n={r.n}, on a 0-1 scale) is under "
                f"{threshold:.2f} (rwg(j)); the average hides divergent views.", scope, (r.dimension,), (unit,),
                {"rwg_j": float(r.rwg_j), "n": int(r.n), "threshold": threshold}))
        return out
    shown = agreement[agreement["rwg_j"].notna()]
    for dim, block in low.groupby("dimension", sort=False):
        units = block.sort_values("rwg_j")
        total = int((shown["dimension"] == dim).sum())
        listed = ", ".join(f"{u.unit} {u.rwg_j:.2f}" for u in units.itertuples())
        out.append(Finding(
            "low_agreement", "medium" if len(units) * 2 >= total else "low",
            f"Views diverge on {units.iloc[0]['name']} in {len(units)} of {total} units (agreement {listed}, on a "
            f"0-1 scale; under {threshold:.2f}, rwg(j)): their averages hide divergent views.",
            scope, (dim,), tuple(units["unit"]),
            {"units": {u.unit: float(u.rwg_j) for u in units.itertuples()}, "units_total": total,
             "threshold": threshold}))
    return out


def reliability_for(scores: Scores, unit: str | None = None) -> pd.DataFrame:
    """Cronbach's alpha per dimension (with its Feldt interval) for the organisation, or the unit's
    own (``status`` "not enough data" under ``min_reliability_n``); the columns of
    ``Scores.reliability``."""
    if unit is None:
        return scores.reliability
    scores.check_reportable(unit, "reliability")
    table = digest_of(scores).reliability
    return table[table["unit"] == unit].drop(columns="unit").reset_index(drop=True)


def _reliability(scores: Scores, unit: str | None, scope: str) -> list[Finding]:
    """Dimensions whose statements do not hang together: the unit's own reading when it has enough
    respondents, else the organisation's."""
    out = []
    threshold = scores.rules.reliability_threshold
    table = reliability_for(scores, unit)
    if unit is not None and (table["status"] == "not enough data").all():
        table, whose = scores.reliability, " (organisation-wide)"
    else:
        whose = ""
    for r in table[table["status"] == "low"].itertuples():
        out.append(Finding(
            "low_reliability", "medium",
            f"The statements of {r.name} do not hang together well{whose}: consistency {r.alpha:.2f} (95% CI "
            f"{r.ci_low:.2f}-{r.ci_high:.2f}, n={r.n}) is under {threshold:.2f} (Cronbach's alpha); read its score "
            f"with care.", scope, (r.dimension,), (), {"alpha": float(r.alpha), "ci_low": float(r.ci_low),
                                                       "ci_high": float(r.ci_high), "n": int(r.n),
                                                       "threshold": threshold}))
    return out


def _archetypes(archetypes: Archetypes, scope: str, org_means: pd.Series) -> list[Finding]:
    if not archetypes.found:
        return [Finding("no_archetypes", "info", f"No distinct groups of respondents: {archetypes.reason}.", scope,
                        evidence={"reason": archetypes.reason, "n": archetypes.n_clustered})]
    out = []
    shapes = [c for c in archetypes.profiles.columns if c.startswith("shape_")]
    mirror = f" Note: {archetypes.reason}." if archetypes.mirrors_units else ""
    for r in archetypes.reportable.itertuples():
        row = archetypes.profiles.set_index("archetype").loc[r.archetype]
        shape = row[shapes].astype(float)  # the pattern: members' scores against their own average
        high = tuple(d[6:] for d in shape[shape >= PATTERN_THRESHOLD].sort_values(ascending=False).index)
        low = tuple(d[6:] for d in shape[shape <= -PATTERN_THRESHOLD].sort_values().index)
        weakest = shape.idxmin()[6:]
        shortfall = max(float(org_means[weakest] - row[weakest]), 0.0)
        out.append(Finding(
            "archetype", "info",
            f"Group '{r.archetype}': {r.share:.0%} of respondents ({int(r.size)}) rate {r.pattern} compared with "
            f"their own average.{mirror}", scope, high + low, (r.archetype,),
            {"size": int(r.size), "share": float(r.share), "high": high, "low": low, "stability": float(r.stability),
             "weakest": weakest, "shortfall": shortfall, "mirrors_units": bool(archetypes.mirrors_units)}))
    return out


def _unit_archetypes(archetypes: Archetypes, unit: str) -> list[Finding]:
    """How a unit's respondents spread over the organisation's archetypes (suppressed cells left out)."""
    if not archetypes.found or unit not in archetypes.composition_units.columns:
        return []
    counts = archetypes.composition_units[unit].dropna()
    members = archetypes.composition_units[unit]
    total = int(members.fillna(0).sum()) if members.notna().all() else None
    out = []
    profiles = archetypes.profiles.set_index("archetype")
    ordered = counts.sort_values(ascending=False)
    for k, (name, count) in enumerate(ordered.items()):
        largest = ", the largest group" if k == 0 and len(ordered) > 1 and count > ordered.iloc[1] else ""
        share = f" ({count / total:.0%} of the unit's respondents with a full profile{largest})" if total else ""
        out.append(Finding(
            "archetype", "info",
            f"{int(count)} respondents of {unit}{share} share the organisation-wide pattern '{name}' "
            f"(they rate {profiles.loc[name, 'pattern']} compared with their own average).", unit, (), (name,),
            {"size": int(count), "share": count / total if total else float("nan"), "high": (), "low": (),
             "archetype_share": float(profiles.loc[name, "share"])}))
    return out


def _data_quality(scores: Scores, unit: str | None, scope: str) -> list[Finding]:
    dq = scores.data_quality
    if unit is not None:  # the unit's own rows
        dq = {**dq, **digest_of(scores).quality[unit]}
    out = []
    if dq["items_missing"]:
        out.append(Finding("data_quality", "high",
                           f"{len(dq['items_missing'])} questionnaire items are not in the file "
                           f"({', '.join(dq['items_missing'][:6])}); their dimensions rest on fewer items.",
                           scope, evidence={"items_missing": list(dq["items_missing"])}))
    share = dq["rows_quarantined"] / dq["rows_in"] if dq["rows_in"] else 0.0
    if dq["rows_quarantined"]:
        reasons = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in dq["quarantined_by_reason"].items())
        out.append(Finding("data_quality", "medium" if share > 0.05 else "low",
                           f"{dq['rows_quarantined']} of {dq['rows_in']} rows ({share:.1%}) were set aside and not "
                           f"scored: {reasons}.", scope,
                           evidence={"rows_in": dq["rows_in"], "rows_quarantined": dq["rows_quarantined"],
                                     "by_reason": dict(dq["quarantined_by_reason"])}))
    if dq["flagged"]:
        flagged = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in dq["flagged"].items())
        out.append(Finding("data_quality", "low", f"Kept but flagged as possibly careless: {flagged}.", scope,
                           evidence={"flagged": dict(dq["flagged"])}))
    n = int(scores.overall_for(unit)["n"])
    if n < 30:
        out.append(Finding("data_quality", "medium",
                           f"Only {n} respondents: intervals are wide, so small differences are not meaningful.",
                           scope, evidence={"n": n}))
    hidden = scores.suppressed_units
    if unit is None and hidden:
        out.append(Finding("data_quality", "info",
                           f"{len(hidden)} units are not shown separately to protect respondents' anonymity "
                           f"(fewer than {scores.rules.min_group_size} respondents, or to stop a small unit "
                           f"being worked out by subtraction); their answers count in the organisation's "
                           f"results.", scope, evidence={"units_suppressed": len(hidden)}))
    return out

