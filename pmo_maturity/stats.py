"""The statistics behind the scores: reliability, agreement, aggregation and intervals.

Small formulas implemented here (several reference implementations are GPL) and tested against
published values (see ``tests/test_stats.py`` and ``docs/method.md`` for the sources):

- Cronbach's alpha with pairwise-complete covariances and the Feldt (1987) interval;
- rwg and rwg(J) against the uniform null (James, Demaree & Wolf 1984);
- ICC(1) and ICC(2) from a one-way ANOVA with unequal group sizes (Bliese 2000);
- a vectorised, seeded percentile bootstrap of group means (Efron & Tibshirani 1993) and, for large
  groups, the equivalent Student-t / delta-method interval;
- Welch's interval and test for a difference of two group means (Welch 1947), with Holm's (1979)
  step-down adjustment for many comparisons.
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special  # the distribution functions, without the slower scipy.stats import

from ._scan import PairSums, covariance_from_sums, head_centre, pair_sums

# ---------------------------------------------------------------------------------------------
# Covariances with missing values


def pairwise_cov(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete covariance matrix (ddof 1) and pair counts of an ``(n, k)`` array.

    Equal to ``pandas.DataFrame.cov()`` (and R's ``cov(use="pairwise")``): each entry uses the
    rows where both columns are present, with the means of those rows. Computed from sums of
    products in row chunks, so it stays fast and small for millions of rows.
    """
    x = np.asarray(x, dtype=float)
    counts, sums, products = pair_sums(x, head_centre(x))
    return covariance_from_sums(counts, sums, products), counts


# ---------------------------------------------------------------------------------------------
# Reliability


def cronbach_alpha(items: np.ndarray | pd.DataFrame) -> float:
    """Cronbach's alpha from pairwise-complete covariances: ``k/(k-1) * (1 - trace(C)/sum(C))``.

    Items must already be reverse-scored. Returns NaN with fewer than two items or when a
    covariance cannot be estimated.
    """
    x = np.asarray(items, dtype=float)
    if x.shape[1] < 2:
        return float("nan")
    return alpha_from_covariance(pairwise_cov(x)[0])


def alpha_from_covariance(cov: np.ndarray) -> float:
    """Alpha from an item covariance matrix C: ``k/(k-1) * (1 - trace(C)/sum(C))``."""
    k = cov.shape[0]
    if k < 2 or np.isnan(cov).any():
        return float("nan")
    total = cov.sum()
    if total <= 0:
        return float("nan")
    return float(k / (k - 1) * (1 - np.trace(cov) / total))


def feldt_interval(alpha: float, n: int, k: int, confidence: float = 0.95) -> tuple[float, float]:
    """Feldt, Woodruff & Salih (1987) interval: ``1 - (1 - alpha) * F(q; n-1, (n-1)(k-1))``."""
    if not np.isfinite(alpha) or n < 3 or k < 2:
        return float("nan"), float("nan")
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - confidence) / 2
    low = 1 - (1 - alpha) * special.fdtri(df1, df2, 1 - tail)
    high = 1 - (1 - alpha) * special.fdtri(df1, df2, tail)
    return float(low), float(high)


# ---------------------------------------------------------------------------------------------
# Within-group agreement


def uniform_null_variance(points: int) -> float:
    """Variance of the uniform (rectangular) null over A answer options: ``(A^2 - 1) / 12``."""
    return (points**2 - 1) / 12


def rwg(values: np.ndarray, points: int) -> float:
    """Single-item rwg = ``1 - s^2 / sigma_EU^2`` with ``s^2`` capped at the null variance.

    >>> round(rwg([4, 4, 5, 4, 5], points=5), 2)
    0.85
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size < 2:
        return float("nan")
    null = uniform_null_variance(points)
    return float(1 - min(x.var(ddof=1), null) / null)


def rwg_j_from_variances(mean_variance: np.ndarray, n_items: np.ndarray, points: int) -> np.ndarray:
    """rwg(J) from the mean within-group item variance, as in R ``multilevel::rwg.j``.

    ``rwg(J) = J (1 - v/s) / (J (1 - v/s) + v/s)`` with ``v`` the mean item variance and ``s`` the
    null variance; groups whose mean variance exceeds the null are set to 0 (no agreement).
    """
    v = np.asarray(mean_variance, dtype=float)
    j = np.asarray(n_items, dtype=float)
    ratio = v / uniform_null_variance(points)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = j * (1 - ratio) / (j * (1 - ratio) + ratio)
    out = np.where(ratio > 1, 0.0, out)
    return np.where(np.isnan(v) | (j < 1), np.nan, out)


def rwg_j(items: np.ndarray | pd.DataFrame, points: int) -> float:
    """rwg(J) of one group's answers to J items (rows respondents, columns items)."""
    x = np.asarray(items, dtype=float)
    counts = (~np.isnan(x)).sum(axis=0)
    usable = counts >= 2
    if not usable.any():
        return float("nan")
    variances = np.nanvar(x[:, usable], axis=0, ddof=1)
    return float(rwg_j_from_variances(variances.mean(), usable.sum(), points))


# ---------------------------------------------------------------------------------------------
# Aggregation: ICC(1), ICC(2)


@dataclass(frozen=True)
class ICCResult:
    """One-way ANOVA of individual scores on group membership, and the two ICCs."""

    icc1: float
    icc2: float
    msb: float
    msw: float
    f: float
    p: float
    n: int
    groups: int
    mean_group_size: float


def icc_oneway(values: np.ndarray, groups: np.ndarray) -> ICCResult:
    """ICC(1) and ICC(2) (Bliese 2000; R ``multilevel::ICC1``/``ICC2``).

    ``ICC(1) = (MSB - MSW) / (MSB + (k - 1) MSW)`` and ``ICC(2) = (MSB - MSW) / MSB`` with ``k``
    the average group size ``N / G`` for unequal groups. Missing values are dropped.
    """
    x = np.asarray(values, dtype=float)
    codes, uniques = pd.factorize(pd.Series(np.asarray(groups)))
    keep = ~np.isnan(x) & (codes >= 0)
    x, codes = x[keep], codes[keep]
    size = len(uniques)
    return icc_from_sums(np.bincount(codes, minlength=size).astype(float),
                         np.bincount(codes, weights=x, minlength=size),
                         np.bincount(codes, weights=x * x, minlength=size))


def icc_from_sums(counts: np.ndarray, sums: np.ndarray, squares: np.ndarray) -> ICCResult:
    """The one-way ANOVA and ICCs from each group's count, sum and sum of squares."""
    counts, sums, squares = (np.asarray(a, dtype=float) for a in (counts, sums, squares))
    used = counts > 0
    counts, sums, squares = counts[used], sums[used], squares[used]
    n, g = int(counts.sum()), int(used.sum())
    if g < 2 or n - g < 1:
        nan = float("nan")
        return ICCResult(nan, nan, nan, nan, nan, nan, n, g, nan)
    between = float((sums * sums / counts).sum())
    ssb = between - float(sums.sum()) ** 2 / n
    ssw = max(float(squares.sum()) - between, 0.0)
    msb, msw = ssb / (g - 1), ssw / (n - g)
    k = n / g
    icc1 = (msb - msw) / (msb + (k - 1) * msw) if msb + (k - 1) * msw > 0 else float("nan")
    icc2 = (msb - msw) / msb if msb > 0 else float("nan")
    f = msb / msw if msw > 0 else float("inf")
    p = float(special.fdtrc(g - 1, n - g, f)) if np.isfinite(f) else 0.0
    return ICCResult(icc1, icc2, msb, msw, f, p, n, g, k)


# ---------------------------------------------------------------------------------------------
# Intervals for group means


def group_rng(seed: int, key: str) -> np.random.Generator:
    """A generator seeded by the run seed and the group's name.

    A group gets the same resamples whatever other groups are scored with it and in whatever
    order, so a unit's interval is identical in the organisation run and in its own report.
    """
    return np.random.default_rng([int(seed), zlib.crc32(str(key).encode("utf-8"))])


@dataclass(frozen=True)
class MeanIntervals:
    """Means and intervals of the columns of a group's score matrix, and of their weighted mean."""

    n: np.ndarray
    mean: np.ndarray
    var: np.ndarray  # sample variance (ddof 1) of each column
    low: np.ndarray
    high: np.ndarray
    overall: float
    overall_low: float
    overall_high: float
    method: str


def mean_intervals(
    scores: np.ndarray | None,
    weights: np.ndarray,
    *,
    rng: np.random.Generator,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    bootstrap_max_n: int = 2000,
    sums: PairSums | None = None,
    size: int | None = None,
) -> MeanIntervals:
    """Means of each column (NaN = not scored) with intervals, and of the weighted overall mean.

    The overall statistic is the weighted mean of the column means (over the columns that have a
    mean). For groups of at most ``bootstrap_max_n`` respondents the intervals are percentile
    bootstrap intervals from ``n_resamples`` seeded resamples of respondents (the same resamples
    for every column, so the overall interval respects their correlation). Larger groups get the
    Student-t interval of each mean and a delta-method interval of the overall mean built from the
    pairwise covariance of the columns; at those sizes the two agree within Monte-Carlo error and
    the analytic form costs no memory.

    A larger group can be given by its :func:`~pmo_maturity._scan.pair_sums` (``sums``) and its
    number of rows (``size``) instead of its rows: that is all the analytic form needs.
    """
    w = np.asarray(weights, dtype=float)
    if sums is None or size is None or size <= bootstrap_max_n:
        x = np.asarray(scores, dtype=float)
        size = x.shape[0]
        centre = head_centre(x)
        sums = PairSums(*pair_sums(x, centre), centre)
    pairs = sums.counts
    n = np.diag(pairs).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.diag(sums.sums) / n + sums.centre, np.nan)
    cov = covariance_from_sums(pairs, sums.sums, sums.products)
    has = ~np.isnan(mean)
    overall = float(np.sum(w[has] * mean[has]) / np.sum(w[has])) if has.any() else float("nan")
    tail = (1 - confidence) / 2
    if size <= bootstrap_max_n:
        low, high, o_low, o_high = _bootstrap(x, w, rng, n_resamples, tail)
        method = f"percentile bootstrap, {n_resamples} resamples"
    else:
        low, high, o_low, o_high = _analytic(cov, pairs, mean, n, w, tail)
        method = "Student t (delta method for the overall index)"
    return MeanIntervals(n, mean, np.diag(cov).copy(), low, high, overall, o_low, o_high, method)


def _bootstrap(x, w, rng, n_resamples, tail):
    n_resp, d = x.shape
    nan = np.full(d, np.nan)
    if n_resp < 2:
        return nan, nan.copy(), float("nan"), float("nan")
    present = ~np.isnan(x)
    picks = rng.integers(0, n_resp, size=(n_resamples, n_resp))
    flat = (np.arange(n_resamples)[:, None] * n_resp + picks).ravel()
    counts = np.bincount(flat, minlength=n_resamples * n_resp).reshape(n_resamples, n_resp).astype(float)
    sums = counts @ np.where(present, x, 0.0)
    answered = counts @ present.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / answered  # (resamples, d); NaN where a column has no scored respondent
    has = ~np.isnan(means)
    weighted = np.where(has, means * w, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        overall = weighted / np.where(has, w, 0.0).sum(axis=1)
    single = present.sum(axis=0) < 2
    q = [100 * tail, 100 * (1 - tail)]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a dimension nobody in the group scored
        low, high = np.nanpercentile(np.where(has, means, np.nan), q, axis=0) if has.any() else (nan, nan)
    low = np.where(single, np.nan, low)
    high = np.where(single, np.nan, high)
    o_low, o_high = np.nanpercentile(overall, q) if np.isfinite(overall).any() else (np.nan, np.nan)
    return low, high, float(o_low), float(o_high)


def _analytic(cov, pairs, mean, n, w, tail):
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(np.diag(cov) / n)
        cov_means = cov * pairs / np.outer(n, n)  # Cov(mean_j, mean_k) under pairwise presence
    t = special.stdtrit(np.maximum(n - 1, 1), 1 - tail)
    low, high = mean - t * se, mean + t * se
    has = ~np.isnan(mean)
    wh = np.where(has, w, 0.0)
    var = float(np.nansum(np.outer(wh, wh) * cov_means)) / wh.sum() ** 2
    overall = float(np.sum(wh[has] * mean[has]) / wh.sum())
    t_all = special.stdtrit(max(int(n[has].min()) - 1, 1), 1 - tail)
    half = t_all * np.sqrt(var)
    return low, high, overall - half, overall + half


# ---------------------------------------------------------------------------------------------
# Differences between two groups


@dataclass(frozen=True)
class Difference:
    """Welch's comparison of two group means (arrays, one value per comparison)."""

    difference: np.ndarray
    low: np.ndarray
    high: np.ndarray
    p: np.ndarray
    df: np.ndarray


def welch(mean1, var1, n1, mean2, var2, n2, confidence: float = 0.95) -> Difference:
    """Difference of two means with Welch's t interval and two-sided p-value (unequal variances,
    Welch-Satterthwaite degrees of freedom; Welch 1947). NaN where a group has fewer than two values.

    Examples
    --------
    >>> d = welch(3.5, 0.5, 10, 3.0, 0.8, 12)
    >>> round(float(d.difference), 2), round(float(d.low), 3), round(float(d.high), 3), round(float(d.p), 4)
    (0.5, -0.213, 1.213, 0.1588)
    """
    m1, v1, k1, m2, v2, k2 = (np.asarray(x, dtype=float) for x in (mean1, var1, n1, mean2, var2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        a, b = v1 / k1, v2 / k2
        se = np.sqrt(a + b)
        df = (a + b) ** 2 / (a * a / (k1 - 1) + b * b / (k2 - 1))
        diff = m1 - m2
        ok = (k1 >= 2) & (k2 >= 2) & (se > 0)
        t = special.stdtrit(np.where(ok, df, 1.0), 1 - (1 - confidence) / 2)
        p = 2 * special.stdtr(np.where(ok, df, 1.0), -np.abs(diff) / np.where(ok, se, 1.0))
    nan = np.nan
    return Difference(diff, np.where(ok, diff - t * se, nan), np.where(ok, diff + t * se, nan), np.where(ok, p, nan),
                      np.where(ok, df, nan))


def holm(p_values) -> np.ndarray:
    """Holm's (1979) step-down adjusted p-values (NaN stays NaN and is not counted).

    With m comparisons ordered by p, the i-th smallest is adjusted to
    ``max over j <= i of min(1, (m - j + 1) p_(j))``; a comparison is significant at level alpha
    when its adjusted p-value is under alpha, which controls the family-wise error rate.

    >>> holm([0.01, 0.04, 0.03, 0.005]).tolist()
    [0.03, 0.06, 0.06, 0.02]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = len(finite)
    if not m:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return np.round(out, 15)
