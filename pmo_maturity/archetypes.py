"""Archetypes: segments of respondents (and of business units) with a shared maturity profile.

:func:`cluster_respondents` standardises the respondents' dimension profiles and clusters them with
a scikit-learn ``Pipeline(StandardScaler(), KMeans(...))``, choosing k from 2-6 by silhouette
(Rousseeuw 1987), measuring stability by bootstrap Jaccard similarity (Hennig 2007) and naming each
archetype from its profile relative to the organisation. When the data has no real structure it
says so ("no clear segments") with the reason, instead of inventing archetypes.

:func:`cluster_units` does the same for business units' mean profiles in the portfolio view, with
Ward's hierarchical clustering (deterministic, suited to a handful of units); with too few units it
ranks them instead.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .privacy import suppress_crossing, suppressed_groups
from .scoring import Scores

MIN_SILHOUETTE = 0.25  # Kaufman & Rousseeuw (1990): below 0.25 "no substantial structure"
MIN_STABILITY = 0.60  # Hennig (2007): Jaccard <= 0.5 dissolved, 0.6-0.75 doubtful, >= 0.75 stable
MIN_PER_CLUSTER = 10  # respondents per potential cluster before clustering is attempted
MIN_DIMENSIONS = 3  # a "profile" needs a few dimensions; with one or two, clusters are just score bands
MIN_UNITS = 8  # reportable units before units are clustered (at least 3-4 per cluster for k = 2)
PROFILE_THRESHOLD = 0.3  # standard deviations from the organisation to call a dimension high/low
SELECTION_SAMPLE = 20_000  # respondents used to choose k on very large files (seeded sample)


@dataclass
class Archetypes:
    """The outcome of clustering: segments with names, profiles and compositions, or the reason
    there are none.

    Attributes
    ----------
    found : bool
        False when the data shows no clear segments; ``reason`` then says why.
    reason : str
    k : int
        Number of archetypes (0 when none).
    silhouette : float
        Silhouette of the chosen k; ``silhouette_by_k`` has every k tried.
    labels : Series
        Archetype name per clustered respondent (index: respondent id).
    profiles : DataFrame
        One row per archetype: ``archetype, size, share, stability, suppressed``, the mean score of
        each dimension, and ``z_<dimension>`` (difference to the organisation in SDs).
    composition_units, composition_roles : DataFrame
        Counts of archetype x unit / role, with suppressed cells blank.
    n_clustered, n_excluded : int
        Respondents clustered, and left out because a dimension was not scored.
    projection : DataFrame
        The clustered respondents' first two principal components of their standardised profiles
        (columns ``x`` and ``y``, index as ``labels``), for the 2-D chart; computed here, once, so
        that report kernels need no scikit-learn.
    """

    found: bool
    reason: str
    k: int = 0
    silhouette: float = float("nan")
    silhouette_by_k: dict[int, float] = field(default_factory=dict)
    labels: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    profiles: pd.DataFrame = field(default_factory=pd.DataFrame)
    composition_units: pd.DataFrame = field(default_factory=pd.DataFrame)
    composition_roles: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_clustered: int = 0
    n_excluded: int = 0
    seed: int = 0
    method: str = ""
    projection: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["x", "y"]))

    @property
    def reportable(self) -> pd.DataFrame:
        """The archetypes that may be shown (not suppressed)."""
        if self.profiles.empty:
            return self.profiles
        return self.profiles[~self.profiles["suppressed"]]

    def summary(self) -> str:
        if not self.found:
            return f"No clear segments: {self.reason}."
        names = ", ".join(f"{r.archetype} ({r.share:.0%})" for r in self.reportable.itertuples())
        return f"{self.k} archetypes (silhouette {self.silhouette:.2f}): {names}."


def _one_thread(function):
    """Run a clustering function with scikit-learn's OpenMP and BLAS threads held to one.

    k-means on a few thousand profiles gains nothing from threads, and OpenMP threads that wait by
    spinning make it many times slower when the machine's cores are busy (seen here: 22 s instead of
    1 s while report kernels started beside it). One thread also adds up in the same order on every
    run, whatever the number of cores.
    """

    @functools.wraps(function)
    def one_thread(*args, **kwargs):
        import sklearn.cluster  # noqa: F401 - loads scikit-learn's OpenMP runtime, so that the limit reaches it
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return function(*args, **kwargs)

    return one_thread


@_one_thread
def cluster_respondents(scores: Scores, *, k_range: tuple[int, int] = (2, 6), seed: int | None = None,
                        n_bootstrap: int = 30, unit: str | None = None) -> Archetypes:
    """Find respondent archetypes in the dimension profiles.

    Parameters
    ----------
    scores : Scores
    k_range : (low, high)
        Numbers of clusters tried (inclusive); each needs ``MIN_PER_CLUSTER`` respondents.
    seed : int, optional
        Seed of k-means, the bootstrap and sampling (default: the scoring rules' seed).
    n_bootstrap : int
        Bootstrap resamples for the stability (Jaccard) of each cluster.
    unit : str, optional
        Cluster only this unit's respondents (profiles are still compared to the organisation).

    Returns
    -------
    Archetypes

    Notes
    -----
    Respondents with any unscored dimension are left out of the clustering (their count is
    reported as ``n_excluded``): imputing a dimension would invent part of their profile.
    """
    from sklearn.metrics import silhouette_score  # scikit-learn is loaded only where clustering runs

    seed = scores.rules.seed if seed is None else seed
    dims = scores.questionnaire.dimension_ids
    frame = scores.respondents if unit is None else scores.respondents[scores.respondents["unit"] == unit]
    complete = frame.dropna(subset=dims)
    x = complete[dims].to_numpy(dtype=float)
    n_excluded = len(frame) - len(complete)
    method = (f"k-means on standardised dimension scores (scikit-learn, n_init=10, seed {seed}); k from "
              f"{k_range[0]} to {k_range[1]} by silhouette; stability by {n_bootstrap} bootstrap resamples "
              f"(mean Jaccard per cluster); respondents with an unscored dimension left out")
    base = dict(n_clustered=len(complete), n_excluded=n_excluded, seed=seed, method=method)
    if len(dims) < MIN_DIMENSIONS:
        return Archetypes(False, f"the questionnaire has {len(dims)} dimension(s); profiles need at least "
                                 f"{MIN_DIMENSIONS}", **base)
    ks = [k for k in range(k_range[0], k_range[1] + 1) if len(x) >= MIN_PER_CLUSTER * k and k <= len(x) - 1]
    if not ks:
        return Archetypes(False, f"too few respondents with a complete profile ({len(x)}; at least "
                                 f"{MIN_PER_CLUSTER * k_range[0]} are needed)", **base)
    if np.allclose(x.std(axis=0), 0):
        return Archetypes(False, "every respondent has the same profile", **base)
    rng = np.random.default_rng(seed)
    sample = x if len(x) <= SELECTION_SAMPLE else x[rng.choice(len(x), SELECTION_SAMPLE, replace=False)]
    fits = {k: _kmeans(k, seed).fit(sample) for k in ks}
    # Silhouette in the standardised space, where k-means works.
    silhouettes = {k: float(silhouette_score(fits[k][0].transform(sample), fits[k].predict(sample)))
                   for k in ks}
    best = max(ks, key=lambda k: (round(silhouettes[k], 6), -k))
    base.update(silhouette_by_k=silhouettes, silhouette=silhouettes[best])
    if silhouettes[best] < MIN_SILHOUETTE:
        return Archetypes(False, f"the best grouping (k = {best}) has a silhouette of {silhouettes[best]:.2f}, "
                                 f"under {MIN_SILHOUETTE} (no substantial structure)", **base)
    model = fits[best]
    labels = model.predict(x)
    stability = _bootstrap_jaccard(sample, model.predict(sample), best, seed, n_bootstrap)
    if stability.min() < MIN_STABILITY:
        return Archetypes(False, f"the {best} segments are not stable (bootstrap Jaccard "
                                 f"{', '.join(f'{s:.2f}' for s in stability)}; each needs {MIN_STABILITY})",
                          **base)
    return _describe(scores, complete, labels, best, stability, base)


def _kmeans(k: int, seed: int):
    from sklearn.cluster import KMeans
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), KMeans(n_clusters=k, n_init=10, random_state=seed))


def _bootstrap_jaccard(x: np.ndarray, labels: np.ndarray, k: int, seed: int, n_bootstrap: int) -> np.ndarray:
    """Mean over bootstrap resamples of each cluster's best Jaccard match (Hennig 2007)."""
    rng = np.random.default_rng(seed + 1)
    totals = np.zeros(k)
    for b in range(n_bootstrap):
        picked = np.unique(rng.integers(0, len(x), len(x)))
        refit = _kmeans(k, seed + 2 + b).fit(x[picked])
        again = refit.predict(x[picked])
        original = labels[picked]
        for c in range(k):
            members = original == c
            if not members.any():
                continue
            best = 0.0
            for c2 in range(k):
                other = again == c2
                union = (members | other).sum()
                best = max(best, (members & other).sum() / union if union else 0.0)
            totals[c] += best
    return totals / n_bootstrap


def _describe(scores: Scores, complete: pd.DataFrame, labels: np.ndarray, k: int, stability: np.ndarray,
              base: dict) -> Archetypes:
    q = scores.questionnaire
    dims = q.dimension_ids
    rules = scores.rules
    everyone = scores.respondents[dims]
    org_mean, org_sd = everyone.mean(), everyone.std(ddof=1).replace(0, np.nan)
    rows = []
    for c in range(k):
        members = complete[labels == c]
        means = members[dims].mean()
        z = (means - org_mean) / org_sd
        rows.append({"cluster": c, "size": len(members), **means.to_dict(),
                     **{f"z_{d}": z[d] for d in dims}, "stability": stability[c]})
    profiles = pd.DataFrame(rows)
    profiles["archetype"] = _names(profiles, q)
    profiles["pattern"] = [_pattern(r, q) for _, r in profiles.iterrows()]
    profiles["share"] = profiles["size"] / profiles["size"].sum()
    sizes = dict(zip(profiles["archetype"], profiles["size"]))
    hidden = suppressed_groups(sizes, rules.min_group_size)
    names = profiles.set_index("cluster")["archetype"]
    label_series = pd.Series(names.loc[labels].to_numpy(), index=complete["respondent_id"].to_numpy(),
                             name="archetype")
    # Compositions cross archetypes with units and roles, whose totals are shown elsewhere: settle
    # the hidden archetypes and cells together (an archetype may have to be hidden for a crossing).
    roles = scores.roles.drop_duplicates("role") if len(scores.roles) else pd.DataFrame(columns=["role", "suppressed"])
    hidden_roles = {r: "small" for r in roles.loc[roles["suppressed"].astype(bool), "role"]}
    unit_sizes, role_sizes = scores.respondents["unit"].value_counts(), scores.respondents["role"].value_counts()
    while True:
        comp_units, settled = _composition(complete, label_series, "unit", rules.min_group_size, hidden, sizes,
                                           unit_sizes, scores.suppressed_units)
        comp_roles, settled = _composition(complete, label_series, "role", rules.min_group_size, settled, sizes,
                                           role_sizes, hidden_roles)
        if set(settled) == set(hidden):
            break
        hidden = settled
    profiles["suppressed"] = profiles["archetype"].isin(hidden)
    order = ["archetype", "pattern", "size", "share", "stability", "suppressed", *dims, *[f"z_{d}" for d in dims]]
    profiles = profiles.sort_values("size", ascending=False, kind="stable")[order].reset_index(drop=True)
    comp_units = comp_units.drop(index=[a for a in comp_units.index if a in hidden])
    comp_roles = comp_roles.drop(index=[a for a in comp_roles.index if a in hidden])
    return Archetypes(True, "", k=k, labels=label_series, profiles=profiles, composition_units=comp_units,
                      composition_roles=comp_roles, projection=_projection(complete[dims], label_series.index,
                                                                          base["seed"]), **base)


def _projection(profiles: pd.DataFrame, index: pd.Index, seed: int) -> pd.DataFrame:
    """First two principal components of the standardised profiles (a zero second axis when the
    questionnaire has one dimension)."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    x = StandardScaler().fit_transform(profiles.to_numpy(dtype=float))
    points = PCA(n_components=min(2, x.shape[1]), random_state=seed).fit_transform(x)
    if points.shape[1] == 1:
        points = np.column_stack([points[:, 0], np.zeros(len(points))])
    return pd.DataFrame(points, index=index, columns=["x", "y"])


def _words(q, dim_id: str) -> tuple[str, str]:
    d = q.dimension(dim_id)
    words = d.meta.get("archetype_words", {})
    return words.get("high", f"High {d.short}"), words.get("low", f"low {d.short}")


def _names(profiles: pd.DataFrame, q) -> list[str]:
    """'Strategic but disconnected' from the most positive and most negative dimension."""
    dims = q.dimension_ids
    names = []
    for _, r in profiles.iterrows():
        z = pd.Series({d: r[f"z_{d}"] for d in dims})
        top, bottom = z.idxmax(), z.idxmin()
        high_word, low_word = _words(q, top)[0], _words(q, bottom)[1]
        if z[top] >= PROFILE_THRESHOLD and z[bottom] <= -PROFILE_THRESHOLD:
            name = f"{high_word} but {low_word.lower()}"
        elif z[top] >= PROFILE_THRESHOLD:
            name = "Broadly positive" if z.min() >= PROFILE_THRESHOLD else f"{high_word}"
        elif z[bottom] <= -PROFILE_THRESHOLD:
            name = "Broadly critical" if z.max() <= -PROFILE_THRESHOLD else f"{low_word[:1].upper()}{low_word[1:]}"
        else:
            name = "Close to the organisation"
        names.append(name)
    seen: dict[str, int] = {}
    unique = []
    for name in names:  # two clusters can share a pattern: number them
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if names.count(name) == 1 else f"{name} ({seen[name]})")
    return unique


def _pattern(row: pd.Series, q) -> str:
    """'high vision, portfolio; low culture' from the standardised profile."""
    dims = q.dimension_ids
    high = [q.dimension(d).short for d in sorted(dims, key=lambda d: -row[f"z_{d}"])
            if row[f"z_{d}"] >= PROFILE_THRESHOLD]
    low = [q.dimension(d).short for d in sorted(dims, key=lambda d: row[f"z_{d}"])
           if row[f"z_{d}"] <= -PROFILE_THRESHOLD]
    parts = ([f"high {' and '.join(high[:2])}"] if high else []) + ([f"low {' and '.join(low[:2])}"] if low else [])
    return ", ".join(parts) or "close to the organisation on every dimension"


def _composition(complete: pd.DataFrame, labels: pd.Series, key: str, min_size: int, hidden_archetypes: dict,
                 archetype_sizes: dict, column_sizes: pd.Series, hidden_columns: dict) -> tuple[pd.DataFrame, dict]:
    """Archetype x unit (or role) counts with suppression settled with both margins; returns the
    shown table (hidden cells blank, hidden columns left out) and the hidden archetypes."""
    table = pd.crosstab(labels.to_numpy(), complete[key].to_numpy())
    table.index.name, table.columns.name = "archetype", key
    if table.empty:
        return table, hidden_archetypes
    rows, columns, mask = suppress_crossing(table, min_size, row_sizes=archetype_sizes,
                                            column_sizes=column_sizes.to_dict(), hidden_rows=hidden_archetypes,
                                            hidden_columns=hidden_columns)
    shown = table.astype(float).mask(mask)
    shown = shown.drop(columns=[c for c in shown.columns if c in columns])
    return shown, rows


# ---------------------------------------------------------------------------------------------
# Units


@dataclass
class UnitGroups:
    """Portfolio view: clusters of business units, or a ranking when there are too few."""

    clustered: bool
    reason: str
    table: pd.DataFrame  # unit, overall score, index, level, rank, group (when clustered), profile columns
    silhouette: float = float("nan")
    k: int = 0


@_one_thread
def cluster_units(scores: Scores, *, k_range: tuple[int, int] = (2, 4)) -> UnitGroups:
    """Cluster reportable business units on their mean profiles (Ward), or rank them.

    At least ``MIN_UNITS`` (8) reportable units are needed: with fewer, two clusters would hold
    three or four units each and a silhouette on so few points says little, so the units are
    ranked on the overall index instead.
    """
    dims = scores.questionnaire.dimension_ids
    shown = scores.units[~scores.units["suppressed"]]
    if shown.empty:
        return UnitGroups(False, "no reportable unit", pd.DataFrame())
    profiles = shown.pivot(index="unit", columns="dimension", values="mean")[dims]
    overall = scores.overall[(scores.overall["scope"] == "unit") & ~scores.overall["suppressed"]].set_index("group")
    table = profiles.assign(score=overall["score"], index=overall["index"],
                            level=overall["continuous_level_name"], staged=overall["staged_level_name"],
                            n=overall["n"])
    table = table.sort_values("score", ascending=False, kind="stable")
    table["rank"] = np.arange(1, len(table) + 1)
    table = table.reset_index().rename(columns={"index": "index"})
    complete = profiles.dropna()
    if len(complete) < MIN_UNITS:
        return UnitGroups(False, f"{len(complete)} reportable units with a complete profile; clustering needs "
                                 f"{MIN_UNITS}, so the units are ranked", table)
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    z = StandardScaler().fit_transform(complete.to_numpy())
    ks = [k for k in range(k_range[0], k_range[1] + 1) if k <= len(complete) // 3]
    fits = {k: AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(z) for k in ks}
    sil = {k: float(silhouette_score(z, fits[k])) for k in ks}
    best = max(ks, key=lambda k: (round(sil[k], 6), -k))
    if sil[best] < MIN_SILHOUETTE:
        return UnitGroups(False, f"the units do not fall into clear groups (best silhouette {sil[best]:.2f} "
                                 f"under {MIN_SILHOUETTE}); they are ranked", table, silhouette=sil[best])
    groups = pd.Series(fits[best], index=complete.index)
    # Name each group by its average rank so that group 1 is the most mature.
    order = table.set_index("unit").loc[complete.index, "score"].groupby(groups.to_numpy()).mean()
    renumber = {old: new for new, old in enumerate(order.sort_values(ascending=False).index, start=1)}
    table["group"] = table["unit"].map(groups.map(renumber)).astype("Int64")
    return UnitGroups(True, "", table, silhouette=sil[best], k=best)

