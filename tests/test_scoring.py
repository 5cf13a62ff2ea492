"""The scoring rules of DESIGN section 4, checked against numbers derived by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from scipy.stats import t as stats_t

from pmo_maturity import ConfigurationError, ScoringRules, load_questionnaire, load_responses, score
from pmo_maturity.sample import sample_path

from .conftest import export_of, write_yaml


def _load(tmp_path, q, rows, **kwargs):
    path = tmp_path / "answers.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return load_responses(path, q, **kwargs)


def test_respondent_scores_by_hand(tmp_path, tiny_yaml):
    q = load_questionnaire(tiny_yaml)
    rows = [
        # A3 is reverse keyed: 1 -> 5. Alpha mean (4 + 5 + 5) / 3; beta (2 + 3) / 2.
        {"id": "r1", "A1": 4, "A2": "Strongly agree", "A3": 1, "B1": 2, "B2": 3},
        # Alpha: 2 of 3 answered = 67% >= 60% -> (2 + 4)/2 = 3 with A3 = 2 -> 4; beta: 1 of 2 = 50% -> missing.
        {"id": "r2", "A1": 2, "A2": "Don't know", "A3": 2, "B1": 5, "B2": None},
        # Alpha: 1 of 3 = 33% -> missing; beta: (1 + 1) / 2.
        {"id": "r3", "A1": None, "A2": None, "A3": 5, "B1": 1, "B2": 1},
        # Three more like r1, so that five respondents score each dimension (the smallest group shown).
        *({"id": f"r{i}", "A1": 4, "A2": "Strongly agree", "A3": 1, "B1": 2, "B2": 3} for i in (4, 5, 6)),
    ]
    scores = score(_load(tmp_path, q, rows), n_resamples=200)
    got = scores.respondents.set_index("respondent_id")
    assert got.loc["r1", "alpha"] == pytest.approx(14 / 3)
    assert got.loc["r1", "beta"] == pytest.approx(2.5)
    assert got.loc["r2", "alpha"] == pytest.approx(3.0)
    assert math.isnan(got.loc["r2", "beta"])
    assert math.isnan(got.loc["r3", "alpha"]) and got.loc["r3", "beta"] == 1.0
    # Respondent overall: weighted (alpha weight 2, beta 1) mean of the scored dimensions.
    assert got.loc["r1", "overall"] == pytest.approx((2 * 14 / 3 + 2.5) / 3)
    assert got.loc["r2", "overall"] == pytest.approx(3.0)
    # Organisation: mean of respondent scores; overall = weighted mean of dimension means.
    org = scores.organisation.set_index("dimension")
    alpha, beta = (4 * 14 / 3 + 3) / 5, (4 * 2.5 + 1) / 5
    assert org.loc["alpha", "mean"] == pytest.approx(alpha) and org.loc["alpha", "n"] == 5
    assert org.loc["beta", "mean"] == pytest.approx(beta) and org.loc["beta", "n"] == 5
    overall = scores.overall_for()
    expected = (2 * alpha + beta) / 3
    assert overall["score"] == pytest.approx(expected)
    assert overall["index"] == pytest.approx((expected - 1) / 4 * 100)


def test_an_organisation_dimension_scored_by_fewer_than_five_is_hidden(tmp_path, tiny_yaml):
    q = load_questionnaire(tiny_yaml)
    rows = [{"id": f"r{i}", "A1": 4, "A2": 5, "A3": 1, "B1": None if i < 3 else 2, "B2": None if i < 3 else 3}
            for i in range(6)]
    scores = score(_load(tmp_path, q, rows), n_resamples=200)
    org = scores.organisation.set_index("dimension")
    assert org.loc["alpha", "n"] == 6 and org.loc["alpha", "mean"] == pytest.approx(14 / 3)
    # Only three people scored beta: neither their mean nor their count is published.
    assert pd.isna(org.loc["beta", "mean"]) and pd.isna(org.loc["beta", "n"])
    assert org.loc["beta", "level_name"] == "too few answers"
    assert scores.overall_for()["score"] == pytest.approx(14 / 3)  # on the shown dimension only


def test_min_answered_rounds_up(tiny_yaml):
    q = load_questionnaire(tiny_yaml)
    assert q.dimension("alpha").min_answered(0.6) == 2  # ceil(1.8)
    assert q.dimension("beta").min_answered(0.6) == 2  # ceil(1.2)
    assert q.dimension("beta").min_answered(0.5) == 1


def test_respondents_with_no_scorable_dimension_are_quarantined(tmp_path, tiny_yaml):
    q = load_questionnaire(tiny_yaml)
    rows = [{"id": "ok", "A1": 4, "A2": 4, "A3": 2, "B1": 4, "B2": 4},
            {"id": "thin", "A1": 4, "A2": None, "A3": None, "B1": 4, "B2": None}]
    scores = score(_load(tmp_path, q, rows), n_resamples=200)
    dq = scores.data_quality
    assert dq["rows_in"] == 2 and dq["rows_scored"] == 1 and dq["quarantined_by_reason"] == {"too_few_answers": 1}


def test_levels_overall_and_staged(tmp_path, tiny_yaml):
    q = load_questionnaire(tiny_yaml)
    rows = [{"id": f"r{i}", "A1": 5, "A2": 5, "A3": 1, "B1": 2, "B2": 2} for i in range(6)]
    scores = score(_load(tmp_path, q, rows), n_resamples=200)
    org = scores.organisation.set_index("dimension")
    assert org.loc["alpha", "level_name"] == "Optimising" and org.loc["beta", "level_name"] == "Emerging"
    overall = scores.overall_for()
    assert overall["score"] == pytest.approx((2 * 5 + 2) / 3)  # 4.0 -> Integrated (3.4-4.2)
    assert overall["continuous_level_name"] == "Integrated"
    assert overall["staged_level_name"] == "Emerging"  # the least integrated dimension
    assert overall["levels_differ"]


@pytest.mark.parametrize(("scale", "answers", "expected"), [
    ("{min: 1, max: 6}", [6, 1, 5], (6 + (1 + 6 - 1) + 5) / 3),
    ("{min: 0, max: 10}", [10, 0, 7], (10 + (0 + 10 - 0) + 7) / 3),
])
def test_other_instruments_defined_only_in_yaml(tmp_path, scale, answers, expected):
    path = write_yaml(tmp_path / "other.yaml", f"""
        id: other
        version: "3"
        title: Other
        scale: {scale}
        dimensions:
          - id: d
            name: D
            items:
              - {{id: D1, text: Statement one}}
              - {{id: D2, text: Statement two, reverse: true}}
              - {{id: D3, text: Statement three}}
        """)
    q = load_questionnaire(path)
    rows = [{"D1": answers[0], "D2": answers[1], "D3": answers[2]} for _ in range(12)]
    scores = score(_load(tmp_path, q, rows), n_resamples=200)
    org = scores.organisation.iloc[0]
    assert org["mean"] == pytest.approx(expected)
    assert org["index"] == pytest.approx((expected - q.scale.min) / q.scale.range * 100)
    assert org["level"] == q.level_of(expected)
    assert scores.rules.gap_points(q) == pytest.approx(q.scale.range / 8)
    # The rwg null follows the scale width: A = 6 -> 35/12 = 2.92, A = 11 -> 120/12 = 10.00.
    null = (q.scale.points ** 2 - 1) / 12
    assert f"(A^2 - 1)/12 = {null:.2f}" in " ".join(scores.rules.describe(q))
    bad = _load(tmp_path, q, [{"D1": q.scale.max + 1, "D2": 1, "D3": 1}])
    assert bad.summary["quarantined_by_reason"] == {"out_of_range": 1}


def test_sample_units_scores_and_suppression(sample_scores, sample):
    units = sample_scores.units
    sizes = sample_scores.respondents["unit"].value_counts()
    small = set(sizes[sizes < 5].index)
    assert small == {"Customer Service", "Research & Development"}
    assert set(sample_scores.suppressed_units) == small
    hidden = units[units["unit"].isin(small)]
    assert hidden["mean"].isna().all() and hidden["suppressed"].all()
    shown = units[~units["unit"].isin(small)]
    by_hand = sample_scores.respondents.groupby("unit")[sample_scores.questionnaire.dimension_ids].mean()
    for row in shown.itertuples():
        assert row.mean == pytest.approx(by_hand.loc[row.unit, row.dimension])
        assert row.ci_low < row.mean < row.ci_high


def test_complementary_suppression_of_units(tmp_path, questionnaire, sample):
    frame = sample.frame[sample.truth["expected_reason"] == ""].copy()
    # Leave exactly one small unit: the next-smallest unit must be suppressed too.
    frame = frame[frame["business_unit"] != "Research & Development"]
    path = tmp_path / "one_small.csv"
    frame.to_csv(path, index=False)
    scores = score(load_responses(path, questionnaire), n_resamples=200)
    hidden = scores.suppressed_units
    sizes = scores.respondents["unit"].value_counts()
    smallest_big = sizes[sizes >= 5].idxmin()
    assert hidden == {"Customer Service": "small", smallest_big: "complementary"}


def test_gaps_only_between_reportable_roles(sample_scores):
    gaps = sample_scores.gaps
    org = gaps[gaps["scope"] == "Organisation"]
    roles = sample_scores.roles
    hidden = set(roles.loc[roles["suppressed"], "role"])
    assert hidden.isdisjoint(set(org["higher"]) | set(org["lower"]))
    assert (org["difference"] >= 0).all()
    threshold = sample_scores.rules.gap_points(sample_scores.questionnaire)
    assert threshold == 0.5
    # Flagged: at least the threshold AND clear of zero after Holm's adjustment within the scope.
    assert (gaps["flagged"] == ((gaps["difference"] >= 0.5) & (gaps["p_adjusted"] < 0.05))).all()
    assert ((org["difference"] >= 0.5) & ~org["flagged"]).any()  # wide but not clear: not flagged
    vision = org[(org["dimension"] == "vision") & org["flagged"]]
    assert "Executive sponsor" in set(vision["higher"])  # the generator plants this gap
    cells = sample_scores.role_cells
    unit_gaps = gaps[gaps["scope"] != "Organisation"]
    shown_cells = cells[~cells["suppressed"]]
    for g in unit_gaps.itertuples():
        for role in (g.higher, g.lower):
            assert ((shown_cells["unit"] == g.scope) & (shown_cells["role"] == role)).any()
    assert cells.loc[cells["n"] < 5, "suppressed"].all()


def test_reliability_agreement_and_icc_tables(sample_scores):
    rel = sample_scores.reliability
    assert len(rel) == 8 and (rel["alpha"] > 0.7).all() and (rel["ci_low"] < rel["alpha"]).all()
    agree = sample_scores.agreement
    assert set(agree["unit"]) == set(sample_scores.reportable_units)  # suppressed units are not even listed
    assert agree["rwg_j"].between(0, 1).all() and len(agree) == 6 * 8
    icc = sample_scores.icc
    # Across the six shown units only: a hidden unit would be recoverable from the mean squares.
    assert len(icc) == 8 and icc["icc1"].between(-1, 1).all() and (icc["units"] == 6).all()


def test_reliability_needs_ten_respondents(tmp_path, tiny_yaml):
    q = load_questionnaire(tiny_yaml)
    rows = [{"id": f"r{i}", "A1": i % 5 + 1, "A2": (i + 1) % 5 + 1, "A3": 3, "B1": 3, "B2": 4} for i in range(6)]
    scores = score(_load(tmp_path, q, rows), n_resamples=200)
    assert set(scores.reliability["status"]) == {"not enough data"}


def test_seeded_scores_repeat(sample_responses):
    a = score(sample_responses)
    b = score(sample_responses)
    pd.testing.assert_frame_equal(a.units, b.units)
    pd.testing.assert_frame_equal(a.overall, b.overall)


def test_unit_interval_is_the_same_alone_and_with_the_organisation(sample_responses):
    together = score(sample_responses).units
    alone = score(sample_responses.for_unit("Finance")).units
    a = together[together["unit"] == "Finance"].reset_index(drop=True)
    b = alone[alone["unit"] == "Finance"].reset_index(drop=True)
    pd.testing.assert_frame_equal(a[["mean", "ci_low", "ci_high"]], b[["mean", "ci_low", "ci_high"]])


@pytest.mark.parametrize("bad", [{"min_group_size": 2}, {"min_answered": 0}, {"min_answered": 1.5},
                                 {"confidence": 1.0}, {"gap_threshold": -1}])
def test_invalid_rules_are_refused(bad):
    with pytest.raises(ConfigurationError):
        ScoringRules(**bad)


def test_comment_group_follows_a_larger_group_size():
    """Comments need groups of at least 10 and never smaller than the reportable minimum: the rules
    derive it, so ``min_group_size=12`` alone is valid (the CLI refused it before)."""
    assert ScoringRules().min_comment_group == 10
    assert ScoringRules(min_group_size=12).min_comment_group == 12
    assert ScoringRules(min_group_size=4, min_comment_group=6).min_comment_group == 6
    with pytest.raises(ConfigurationError, match=r"min_comment_group \(6\) must be at least min_group_size \(8\)"):
        ScoringRules(min_group_size=8, min_comment_group=6)


def test_unknown_rule_is_refused(sample_responses):
    with pytest.raises(ConfigurationError, match="unknown scoring rule"):
        score(sample_responses, min_grup_size=4)


def test_rules_are_described_with_their_numbers(sample_scores):
    text = " ".join(sample_scores.rules.describe(sample_scores.questionnaire))
    for needle in ("60%", "2000 seeded resamples", "x' = 1 + 5 - x", "under 0.70", "0.50 points",
                   "(A^2 - 1)/12 = 2.00", "under 5 respondents", "Holm's adjustment", "groups of at least 10"):
        assert needle in text


def test_write_csv_xlsx_json_with_provenance_and_no_formulas(tmp_path, sample_responses):
    frame = sample_responses.data.copy()
    scores = score(sample_responses)
    scores.units.loc[scores.units.index[0], "name"] = "=HYPERLINK(\"http://x\")"
    csv_path = scores.write(tmp_path / "s.csv")
    text = csv_path.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    table = pd.read_csv(csv_path)
    assert set(table["scope"]) == {"organisation", "unit", "role"}
    assert (table["input_sha256"] == sample_responses.input_hash).all()
    xlsx = scores.write(tmp_path / "s.xlsx")
    wb = load_workbook(xlsx)
    assert {"scores", "reliability", "agreement", "icc", "gaps", "data quality", "provenance"} <= set(wb.sheetnames)
    values = [c.value for row in wb["scores"].iter_rows() for c in row if isinstance(c.value, str)]
    assert not [v for v in values if v.startswith("=")]
    payload = json.loads(scores.write(tmp_path / "s.json").read_text())
    assert payload["provenance"]["questionnaire_id"] == "pmo-integration"
    assert payload["provenance"]["input_sha256"] == sample_responses.input_hash
    assert payload["data_quality"]["rows_in"] == 282
    assert "respondents" not in payload
    assert len(frame) == len(sample_responses.data)  # the input was not mutated
    with pytest.raises(ConfigurationError, match="use a .csv, .xlsx or .json"):
        scores.write(tmp_path / "s.txt")


def test_score_does_not_mutate_responses(sample_responses):
    before = sample_responses.data.copy()
    score(sample_responses)
    pd.testing.assert_frame_equal(before, sample_responses.data)
    assert np.isfinite(sample_responses.data[sample_responses.questionnaire.item_ids[0]]).any()


def test_chunked_kernels_agree_with_the_plain_formulas(sample_scores, sample_responses):
    """Reliability and agreement come from one chunked pass; check them against stats.py directly."""
    from pmo_maturity import stats

    q = sample_responses.questionnaire
    items = sample_responses.items(reverse=True)
    for row in sample_scores.reliability.itertuples():
        block = items[q.dimension(row.dimension).item_ids].to_numpy()
        assert row.alpha == pytest.approx(stats.cronbach_alpha(block), rel=1e-10)
    shown = sample_scores.agreement[sample_scores.agreement["status"] != "suppressed"]
    units = sample_responses.data["unit"]
    for row in shown.itertuples():
        block = items.loc[(units == row.unit).to_numpy(), q.dimension(row.dimension).item_ids].to_numpy()
        assert row.rwg_j == pytest.approx(stats.rwg_j(block, q.scale.points), rel=1e-10)


def test_results_do_not_depend_on_the_chunk_size(sample_responses, monkeypatch):
    from pmo_maturity import _scan

    reference = score(sample_responses)
    monkeypatch.setattr(_scan, "CHUNK", 7)
    chunked = score(sample_responses)
    for name in ("organisation", "units", "reliability", "agreement", "icc", "gaps"):
        pd.testing.assert_frame_equal(getattr(reference, name), getattr(chunked, name), rtol=1e-9)


def test_icc_matches_a_direct_anova_of_the_respondent_scores(sample_scores):
    from pmo_maturity import stats

    resp = sample_scores.respondents
    resp = resp[resp["unit"].isin(sample_scores.reportable_units)]  # the ICCs are of the shown units
    for row in sample_scores.icc.itertuples():
        direct = stats.icc_oneway(resp[row.dimension].to_numpy(), resp["unit"].to_numpy())
        assert row.icc1 == pytest.approx(direct.icc1, rel=1e-9)
        assert row.icc2 == pytest.approx(direct.icc2, rel=1e-9)


@pytest.mark.parametrize("threads", [2, 3])
def test_results_do_not_depend_on_the_threads(monkeypatch, threads):
    """Large files split their rows between threads; small chunks and forced threads on the
    sample must give exactly the single-threaded load and scores."""
    from pmo_maturity import _scan

    monkeypatch.setattr(_scan, "CHUNK", 16)
    monkeypatch.setattr(_scan, "thread_count", lambda: 1)
    serial_responses = load_responses(sample_path())
    serial = score(serial_responses)
    monkeypatch.setattr(_scan, "thread_count", lambda: threads)
    threaded_responses = load_responses(sample_path())
    threaded = score(threaded_responses)
    pd.testing.assert_frame_equal(serial_responses.data, threaded_responses.data)
    pd.testing.assert_frame_equal(serial_responses.quarantine, threaded_responses.quarantine)
    for name in ("respondents", "organisation", "units", "roles", "reliability", "agreement", "icc", "gaps",
                 "role_cells"):
        pd.testing.assert_frame_equal(getattr(serial, name), getattr(threaded, name), check_exact=True)


def test_unit_interval_from_one_pass_sums_is_the_same_alone_and_with_the_organisation(sample_responses):
    # With a low bootstrap limit every group takes the analytic interval from the one-pass sums.
    together = score(sample_responses, bootstrap_max_n=3)
    alone = score(sample_responses.for_unit("Finance"), bootstrap_max_n=3)
    assert together.overall.set_index("group").loc["Finance", "method"].startswith("Student t")
    a = together.units[together.units["unit"] == "Finance"].reset_index(drop=True)
    b = alone.units[alone.units["unit"] == "Finance"].reset_index(drop=True)
    pd.testing.assert_frame_equal(a[["n", "mean", "ci_low", "ci_high"]], b[["n", "mean", "ci_low", "ci_high"]],
                                  rtol=1e-12)
    shown = together.units[~together.units["suppressed"] & ~together.units["hidden"]]
    assert len(shown) >= 8
    x = together.respondents
    for (unit, dim), row in shown.set_index(["unit", "dimension"]).iterrows():
        values = x.loc[x["unit"] == unit, dim].dropna()
        half = stats_t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
        assert row["mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert row["ci_low"] == pytest.approx(values.mean() - half, rel=1e-9)


def test_large_group_sums_cover_only_the_large_groups_among_many_small_ones():
    # One unit above the bootstrap size among 20,000 single-respondent units: the one-pass sums are
    # taken for that unit alone (work and memory by large group, not by every group), and they give
    # its pandas pairwise covariance and means.
    from pmo_maturity._scan import covariance_from_sums
    from pmo_maturity.scoring import _Groups, _large_group_sums

    rng = np.random.default_rng(5)
    n_big, n_small = 2500, 20_000
    labels = pd.Series(rng.permutation(np.array(["Big"] * n_big + [f"u{i:05d}" for i in range(n_small)], dtype=object)))
    x = np.asfortranarray(rng.normal(3, 0.6, size=(n_big + n_small, 4)))
    x[rng.random(x.shape) < 0.1] = np.nan
    units = _Groups.of(labels)
    org, (by_unit,) = _large_group_sums(x, [units], ScoringRules())
    big = units.names.index("Big")
    assert list(by_unit) == [big] and list(org) == [0]
    rows = pd.DataFrame(x[(labels == "Big").to_numpy()])
    sums = by_unit[big]
    np.testing.assert_allclose(covariance_from_sums(sums.counts, sums.sums, sums.products), rows.cov(), rtol=1e-9)
    np.testing.assert_allclose(np.diag(sums.sums) / np.diag(sums.counts) + sums.centre, rows.mean(), rtol=1e-12)
    everyone = org[0]
    np.testing.assert_array_equal(np.diag(everyone.counts), pd.DataFrame(x).notna().sum())


def test_gap_intervals_match_welch_on_the_respondents(sample_scores):
    """Each gap's interval and p-value are Welch's on the two groups' respondent scores (scipy),
    organisation-wide and inside a unit."""
    from scipy import stats as st

    resp = sample_scores.respondents
    gaps = sample_scores.gaps
    checked = 0
    for scope in ("Organisation", "Finance"):
        rows = gaps[gaps["scope"] == scope].head(6)
        people = resp if scope == "Organisation" else resp[resp["unit"] == scope]
        for g in rows.itertuples():
            a = people.loc[people["role"] == g.higher, g.dimension].dropna()
            b = people.loc[people["role"] == g.lower, g.dimension].dropna()
            result = st.ttest_ind(a, b, equal_var=False)
            ci = result.confidence_interval(0.95)
            assert (len(a), len(b)) == (g.n_higher, g.n_lower)
            assert g.difference == pytest.approx(a.mean() - b.mean(), abs=1e-12)
            assert (g.ci_low, g.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
            assert g.p_value == pytest.approx(result.pvalue, rel=1e-9)
            checked += 1
    assert checked == 12


def test_gap_p_values_are_holm_adjusted_within_each_scope(sample_scores):
    gaps = sample_scores.gaps
    for scope, block in gaps.groupby("scope"):
        p = block["p_value"].to_numpy()
        m = int(np.isfinite(p).sum())
        assert (block["comparisons"] == m).all()
        order = np.argsort(p)
        # Holm's step-down procedure written out: reject in order while p_(i) <= alpha / (m - i).
        rejected, stop = set(), False
        for i, k in enumerate(order[:m]):
            if not stop and p[k] <= 0.05 / (m - i):
                rejected.add(k)
            else:
                stop = True
        assert {k for k in range(len(p)) if block["p_adjusted"].to_numpy()[k] < 0.05} == rejected, scope


def test_a_unit_called_organisation(questionnaire):
    data = export_of([("Organisation", "R", 20, 4), ("Other", "R", 20, 2)], questionnaire)
    scores = score(load_responses(data, questionnaire))
    assert scores.overall_for("Organisation")["n"] == 20
    assert scores.overall_for()["n"] == 40


def test_nothing_scored_gives_empty_tables_not_a_crash(questionnaire):
    data = export_of([("Finance", "Team member", 6, 3)], questionnaire)
    data[questionnaire.item_ids] = 9  # every answer out of range: every row quarantined
    scores = score(load_responses(data))
    assert scores.data_quality["rows_scored"] == 0 and scores.data_quality["rows_quarantined"] == 6
    assert scores.units.empty and scores.respondents.empty
    no_units = export_of([("Finance", "Team member", 6, 3)], questionnaire).assign(**{"Business unit": None})
    scores = score(load_responses(no_units, require_unit=False))
    assert len(scores.respondents) == 6 and scores.units.empty
