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


def _complete(sizes: dict, out: dict, min_size: int) -> dict:
    if not out:
        return out
    rest = sorted((n, str(g), g) for g, n in sizes.items() if g not in out and n > 0)
    while rest and (len(out) < 2 or sum(sizes[g] for g in out) < min_size):
        _, _, g = rest.pop(0)
        out[g] = COMPLEMENTARY
    return out


def suppress_table(counts: pd.DataFrame, min_size: int, *, suppressed_rows: set | None = None,
                   suppressed_columns: set | None = None) -> pd.DataFrame:
    """Boolean mask of the cells of a crossed count table to suppress (rows x columns).

    Every cell under ``min_size`` is suppressed, cells of suppressed rows/columns too, and then the
    one-way rule is applied to every row and every column until nothing changes.
    """
    counts = counts.fillna(0).astype(int)
    mask = (counts > 0) & (counts < min_size)
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
