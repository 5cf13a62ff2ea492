"""Archetypes: recover planted segments, refuse to invent them, respect privacy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from pmo_maturity import ScoringRules, cluster_respondents, cluster_units, load_questionnaire, load_responses, score
from pmo_maturity.archetypes import cramers_v
from pmo_maturity.sample import bundled_sample, generate_sample
from pmo_maturity.scoring import Scores

# ---------------------------------------------------------------------------------------------
# Situations (issue 11): survey data simulated through the items of the bundled instrument, so
# that dimension scores are means of about five answers on 1-5 (discrete and bounded), and scored
# by the kit itself. bench/archetype_study.py compares clustering methods on the same situations.

ITEM_NOISE = 0.6  # SD of an answer around the respondent's latent score (the sample's 0.15 of the range)
UNITS = ("Finance", "Digital & IT", "Operations", "Sales & Marketing", "People & Culture", "Supply Chain")
ROLES = ("Team member", "Programme/project manager", "PMO staff", "Business stakeholder", "Executive sponsor")


@dataclass(frozen=True)
class Situation:
    """Scores of a simulated survey and the truth behind it (``truth``: planted group per respondent
    id, empty when nothing is planted)."""

    name: str
    seed: int
    scores: Scores
    truth: pd.Series


def _scores_from_latent(q, latent: np.ndarray, units: np.ndarray, rng: np.random.Generator,
                        names: tuple[str, ...] = UNITS) -> Scores:
    """Answer every item around the respondent's latent dimension score (in points), round to the
    scale and reverse the reverse-keyed items, then load and score the answers as an export."""
    dim_of = {d.id: j for j, d in enumerate(q.dimensions)}
    columns = [dim_of[d.id] for d in q.dimensions for _ in d.items]
    lo, hi = q.scale.min, q.scale.max
    answers = np.clip(np.rint(latent[:, columns] + rng.normal(0.0, ITEM_NOISE, (len(latent), len(columns)))), lo, hi)
    reverse = np.array([i.reverse for i in q.items])
    answers[:, reverse] = lo + hi - answers[:, reverse]
    return _score_answers(q, answers, units, rng, names)


def _score_answers(q, answers: np.ndarray, units: np.ndarray, rng: np.random.Generator,
                   names: tuple[str, ...] = UNITS) -> Scores:
    n = len(answers)
    frame = pd.DataFrame(answers, columns=q.item_ids)
    frame.insert(0, "role", np.array(ROLES, dtype=object)[rng.integers(0, len(ROLES), n)])
    frame.insert(0, "business_unit", np.array(names, dtype=object)[units])
    frame.insert(0, "respondent_id", [f"S{i + 1:05d}" for i in range(n)])
    return score(load_responses(frame, q))


def _cloud(rng, n: int, dims: int, sd: float, correlation: float) -> np.ndarray:
    """Multivariate normal deviations with equal SDs and one inter-dimension correlation."""
    cov = sd ** 2 * (correlation * np.ones((dims, dims)) + (1 - correlation) * np.eye(dims))
    return rng.multivariate_normal(np.zeros(dims), cov, size=n, method="cholesky")


def make_situation(name: str, seed: int, n: int = 300) -> Situation:
    """One of the situations of issue 11 (and a few more the study uses), seeded.

    - ``sample``: the generator behind the bundled sample (seed 2026 is the bundled file), truth =
      its planted segments;
    - ``two_dimensions``: two segments 2.5 points or more apart on two of eight dimensions (2.8
      between the latent scores), equal on the others (a mild general factor within each,
      correlation 0.4);
    - ``two_dimensions_factor``: the same inside a strong general factor (correlation 0.8);
    - ``two_dimensions_unequal``: the same with 15% of respondents in one segment;
    - ``two_dimensions_small``: the same 1.5 points apart;
    - ``three_segments``: three segments, each 1.25 points above the common level on one dimension
      and below it on another;
    - ``general_factor``: one multivariate normal cloud, inter-dimension correlation 0.8 between the
      latent scores (about 0.68 between the scored dimensions, after item noise);
    - ``general_factor_strong``: the same with correlation 0.8 between the scored dimensions;
    - ``ceiling``: a general-factor cloud around 4.2, piled up at the top of the scale;
    - ``uniform``: every answer drawn uniformly from the scale;
    - ``unit_levels``: one general-factor cloud whose units differ in level only (truth: unit);
    - ``unit_shapes``: no segments inside units, but half of the units share one shape and half the
      opposite one (truth: the unit's shape, so the archetypes mirror units);
    - ``level_groups``: two groups 1.6 points apart on every dimension (truth: the group).
    """
    q = load_questionnaire()
    p = len(q.dimension_ids)
    rng = np.random.default_rng(seed)
    units = rng.integers(0, len(UNITS), n)
    empty = pd.Series(dtype=object)
    if name == "sample":
        data = bundled_sample() if seed == 2026 else generate_sample(seed=seed)
        truth = data.truth[data.truth["expected_reason"] == ""].set_index("respondent_id")["segment"]
        return Situation(name, seed, score(load_responses(data.frame, q)), truth)
    if name.startswith("two_dimensions"):
        segment = (rng.random(n) < (0.15 if name.endswith("unequal") else 0.5)).astype(int)
        pair = rng.choice(p, 2, replace=False)
        correlation = 0.8 if name.endswith("factor") else 0.4
        half = 0.75 if name.endswith("small") else 1.4  # 2.8 points latent: 2.5 or more once answers are clipped
        latent = 3.0 + _cloud(rng, n, p, 0.6, correlation)
        latent[:, pair] += np.where(segment == 1, half, -half)[:, None]
        return Situation(name, seed, _scores_from_latent(q, latent, units, rng), _truth(segment, n))
    if name == "three_segments":
        segment = rng.integers(0, 3, n)
        chosen = rng.permutation(p)
        high, low = chosen[:3], chosen[3:6]
        latent = 3.0 + _cloud(rng, n, p, 0.6, 0.4)
        latent[np.arange(n), high[segment]] += 1.25
        latent[np.arange(n), low[segment]] -= 1.25
        return Situation(name, seed, _scores_from_latent(q, latent, units, rng), _truth(segment, n))
    if name in ("general_factor", "general_factor_strong", "ceiling"):
        centre = 4.2 if name == "ceiling" else 3.0
        sd, correlation = (0.8, 0.9) if name == "general_factor_strong" else (0.7, 0.8)
        latent = centre + _cloud(rng, n, p, sd, correlation)
        return Situation(name, seed, _scores_from_latent(q, latent, units, rng), empty)
    if name == "uniform":
        answers = rng.integers(q.scale.min, q.scale.max + 1, (n, len(q.item_ids))).astype(float)
        return Situation(name, seed, _score_answers(q, answers, units, rng), empty)
    if name == "unit_levels":
        level = np.linspace(-0.8, 0.8, len(UNITS))
        latent = 3.0 + level[units][:, None] + _cloud(rng, n, p, 0.5, 0.6)
        return Situation(name, seed, _scores_from_latent(q, latent, units, rng), _truth(units, n))
    if name == "unit_shapes":
        shape = np.zeros(p)
        shape[rng.choice(p, 2, replace=False)] = [1.0, -1.0]
        kind = units % 2
        latent = 3.0 + np.where(kind == 1, 1, -1)[:, None] * shape + _cloud(rng, n, p, 0.5, 0.6)
        return Situation(name, seed, _scores_from_latent(q, latent, units, rng), _truth(kind, n))
    if name == "level_groups":
        group = rng.integers(0, 2, n)
        latent = 3.0 + np.where(group == 1, 0.8, -0.8)[:, None] + _cloud(rng, n, p, 0.4, 0.5)
        return Situation(name, seed, _scores_from_latent(q, latent, units, rng), _truth(group, n))
    raise ValueError(f"unknown situation {name!r}")


def make_portfolio(name: str, seed: int, n_units: int = 24) -> Situation:
    """Business units for the portfolio view (``truth``: planted group per unit, empty if none).

    - ``portfolio_sample``: the sample generator with 24 units of 20-30 respondents: unit levels
      spread evenly and small random differences of pattern, no groups;
    - ``portfolio_patterns``: 24 units of 25 respondents at levels spread over 1.2 points, half of
      them 1.2 points higher on one dimension than on another, the other half the opposite.
    """
    q = load_questionnaire()
    if name == "portfolio_sample":
        data = generate_sample(q, units=n_units, respondents_per_unit=(20, 30), small_units=0, seed=seed)
        return Situation(name, seed, score(load_responses(data.frame, q)), pd.Series(dtype=object))
    if name == "portfolio_patterns":
        rng = np.random.default_rng(seed)
        p = len(q.dimension_ids)
        names = tuple(f"Unit {i + 1:02d}" for i in range(n_units))
        units = np.repeat(np.arange(n_units), 25)
        kind = np.arange(n_units) % 2
        level = rng.uniform(-0.6, 0.6, n_units)
        shape = np.zeros(p)
        shape[rng.choice(p, 2, replace=False)] = [0.6, -0.6]
        latent = (3.0 + level[units][:, None] + np.where(kind[units] == 1, 1, -1)[:, None] * shape
                  + _cloud(rng, len(units), p, 0.5, 0.6))
        return Situation(name, seed, _scores_from_latent(q, latent, units, rng, names),
                         pd.Series(kind, index=list(names), name="truth"))
    raise ValueError(f"unknown portfolio {name!r}")


def _truth(groups: np.ndarray, n: int) -> pd.Series:
    return pd.Series(groups, index=[f"S{i + 1:05d}" for i in range(n)], name="truth")


def recovery(archetypes, truth: pd.Series) -> float:
    """Adjusted Rand index of the archetypes against the planted groups (one group when none)."""
    common = truth.index.intersection(archetypes.labels.index) if archetypes.found else truth.index
    found = archetypes.labels.loc[common] if archetypes.found else pd.Series(0, index=common)
    return float(adjusted_rand_score(truth.loc[common], found))


@pytest.fixture(scope="module")
def archetypes(sample_scores):
    return cluster_respondents(sample_scores)


SEEDS = (1, 2, 3)


def test_planted_segments_are_recovered(archetypes, sample, sample_scores):
    scored = sample.truth[sample.truth["expected_reason"] == ""].set_index("respondent_id")
    truth = scored["segment"]
    common = archetypes.labels.index.intersection(truth.index)
    assert len(common) > 200
    ari = adjusted_rand_score(truth.loc[common], archetypes.labels.loc[common])
    assert ari >= 0.9, f"adjusted Rand index {ari:.2f}"
    assert archetypes.found and archetypes.k == 3
    assert archetypes.silhouette >= 0.25 and (archetypes.profiles["stability"] >= 0.6).all()
    # k = 3 has the lowest BIC among the groupings whose groups are separate modes.
    allowed = {k: bic for k, bic in archetypes.bic_by_k.items() if archetypes.modes_by_k[k]}
    assert min(allowed, key=allowed.get) == 3 and set(archetypes.bic_by_k) == {1, 2, 3, 4, 5, 6}
    # The planted segments cut across units (each unit has its own mix, so the association is
    # moderate, as in the truth) and are not levels: nothing to warn about.
    units = scored.loc[common, "unit"]
    reportable = units.isin(sample_scores.reportable_units)
    planted = cramers_v(pd.crosstab(truth.loc[common][reportable], units[reportable]))
    assert archetypes.cramers_v_unit == pytest.approx(planted, abs=0.05) and archetypes.cramers_v_unit < 0.5
    assert not archetypes.mirrors_units and not archetypes.level_only
    assert archetypes.reason == "" and "Note" not in archetypes.summary()


@pytest.mark.parametrize("seed", (2027, 2028, 2029))
def test_planted_segments_are_recovered_on_other_samples(seed):
    situation = make_situation("sample", seed)
    result = cluster_respondents(situation.scores)
    assert result.found and result.k == 3
    assert recovery(result, situation.truth) >= 0.9


@pytest.mark.parametrize("seed", SEEDS)
def test_segments_that_differ_on_two_dimensions_are_found(seed):
    """k-means with the silhouette cut-off reported "no clear segments" here (issue 11)."""
    situation = make_situation("two_dimensions", seed)
    respondents = situation.scores.respondents.set_index("respondent_id")
    dims = situation.scores.questionnaire.dimension_ids
    means = respondents[dims].groupby(situation.truth.loc[respondents.index]).mean()
    apart = (means.iloc[1] - means.iloc[0]).abs().sort_values()
    assert (apart.iloc[-2:] >= 2.5).all() and (apart.iloc[:-2] < 0.3).all()  # the situation of the issue
    result = cluster_respondents(situation.scores)
    assert result.found and result.k == 2
    assert recovery(result, situation.truth) >= 0.8
    assert not result.mirrors_units


@pytest.mark.parametrize("name", ("general_factor", "general_factor_strong"))
@pytest.mark.parametrize("seed", SEEDS)
def test_one_cloud_along_a_general_factor_is_not_split(name, seed):
    """k-means split this cloud into "Broadly positive" and "Broadly critical" (issue 11)."""
    situation = make_situation(name, seed)
    dims = situation.scores.questionnaire.dimension_ids
    correlations = situation.scores.respondents[dims].corr().to_numpy()[np.triu_indices(len(dims), 1)]
    assert correlations.mean() >= (0.75 if name.endswith("strong") else 0.6)
    result = cluster_respondents(situation.scores)
    assert not result.found and result.k == 0 and result.labels.empty
    assert not result.level_only and not result.mirrors_units
    assert result.level_share >= 0.5
    assert "not in distinct groups" in result.reason and "how positively they rate every dimension" in result.reason


@pytest.mark.parametrize("seed", SEEDS)
def test_uniform_noise_has_no_segments(seed):
    result = cluster_respondents(make_situation("uniform", seed).scores)
    assert not result.found and not result.level_only
    assert result.level_share < 0.25  # no general factor: about 1/8 with eight independent dimensions
    assert "not in distinct groups" in result.reason and "how positively" not in result.reason


def test_uniform_random_answers_have_no_clear_segments(questionnaire, sample_scores):
    rng = np.random.default_rng(11)
    n = len(sample_scores.respondents)
    frame = pd.DataFrame(rng.integers(1, 6, (n, len(questionnaire.item_ids))), columns=questionnaire.item_ids)
    result = cluster_respondents(score(load_responses(frame, questionnaire)))
    assert not result.found
    allowed = {k: bic for k, bic in result.bic_by_k.items() if result.modes_by_k[k]}
    assert min(allowed, key=allowed.get) == 1 and "not in distinct groups" in result.reason
    assert result.summary().startswith("No clear segments")


@pytest.mark.parametrize("seed", SEEDS)
def test_archetypes_that_mirror_units_are_flagged(seed):
    from scipy.stats.contingency import association

    situation = make_situation("unit_shapes", seed)
    scores = situation.scores
    result = cluster_respondents(scores)
    assert result.found and recovery(result, situation.truth) >= 0.9
    units = scores.respondents.set_index("respondent_id").loc[result.labels.index, "unit"]
    uncorrected = association(pd.crosstab(result.labels, units).to_numpy(), method="cramer")
    assert result.cramers_v_unit <= uncorrected and result.cramers_v_unit == pytest.approx(uncorrected, abs=0.05)
    assert result.cramers_v_unit >= 0.5 and result.mirrors_units and not result.level_only
    assert "coincide with business units" in result.reason
    assert f"Cramér's V {result.cramers_v_unit:.2f}" in result.summary()


@pytest.mark.parametrize("seed", SEEDS)
def test_groups_that_differ_only_in_level_are_not_archetypes(seed):
    situation = make_situation("level_groups", seed)
    result = cluster_respondents(situation.scores)
    assert not result.found and result.level_only
    assert "differ in overall level" in result.reason and "not in pattern" in result.reason
    assert result.cramers_v_unit < 0.2 and not result.mirrors_units  # units were drawn at random


@pytest.mark.parametrize("seed", SEEDS)
def test_units_that_differ_in_level_are_not_archetypes(seed):
    result = cluster_respondents(make_situation("unit_levels", seed).scores)
    assert not result.found and result.level_share >= 0.5


def test_cramers_v_against_hand_computed_values():
    from scipy.stats.contingency import association

    # [[20, 10], [5, 15]]: n = 50, expected counts 15, 15, 10, 10, chi2 = 2 * 25/15 + 2 * 25/10 = 25/3,
    # phi2 = chi2 / n = 1/6. Bergsma (2013): phi2 - (r-1)(c-1)/(n-1) = 1/6 - 1/49 and
    # r~ - 1 = c~ - 1 = 1 - 1/49 = 48/49.
    table = [[20, 10], [5, 15]]
    assert cramers_v(table, corrected=False) == pytest.approx(np.sqrt(1 / 6))
    assert cramers_v(table) == pytest.approx(np.sqrt((1 / 6 - 1 / 49) / (48 / 49)))
    assert cramers_v(table) == pytest.approx(0.386400, abs=1e-6)
    # Perfect association, 3 x 3 diagonal of 10: chi2 = n (3 - 1) = 60, phi2 = 2; corrected
    # phi2 = 2 - 4/29 = 54/29 and r~ - 1 = 3 - 4/29 - 1 = 54/29, so V = 1.
    assert cramers_v(np.diag([10, 10, 10])) == pytest.approx(1.0)
    # Independence (proportional rows) gives 0, and the correction never goes below 0.
    assert cramers_v([[10, 20], [5, 10]]) == 0.0
    assert cramers_v([[11, 9], [10, 10]]) == 0.0
    # Empty rows/columns are dropped; fewer than two categories has no V.
    assert cramers_v([[20, 10, 0], [5, 15, 0]]) == pytest.approx(cramers_v(table))
    assert np.isnan(cramers_v([[3, 4]]))
    # The uncorrected V agrees with scipy's on random tables; the correction only lowers it.
    rng = np.random.default_rng(4)
    for shape in ((2, 3), (3, 5), (6, 4)):
        counts = rng.integers(1, 40, shape)
        assert cramers_v(counts, corrected=False) == pytest.approx(association(counts, method="cramer"))
        assert cramers_v(counts) <= cramers_v(counts, corrected=False)


def test_large_files_choose_on_a_sample_and_label_everyone(sample_scores, sample, monkeypatch):
    """The path of very large files (k chosen on a seeded sample), shrunk to the bundled sample."""
    from pmo_maturity import archetypes as module

    monkeypatch.setattr(module, "SELECTION_SAMPLE", 150)
    monkeypatch.setattr(module, "STABILITY_SAMPLE", 100)
    result = cluster_respondents(sample_scores)
    # Everyone of the shown units gets an archetype: the clustered, and the others placed in the nearest.
    assert result.found and result.k == 3 and len(result.labels) == result.n_clustered + result.n_excluded
    truth = sample.truth[sample.truth["expected_reason"] == ""].set_index("respondent_id")["segment"]
    assert recovery(result, truth) >= 0.9


def test_too_few_respondents(questionnaire):
    data = generate_sample(questionnaire, units=1, respondents_per_unit=(12, 12), small_units=0, bad_row_share=0)
    result = cluster_respondents(score(load_responses(data.frame, questionnaire)))
    assert not result.found and result.reason.startswith("too few respondents")


def test_seeded_runs_are_identical(sample_scores, archetypes):
    again = cluster_respondents(sample_scores)
    pd.testing.assert_series_equal(again.labels, archetypes.labels)
    pd.testing.assert_frame_equal(again.profiles, archetypes.profiles)


def test_names_follow_the_pattern(archetypes, questionnaire):
    for row in archetypes.profiles.itertuples():
        shape = pd.Series({d: getattr(row, f"shape_{d}") for d in questionnaire.dimension_ids})
        high_word = questionnaire.dimension(shape.idxmax()).meta["archetype_words"]["high"]
        assert row.archetype.startswith(high_word), row.archetype
        assert questionnaire.dimension(shape.idxmin()).meta["archetype_words"]["low"] in row.archetype
        assert row.pattern.startswith(f"high {questionnaire.dimension(shape.idxmax()).short}"), row.pattern


def test_profile_columns_mean_what_they_say(archetypes, sample_scores):
    """Means and z_ (difference to the organisation in SDs; findings and charts read it): over every
    member; shape_: the clustered (complete) members' scores relative to their own average, compared
    with the organisation's, in SDs; overall: the weighted mean of the archetype's dimension means."""
    q = sample_scores.questionnaire
    dims = q.dimension_ids
    everyone = sample_scores.respondents
    complete = everyone.dropna(subset=dims)
    org_shape = complete[dims].sub(complete[dims].mean(axis=1), axis=0)
    members_of = everyone.set_index("respondent_id").loc[archetypes.labels.index].groupby(archetypes.labels)
    profiles = archetypes.profiles.set_index("archetype")
    units = sample_scores.units
    assert not (units["hidden"] & ~units["suppressed"]).any()  # the demo hides no dimension of a shown unit
    for name, members in members_of:
        row = profiles.loc[name]
        full = members.dropna(subset=dims)
        z = (members[dims].mean() - everyone[dims].mean()) / everyone[dims].std()
        shape = (full[dims].sub(full[dims].mean(axis=1), axis=0).mean() - org_shape.mean()) / org_shape.std()
        for d in dims:
            assert row[d] == pytest.approx(members[d].mean())
            assert row[f"z_{d}"] == pytest.approx(z[d]) and row[f"shape_{d}"] == pytest.approx(shape[d])
        level = float((members[dims].mean() * q.weights).sum() / q.weights.sum())
        assert row["size"] == len(members) and row["overall"] == pytest.approx(level)
        assert row["level_z"] == pytest.approx((level - everyone["overall"].mean()) / everyone["overall"].std())


def test_excluded_respondents_are_counted(archetypes, sample_scores):
    dims = sample_scores.questionnaire.dimension_ids
    shown = sample_scores.respondents["unit"].isin(sample_scores.reportable_units)
    incomplete = sample_scores.respondents.loc[shown, dims].isna().any(axis=1).sum()
    assert archetypes.n_excluded == incomplete > 0
    # Only the reportable units' respondents take part: a hidden unit's answers reach no profile.
    assert archetypes.n_clustered + archetypes.n_excluded == shown.sum() < len(sample_scores.respondents)


def test_compositions_hide_small_cells_and_suppressed_units(archetypes, sample_scores):
    units = archetypes.composition_units
    assert set(sample_scores.suppressed_units).isdisjoint(units.columns)
    assert ((units >= 5) | units.isna()).all().all()
    roles = archetypes.composition_roles
    assert ((roles >= 5) | roles.isna()).all().all()
    # No row or column of the full table (suppressed units included) has exactly one hidden cell,
    # or hidden cells that add up to fewer than five people: nothing can be recovered by subtraction.
    resp = sample_scores.respondents.set_index("respondent_id").loc[archetypes.labels.index]
    for key, table in (("unit", units), ("role", roles)):
        full = pd.crosstab(archetypes.labels.to_numpy(), resp[key].to_numpy())
        shown = table.reindex(index=full.index, columns=full.columns)
        hidden = shown.isna() & (full > 0)
        for r in full.index:
            cells = full.loc[r][hidden.loc[r]]
            assert len(cells) != 1 and (cells.sum() >= 5 or len(cells) == 0), (key, r)
        for c in full.columns:
            cells = full[c][hidden[c]]
            visible = (~hidden[c] & (full[c] > 0)).any()
            assert not visible or (len(cells) != 1 and (cells.sum() >= 5 or len(cells) == 0)), (key, c)


def test_small_archetypes_are_suppressed(sample_responses):
    scores = score(sample_responses, rules=ScoringRules(min_group_size=50, min_comment_group=50))
    result = cluster_respondents(scores)
    hidden = set(result.profiles.loc[result.profiles["suppressed"], "archetype"])
    assert hidden and hidden.isdisjoint(set(result.reportable["archetype"]))
    assert hidden.isdisjoint(set(result.composition_units.index))


def test_units_are_ranked_when_few(sample_scores):
    few = cluster_units(sample_scores)
    assert not few.clustered and "ranked" in few.reason
    assert list(few.table["rank"]) == list(range(1, len(few.table) + 1))
    assert few.table["score"].is_monotonic_decreasing
    assert set(few.table["unit"]).isdisjoint(sample_scores.suppressed_units)


@pytest.mark.parametrize("seed", (9, 1, 4))
def test_units_spread_in_level_are_ranked_not_grouped(seed):
    """Ward on the whole profiles cut these 24 units into higher and lower groups (issue 11)."""
    many = cluster_units(make_portfolio("portfolio_sample", seed).scores)
    assert len(many.table) == 24 and not many.clustered and "group" not in many.table
    assert "patterns do not fall into clear groups" in many.reason and "ranked" in many.reason
    assert many.silhouette < 0.5 and many.table["score"].is_monotonic_decreasing


@pytest.mark.parametrize("seed", (1, 2, 3))
def test_units_that_share_a_pattern_are_grouped(seed):
    situation = make_portfolio("portfolio_patterns", seed)
    many = cluster_units(situation.scores)
    assert many.clustered and many.k == 2 and many.silhouette >= 0.5
    groups = many.table.set_index("unit")["group"]
    assert groups.notna().all()
    assert adjusted_rand_score(situation.truth.loc[groups.index], groups) == pytest.approx(1.0)
    first = many.table[many.table["group"] == 1]["score"].mean()
    assert first == pytest.approx(many.table.groupby("group")["score"].mean().max())


def test_clustering_runs_on_one_thread(sample_scores, monkeypatch):
    """The mixtures (and their k-means starts) run with scikit-learn's OpenMP and BLAS held to one
    thread (busy cores made threaded k-means 20 times slower), and the machine's own settings are
    back afterwards."""
    from threadpoolctl import threadpool_info

    from pmo_maturity import archetypes as module

    seen = []
    fit = module._mixture

    def watched(k, seed, n_init=3):
        seen.append({i["internal_api"]: i["num_threads"] for i in threadpool_info()})
        return fit(k, seed, n_init)

    monkeypatch.setattr(module, "_mixture", watched)
    before = {i["internal_api"]: i["num_threads"] for i in threadpool_info()}
    cluster_respondents(sample_scores)
    assert seen and all(threads.get("openmp") == 1 and threads.get("openblas", 1) == 1 for threads in seen)
    assert {i["internal_api"]: i["num_threads"] for i in threadpool_info()} == before
