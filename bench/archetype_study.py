"""Study: which clustering method finds respondent archetypes that exist, and only those (issue 11).

Run by hand from the repository root, seeded (a second run prints the same tables):

    .venv/bin/python bench/archetype_study.py            # 14 situations x 5 seeds, 300 respondents (~4 min)
    .venv/bin/python bench/archetype_study.py --large    # 20,000 respondents, likelihood methods (~10 min)
    .venv/bin/python bench/archetype_study.py --units    # the portfolio view: groups of 24 business units

The situations are built by ``make_situation`` and ``make_portfolio`` in ``tests/test_archetypes.py``
(the tests check the chosen method on the same data): answers simulated item by item on the bundled
40-item instrument and scored by the kit, so that dimension scores are means of about five answers
on 1-5 (discrete and bounded).

Methods compared, each choosing between no segments and 2-6 (at least 10 respondents per cluster):

- ``km-sil``: the method before this study: k-means on standardised scores, k from 2 to 6 by
  silhouette, "no segments" under 0.25 or when a cluster's bootstrap Jaccard is under 0.60;
- ``gmm-bic``: Gaussian mixtures (full covariances) on standardised scores, k from 1 by BIC;
- ``gmm-icl``: the same with the integrated completed likelihood, BIC plus twice the
  classification entropy (Biernacki, Celeux & Govaert 2000), which asks for separated groups;
- ``gap``: k-means on standardised scores, k by the gap statistic with a reference drawn uniformly
  in the box aligned with the data's principal components, 20 references, the 1-SE rule
  (Tibshirani, Walther & Hastie 2001);
- ``ps``: k-means on standardised scores, the largest k whose prediction strength (two halves,
  five splits, mean of the minimum over test clusters) is at least 0.8 (Tibshirani & Walther 2005);
- the same on person-centred profiles (``c-`` prefix): each respondent's own mean across the
  dimensions subtracted, which removes the general factor (the level) and keeps the pattern;
- ``c-tied-bic``, ``c-tied-icl``: mixtures with one covariance shared by all groups;
- with ``--large`` also the kit's selection without its stability check, with only the model's mode
  condition or with both (``c-modes-model``, ``c-modes-both``), and the same on whole standardised
  profiles (``tied-bic``, ``tied-modes-model``, ``tied-modes-both``; what the kit's level groups use);
- ``kit``: :func:`pmo_maturity.cluster_respondents` as it stands in this checkout (in brackets,
  the flags it raises: ``mirrors_units``, ``level_only``).

Each cell is the adjusted Rand index against the planted groups, or ``none`` when the method
returns no segments; for the situations without segments ``none`` is the right answer and the
number of segments found is printed otherwise. The tables are printed as Markdown (for
docs/method.md) and written to ``outputs/archetype_study*.csv``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scipy.linalg import helmert  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.metrics import adjusted_rand_score, silhouette_score  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from pmo_maturity import cluster_respondents, cluster_units  # noqa: E402
from tests.test_archetypes import make_portfolio, make_situation, recovery  # noqa: E402

K_MAX = 6
MIN_PER_CLUSTER = 10
SITUATIONS = {  # name -> (seeds, whether segments are planted)
    "sample": ((2026, 2027, 2028, 2029, 2030), True),
    "two_dimensions": ((1, 2, 3, 4, 5), True),
    "two_dimensions_factor": ((1, 2, 3, 4, 5), True),
    "two_dimensions_unequal": ((1, 2, 3, 4, 5), True),
    "two_dimensions_small": ((1, 2, 3, 4, 5), True),
    "three_segments": ((1, 2, 3, 4, 5), True),
    "general_factor": ((1, 2, 3, 4, 5), False),
    "general_factor_strong": ((1, 2, 3, 4, 5), False),
    "ceiling": ((1, 2, 3, 4, 5), False),
    "uniform": ((1, 2, 3, 4, 5), False),
    "unit_levels": ((1, 2, 3, 4, 5), False),
    "unit_shapes": ((1, 2, 3, 4, 5), True),
    "level_groups": ((1, 2, 3, 4, 5), False),
}


def standardised(x: np.ndarray) -> np.ndarray:
    return StandardScaler().fit_transform(x)


def centred(x: np.ndarray) -> np.ndarray:
    """Person-centred profiles in an orthonormal basis of the p - 1 contrasts (Helmert): the same
    distances as subtracting each respondent's mean, without the singular direction."""
    return x @ helmert(x.shape[1]).T


def ks_for(n: int) -> list[int]:
    return [k for k in range(1, K_MAX + 1) if n >= MIN_PER_CLUSTER * k]


def kmeans(k: int, seed: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=10, random_state=seed)


def km_silhouette(z: np.ndarray, seed: int) -> np.ndarray:
    """The method before the study: best silhouette over k = 2..6, >= 0.25, stable (Jaccard >= 0.6)."""
    fits = {k: kmeans(k, seed).fit(z) for k in ks_for(len(z)) if k >= 2}
    sil = {k: silhouette_score(z, f.labels_) for k, f in fits.items()}
    best = max(sil, key=lambda k: (round(sil[k], 6), -k))
    if sil[best] < 0.25:
        return np.zeros(len(z), dtype=int)
    labels = fits[best].labels_
    if jaccard(z, labels, best, seed).min() < 0.6:
        return np.zeros(len(z), dtype=int)
    return labels


def jaccard(z: np.ndarray, labels: np.ndarray, k: int, seed: int, n_bootstrap: int = 30) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    totals = np.zeros(k)
    for b in range(n_bootstrap):
        picked = np.unique(rng.integers(0, len(z), len(z)))
        again = kmeans(k, seed + 2 + b).fit_predict(z[picked])
        for c in range(k):
            members = labels[picked] == c
            if members.any():
                totals[c] += max(((members & (again == c2)).sum() / (members | (again == c2)).sum())
                                 for c2 in range(k))
    return totals / n_bootstrap


def gmm(z: np.ndarray, seed: int, criterion: str, covariance: str = "full") -> np.ndarray:
    best, best_value = None, np.inf
    for k in ks_for(len(z)):
        model = GaussianMixture(k, covariance_type=covariance, n_init=3, random_state=seed).fit(z)
        value = model.bic(z)
        if criterion == "icl" and k > 1:
            tau = model.predict_proba(z)
            value += 2 * float(-(tau * np.log(np.clip(tau, 1e-300, None))).sum())
        if value < best_value:
            best, best_value = model, value
    return best.predict(z)


def log_w(z: np.ndarray, labels: np.ndarray) -> float:
    """log of the pooled within-cluster sum of squares."""
    total = sum(((z[labels == c] - z[labels == c].mean(axis=0)) ** 2).sum() for c in np.unique(labels))
    return float(np.log(total))


def gap(z: np.ndarray, seed: int, n_references: int = 20) -> np.ndarray:
    """Gap statistic, reference uniform in the principal-component box, 1-SE rule."""
    rng = np.random.default_rng(seed)
    ks = ks_for(len(z))
    mean = z.mean(axis=0)
    _, _, vt = np.linalg.svd(z - mean, full_matrices=False)
    rotated = (z - mean) @ vt.T
    low, high = rotated.min(axis=0), rotated.max(axis=0)
    fits = {k: (kmeans(k, seed).fit_predict(z) if k > 1 else np.zeros(len(z), dtype=int)) for k in ks}
    observed = np.array([log_w(z, fits[k]) for k in ks])
    reference = np.empty((n_references, len(ks)))
    for b in range(n_references):
        ref = rng.uniform(low, high, size=rotated.shape) @ vt + mean
        for j, k in enumerate(ks):
            labels = (KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(ref) if k > 1
                      else np.zeros(len(ref), dtype=int))
            reference[b, j] = log_w(ref, labels)
    gaps = reference.mean(axis=0) - observed
    s = reference.std(axis=0) * np.sqrt(1 + 1 / n_references)
    for j, k in enumerate(ks[:-1]):
        if gaps[j] >= gaps[j + 1] - s[j + 1]:
            return fits[k]
    return fits[ks[-1]]


def prediction_strength(z: np.ndarray, seed: int, threshold: float = 0.8, splits: int = 5) -> np.ndarray:
    """Largest k whose prediction strength reaches the threshold (k = 1 always does)."""
    rng = np.random.default_rng(seed)
    chosen = 1
    for k in ks_for(len(z) // 2):
        if k == 1:
            continue
        strengths = []
        for s in range(splits):
            order = rng.permutation(len(z))
            train, test = z[order[: len(z) // 2]], z[order[len(z) // 2:]]
            trained = kmeans(k, seed + s).fit(train)
            test_labels = kmeans(k, seed + s).fit_predict(test)
            predicted = trained.predict(test)
            worst = 1.0
            for c in range(k):
                members = predicted[test_labels == c]
                m = len(members)
                if m < 2:
                    continue
                counts = np.bincount(members, minlength=k)
                worst = min(worst, float((counts * (counts - 1)).sum() / (m * (m - 1))))
            strengths.append(worst)
        if np.mean(strengths) >= threshold:
            chosen = k
    return kmeans(chosen, seed).fit_predict(z) if chosen > 1 else np.zeros(len(z), dtype=int)


METHODS = {
    "km-sil": lambda x, seed: km_silhouette(standardised(x), seed),
    "gmm-bic": lambda x, seed: gmm(standardised(x), seed, "bic"),
    "gmm-icl": lambda x, seed: gmm(standardised(x), seed, "icl"),
    "gap": lambda x, seed: gap(standardised(x), seed),
    "ps": lambda x, seed: prediction_strength(standardised(x), seed),
    "c-km-sil": lambda x, seed: km_silhouette(centred(x), seed),
    "c-gmm-bic": lambda x, seed: gmm(centred(x), seed, "bic"),
    "c-gmm-icl": lambda x, seed: gmm(centred(x), seed, "icl"),
    "c-tied-bic": lambda x, seed: gmm(centred(x), seed, "bic", "tied"),
    "c-tied-icl": lambda x, seed: gmm(centred(x), seed, "icl", "tied"),
    "c-gap": lambda x, seed: gap(centred(x), seed),
    "c-ps": lambda x, seed: prediction_strength(centred(x), seed),
}


def shared_covariance(z: np.ndarray, seed: int, conditions: str) -> np.ndarray:
    """The kit's selection (shared-covariance mixtures, lowest BIC) with none, the model's or both
    of its mode conditions, without the stability check: what each condition adds."""
    from pmo_maturity.archetypes import _mixture, _modes_in_data, _modes_in_model

    best, best_value = None, np.inf
    for k in ks_for(len(z)):
        model = _mixture(k, seed).fit(z)
        if k > 1 and "model" in conditions and not _modes_in_model(model):
            continue
        if k > 1 and "data" in conditions and not _modes_in_data(model, z):
            continue
        if model.bic(z) < best_value:
            best, best_value = model, model.bic(z)
    return best.predict(z)


ABLATION = {  # patterns (as the kit's archetypes) and whole profiles (as its level groups)
    "c-modes-model": lambda x, seed: shared_covariance(centred(x), seed, "model"),
    "c-modes-both": lambda x, seed: shared_covariance(centred(x), seed, "model+data"),
    "tied-bic": lambda x, seed: shared_covariance(standardised(x), seed, ""),
    "tied-modes-model": lambda x, seed: shared_covariance(standardised(x), seed, "model"),
    "tied-modes-both": lambda x, seed: shared_covariance(standardised(x), seed, "model+data"),
}
METHODS.update(ABLATION)
LARGE = {  # the large-file check: situations where a likelihood criterion may over-split, and two with segments
    "situations": ("ceiling", "general_factor_strong", "uniform", "unit_levels", "level_groups",
                   "two_dimensions_small", "three_segments"),
    "methods": ("c-gmm-bic", "c-gmm-icl", "c-tied-bic", "c-tied-icl", *ABLATION, "kit"),
    "seeds": (1, 2, 3),
    "n": 20_000,
}


PORTFOLIOS = {"portfolio_sample": ((9, 1, 2, 3, 4), False), "portfolio_patterns": ((1, 2, 3, 4, 5), True)}


def ward(profiles: np.ndarray, cutoff: float) -> np.ndarray | None:
    """Ward clustering of unit profiles, k from 2 to 4 (at least 3 units each) by silhouette."""
    from sklearn.cluster import AgglomerativeClustering

    ks = [k for k in range(2, 5) if k <= len(profiles) // 3]
    fits = {k: AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(profiles) for k in ks}
    sil = {k: silhouette_score(profiles, fits[k]) for k in ks}
    best = max(ks, key=lambda k: (round(sil[k], 6), -k))
    return fits[best] if sil[best] >= cutoff else None


UNIT_METHODS = {
    "ward-raw": lambda x: ward(standardised(x), 0.25),  # cluster_units before the study
    "ward-pattern-0.25": lambda x: ward(centred(x), 0.25),
    "ward-pattern-0.5": lambda x: ward(centred(x), 0.5),
}


def unit_study() -> pd.DataFrame:
    """Portfolio view: groups of business units (the same general-factor question, 24 units)."""
    rows = []
    for name, (seeds, planted) in PORTFOLIOS.items():
        for seed in seeds:
            situation = make_portfolio(name, seed)
            scores = situation.scores
            dims = scores.questionnaire.dimension_ids
            shown = scores.units[~scores.units["suppressed"]]
            profiles = shown.pivot(index="unit", columns="dimension", values="mean")[dims].dropna()
            row = {"situation": name, "seed": seed}
            for method, run in UNIT_METHODS.items():
                labels = run(profiles.to_numpy(dtype=float))
                row[method] = cell(None if labels is None else pd.Series(labels, index=profiles.index),
                                   situation.truth, planted)
            groups = cluster_units(scores)
            kit = groups.table.set_index("unit")["group"] if groups.clustered else None
            row["kit"] = cell(kit, situation.truth, planted)
            rows.append(row)
            print(" | ".join(str(v) for v in row.values()), flush=True)
    return pd.DataFrame(rows)


def cell(labels: pd.Series | None, truth: pd.Series, planted: bool) -> str:
    """ARI against the planted groups, or 'none'; for situations without segments, 'none' or k."""
    if labels is None or labels.nunique() < 2:
        return "none"
    if not planted:
        return f"k={labels.nunique()}"
    common = truth.index.intersection(labels.index)
    return f"{adjusted_rand_score(truth.loc[common], labels.loc[common]):.2f}"


def markdown(table: pd.DataFrame) -> str:
    """A pipe table for docs/method.md."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "|".join("---" for _ in table.columns) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def respondent_study(situations, methods, seeds, n) -> tuple[pd.DataFrame, dict[str, float]]:
    rows, timings = [], {m: 0.0 for m in methods}
    for name in situations:
        default_seeds, planted = SITUATIONS[name]
        for seed in seeds or default_seeds:
            situation = make_situation(name, seed, n=n)
            scores = situation.scores
            dims = scores.questionnaire.dimension_ids
            complete = scores.respondents.dropna(subset=dims)
            x = complete[dims].to_numpy(dtype=float)
            ids = complete["respondent_id"].to_numpy()
            row = {"situation": name, "seed": seed}
            for method in methods:
                start = time.perf_counter()
                if method == "kit":
                    result = cluster_respondents(scores)
                    labels = result.labels if result.found else None
                    extra = ", ".join(flag for flag in ("mirrors_units", "level_only") if getattr(result, flag, False))
                else:
                    labels, extra = pd.Series(METHODS[method](x, seed), index=ids), ""
                timings[method] += time.perf_counter() - start
                row[method] = cell(labels, situation.truth, planted) + (f" ({extra})" if extra else "")
            rows.append(row)
            print(" | ".join(str(v) for v in row.values()), flush=True)
    return pd.DataFrame(rows), timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="*", default=[*(m for m in METHODS if m not in ABLATION), "kit"])
    parser.add_argument("--situations", nargs="*", default=list(SITUATIONS))
    parser.add_argument("--n", type=int, default=300, help="respondents per simulated situation")
    parser.add_argument("--seeds", type=int, nargs="*", help="seeds (default: five per situation)")
    parser.add_argument("--large", action="store_true", help="the large-file check (20,000 respondents)")
    parser.add_argument("--units", action="store_true", help="the portfolio view (groups of business units)")
    args = parser.parse_args()
    out = ROOT / "outputs"
    out.mkdir(exist_ok=True)
    with threadpool_limits(limits=1):
        if args.units:
            table, timings, name = unit_study(), {}, "archetype_study_units"
        elif args.large:
            table, timings = respondent_study(LARGE["situations"], LARGE["methods"], LARGE["seeds"], LARGE["n"])
            name = "archetype_study_large"
        else:
            table, timings = respondent_study(args.situations, args.methods, args.seeds, args.n)
            name = "archetype_study"
    table.to_csv(out / f"{name}.csv", index=False)
    print()
    print(markdown(table))
    if timings:
        print()
        print("seconds per method (all situations):", ", ".join(f"{m} {t:.1f}" for m, t in timings.items()))


if __name__ == "__main__":
    main()
