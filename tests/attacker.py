"""A privacy attacker: tries to recover suppressed groups from everything the kit publishes.

It is written independently of the kit's own disclosure control (``pmo_maturity.privacy``) and
uses plain linear algebra over the respondents' true groups, which only the test knows:

1. **Subtraction** (per dimension): every published mean with its n is an equation "the sum of
   these respondents' scores is n x mean". Units, roles, the organisation and the unit x role
   cells are sets of atoms (one atom per unit x role crossing). A set of fewer than the minimum
   respondents (an atom, a unit, a role) is recovered when its indicator lies in the span of the
   published equations; the attacker then computes its value and compares it with the truth.
2. **Overall index**: a group's published overall index must be the weighted mean of its
   published dimensions; otherwise it carries a hidden dimension.
3. **Side statistics**: the ICC table's between-unit mean square must be computable from the
   published units alone; otherwise (with the organisation's mean and the hidden units' n) a
   quadratic gives a hidden unit's mean.
4. **Published counts**: no n of a suppressed group may be published.

``attack`` returns a list of leaks (empty when nothing was recovered).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ORGANISATION = "Organisation"


@dataclass(frozen=True)
class Leak:
    mechanism: str
    what: str
    detail: str

    def __str__(self) -> str:
        return f"{self.mechanism}: {self.what} ({self.detail})"


def published_tables(scores, folder: Path) -> dict[str, pd.DataFrame]:
    """What a reader of the outputs gets: the JSON export (every table) and the API's unit x role
    cells (shown in the unit reports' role chart)."""
    path = scores.write(folder / "scores.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    tables = {name: pd.DataFrame(data[name]) for name in ("scores", "gaps", "icc", "agreement", "reliability")}
    tables["role_cells"] = scores.role_cells.copy()
    tables["units"] = scores.units.copy()
    tables["roles"] = scores.roles.copy()
    tables["overall"] = scores.overall.copy()
    return tables


def attack(scores, tables: dict[str, pd.DataFrame], min_size: int) -> list[Leak]:
    truth = scores.respondents  # the respondents' true groups and scores: known to the test only
    dims = scores.questionnaire.dimension_ids
    leaks: list[Leak] = []
    for dim in dims:
        leaks += _subtraction(truth, tables, dim, min_size)
    leaks += _overall_consistency(scores, tables)
    leaks += _side_statistics(truth, tables, dims)
    leaks += _published_counts(truth, tables, min_size)
    return leaks


# --- 1. subtraction ---------------------------------------------------------------------------

def _subtraction(truth: pd.DataFrame, tables: dict, dim: str, min_size: int) -> list[Leak]:
    scored = truth[truth[dim].notna()]
    if scored.empty:
        return []
    atoms = scored.groupby(["unit", "role"], sort=True)[dim].agg(["size", "sum"])
    index = {key: i for i, key in enumerate(atoms.index)}
    units = atoms.index.get_level_values(0).to_numpy()
    roles = atoms.index.get_level_values(1).to_numpy()
    rows, values = [], []

    def equation(mask: np.ndarray, n: float, mean: float) -> None:
        rows.append(mask.astype(float))
        values.append(float(n) * float(mean))

    scores_table = tables["scores"]
    shown = scores_table[(scores_table["dimension"] == dim) & scores_table["mean"].notna()]
    for r in shown.itertuples():
        if r.scope == "organisation":
            equation(np.ones(len(atoms), dtype=bool), r.n, r.mean)
        elif r.scope == "unit":
            equation(units == r.group, r.n, r.mean)
        elif r.scope == "role":
            equation(roles == r.group, r.n, r.mean)
    cells = tables["role_cells"]
    cells = cells[(cells["dimension"] == dim) & cells["mean"].notna() & ~cells["suppressed"].astype(bool)]
    for r in cells.itertuples():
        mask = np.zeros(len(atoms), dtype=bool)
        if (r.unit, r.role) in index:
            mask[index[(r.unit, r.role)]] = True
        # The attacker is given the cell's true n on the dimension (more than a reader has).
        equation(mask, atoms["size"].get((r.unit, r.role), 0), r.mean)
    gaps = tables["gaps"]
    gaps = gaps[(gaps["dimension"] == dim) & (gaps["scope"] != ORGANISATION)] if len(gaps) else gaps
    for side in ("higher", "lower"):
        for r in gaps.itertuples():
            mask = np.zeros(len(atoms), dtype=bool)
            key = (r.scope, getattr(r, side))
            if key in index:
                mask[index[key]] = True
            equation(mask, getattr(r, f"n_{side}"), getattr(r, f"mean_{side}"))
    if not rows:
        return []
    a = np.array(rows)
    b = np.array(values)
    targets = [(f"cell {u} x {r}", np.asarray([i == j for j in range(len(atoms))])) for (u, r), i in index.items()]
    targets += [(f"unit {u}", units == u) for u in np.unique(units)]
    targets += [(f"role {r}", roles == r) for r in np.unique(roles)]
    leaks = []
    for name, mask in targets:
        n = int(atoms["size"].to_numpy()[mask].sum())
        if not 0 < n < min_size:
            continue
        target = mask.astype(float)
        coef, *_ = np.linalg.lstsq(a.T, target, rcond=None)
        if np.abs(a.T @ coef - target).max() > 1e-8:
            continue  # not in the span of the published equations
        recovered = float(coef @ b) / n
        true = float(atoms["sum"].to_numpy()[mask].sum()) / n
        if abs(recovered - true) < 1e-6:
            leaks.append(Leak("subtraction", f"{name} on {dim}", f"n={n}, mean {true:.4f} recovered exactly"))
    return leaks


# --- 2. overall index -------------------------------------------------------------------------

def _overall_consistency(scores, tables: dict) -> list[Leak]:
    weights = scores.questionnaire.weights
    units = tables["units"]
    overall = tables["overall"]
    leaks = []
    for r in overall[(overall["scope"] == "unit") & overall["score"].notna()].itertuples():
        rows = units[(units["unit"] == r.group) & units["mean"].notna()]
        if rows.empty:
            leaks.append(Leak("overall", f"unit {r.group}", "an overall index with no dimension shown"))
            continue
        w = weights.loc[rows["dimension"]].to_numpy()
        expected = float((rows["mean"].to_numpy() * w).sum() / w.sum())
        if abs(expected - float(r.score)) > 1e-9:
            leaks.append(Leak("overall", f"unit {r.group}",
                              f"overall {r.score:.4f} is not the weighted mean of its shown dimensions "
                              f"({expected:.4f}): it carries a hidden dimension"))
    return leaks


# --- 3. side statistics -----------------------------------------------------------------------

def _side_statistics(truth: pd.DataFrame, tables: dict, dims: list[str]) -> list[Leak]:
    icc = tables["icc"]
    scores_table = tables["scores"]
    leaks = []
    if icc.empty:
        return leaks
    for dim in dims:
        row = icc[icc["dimension"] == dim]
        if row.empty or pd.isna(row["msb"].iloc[0]):
            continue
        shown = scores_table[(scores_table["scope"] == "unit") & (scores_table["dimension"] == dim)
                             & scores_table["mean"].notna()]
        n, mean = shown["n"].to_numpy(dtype=float), shown["mean"].to_numpy(dtype=float)
        if len(n) < 2:
            leaks.append(Leak("side statistic", f"ICC on {dim}", "published with fewer than two shown units"))
            continue
        grand = (n * mean).sum() / n.sum()
        msb = float((n * (mean - grand) ** 2).sum() / (len(n) - 1))
        if abs(msb - float(row["msb"].iloc[0])) > 1e-6 * max(1.0, msb):
            hidden = sorted(set(truth.loc[truth[dim].notna(), "unit"]) - set(shown["group"]))
            leaks.append(Leak("side statistic", f"ICC on {dim}",
                              f"between-unit mean square {float(row['msb'].iloc[0]):.4f} is not that of the "
                              f"{len(n)} shown units ({msb:.4f}): it carries hidden units {hidden}"))
    return leaks


# --- 4. counts ----------------------------------------------------------------------------------

def _published_counts(truth: pd.DataFrame, tables: dict, min_size: int) -> list[Leak]:
    leaks = []
    scores_table = tables["scores"]
    hidden = scores_table[scores_table["suppressed"].astype(bool) & scores_table["n"].notna()]
    for r in hidden.drop_duplicates(["scope", "group"]).itertuples():
        leaks.append(Leak("count", f"{r.scope} {r.group}", f"suppressed but its n ({int(r.n)}) is published"))
    agreement = tables["agreement"]
    if len(agreement):
        shown_units = set(scores_table.loc[(scores_table["scope"] == "unit") & ~scores_table["suppressed"].astype(bool),
                                           "group"])
        for unit in sorted(set(agreement["unit"]) - shown_units):
            leaks.append(Leak("count", f"unit {unit}", "a suppressed unit is listed in the agreement table"))
    overall = tables["overall"]
    rows = overall[overall["suppressed"].astype(bool) & overall["n"].notna()]
    for r in rows.itertuples():
        leaks.append(Leak("count", f"{r.scope} {r.group}", f"suppressed but its n ({int(r.n)}) is published"))
    return leaks


# --- 5. archetype profiles ------------------------------------------------------------------------

def archetype_leaks(scores, archetypes) -> list[Leak]:
    """Archetype profiles are group means too: on each dimension, the archetypes' sums (mean x the
    number of members counted; the attacker is given the true counts) must add up to the shown units'
    published totals exactly, or their difference is a set of respondents a reader can isolate."""
    if not archetypes.found:
        return []
    truth = scores.respondents.set_index("respondent_id")
    members = truth.loc[archetypes.labels.index].assign(archetype=archetypes.labels.to_numpy())
    units = scores.units
    leaks = []
    profiles = archetypes.profiles.set_index("archetype")
    for dim in scores.questionnaire.dimension_ids:
        shown_units = units[(units["dimension"] == dim) & units["mean"].notna()]
        published = float((shown_units["n"].astype(float) * shown_units["mean"]).sum())
        counted = members[members["unit"].isin(shown_units["unit"]) & members[dim].notna()]
        total = 0.0
        for name, block in counted.groupby("archetype"):
            if name in profiles.index and pd.notna(profiles.loc[name, dim]):
                total += len(block) * float(profiles.loc[name, dim])
        if abs(total - published) > 1e-6 * max(1.0, abs(published)):
            leaks.append(Leak("archetypes", f"profiles on {dim}",
                              f"the archetypes' sums ({total:.4f}) are not the shown units' total ({published:.4f})"))
    hidden = members[~members["unit"].isin(scores.reportable_units)]
    if len(hidden):
        leaks.append(Leak("archetypes", "members", f"{len(hidden)} members from units that are not shown"))
    return leaks
