"""Row-chunked passes over the answer matrix, so that a million respondents stay fast.

Fresh large temporaries are the main cost of naive numpy code on big files (every new 300 MB array
is page-faulted in). These passes walk the rows in chunks of ``CHUNK`` and keep every temporary
chunk-sized: :func:`scan_answers` validates answers while loading, :func:`accumulate` computes
everything scoring needs from the items (dimension scores, the pairwise covariance sums behind
alpha, and the per-unit sums behind rwg(j)) in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK = 32_768

# Answer codes: 0 ok, 1 missing, 2 out of range, 3 between scale points, 4 unknown label.
OK, MISSING, OUT_OF_RANGE, NOT_ON_SCALE, UNKNOWN = 0, 1, 2, 3, 4


@dataclass
class AnswerScan:
    """Validated answers of a file: values (NaN = missing or invalid) and per-row facts."""

    values: np.ndarray  # (rows, items)
    bad_rows: np.ndarray  # row index of each invalid cell
    bad_cols: np.ndarray  # item index of each invalid cell
    bad_codes: np.ndarray  # its code (2, 3 or 4)
    answered: np.ndarray  # answers on the scale per row
    low: np.ndarray  # lowest answer per row (NaN when none)
    high: np.ndarray  # highest answer per row
    reverse_answered: np.ndarray  # the row answered at least one reverse-keyed item


def scan_answers(n: int, numeric: dict[int, np.ndarray], converted: dict[int, tuple[np.ndarray, np.ndarray]],
                 n_items: int, low: float, high: float, reverse: np.ndarray,
                 whole_numbers: set[int] = frozenset()) -> AnswerScan:
    """Assemble and validate the answer matrix.

    ``numeric`` maps item index -> raw float column (checked here: whole points in [low, high]);
    ``converted`` maps item index -> (values, codes) already parsed from text. Other items are
    missing. Columns in ``whole_numbers`` were typed as integers by the parser: when their
    minimum and maximum are on the scale, no cell needs checking. The matrix is column-major;
    rows are visited in cache-sized blocks.
    """
    trusted = set()
    for j in whole_numbers & set(numeric):
        lo, hi = np.fmin.reduce(numeric[j]), np.fmax.reduce(numeric[j])
        if not (lo < low or hi > high):  # NaN (all missing) compares False too
            trusted.add(j)
    values = np.empty((n, n_items), order="F")
    answered = np.zeros(n, dtype=np.int64)
    row_low, row_high = np.full(n, np.nan), np.full(n, np.nan)
    reverse_answered = np.zeros(n, dtype=bool)
    bad_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for j, (_, codes) in converted.items():
        rows = np.flatnonzero(codes >= OUT_OF_RANGE)
        if len(rows):
            bad_parts.append((rows, np.full(len(rows), j), codes[rows].astype(np.int8)))
    block = 1 << 17
    for start in range(0, n, block):
        stop = min(n, start + block)
        part = slice(start, stop)
        count, lo, hi, rev = answered[part], row_low[part], row_high[part], reverse_answered[part]
        for j in range(n_items):
            column = values[part, j]
            if j in trusted:
                column[:] = numeric[j][part]
            elif j in numeric:
                column[:] = numeric[j][part]
                with np.errstate(invalid="ignore"):
                    whole = np.floor(column) == column
                    bad = ~((column >= low) & (column <= high) & whole) & (column == column)
                if bad.any():
                    rows = np.flatnonzero(bad)
                    bad_parts.append((rows + start, np.full(len(rows), j),
                                      np.where(whole[rows], OUT_OF_RANGE, NOT_ON_SCALE).astype(np.int8)))
                    column[rows] = np.nan
            elif j in converted:
                column[:] = converted[j][0][part]
            else:
                column[:] = np.nan
                continue
            present = column == column
            count += present
            np.fmin(lo, column, out=lo)
            np.fmax(hi, column, out=hi)
            if reverse[j]:
                rev |= present
    if bad_parts:
        rows, cols, codes = (np.concatenate(p) for p in zip(*bad_parts))
        order = np.lexsort((cols, rows))
        rows, cols, codes = rows[order], cols[order], codes[order]
    else:
        rows = cols = np.array([], dtype=int)
        codes = np.array([], dtype=np.int8)
    return AnswerScan(values, rows, cols, codes, answered, row_low, row_high, reverse_answered)


def pair_sums(x: np.ndarray, centre: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every pair of columns, over the rows where both are present: the count, the sum of the
    first column and the sum of products (values centred on ``centre``), in row chunks."""
    n, k = x.shape
    counts, sums, products = np.zeros((k, k)), np.zeros((k, k)), np.zeros((k, k))
    for start in range(0, n, CHUNK):
        chunk = x[start:start + CHUNK]
        present = ~np.isnan(chunk)
        p = present.astype(float)
        centred = np.where(present, chunk - centre, 0.0)
        counts += p.T @ p
        sums += centred.T @ p
        products += centred.T @ centred
    return counts, sums, products


def covariance_from_sums(counts: np.ndarray, sums: np.ndarray, products: np.ndarray) -> np.ndarray:
    """Pairwise-complete covariance (ddof 1) from :func:`pair_sums`; NaN under two pairs."""
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (products - sums * sums.T / counts) / (counts - 1)
    cov[counts < 2] = np.nan
    return cov


@dataclass
class ItemSums:
    """What scoring needs from the item matrix, accumulated in one pass."""

    dimension_scores: np.ndarray  # (respondents, dimensions), NaN when too few answers
    scorable: np.ndarray  # (dimensions,) respondents with at least two answered items
    pair_counts: np.ndarray  # (items, items) rows where both items are answered
    pair_sums: np.ndarray  # [i, j]: sum of centred item i over those rows
    pair_products: np.ndarray  # [i, j]: sum of products of centred items i and j
    group_counts: np.ndarray | None  # (groups, items) answers per group
    group_sums: np.ndarray | None  # centred sums
    group_squares: np.ndarray | None  # centred sums of squares

    def without(self, other: ItemSums) -> ItemSums:
        """These sums less those of some of the same rows (respondents dropped after the pass)."""
        def less(a, b):
            return None if a is None else a - b

        return ItemSums(self.dimension_scores, self.scorable - other.scorable, self.pair_counts - other.pair_counts,
                        self.pair_sums - other.pair_sums, self.pair_products - other.pair_products,
                        less(self.group_counts, other.group_counts), less(self.group_sums, other.group_sums),
                        less(self.group_squares, other.group_squares))

    def covariance(self) -> np.ndarray:
        """Pairwise-complete covariance matrix (ddof 1) of the items."""
        return covariance_from_sums(self.pair_counts, self.pair_sums, self.pair_products)

    def group_variances(self) -> np.ndarray:
        """Within-group variance (ddof 1) of every item; NaN under two answers."""
        c, s, q = self.group_counts, self.group_sums, self.group_squares
        with np.errstate(invalid="ignore", divide="ignore"):
            var = np.where(c >= 2, (q - s * s / c) / (c - 1), np.nan)
        return np.maximum(var, 0.0)


def accumulate(raw: np.ndarray, *, membership: np.ndarray, needed: np.ndarray, reverse: np.ndarray,
               low: float, high: float, group_codes: np.ndarray | None = None, groups: int = 0) -> ItemSums:
    """One chunked pass: reverse-score, dimension scores, pair sums, per-group sums.

    Values are centred on the scale midpoint before summing, which keeps the sums of squares small
    (covariances and variances do not depend on the centre).
    """
    n, k = raw.shape
    d = membership.shape[1]
    centre = (low + high) / 2
    # Centred answers are multiples of 0.5 no larger than half the range, so a chunk's sums of
    # products are exact in float32 (24-bit mantissa) for any usual scale; BLAS is twice as fast.
    exact32 = 4 * ((high - low) / 2 + 0.5) ** 2 * CHUNK < 2**24
    work = np.float32 if exact32 else np.float64
    scores = np.empty((n, d))
    scorable = np.zeros(d, dtype=np.int64)
    pair_counts, pair_sums, pair_products = np.zeros((k, k)), np.zeros((k, k)), np.zeros((k, k))
    with_groups = group_codes is not None and groups > 0
    g_counts = np.zeros((groups, k)) if with_groups else None
    g_sums = np.zeros((groups, k)) if with_groups else None
    g_squares = np.zeros((groups, k)) if with_groups else None
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        x = np.array(raw[start:stop], dtype=float)
        x[:, reverse] = low + high - x[:, reverse]
        present = ~np.isnan(x)
        p = present.astype(work)
        centred = np.where(present, x - centre, 0.0).astype(work)
        answered = (p @ membership.astype(work)).astype(float)  # exact integers; divide in float64
        totals = (centred @ membership.astype(work)).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores[start:stop] = np.where(answered >= needed, totals / answered + centre, np.nan)
        scorable += (answered >= 2).sum(axis=0)
        pair_counts += p.T @ p
        pair_sums += centred.T @ p
        pair_products += centred.T @ centred
        if with_groups:
            counts, totals_, squares = group_totals(group_codes[start:stop], groups, p, centred, centred * centred)
            g_counts += counts
            g_sums += totals_
            g_squares += squares
    return ItemSums(scores, scorable, pair_counts, pair_sums, pair_products, g_counts, g_sums, g_squares)


def group_totals(codes: np.ndarray, groups: int, *arrays: np.ndarray) -> list[np.ndarray]:
    """Column totals of each array per group code (codes < 0 are skipped), in row chunks with a
    small dense group indicator per chunk (one BLAS product per array and chunk)."""
    if groups > 32:  # many groups: a weighted bincount per column beats a wide indicator matrix
        valid = codes >= 0
        every = bool(valid.all())
        keys = codes if every else codes[valid]
        return [np.column_stack([np.bincount(keys, weights=a[:, j] if every else a[valid, j], minlength=groups)
                                 for j in range(a.shape[1])]) for a in arrays]
    rows = max(1024, min(CHUNK, 2_000_000 // max(groups, 1)))
    out = [np.zeros((groups, a.shape[1])) for a in arrays]
    for start in range(0, len(codes), rows):
        codes_part = codes[start:start + rows]
        valid = codes_part >= 0
        indicator = np.zeros((groups, len(codes_part)), dtype=arrays[0].dtype)
        indicator[codes_part[valid], np.flatnonzero(valid)] = 1.0
        for total, values in zip(out, arrays):
            total += indicator @ values[start:start + rows]
    return out
