"""Small-group suppression (DESIGN section 5).

A group (unit, role, archetype, or a crossing of them) with fewer than ``min_group_size``
respondents is suppressed everywhere. Complementary suppression stops a reader recovering it by
subtraction: in any breakdown whose total is shown, the suppressed groups are never a single group
and never fewer respondents together than the minimum; the next-smallest groups are suppressed
until that holds (the documented behaviour of Viva Glint). Crossed tables are made safe along
rows and columns alike.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

SMALL = "small"
COMPLEMENTARY = "complementary"


def suppressed_groups(sizes: Mapping[object, int], min_size: int) -> dict[object, str]:
    """Groups to suppress in one breakdown, each with why (``small`` or ``complementary``).

    Parameters
    ----------
    sizes : mapping
        Group -> number of respondents. Include every group that counts towards the shown total
        (for example respondents with no role stated), or subtraction stays possible.
    min_size : int
        The minimum reportable group size.

    Examples
    --------
    >>> suppressed_groups({"A": 40, "B": 3, "C": 12, "D": 25}, 5)
    {'B': 'small', 'C': 'complementary'}
    >>> suppressed_groups({"A": 40, "B": 3, "C": 4}, 5)
    {'B': 'small', 'C': 'small'}
    """
    out = {g: SMALL for g, n in sizes.items() if 0 < n < min_size}
    return _complete(dict(sizes), out, min_size)


def complete_suppression(sizes: Mapping[object, int], hidden: Mapping[object, str], min_size: int) -> dict:
    """:func:`suppressed_groups` when some groups are already hidden for another reason."""
    out = {**{g: SMALL for g, n in sizes.items() if 0 < n < min_size}, **dict(hidden)}
    return _complete(dict(sizes), out, min_size)


def _complete(sizes: dict, out: dict, min_size: int) -> dict:
    if not out:
        return out
    rest = sorted((n, str(g), g) for g, n in sizes.items() if g not in out and n > 0)
    while rest and (len(out) < 2 or sum(sizes[g] for g in out) < min_size):
        _, _, g = rest.pop(0)
        out[g] = COMPLEMENTARY
    return out


def suppress_table(counts: pd.DataFrame, min_size: int, *, suppressed_rows: set | None = None,
                   suppressed_columns: set | None = None, initial: pd.DataFrame | None = None) -> pd.DataFrame:
    """Boolean mask of the cells of a crossed count table to suppress (rows x columns).

    Every cell under ``min_size`` is suppressed (and those of ``initial``), cells of suppressed
    rows/columns too, and then the one-way rule is applied to every row and every column until
    nothing changes.
    """
    counts = counts.fillna(0).astype(int)
    mask = (counts > 0) & (counts < min_size)
    if initial is not None:
        mask |= initial.reindex(index=mask.index, columns=mask.columns, fill_value=False).astype(bool)
    for r in suppressed_rows or ():
        if r in mask.index:
            mask.loc[r, :] = counts.loc[r, :] > 0
    for c in suppressed_columns or ():
        if c in mask.columns:
            mask.loc[:, c] = counts.loc[:, c] > 0
    changed = True
    while changed:
        changed = False
        for r in mask.index:
            added = _line(counts.loc[r, :], mask.loc[r, :], min_size)
            if added:
                mask.loc[r, added] = True
                changed = True
        for c in mask.columns:
            added = _line(counts.loc[:, c], mask.loc[:, c], min_size)
            if added:
                mask.loc[added, c] = True
                changed = True
    return mask


def _line(line_counts: pd.Series, line_mask: pd.Series, min_size: int) -> list:
    """Cells of one row or column that the one-way rule adds to the suppressed ones."""
    current = {g: SMALL for g, m in line_mask.items() if m}
    completed = _complete(line_counts.to_dict(), dict(current), min_size)
    return [g for g in completed if g not in current]


def suppress_crossing(counts: pd.DataFrame, min_size: int, *, row_sizes: Mapping | None = None,
                      column_sizes: Mapping | None = None, hidden_rows: Mapping | None = None,
                      hidden_columns: Mapping | None = None) -> tuple[dict, dict, pd.DataFrame]:
    """Suppression for a crossed table whose row and column totals are shown elsewhere.

    Units x roles, say: each unit's and each role's results are shown, and so are the unit x role
    cells. Groups too small in either breakdown are suppressed (with their complements), then the
    cells (:func:`suppress_table`). A line whose only hidden cells cannot be protected (one cell, or
    fewer respondents together than the minimum) is revealed by its shown total, so that total is
    suppressed too, and everything is settled again until nothing changes.

    Returns
    -------
    (hidden rows, hidden columns, cell mask)
        The first two map a group to why (``small`` / ``complementary``, or the reason given in
        ``hidden_rows`` / ``hidden_columns`` for groups hidden beforehand).
    """
    counts = counts.fillna(0).astype(int)
    row_sizes = dict(row_sizes) if row_sizes is not None else counts.sum(axis=1).to_dict()
    column_sizes = dict(column_sizes) if column_sizes is not None else counts.sum(axis=0).to_dict()
    hidden_rows = complete_suppression(row_sizes, hidden_rows or {}, min_size)
    hidden_columns = complete_suppression(column_sizes, hidden_columns or {}, min_size)
    while True:
        mask = suppress_table(counts, min_size, suppressed_rows=set(hidden_rows),
                              suppressed_columns=set(hidden_columns))
        new_rows = [r for r in counts.index if r not in hidden_rows and _exposed(counts.loc[r], mask.loc[r], min_size)]
        new_columns = [c for c in counts.columns
                       if c not in hidden_columns and _exposed(counts[c], mask[c], min_size)]
        if not new_rows and not new_columns:
            return hidden_rows, hidden_columns, mask
        hidden_rows = _complete(row_sizes, {**hidden_rows, **dict.fromkeys(new_rows, COMPLEMENTARY)}, min_size)
        hidden_columns = _complete(column_sizes, {**hidden_columns, **dict.fromkeys(new_columns, COMPLEMENTARY)},
                                   min_size)


def _exposed(line_counts: pd.Series, line_mask: pd.Series, min_size: int) -> bool:
    """Hidden cells that the line's shown total would reveal: every non-empty cell of the line is
    hidden, and they are one cell or fewer people than the minimum together."""
    nonzero = line_counts > 0
    hidden = nonzero & line_mask
    if not hidden.any() or (nonzero & ~line_mask).any():
        return False
    return int(hidden.sum()) < 2 or int(line_counts[hidden].sum()) < min_size
