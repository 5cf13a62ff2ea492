"""Archetypes: segments of respondents (and of business units) with a shared maturity profile.

:func:`cluster_respondents` looks for groups in the *pattern* of each respondent's scores: what
they rate high and low relative to their own average (person-centred profiles). Attitude surveys
have a strong general factor (whoever rates one dimension high rates them all high); clustering
the raw profiles cuts that one elongated cloud into "broadly positive" and "broadly critical"
groups that are only high and low scorers. Removing each respondent's own mean keeps the pattern
and drops the level.

The patterns are modelled as Gaussian mixtures with one shared covariance (scikit-learn
``GaussianMixture(covariance_type="tied")``): one group (no archetypes) or 2-6 groups, the number
chosen by BIC (Schwarz 1978; Fraley & Raftery 2002) among the groupings whose every pair of groups
are separate modes, in the fitted model (a dip along the line joining their centres; Ray & Lindsay
2005, Hennig 2010) and in the data (a dip in the kernel density of the pair's members). A likelihood
model sees a difference on two dimensions out of eight that a distance-based score such as the
silhouette dilutes; the mode conditions stop BIC from adding components that only fit a skewed,
bounded or flat cloud on large files. Stability is measured by
bootstrap Jaccard similarity (Hennig 2007), each archetype is named from its pattern, and the
result says when the archetypes mirror business units (Cramér's V with Bergsma's 2013 bias
correction) and when respondents differ only in overall level. ``bench/archetype_study.py``
compares this method with k-means and silhouette, the gap statistic, prediction strength and
mixtures on the raw profiles; docs/method.md section 6 has the table.

:func:`cluster_units` clusters the patterns of business units' mean profiles in the portfolio view
with Ward's hierarchical clustering (deterministic, suited to a handful of units); with too few
units, or no clear groups, it ranks them instead.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .privacy import suppress_crossing, suppressed_groups
from .scoring import Scores

MIN_UNIT_SILHOUETTE = 0.5  # Kaufman & Rousseeuw (1990): above 0.5 "reasonable structure" (groups of units)
MIN_STABILITY = 0.60  # Hennig (2007): Jaccard <= 0.5 dissolved, 0.6-0.75 doubtful, >= 0.75 stable
MIN_PER_CLUSTER = 10  # respondents per potential cluster before a grouping is tried
MIN_DIMENSIONS = 3  # a "profile" needs a few dimensions; with one or two, clusters are just score bands
MIN_UNITS = 8  # reportable units before units are clustered (at least 3-4 per cluster for k = 2)
PROFILE_THRESHOLD = 0.3  # standard deviations from the organisation to call a dimension high/low
MIN_DIP = 0.2  # bimodality amplitude (1 - valley / lower peak) the data must show between two archetypes
MIRROR_V = 0.5  # Cramér's V of archetype against unit from which archetypes "mirror units" (large: Cohen 1988)
GENERAL_FACTOR = 0.5  # share of profile variance in the overall level from which it is "mostly level"
SELECTION_SAMPLE = 20_000  # respondents used to choose k on very large files (seeded sample)
STABILITY_SAMPLE = 5_000  # respondents resampled for the bootstrap stability
SILHOUETTE_SAMPLE = 2_000  # respondents on which the (descriptive) silhouettes are computed


@dataclass
class Archetypes:
    """The outcome of clustering: segments with names, profiles and compositions, or the reason
    there are none.

    Attributes
    ----------
    found : bool
        False when the data shows no clear segments; ``reason`` then says why.
    reason : str
        Why there are no segments; when there are, a caveat for readers (the archetypes mirror
        business units) or empty.
    k : int
        Number of archetypes (0 when none).
    silhouette : float
        Silhouette of the chosen grouping in the pattern space (descriptive; not used to choose);
        ``silhouette_by_k`` has every k tried.
    bic_by_k : dict
        BIC of every number of groups tried (1 = no segments); lower is better.
    modes_by_k : dict
        Whether every pair of groups of that k is a separate mode (only those k may be chosen).
    labels : Series
        Archetype name per clustered respondent (index: respondent id).
    profiles : DataFrame
        One row per archetype: ``archetype, pattern, size, share, stability, suppressed``, the mean
        score of each dimension, ``overall`` (the members' mean overall score), ``level_z`` (its
        difference to the organisation in SDs), ``z_<dimension>`` (difference to the organisation
        in SDs) and ``shape_<dimension>`` (the pattern: the members' score relative to their own
        average, compared with the organisation's, in SDs). Names and patterns come from the
        ``shape_`` columns.
    composition_units, composition_roles : DataFrame
        Counts of archetype x unit / role, with suppressed cells blank.
    n_clustered, n_excluded : int
        Respondents clustered, and left out because a dimension was not scored.
    projection : DataFrame
        The clustered respondents' first two principal components of their person-centred
        profiles (columns ``x`` and ``y``, index as ``labels``), for the 2-D chart; computed here,
        once, so that report kernels need no scikit-learn.
    level_share : float
        Share of the differences between respondents' profiles (total variance) that lies in their
        overall level; 1 / number of dimensions without a general factor, near 1 when whoever rates
        one dimension high rates them all high.
    cramers_v_unit : float
        Cramér's V (bias-corrected) of archetype (or level group) against business unit, among
        respondents of reportable units; NaN when not computed.
    mirrors_units : bool
        ``cramers_v_unit`` reaches ``MIRROR_V``: membership largely follows business units.
    level_only : bool
        The patterns form one group but respondents fall into separate groups of overall level:
        they differ in how positive they are, not in what they rate high or low.
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
    bic_by_k: dict[int, float] = field(default_factory=dict)
    modes_by_k: dict[int, bool] = field(default_factory=dict)
    level_share: float = float("nan")
    cramers_v_unit: float = float("nan")
    mirrors_units: bool = False
    level_only: bool = False

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
        caveat = f" Note: {self.reason}." if self.reason else ""
        return f"{self.k} archetypes (silhouette {self.silhouette:.2f}): {names}.{caveat}"


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
    """Find respondent archetypes in the patterns of the dimension scores.

    Parameters
    ----------
    scores : Scores
    k_range : (low, high)
        Numbers of archetypes tried (inclusive), each needing ``MIN_PER_CLUSTER`` respondents per
        archetype; one group (no archetypes) is always the alternative.
    seed : int, optional
        Seed of the mixtures, the bootstrap and sampling (default: the scoring rules' seed).
    n_bootstrap : int
        Bootstrap resamples for the stability (Jaccard) of each archetype.
    unit : str, optional
        Cluster only this unit's respondents (profiles are still compared to the organisation).

    Returns
    -------
    Archetypes

    Notes
    -----
    Only respondents of reportable units take part (with units): the groups' profiles must not
    carry a hidden unit's answers. Respondents with any unscored dimension are left out of the
    clustering itself (imputing a dimension would invent part of their profile) and then placed in
    the group whose pattern is nearest on the dimensions they scored (their count is
    ``n_excluded``), so that the groups' profiles add up to the units' results and reveal nothing
    beyond them (see :func:`_describe`).

    Examples
    --------
    >>> from pmo_maturity import load_responses, score
    >>> from pmo_maturity.sample import sample_path
    >>> archetypes = cluster_respondents(score(load_responses(sample_path())))
    >>> archetypes.k, archetypes.mirrors_units, archetypes.level_only
    (3, False, False)
    """
    seed = scores.rules.seed if seed is None else seed
    dims = scores.questionnaire.dimension_ids
    frame = scores.respondents if unit is None else scores.respondents[scores.respondents["unit"] == unit]
    if scores.has_units:  # hidden units take no part: their answers must not reach a published profile
        frame = frame[frame["unit"].isin(scores.reportable_units)]
    complete = frame.dropna(subset=dims)
    x = complete[dims].to_numpy(dtype=float)
    method = (f"Gaussian mixtures (one shared covariance; scikit-learn, seed {seed}) of each respondent's "
              f"scores relative to their own average (the pattern, without the overall level); one group or "
              f"{k_range[0]} to {k_range[1]} archetypes chosen by BIC among groupings whose archetypes are "
              f"separate modes; stability by {n_bootstrap} bootstrap resamples (mean Jaccard per archetype); "
              f"respondents with an unscored dimension placed in the nearest archetype on the dimensions they "
              f"scored; respondents of reportable units only")
    base: dict[str, Any] = dict(n_clustered=len(complete), n_excluded=len(frame) - len(complete), seed=seed,
                                method=method)
    if len(dims) < MIN_DIMENSIONS:
        return Archetypes(False, f"the questionnaire has {len(dims)} dimension(s); profiles need at least "
                                 f"{MIN_DIMENSIONS}", **base)
    ks = [k for k in range(max(k_range[0], 2), k_range[1] + 1) if len(x) >= MIN_PER_CLUSTER * k]
    if not ks:
        return Archetypes(False, f"too few respondents with a complete profile ({len(x)}; at least "
                                 f"{MIN_PER_CLUSTER * max(k_range[0], 2)} are needed)", **base)
    shape = _patterns(x)
    if np.allclose(shape.std(axis=0), 0):
        return Archetypes(False, "every respondent has the same pattern of scores", **base)
    base["level_share"] = _level_share(x)
    picked = _subsample(len(x), SELECTION_SAMPLE, seed)
    sample = shape if picked is None else shape[picked]
    models, bic, modes = _select(sample, [1, *ks], seed)
    best = min((k for k in models if modes[k]), key=lambda k: (bic[k], k))
    base.update(bic_by_k=bic, modes_by_k=modes,
                silhouette_by_k=_silhouettes(sample, {k: m for k, m in models.items() if k > 1}, seed))
    if best == 1:
        return _one_pattern(scores, complete, x, picked, [1, *ks], base)
    base["silhouette"] = base["silhouette_by_k"][best]
    model = models[best]
    labels = model.predict(shape)
    resampled = _subsample(len(sample), STABILITY_SAMPLE, seed + 1)
    stable = sample if resampled is None else sample[resampled]
    stability = _bootstrap_jaccard(stable, model.predict(stable), best, seed, n_bootstrap)
    if stability.min() < MIN_STABILITY:
        return Archetypes(False, f"the {best} segments are not stable (bootstrap Jaccard "
                                 f"{', '.join(f'{s:.2f}' for s in stability)}; each needs {MIN_STABILITY})",
                          **base)
    return _describe(scores, complete, labels, best, stability, base, frame)


def _subsample(n: int, size: int, seed: int) -> np.ndarray | None:
    """Sorted indices of a seeded sample of ``size`` out of ``n``, or None when ``n`` fits."""
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False)) if n > size else None


def _patterns(x: np.ndarray) -> np.ndarray:
    """Person-centred profiles in an orthonormal basis of the contrasts between dimensions
    (Helmert): the same distances as subtracting each respondent's mean, without the one direction
    (the overall level) that centring flattens."""
    from scipy.linalg import helmert

    return x @ helmert(x.shape[1]).T


def _level_share(x: np.ndarray) -> float:
    """Share of the profiles' total variance along the overall level (equal weight on every
    dimension): p * var(respondent mean) / sum of the dimensions' variances."""
    total = x.var(axis=0).sum()
    return float(x.shape[1] * x.mean(axis=1).var() / total) if total > 0 else float("nan")


def _mixture(k: int, seed: int, n_init: int = 3):
    from sklearn.mixture import GaussianMixture

    return GaussianMixture(n_components=k, covariance_type="tied", n_init=n_init, random_state=seed)


def _select(sample: np.ndarray, ks: list[int], seed: int) -> tuple[dict, dict[int, float], dict[int, bool]]:
    """Fit a mixture for every k; their BIC, and whether their groups are separate modes."""
    models = {k: _mixture(k, seed).fit(sample) for k in ks}
    bic = {k: float(m.bic(sample)) for k, m in models.items()}
    modes = {k: k == 1 or _separate_modes(m, sample) for k, m in models.items()}
    return models, bic, modes


def _separate_modes(model, points: np.ndarray) -> bool:
    """Whether every pair of groups of a shared-covariance mixture are two modes, both in the
    model and in the data (the data condition catches clouds that are flat rather than normal,
    such as an even spread of unit levels, which the model alone cuts in two on large files)."""
    return _modes_in_model(model) and _modes_in_data(model, points)


def _modes_in_model(model) -> bool:
    """Along the line joining two centres (the pair's ridgeline when they share a covariance; Ray &
    Lindsay 2005), the pair's fitted density (their weights, the shared covariance) has a dip. Two
    normals of equal variance whose centres are delta SDs apart make one mode when delta <= 2 (more
    when the weights differ), so a pair that splits one cloud is not two archetypes (Hennig 2010)."""
    precision = np.linalg.inv(np.atleast_2d(model.covariances_))
    t = np.linspace(0.0, 1.0, 401)
    for i, j in _pairs(model.n_components):
        diff = model.means_[i] - model.means_[j]
        delta = float(np.sqrt(diff @ precision @ diff))
        w = model.weights_[i] / (model.weights_[i] + model.weights_[j])
        density = w * np.exp(-(t * delta) ** 2 / 2) + (1 - w) * np.exp(-((t - 1) * delta) ** 2 / 2)
        if not ((density[1:-1] < density[:-2]) & (density[1:-1] < density[2:])).any():
            return False
    return True


def _modes_in_data(model, points: np.ndarray) -> bool:
    """The pair's members projected on the direction that separates them, their kernel density
    (Silverman's bandwidth) dips between the two centres to at most ``1 - MIN_DIP`` of the lower
    peak: a bimodality amplitude of at least ``MIN_DIP`` (Zhang, Mapes & Soden 2003)."""
    from scipy.stats import gaussian_kde

    precision = np.linalg.inv(np.atleast_2d(model.covariances_))
    labels = model.predict(points)
    for i, j in _pairs(model.n_components):
        first, second = labels == i, labels == j
        if first.sum() < 2 or second.sum() < 2:
            return False
        direction = precision @ (model.means_[i] - model.means_[j])
        projected = points[first | second] @ direction
        if np.ptp(projected) == 0:
            return False
        centres = sorted(float(np.median(points[members] @ direction)) for members in (first, second))
        grid = np.linspace(projected.min(), projected.max(), 256)
        kde = gaussian_kde(projected, bw_method="silverman")(grid)
        between = np.flatnonzero((grid >= centres[0]) & (grid <= centres[1]))
        if not len(between):
            return False
        valley = between[np.argmin(kde[between])]
        if kde[valley] > (1 - MIN_DIP) * min(kde[:valley + 1].max(), kde[valley:].max()):
            return False
    return True


def _pairs(k: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(k) for j in range(i + 1, k)]


def _silhouettes(sample: np.ndarray, models: dict, seed: int) -> dict[int, float]:
    """Silhouette of each grouping in the pattern space, on a seeded subsample (descriptive)."""
    from sklearn.metrics import silhouette_score

    picked = _subsample(len(sample), SILHOUETTE_SAMPLE, seed + 2)
    points = sample if picked is None else sample[picked]
    out = {}
    for k, model in models.items():
        labels = model.predict(points)
        out[k] = float(silhouette_score(points, labels)) if 2 <= len(np.unique(labels)) < len(points) else float("nan")
    return out


def _bootstrap_jaccard(x: np.ndarray, labels: np.ndarray, k: int, seed: int, n_bootstrap: int) -> np.ndarray:
    """Mean over bootstrap resamples of each cluster's best Jaccard match (Hennig 2007)."""
    rng = np.random.default_rng(seed + 1)
    totals = np.zeros(k)
    for b in range(n_bootstrap):
        picked = np.unique(rng.integers(0, len(x), len(x)))
        again = _mixture(k, seed + 2 + b, n_init=1).fit(x[picked]).predict(x[picked])
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


def cramers_v(table, *, corrected: bool = True) -> float:
    """Cramér's V of a contingency table, by default with Bergsma's (2013) bias correction.

    ``V = sqrt(phi2 / min(r - 1, c - 1))`` with ``phi2 = chi2 / n`` (Pearson's chi-square, no
    continuity correction; Cramér 1946). The corrected form replaces ``phi2`` by
    ``max(0, phi2 - (r - 1)(c - 1) / (n - 1))`` and ``r, c`` by ``r - (r - 1)^2 / (n - 1)`` and
    ``c - (c - 1)^2 / (n - 1)``, which removes most of the upward bias of V in small samples
    (Bergsma 2013). Empty rows and columns are dropped; NaN with fewer than two rows or columns.

    Examples
    --------
    >>> round(cramers_v([[20, 10], [5, 15]], corrected=False), 4)
    0.4082
    """
    counts = np.asarray(table, dtype=float)
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    r, c = counts.shape
    n = counts.sum()
    if r < 2 or c < 2 or n < 2:
        return float("nan")
    expected = np.outer(counts.sum(axis=1), counts.sum(axis=0)) / n
    phi2 = float(((counts - expected) ** 2 / expected).sum() / n)
    if not corrected:
        return float(np.sqrt(phi2 / min(r - 1, c - 1)))
    phi2 = max(0.0, phi2 - (r - 1) * (c - 1) / (n - 1))
    r_, c_ = r - (r - 1) ** 2 / (n - 1), c - (c - 1) ** 2 / (n - 1)
    return float(np.sqrt(phi2 / min(r_ - 1, c_ - 1)))


def _members(frame: pd.DataFrame, complete: pd.DataFrame, labels: np.ndarray, centres: np.ndarray,
             levels: np.ndarray, dims: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Every respondent of the clustered scope with an archetype: the clustered ones with theirs, the
    others (a dimension missing) with the archetype whose mean pattern is nearest on the dimensions
    they scored (patterns: scores minus the respondent's own average on those dimensions), or, with
    one dimension scored, whose mean score on it is nearest."""
    rest = frame.drop(index=complete.index)
    rest = rest[rest[dims].notna().any(axis=1)]
    if rest.empty:
        return complete, np.asarray(labels)
    x = rest[dims].to_numpy(dtype=float)
    have = ~np.isnan(x)
    count = have.sum(axis=1)
    own = np.where(have, x, 0).sum(axis=1) / count
    pattern = np.where(have, x - own[:, None], 0.0)
    distance = np.empty((len(x), len(centres)))
    for c, (centre, level) in enumerate(zip(centres, levels, strict=True)):
        centred = centre[None, :] - (np.where(have, centre, 0).sum(axis=1) / count)[:, None]
        by_pattern = (np.where(have, pattern - centred, 0.0) ** 2).sum(axis=1) / count
        by_score = (np.where(have, x - level[None, :], 0.0) ** 2).sum(axis=1) / count
        distance[:, c] = np.where(count >= 2, by_pattern, by_score)
    return pd.concat([complete, rest]), np.concatenate([np.asarray(labels), distance.argmin(axis=1)])


def _shown_cells(scores: Scores, members: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """Whether each member's score on each dimension may count in a published profile: the member's
    unit shows that dimension (a dimension hidden in a unit stays out of every sum)."""
    if not scores.has_units or scores.units.empty:
        return pd.DataFrame(True, index=members.index, columns=dims)
    table = scores.units
    hidden = table[table["suppressed"].astype(bool) | table["hidden"].astype(bool)]
    blocked = set(zip(hidden["unit"], hidden["dimension"], strict=True))
    units = members["unit"].to_numpy()
    return pd.DataFrame({d: [(u, d) not in blocked for u in units] for d in dims}, index=members.index)


def _unit_association(scores: Scores, complete: pd.DataFrame, groups: np.ndarray) -> tuple[float, bool]:
    """Cramér's V of the groups against business unit, on respondents of reportable units."""
    shown = complete["unit"].isin(scores.reportable_units).to_numpy()
    if not shown.any() or complete.loc[shown, "unit"].nunique() < 2:
        return float("nan"), False
    v = cramers_v(pd.crosstab(groups[shown], complete.loc[shown, "unit"].to_numpy()))
    return v, bool(v >= MIRROR_V)


def _one_pattern(scores: Scores, complete: pd.DataFrame, x: np.ndarray, picked: np.ndarray | None,
                 ks: list[int], base: dict) -> Archetypes:
    """No archetypes: say why in plain words, and whether the profiles fall into groups that differ
    in overall level only."""
    parts = ["respondents' patterns of scores (what they rate high or low compared with their own average) "
             "vary, but not in distinct groups"]
    if base["level_share"] >= GENERAL_FACTOR:
        parts.append(f"most of the differences between respondents ({base['level_share']:.0%}) are in how "
                     f"positively they rate every dimension, not in their pattern")
    groups = _level_groups(x, picked, ks, base["seed"], scores.rules.min_group_size)
    if groups is not None:
        overall = complete["overall"].to_numpy(dtype=float)
        centres = pd.Series(overall).groupby(groups).mean().sort_values()
        shares = pd.Series(groups).value_counts(normalize=True)
        described = ", ".join(f"{shares[g]:.0%} around {centres[g]:.1f}" for g in centres.index)
        parts.append(f"their profiles do fall into {len(centres)} groups, but these differ in overall level "
                     f"({described}), not in pattern")
        v, mirrors = _unit_association(scores, complete, groups)
        base.update(level_only=True, cramers_v_unit=v, mirrors_units=mirrors)
        if mirrors:
            parts.append(f"these level groups largely follow business units (Cramér's V {v:.2f})")
    return Archetypes(False, "; ".join(parts), **base)


def _level_groups(x: np.ndarray, picked: np.ndarray | None, ks: list[int], seed: int,
                  min_size: int) -> np.ndarray | None:
    """Groups in the whole (standardised) profiles, found with the same mixtures and mode rule,
    when the patterns form one group: whatever separates them is the overall level. None when the
    profiles form one group too, or when a group would be under the reporting threshold."""
    from sklearn.preprocessing import StandardScaler

    z = StandardScaler().fit_transform(x)
    sample = z if picked is None else z[picked]
    models, bic, modes = _select(sample, ks, seed)
    best = min((k for k in models if modes[k]), key=lambda k: (bic[k], k))
    if best == 1:
        return None
    groups = models[best].predict(z)
    sizes = np.bincount(groups, minlength=best)
    return groups if sizes.min() >= max(min_size, MIN_PER_CLUSTER) else None


def _describe(scores: Scores, complete: pd.DataFrame, labels: np.ndarray, k: int, stability: np.ndarray,
              base: dict, frame: pd.DataFrame | None = None) -> Archetypes:
    """Profiles, names, compositions and privacy of the archetypes found.

    Disclosure control: a profile is published as the mean of its members' scores, so the members'
    sums must add up to nothing a reader cannot already work out. Every respondent of the clustered
    scope is a member (those with a dimension missing in their nearest archetype), and a dimension's
    mean counts only the members whose unit shows that dimension: the archetypes' sums of a dimension
    then add up exactly to the shown units' totals, and taking one from the other reveals no hidden
    unit, cell or person.
    """
    q = scores.questionnaire
    dims = q.dimension_ids
    rules = scores.rules
    everyone = scores.respondents[dims]
    org_mean, org_sd = everyone.mean(), everyone.std(ddof=1).replace(0, np.nan)
    # The organisation's patterns: every complete respondent's scores minus their own average.
    whole = everyone.dropna()
    org_shape = whole.sub(whole.mean(axis=1), axis=0)
    shape_mean, shape_sd = org_shape.mean(), org_shape.std(ddof=1).replace(0, np.nan)
    overall = scores.respondents["overall"]
    level_mean, level_sd = overall.mean(), overall.std(ddof=1)
    shapes = complete[dims].sub(complete[dims].mean(axis=1), axis=0)
    centres = np.array([shapes[labels == c].mean().to_numpy() for c in range(k)])
    levels = np.array([complete.loc[labels == c, dims].mean().to_numpy() for c in range(k)])
    frame = complete if frame is None else frame
    members_all, member_labels = _members(frame, complete, labels, centres, levels, dims)
    shown = _shown_cells(scores, members_all, dims)
    weights = q.weights.reindex(dims).to_numpy(dtype=float)
    rows = []
    for c in range(k):
        mine = member_labels == c
        values = members_all.loc[mine, dims].where(shown[mine])
        means = values.mean()
        z = (means - org_mean) / org_sd
        pattern = (shapes[labels == c].mean() - shape_mean) / shape_sd
        has = means.notna().to_numpy()
        level = float((means.to_numpy()[has] * weights[has]).sum() / weights[has].sum()) if has.any() else np.nan
        rows.append({"cluster": c, "size": int(mine.sum()), **means.to_dict(), "overall": level,
                     "level_z": (level - level_mean) / level_sd if level_sd > 0 else 0.0,
                     **{f"z_{d}": z[d] for d in dims}, **{f"shape_{d}": pattern[d] for d in dims},
                     "stability": stability[c]})
    profiles = pd.DataFrame(rows)
    profiles["archetype"] = _names(profiles, q)
    profiles["pattern"] = [_pattern(r, q) for _, r in profiles.iterrows()]
    profiles["share"] = profiles["size"] / profiles["size"].sum()
    sizes = dict(zip(profiles["archetype"], profiles["size"], strict=True))
    hidden = suppressed_groups(sizes, rules.min_group_size)
    names = profiles.set_index("cluster")["archetype"]
    label_series = pd.Series(names.loc[member_labels].to_numpy(), index=members_all["respondent_id"].to_numpy(),
                             name="archetype")
    # Compositions cross archetypes with units and roles, whose totals are shown elsewhere: settle
    # the hidden archetypes and cells together (an archetype may have to be hidden for a crossing).
    roles = scores.roles.drop_duplicates("role") if len(scores.roles) else pd.DataFrame(columns=["role", "suppressed"])
    hidden_roles = {r: "small" for r in roles.loc[roles["suppressed"].astype(bool), "role"]}
    unit_sizes, role_sizes = scores.respondents["unit"].value_counts(), scores.respondents["role"].value_counts()
    while True:
        comp_units, settled = _composition(members_all, label_series, "unit", rules.min_group_size, hidden, sizes,
                                           unit_sizes, scores.suppressed_units)
        comp_roles, settled = _composition(members_all, label_series, "role", rules.min_group_size, settled, sizes,
                                           role_sizes, hidden_roles)
        if set(settled) == set(hidden):
            break
        hidden = settled
    profiles["suppressed"] = profiles["archetype"].isin(hidden)
    order = ["archetype", "pattern", "size", "share", "stability", "suppressed", *dims, "overall", "level_z",
             *[f"z_{d}" for d in dims], *[f"shape_{d}" for d in dims]]
    profiles = profiles.sort_values("size", ascending=False, kind="stable")[order].reset_index(drop=True)
    # A suppressed archetype keeps its name (a pattern, no number): its size and means are not published.
    numbers = [c for c in order if c not in ("archetype", "pattern", "suppressed")]
    profiles[numbers] = profiles[numbers].astype(float)
    profiles.loc[profiles["suppressed"], numbers] = np.nan
    comp_units = comp_units.drop(index=[a for a in comp_units.index if a in hidden])
    comp_roles = comp_roles.drop(index=[a for a in comp_roles.index if a in hidden])
    v, mirrors = _unit_association(scores, complete, labels)
    reason = (f"the archetypes largely coincide with business units (Cramér's V {v:.2f}, at least {MIRROR_V}): they "
              f"describe how units differ more than groups that cut across units" if mirrors else "")
    return Archetypes(True, reason, k=k, labels=label_series, profiles=profiles, composition_units=comp_units,
                      composition_roles=comp_roles, cramers_v_unit=v, mirrors_units=mirrors,
                      projection=_projection(complete[dims], complete["respondent_id"].to_numpy(), base["seed"]),
                      **base)


def _projection(profiles: pd.DataFrame, index: pd.Index, seed: int) -> pd.DataFrame:
    """First two principal components of the person-centred profiles, the space the archetypes
    are found in (a zero second axis when there is only one contrast)."""
    from sklearn.decomposition import PCA

    x = _patterns(profiles.to_numpy(dtype=float))
    points = PCA(n_components=min(2, x.shape[1]), random_state=seed).fit_transform(x)
    if points.shape[1] == 1:
        points = np.column_stack([points[:, 0], np.zeros(len(points))])
    return pd.DataFrame(points, index=index, columns=["x", "y"])


def _words(q, dim_id: str) -> tuple[str, str]:
    d = q.dimension(dim_id)
    words = d.meta.get("archetype_words", {})
    return words.get("high", f"High {d.short}"), words.get("low", f"low {d.short}")


def _names(profiles: pd.DataFrame, q) -> list[str]:
    """'Strategic but disconnected' from the pattern: the dimension rated most above the
    respondents' own average (compared with the organisation) and the one most below."""
    dims = q.dimension_ids
    names = []
    for _, r in profiles.iterrows():
        shape = pd.Series({d: r[f"shape_{d}"] for d in dims})
        top, bottom = shape.idxmax(), shape.idxmin()
        high_word, low_word = _words(q, top)[0], _words(q, bottom)[1]
        if shape[top] >= PROFILE_THRESHOLD and shape[bottom] <= -PROFILE_THRESHOLD:
            name = f"{high_word} but {low_word.lower()}"
        elif shape[top] >= PROFILE_THRESHOLD:
            name = high_word
        elif shape[bottom] <= -PROFILE_THRESHOLD:
            name = f"{low_word[:1].upper()}{low_word[1:]}"
        else:
            name = "Close to the organisation's pattern"
        names.append(name)
    seen: dict[str, int] = {}
    unique = []
    for name in names:  # two clusters can share a pattern: number them
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if names.count(name) == 1 else f"{name} ({seen[name]})")
    return unique


def _pattern(row: pd.Series, q) -> str:
    """'high vision and portfolio, low culture' from the pattern (scores relative to the
    respondents' own average, compared with the organisation's)."""
    dims = q.dimension_ids
    high = [q.dimension(d).short for d in sorted(dims, key=lambda d: -row[f"shape_{d}"])
            if row[f"shape_{d}"] >= PROFILE_THRESHOLD]
    low = [q.dimension(d).short for d in sorted(dims, key=lambda d: row[f"shape_{d}"])
           if row[f"shape_{d}"] <= -PROFILE_THRESHOLD]
    parts = ([f"high {' and '.join(high[:2])}"] if high else []) + ([f"low {' and '.join(low[:2])}"] if low else [])
    return ", ".join(parts) or "close to the organisation's pattern on every dimension"


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
    """Cluster reportable business units on the patterns of their mean profiles (Ward), or rank them.

    The ranking (``rank``, on the overall score) shows how units differ in level; the groups show
    how they differ in pattern: each unit's mean scores minus the unit's own average, as for
    respondents. Clustering the whole profiles cut an even spread of unit levels into "higher" and
    "lower" groups and missed groups of units that share a pattern (``bench/archetype_study.py
    --units``). At least ``MIN_UNITS`` (8) reportable units are needed, and a silhouette of at least
    ``MIN_UNIT_SILHOUETTE`` (0.5, "reasonable structure"; Kaufman & Rousseeuw 1990): on a handful of
    units the silhouette of a random partition is often above 0.25. Otherwise the units are ranked.
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

    z = _patterns(complete.to_numpy(dtype=float))
    ks = [k for k in range(k_range[0], k_range[1] + 1) if k <= len(complete) // 3]
    fits = {k: AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(z) for k in ks}
    sil = {k: float(silhouette_score(z, fits[k])) for k in ks}
    best = max(ks, key=lambda k: (round(sil[k], 6), -k))
    if sil[best] < MIN_UNIT_SILHOUETTE:
        return UnitGroups(False, f"the units' patterns do not fall into clear groups (best silhouette "
                                 f"{sil[best]:.2f}, under {MIN_UNIT_SILHOUETTE}); they are ranked", table,
                          silhouette=sil[best])
    groups = pd.Series(fits[best], index=complete.index)
    # Name each group by its average rank so that group 1 is the most mature.
    order = table.set_index("unit").loc[complete.index, "score"].groupby(groups.to_numpy()).mean()
    renumber = {old: new for new, old in enumerate(order.sort_values(ascending=False).index, start=1)}
    table["group"] = table["unit"].map(groups.map(renumber)).astype("Int64")
    return UnitGroups(True, "", table, silhouette=sil[best], k=best)

