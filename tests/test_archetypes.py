"""Archetypes: recover planted segments, refuse to invent them, respect privacy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from pmo_maturity import ScoringRules, cluster_respondents, cluster_units, load_responses, score
from pmo_maturity.sample import generate_sample


@pytest.fixture(scope="module")
def archetypes(sample_scores):
    return cluster_respondents(sample_scores)


def test_planted_segments_are_recovered(archetypes, sample):
    truth = sample.truth[sample.truth["expected_reason"] == ""].set_index("respondent_id")["segment"]
    common = archetypes.labels.index.intersection(truth.index)
    assert len(common) > 200
    ari = adjusted_rand_score(truth.loc[common], archetypes.labels.loc[common])
    assert ari >= 0.6, f"adjusted Rand index {ari:.2f}"
    assert archetypes.found and archetypes.k == 3
    assert archetypes.silhouette >= 0.25 and (archetypes.profiles["stability"] >= 0.6).all()


def test_uniform_random_answers_have_no_clear_segments(questionnaire, sample_scores):
    rng = np.random.default_rng(11)
    n = len(sample_scores.respondents)
    frame = pd.DataFrame(rng.integers(1, 6, (n, len(questionnaire.item_ids))), columns=questionnaire.item_ids)
    result = cluster_respondents(score(load_responses(frame, questionnaire)))
    assert not result.found
    assert "silhouette" in result.reason and "no substantial structure" in result.reason
    assert result.summary().startswith("No clear segments")


def test_too_few_respondents(questionnaire):
    data = generate_sample(questionnaire, units=1, respondents_per_unit=(12, 12), small_units=0, bad_row_share=0)
    result = cluster_respondents(score(load_responses(data.frame, questionnaire)))
    assert not result.found and result.reason.startswith("too few respondents")


def test_seeded_runs_are_identical(sample_scores, archetypes):
    again = cluster_respondents(sample_scores)
    pd.testing.assert_series_equal(again.labels, archetypes.labels)
    pd.testing.assert_frame_equal(again.profiles, archetypes.profiles)


def test_names_follow_the_profile(archetypes, questionnaire):
    for row in archetypes.profiles.itertuples():
        z = pd.Series({d: getattr(row, f"z_{d}") for d in questionnaire.dimension_ids})
        high_word = questionnaire.dimension(z.idxmax()).meta["archetype_words"]["high"]
        assert row.archetype.startswith(high_word), row.archetype
        assert questionnaire.dimension(z.idxmin()).meta["archetype_words"]["low"] in row.archetype


def test_excluded_respondents_are_counted(archetypes, sample_scores):
    dims = sample_scores.questionnaire.dimension_ids
    incomplete = sample_scores.respondents[dims].isna().any(axis=1).sum()
    assert archetypes.n_excluded == incomplete > 0
    assert archetypes.n_clustered + archetypes.n_excluded == len(sample_scores.respondents)


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
    scores = score(sample_responses, rules=ScoringRules(min_group_size=80, min_comment_group=80))
    result = cluster_respondents(scores)
    hidden = set(result.profiles.loc[result.profiles["suppressed"], "archetype"])
    assert hidden and hidden.isdisjoint(set(result.reportable["archetype"]))
    assert hidden.isdisjoint(set(result.composition_units.index))


def test_units_are_ranked_when_few_and_clustered_when_many(sample_scores, questionnaire):
    few = cluster_units(sample_scores)
    assert not few.clustered and "ranked" in few.reason
    assert list(few.table["rank"]) == list(range(1, len(few.table) + 1))
    assert few.table["score"].is_monotonic_decreasing
    assert set(few.table["unit"]).isdisjoint(sample_scores.suppressed_units)
    big = generate_sample(questionnaire, units=24, respondents_per_unit=(20, 30), small_units=0, seed=9)
    many = cluster_units(score(load_responses(big.frame, questionnaire)))
    assert len(many.table) == 24
    if many.clustered:
        assert many.k >= 2 and many.table["group"].notna().all()
        first = many.table[many.table["group"] == 1]["score"].mean()
        assert first == pytest.approx(many.table.groupby("group")["score"].mean().max())
    else:
        assert "silhouette" in many.reason


def test_clustering_runs_on_one_thread(sample_scores, monkeypatch):
    """k-means runs with scikit-learn's OpenMP and BLAS held to one thread (busy cores made threaded
    k-means 20 times slower), and the machine's own settings are back afterwards."""
    from threadpoolctl import threadpool_info

    from pmo_maturity import archetypes as module

    seen = []
    fit = module._kmeans

    def watched(k, seed):
        seen.append({i["internal_api"]: i["num_threads"] for i in threadpool_info()})
        return fit(k, seed)

    monkeypatch.setattr(module, "_kmeans", watched)
    before = {i["internal_api"]: i["num_threads"] for i in threadpool_info()}
    cluster_respondents(sample_scores)
    assert seen and all(threads.get("openmp") == 1 and threads.get("openblas", 1) == 1 for threads in seen)
    assert {i["internal_api"]: i["num_threads"] for i in threadpool_info()} == before
