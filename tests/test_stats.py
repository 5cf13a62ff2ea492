"""Reference values for the statistics, each from an independent, cited source."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from pmo_maturity import stats

# Shrout & Fleiss (1979), Psychological Bulletin 86(2), Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
                         dtype=float)

# Example data set of pingouin.cronbach_alpha (15 subjects x 10 items, long format in the
# pingouin repository, datasets/cronbach_alpha.csv); its documented result, checked by pingouin
# against R psych::alpha, is alpha = 0.591719 with a Feldt 95% CI of [0.195, 0.840].
PINGOUIN_CRONBACH = np.array([
    [3, 2, 4, 1, 4, 5, 1, 4, 3, 2], [5, 4, 6, 3, 5, 1, 2, 5, 5, 5], [7, 3, 5, 5, 6, 4, 3, 3, 6, 5],
    [2, 4, 3, 3, 2, 2, 2, 6, 6, 3], [6, 5, 6, 5, 4, 4, 4, 6, 7, 5], [1, 2, 3, 4, 2, 5, 2, 3, 5, 2],
    [4, 3, 5, 3, 5, 2, 1, 2, 4, 3], [2, 4, 4, 3, 7, 2, 2, 4, 6, 5], [6, 5, 5, 5, 1, 6, 5, 2, 3, 2],
    [5, 4, 6, 4, 3, 5, 3, 1, 7, 2], [4, 3, 5, 2, 5, 3, 2, 3, 4, 1], [4, 2, 3, 2, 5, 3, 4, 2, 3, 4],
    [5, 5, 6, 2, 3, 3, 2, 4, 4, 5], [6, 5, 5, 4, 2, 2, 1, 4, 6, 5], [4, 3, 5, 5, 3, 1, 3, 2, 3, 4],
], dtype=float)


def test_alpha_matches_pingouin_documented_example():
    alpha = stats.cronbach_alpha(PINGOUIN_CRONBACH)
    assert alpha == pytest.approx(0.591719, abs=1e-6)
    low, high = stats.feldt_interval(alpha, n=15, k=10)
    assert (round(low, 3), round(high, 3)) == (0.195, 0.840)


def test_alpha_equals_shrout_fleiss_icc3k():
    # Cronbach's alpha of the judges-as-items matrix is the consistency ICC(3,k) (McGraw & Wong
    # 1996); Shrout & Fleiss publish ICC(3,k) = 0.91 for Table 2.
    assert stats.cronbach_alpha(SHROUT_FLEISS) == pytest.approx(0.91, abs=0.005)


def test_alpha_by_hand_from_item_and_total_variances():
    items = np.array([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5], [5, 3, 4]], dtype=float)
    # Item variances (ddof 1): 2.5, 1.0, 1.3 -> 4.8; totals 5, 7, 10, 13, 12 -> variance 11.3.
    expected = 3 / 2 * (1 - 4.8 / 11.3)
    assert stats.cronbach_alpha(items) == pytest.approx(expected, rel=1e-12)


def test_pairwise_covariance_matches_pandas_with_missing_values():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 6)) + rng.normal(size=(200, 1))
    x[rng.random(x.shape) < 0.15] = np.nan
    cov, counts = stats.pairwise_cov(x)
    np.testing.assert_allclose(cov, pd.DataFrame(x).cov().to_numpy(), rtol=1e-10)
    assert counts[0, 1] == int((~np.isnan(x[:, 0]) & ~np.isnan(x[:, 1])).sum())


def test_alpha_with_missing_uses_pairwise_covariances():
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(3, 1, size=(80, 5)) + rng.normal(0, 1, size=(80, 1)))
    x[rng.random(x.shape) < 0.1] = np.nan
    c = pd.DataFrame(x).cov().to_numpy()  # R psych::alpha(use = "pairwise") uses this matrix
    expected = 5 / 4 * (1 - np.trace(c) / c.sum())
    assert stats.cronbach_alpha(x) == pytest.approx(expected, rel=1e-10)


def test_feldt_interval_contains_alpha_and_narrows_with_n():
    wide = stats.feldt_interval(0.8, n=20, k=5)
    narrow = stats.feldt_interval(0.8, n=400, k=5)
    assert wide[0] < narrow[0] < 0.8 < narrow[1] < wide[1]


def test_rwg_worked_example():
    # REFERENCES: answers 4, 4, 5, 4, 5 on a 5-point item: s^2 = 0.3, rwg = 1 - 0.3/2 = 0.85.
    assert stats.uniform_null_variance(5) == 2.0
    assert stats.rwg([4, 4, 5, 4, 5], points=5) == pytest.approx(0.85)


def test_rwg_is_capped_and_undefined_for_one_answer():
    assert stats.rwg([1, 5, 1, 5], points=5) == 0.0  # s^2 = 5.33 > 2 is capped at the null
    assert np.isnan(stats.rwg([3], points=5))


def test_rwg_j_by_hand():
    # Two items answered by four people: variances 1/3 and 2/3 (ddof 1); mean 1/2; null 2.
    group = np.array([[3, 2], [3, 4], [4, 3], [4, 3]], dtype=float)
    ratio = (1 / 2) / 2
    expected = 2 * (1 - ratio) / (2 * (1 - ratio) + ratio)  # James, Demaree & Wolf (1984)
    assert expected == pytest.approx(6 / 7)
    assert stats.rwg_j(group, points=5) == pytest.approx(expected)


def test_rwg_j_with_one_item_is_rwg_and_zero_past_the_null():
    answers = np.array([[4], [4], [5], [4], [5]], dtype=float)
    assert stats.rwg_j(answers, points=5) == pytest.approx(0.85)
    spread = np.array([[1, 5], [5, 1], [1, 5], [5, 1]], dtype=float)
    assert stats.rwg_j(spread, points=5) == 0.0  # multilevel::rwg.j truncates to 0


def test_icc_against_shrout_fleiss_one_way_values():
    # Shrout & Fleiss (1979) publish ICC(1,1) = .17 and ICC(1,k) = .44 for the Table 2 data; these
    # one-way forms are Bliese's (2000) ICC(1) and ICC(2).
    r = stats.icc_oneway(SHROUT_FLEISS.ravel(), np.repeat(np.arange(6), 4))
    assert round(r.icc1, 2) == 0.17
    assert round(r.icc2, 2) == 0.44
    assert r.msb == pytest.approx(11.24, abs=0.01)  # their one-way ANOVA: BMS 11.24, WMS 6.26
    assert r.msw == pytest.approx(6.26, abs=0.01)


def test_icc_unequal_groups_uses_average_group_size():
    values = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9.0])
    groups = np.array(["a", "a", "b", "b", "b", "c", "c", "c", "c"])
    frame = pd.DataFrame({"x": values, "g": groups})
    means = frame.groupby("g")["x"].transform("mean")
    msw = ((frame["x"] - means) ** 2).sum() / (9 - 3)
    sizes = frame.groupby("g").size()
    msb = (sizes * (frame.groupby("g")["x"].mean() - values.mean()) ** 2).sum() / 2
    k = 9 / 3
    r = stats.icc_oneway(values, groups)
    assert r.icc1 == pytest.approx((msb - msw) / (msb + (k - 1) * msw))
    assert r.icc2 == pytest.approx((msb - msw) / msb)


def test_bootstrap_interval_agrees_with_scipy():
    rng = np.random.default_rng(11)
    x = rng.integers(1, 6, size=60).astype(float)
    ours = stats.mean_intervals(x[:, None], np.ones(1), rng=np.random.default_rng(1), n_resamples=4000)
    ref = sps.bootstrap((x,), np.mean, n_resamples=4000, method="percentile", rng=np.random.default_rng(2))
    assert ours.low[0] == pytest.approx(ref.confidence_interval.low, abs=0.03)
    assert ours.high[0] == pytest.approx(ref.confidence_interval.high, abs=0.03)
    assert ours.mean[0] == pytest.approx(x.mean())


def test_bootstrap_width_matches_plug_in_standard_error():
    # The bootstrap SE of a mean converges to the plug-in SE sqrt(sum((x - mean)^2) / n^2)
    # (Efron & Tibshirani 1993, section 6.3); a 95% percentile interval spans about 2 x 1.96 SE.
    rng = np.random.default_rng(12)
    x = rng.normal(3, 0.8, size=400)
    se = np.sqrt(((x - x.mean()) ** 2).sum()) / len(x)
    r = stats.mean_intervals(x[:, None], np.ones(1), rng=np.random.default_rng(3), n_resamples=8000)
    assert (r.high[0] - r.low[0]) == pytest.approx(2 * 1.96 * se, rel=0.06)


def test_large_groups_use_t_interval_that_agrees_with_bootstrap():
    rng = np.random.default_rng(13)
    base = rng.normal(0, 0.5, size=(3000, 1))
    x = 3 + base + rng.normal(0, 0.4, size=(3000, 4))
    x[rng.random(x.shape) < 0.05] = np.nan
    w = np.array([1, 1, 2, 1.0])
    boot = stats.mean_intervals(x, w, rng=np.random.default_rng(4), bootstrap_max_n=10_000)
    t = stats.mean_intervals(x, w, rng=np.random.default_rng(4), bootstrap_max_n=1000)
    assert "bootstrap" in boot.method and "Student t" in t.method
    np.testing.assert_allclose(t.low, boot.low, atol=0.006)
    np.testing.assert_allclose(t.high, boot.high, atol=0.006)
    assert t.overall_low == pytest.approx(boot.overall_low, abs=0.006)
    assert t.overall_high == pytest.approx(boot.overall_high, abs=0.006)
    assert boot.overall == pytest.approx(np.sum(w * np.nanmean(x, axis=0)) / w.sum())


def test_seeded_intervals_repeat_and_depend_on_group_name():
    x = np.random.default_rng(0).normal(size=(30, 2))
    a = stats.mean_intervals(x, np.ones(2), rng=stats.group_rng(7, "unit:Finance"))
    b = stats.mean_intervals(x, np.ones(2), rng=stats.group_rng(7, "unit:Finance"))
    c = stats.mean_intervals(x, np.ones(2), rng=stats.group_rng(7, "unit:Sales"))
    np.testing.assert_array_equal(a.low, b.low)
    assert not np.array_equal(a.low, c.low)


def test_group_pair_sums_give_each_groups_pandas_pairwise_covariance():
    # pandas.DataFrame.cov is an independent pairwise-complete covariance (as R's
    # cov(use="pairwise")); the one-pass sums must give it for every group of two groupings at
    # once, with rows in no group (-1) left out, groups spread over many chunks and thread parts.
    from pmo_maturity._scan import CHUNK, covariance_from_sums, group_pair_sums

    rng = np.random.default_rng(21)
    n, d = 9 * CHUNK + 123, 3
    x = np.asfortranarray(rng.normal(3, 1, size=(n, d)) + rng.normal(0, 0.5, size=(n, 1)))
    x[rng.random(x.shape) < 0.1] = np.nan
    units = rng.integers(-1, 4, size=n)
    roles = rng.integers(0, 2, size=n)
    org, by_unit, by_role = group_pair_sums(x, np.array([2.5, 3.0, 3.5]), [(None, 1), (units, 4), (roles, 2)])
    frame = pd.DataFrame(x)
    for sums, rows in [(org[0], slice(None)), (by_unit[0], units == 0), (by_unit[3], units == 3),
                       (by_role[1], roles == 1)]:
        part = frame[rows]
        np.testing.assert_allclose(covariance_from_sums(sums.counts, sums.sums, sums.products), part.cov(),
                                   rtol=1e-9)
        np.testing.assert_array_equal(np.diag(sums.counts), part.notna().sum())
        np.testing.assert_allclose(np.diag(sums.sums) / np.diag(sums.counts) + sums.centre, part.mean(), rtol=1e-12)


def test_large_group_interval_from_its_sums_equals_the_one_from_its_rows():
    from pmo_maturity._scan import PairSums, pair_sums

    rng = np.random.default_rng(22)
    x = rng.normal(3, 0.7, size=(5000, 4))
    x[rng.random(x.shape) < 0.08] = np.nan
    w = np.array([1, 2, 1, 1.0])
    rows = stats.mean_intervals(x, w, rng=np.random.default_rng(0))
    centre = np.full(4, 3.0)
    sums = stats.mean_intervals(None, w, rng=np.random.default_rng(0), sums=PairSums(*pair_sums(x, centre), centre),
                                size=len(x))
    assert "Student t" in rows.method and rows.method == sums.method
    for field in ("n", "mean", "var", "low", "high"):
        np.testing.assert_allclose(getattr(sums, field), getattr(rows, field), rtol=1e-12)
    assert sums.overall_low == pytest.approx(rows.overall_low, rel=1e-12)
