"""Row-chunked passes over the answer matrix, so that a million respondents stay fast.

Fresh large temporaries are the main cost of naive numpy code on big files (every new 300 MB array
is page-faulted in). These passes walk the rows in chunks of ``CHUNK`` and keep every temporary
chunk-sized: :func:`scan_answers` validates answers while loading, :func:`accumulate` computes
everything scoring needs from the items (dimension scores, the pairwise covariance sums behind
alpha, and the per-unit sums behind rwg(j)) in one pass.

On large files both passes split the rows between threads (one per core, numpy releases the GIL),
with BLAS held to one thread meanwhile so the two kinds of threads do not fight over the cores.
Every sum is of exact small integers (or halves), so the result does not depend on the split.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

CHUNK = 32_768
PART_CHUNKS = 8  # a thread's unit of work: parts of 8 chunks (smaller files stay on one thread)
MAX_THREADS = 4


def thread_count() -> int:
    """Threads for the passes: one per usable core, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_THREADS))


def split_rows(rows: int, block: int, part: Callable[[int, int], object]) -> list:
    """``part(start, stop)`` over consecutive row ranges of a fixed size (a multiple of ``block``),
    in threads when there are several; the results in row order.

    The ranges do not depend on the number of threads, so sums combined from the parts are the
    same on every machine.
    """
    size = max(block, PART_CHUNKS * CHUNK // block * block)
    ranges = [(start, min(rows, start + size)) for start in range(0, rows, size)] or [(0, 0)]
    return map_threads(lambda r: part(*r), ranges)


def map_threads(function: Callable, items: list, rows: int | None = None) -> list:
    """``[function(item) for item in items]``, in threads when there are several items (and, if
    given, ``rows`` is at least a part's worth); the functions must write to disjoint memory."""
    threads = min(thread_count(), len(items))
    if threads <= 1 or (rows is not None and rows < PART_CHUNKS * CHUNK):
        return [function(item) for item in items]
    with _one_blas_thread(), ThreadPoolExecutor(threads) as pool:
        return list(pool.map(function, items))


class Done:
    """A result already there (a future's ``result``/``exception``, without a thread)."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value

    def exception(self):
        return None


class _Inline:
    """An executor that runs each task at once."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def submit(self, function, *args):
        return Done(function(*args))


def beside(rows: int):
    """An executor for work done beside the main pass: a thread on large files (numpy and Arrow
    release the GIL), the calling thread on small ones, where starting a thread costs more."""
    return ThreadPoolExecutor(max_workers=1) if rows >= PART_CHUNKS * CHUNK // 5 else _Inline()


def _one_blas_thread():
    """Hold numpy's BLAS to one thread while our own threads run (restored on exit)."""
    return _blas_controller().limit(limits=1, user_api="blas")


@functools.cache
def _blas_controller():
    # Finding the loaded libraries is the slow part of threadpoolctl (milliseconds, and the passes
    # run many times per file), so it is done once. The passes use numpy's BLAS, which is loaded
    # with numpy, before this is first called.
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()

# Answer codes: 0 ok, 1 missing, 2 out of range, 3 between scale points, 4 unknown label, and for
# spreadsheet cells 5 a boolean, 6 a formula error, 7 a formula without a stored value.
OK, MISSING, OUT_OF_RANGE, NOT_ON_SCALE, UNKNOWN, BOOLEAN, FORMULA_ERROR, NOT_COMPUTED = range(8)


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
                 whole_numbers: set[int] = frozenset(), missing_codes: tuple[float, ...] = ()) -> AnswerScan:
    """Assemble and validate the answer matrix.

    ``numeric`` maps item index -> raw numbers (checked here: whole points in [low, high]), as a
    float array or as an Arrow integer column (converted here, one block at a time);
    ``converted`` maps item index -> (values, codes) already parsed from text. Other items are
    missing. Columns in ``whole_numbers`` were typed as integers by the parser: when their
    minimum and maximum are on the scale, no cell needs checking. Numbers in ``missing_codes``
    (don't-know codes, off the scale) are missing, not invalid. The matrix is column-major; rows
    are visited in cache-sized blocks.
    """
    trusted = set()
    for j in whole_numbers & set(numeric):
        lo, hi = column_extremes(numeric[j])
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

    def part(first: int, last: int) -> None:
        for start in range(first, last, block):
            _scan_block(start, min(last, start + block), values, numeric, converted, trusted, n_items, low, high,
                        reverse, answered, row_low, row_high, reverse_answered, bad_parts, missing_codes)

    split_rows(n, block, part)
    if bad_parts:
        rows, cols, codes = (np.concatenate(p) for p in zip(*bad_parts))
        order = np.lexsort((cols, rows))
        rows, cols, codes = rows[order], cols[order], codes[order]
    else:
        rows = cols = np.array([], dtype=int)
        codes = np.array([], dtype=np.int8)
    return AnswerScan(values, rows, cols, codes, answered, row_low, row_high, reverse_answered)


def _scan_block(start, stop, values, numeric, converted, trusted, n_items, low, high, reverse, answered, row_low,
                row_high, reverse_answered, bad_parts, missing_codes=()) -> None:
    """Fill and check rows ``start:stop`` of the answer matrix (threads work on disjoint rows)."""
    part = slice(start, stop)
    count, lo, hi, rev = answered[part], row_low[part], row_high[part], reverse_answered[part]
    for j in range(n_items):
        column = values[part, j]
        if j in numeric:
            _fill(column, numeric[j], start, stop)
            if j not in trusted:  # trusted columns were checked by their extremes
                _check_numbers(column, j, start, low, high, bad_parts, missing_codes)
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


def _check_numbers(column: np.ndarray, j: int, start: int, low: float, high: float, bad_parts: list,
                   missing_codes: tuple[float, ...] = ()) -> None:
    """Blank (NaN) and record the numbers of a block of item ``j`` that are not whole scale points
    (don't-know codes are blanked without a record)."""
    with np.errstate(invalid="ignore"):
        whole = np.floor(column) == column
        bad = ~((column >= low) & (column <= high) & whole) & (column == column)
    if missing_codes and bad.any():
        coded = bad & np.isin(column, missing_codes)
        column[coded] = np.nan
        bad &= ~coded
    if bad.any():
        rows = np.flatnonzero(bad)
        bad_parts.append((rows + start, np.full(len(rows), j),  # list.append is atomic
                          np.where(whole[rows], OUT_OF_RANGE, NOT_ON_SCALE).astype(np.int8)))
        column[rows] = np.nan


def column_extremes(column) -> tuple[float, float]:
    """Smallest and largest number of a float array or Arrow column (NaN when all missing)."""
    if isinstance(column, np.ndarray):
        return (np.fmin.reduce(column), np.fmax.reduce(column)) if len(column) else (np.nan, np.nan)
    import pyarrow.compute as pc

    extremes = pc.min_max(column)
    lo, hi = extremes["min"].as_py(), extremes["max"].as_py()
    return (np.nan, np.nan) if lo is None else (float(lo), float(hi))


def _fill(out: np.ndarray, column, start: int, stop: int) -> None:
    """``out[:] =`` rows ``start:stop`` of a float array or an Arrow integer column (NaN for missing).

    Arrow values are read from the column's own buffers and its validity bits, with no temporary
    copy of the block (a million rows of 40 items would otherwise allocate 320 MB of them).
    """
    if isinstance(column, np.ndarray):
        out[:] = column[start:stop]
        return
    at = 0
    for chunk in column.slice(start, stop - start).chunks:
        size = len(chunk)
        validity, data = chunk.buffers()[:2]
        target = out[at:at + size]
        at += size
        if chunk.null_count == size:
            target[:] = np.nan
            continue
        kind = np.dtype(chunk.type.to_pandas_dtype())
        target[:] = np.frombuffer(data, dtype=kind, count=size, offset=chunk.offset * kind.itemsize)
        if chunk.null_count:
            target[~arrow_valid(chunk)] = np.nan


def arrow_valid(chunk) -> np.ndarray:
    """Which values of an Arrow array are present (its validity bits, from any offset)."""
    validity, first, size = chunk.buffers()[0], chunk.offset, len(chunk)
    if validity is None:
        return np.ones(size, dtype=bool)
    bits = np.frombuffer(validity, dtype=np.uint8)[first // 8:(first + size + 7) // 8 + 1]
    return np.unpackbits(bits, bitorder="little")[first % 8:first % 8 + size].astype(bool)


def arrow_strings(chunk) -> tuple[np.ndarray, np.ndarray]:
    """The offsets (one more than the values) and the UTF-8 bytes of an Arrow string array."""
    import pyarrow as pa

    _, offsets, data = chunk.buffers()
    kind = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(offsets, dtype=kind)[chunk.offset:chunk.offset + len(chunk) + 1]
    return offsets, np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)


def head_centre(x: np.ndarray) -> np.ndarray:
    """Column means of the first 1,000 rows (0 where none is present): a centre for sums of
    products that keeps them small; it limits rounding only, the results do not depend on it."""
    head = x[:1000]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(np.nansum(head, axis=0) / (~np.isnan(head)).sum(axis=0))


def renumbered(codes: np.ndarray, chosen: np.ndarray, groups: int) -> np.ndarray:
    """Group codes with only the ``chosen`` groups kept, numbered 0, 1, ... in their order; every
    other row (and a code below 0) becomes -1. Work on the result is then per chosen group."""
    lookup = np.full(groups + 1, -1)
    lookup[chosen] = np.arange(len(chosen))
    return lookup[codes]  # a code of -1 reads the last entry: -1


def pair_sums(x: np.ndarray, centre: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every pair of columns, over the rows where both are present: the count, the sum of the
    first column and the sum of products (values centred on ``centre``), in row chunks."""
    n, k = x.shape

    def part(first: int, last: int) -> list[np.ndarray]:
        counts, sums, products = np.zeros((k, k)), np.zeros((k, k)), np.zeros((k, k))
        for start in range(first, last, CHUNK):
            chunk = x[start:min(last, start + CHUNK)]
            present = ~np.isnan(chunk)
            p = present.astype(float)
            centred = np.where(present, chunk - centre, 0.0)
            counts += p.T @ p
            sums += centred.T @ p
            products += centred.T @ centred
        return [counts, sums, products]

    parts = split_rows(n, CHUNK, part)
    counts, sums, products = (np.sum([p[i] for p in parts], axis=0) for i in range(3))
    return counts, sums, products


@dataclass(frozen=True)
class PairSums:
    """:func:`pair_sums` of some rows, with the centre they were taken around."""

    counts: np.ndarray
    sums: np.ndarray
    products: np.ndarray
    centre: np.ndarray

    def columns(self, keep: np.ndarray) -> PairSums:
        """The sums of the columns ``keep`` (a boolean mask) only."""
        pick = np.ix_(keep, keep)
        return PairSums(self.counts[pick], self.sums[pick], self.products[pick], self.centre[keep])


def group_pair_sums(x: np.ndarray, centre: np.ndarray,
                    groupings: list[tuple[np.ndarray | None, int]]) -> list[list[PairSums]]:
    """:func:`pair_sums` of every group of several groupings of the rows of ``x``, in one pass and
    without sorting ``x``: each row chunk is ordered by group (a radix sort of small codes) and
    each group's part of it adds its products. A grouping is (codes, number of groups); a code
    below 0 is no group, and codes None make all rows one group. Returns, per grouping, the sums
    of each group."""
    n, d = x.shape
    centre = np.broadcast_to(np.asarray(centre, dtype=float), (d,)).copy()

    def part(first: int, last: int) -> list[np.ndarray]:
        totals = [np.zeros((groups, 2 * d, 2 * d)) for _, groups in groupings]
        z = np.empty((CHUNK, 2 * d))  # [present | centred], row-major: whole rows are gathered below
        for start in range(first, last, CHUNK):
            stop = min(last, start + CHUNK)
            chunk, zc = x[start:stop], z[:stop - start]
            missing = np.isnan(chunk)
            np.subtract(chunk, centre, out=zc[:, d:])
            np.copyto(zc[:, d:], 0.0, where=missing)
            np.logical_not(missing, out=missing)
            zc[:, :d] = missing
            for (codes, groups), total in zip(groupings, totals):
                if codes is None:
                    total[0] += zc.T @ zc
                    continue
                part_codes = codes[start:stop]
                order = np.argsort(part_codes.astype(np.int16) if groups < 2**15 else part_codes, kind="stable")
                in_order = part_codes[order]
                ordered = np.take(zc, order, axis=0)
                bounds = [0, *(np.flatnonzero(np.diff(in_order)) + 1).tolist(), len(order)]
                for lo, hi in zip(bounds[:-1], bounds[1:]):
                    if in_order[lo] >= 0:
                        block = ordered[lo:hi]
                        total[in_order[lo]] += block.T @ block
        return totals

    parts = split_rows(n, CHUNK, part)
    out = []
    for i in range(len(groupings)):
        total = functools.reduce(np.add, (p[i] for p in parts))  # in part order, one copy at a time
        out.append([PairSums(t[:d, :d], t[d:, :d], t[d:, d:], centre) for t in total])
    return out


def covariance_from_sums(counts: np.ndarray, sums: np.ndarray, products: np.ndarray) -> np.ndarray:
    """Pairwise-complete covariance (ddof 1) from :func:`pair_sums`; NaN under two pairs."""
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (products - sums * sums.T / counts) / (counts - 1)
    cov[counts < 2] = np.nan
    return cov


@dataclass
class ItemSums:
    """What scoring needs from the item matrix, accumulated in one pass."""

    scores: np.ndarray  # (respondents, dimensions [+ overall]), column-major; NaN when too few answers
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

        return ItemSums(self.scores, self.scorable - other.scorable, self.pair_counts - other.pair_counts,
                        self.pair_sums - other.pair_sums, self.pair_products - other.pair_products,
                        less(self.group_counts, other.group_counts), less(self.group_sums, other.group_sums),
                        less(self.group_squares, other.group_squares))

    @property
    def dimension_scores(self) -> np.ndarray:
        """(respondents, dimensions)."""
        return self.scores[:, :len(self.scorable)]

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
               low: float, high: float, group_codes: np.ndarray | None = None, groups: int = 0,
               weights: np.ndarray | None = None) -> ItemSums:
    """One chunked pass: reverse-score, dimension scores (and, with ``weights``, each respondent's
    weighted mean of their scored dimensions), pair sums, per-group sums.

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
    # Column-major like the answers: later per-dimension passes run down columns. The overall
    # score is the last column of the same block, so that a frame of all of them copies nothing.
    scores = np.empty((n, d + (weights is not None)), order="F")
    with_groups = group_codes is not None and groups > 0
    # Reverse-keyed answers centred: (low + high - x) - centre == -(x - centre).
    sign = np.where(reverse, -1.0, 1.0).astype(work)
    # [present | centred] @ [[M, 0], [0, M]] gives the answered count and the centred total per dimension.
    member = np.zeros((2 * k, 2 * d), dtype=work)
    member[:k, :d] = membership
    member[k:, d:] = membership

    def part(first: int, last: int) -> list:
        scorable = np.zeros(d, dtype=np.int64)
        both = np.zeros((2 * k, 2 * k))  # [[counts, sums.T], [sums, products]] of the pairs
        by_group = np.zeros((groups, 3 * k)) if with_groups else None
        # present | centred | squares, column-major like the answer matrix: every pass below runs
        # down contiguous columns, and BLAS takes column-major operands without a copy.
        z = np.empty((CHUNK, 3 * k if with_groups else 2 * k), dtype=work, order="F")
        for start in range(first, last, CHUNK):
            rows = min(last, start + CHUNK) - start
            zc = z[:rows]
            p, centred = zc[:, :k], zc[:, k:2 * k]
            np.subtract(raw[start:start + rows], centre, out=centred, casting="same_kind")
            centred *= sign
            missing = np.isnan(centred)
            np.copyto(centred, 0.0, where=missing)
            np.logical_not(missing, out=missing)
            np.copyto(p, missing)
            pc = zc[:, :2 * k]
            dims = (member.T @ pc.T).T.astype(float)  # exact integers and halves; divide in float64
            answered, totals = dims[:, :d], dims[:, d:]
            with np.errstate(invalid="ignore", divide="ignore"):
                scores[start:start + rows, :d] = np.where(answered >= needed, totals / answered + centre, np.nan)
            if weights is not None:
                _weighted_mean(scores[start:start + rows], weights)
            scorable += (answered >= 2).sum(axis=0)
            both += pc.T @ pc
            if with_groups:
                np.multiply(centred, centred, out=zc[:, 2 * k:])
                by_group += group_totals(group_codes[start:start + rows], groups, zc)[0]
        return [scorable, both[:k, :k], both[k:, :k], both[k:, k:],
                *((by_group[:, :k], by_group[:, k:2 * k], by_group[:, 2 * k:]) if with_groups else [None] * 3)]

    parts = split_rows(n, CHUNK, part)
    scorable, pair_counts, pair_sums, pair_products, g_counts, g_sums, g_squares = (
        None if parts[0][i] is None else np.sum([p[i] for p in parts], axis=0) for i in range(7))
    return ItemSums(scores, scorable, pair_counts, pair_sums, pair_products, g_counts, g_sums, g_squares)


def _weighted_mean(block: np.ndarray, weights: np.ndarray) -> None:
    """Last column of ``block`` := the weighted mean of the other columns that are not NaN."""
    d = len(weights)
    total, weight = np.zeros(len(block)), np.zeros(len(block))
    for j in range(d):  # column by column, so that every row adds in the same order
        has = ~np.isnan(block[:, j])
        total += np.where(has, block[:, j] * weights[j], 0.0)
        weight += has * weights[j]
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(total, weight, out=block[:, d])


def group_scores(x: np.ndarray, codes: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group code (< 0: no group), the number and the sum of the non-missing values of each
    column of ``x``: (groups, columns) each. In row parts (threads on large arrays), so that no
    temporary is larger than a part."""
    def part(first: int, last: int) -> list[np.ndarray]:
        chunk = x[first:last]
        present = ~np.isnan(chunk)
        return group_totals(codes[first:last], groups, present.astype(float), np.where(present, chunk, 0.0))

    parts = split_rows(len(x), CHUNK, part)
    return functools.reduce(np.add, (p[0] for p in parts)), functools.reduce(np.add, (p[1] for p in parts))


def group_totals(codes: np.ndarray, groups: int, *arrays: np.ndarray) -> list[np.ndarray]:
    """Column totals of each array per group code (codes < 0 are skipped), in row chunks with a
    small dense group indicator per chunk (one BLAS product per array and chunk)."""
    if groups > 32:  # many groups: a weighted bincount per column beats a wide indicator matrix
        valid = codes >= 0
        every = bool(valid.all())
        keys = codes if every else codes[valid]
        columns = [np.ascontiguousarray((a if every else a[valid]).T) for a in arrays]  # contiguous columns
        return [np.column_stack([np.bincount(keys, weights=c, minlength=groups) for c in cs]) for cs in columns]
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
