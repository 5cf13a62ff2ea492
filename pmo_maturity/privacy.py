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
from dataclasses import dataclass

import numpy as np
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


# ---------------------------------------------------------------------------------------------
# One statistic of a table family, checked exactly


@dataclass(frozen=True)
class Hidden:
    """What one statistic (a dimension's scores, an item's answers) hides in a table family.

    A family is the organisation's total, its rows (business units), its columns (roles) and
    their crossings (unit x role cells), each shown with its n and mean, or hidden.

    Attributes
    ----------
    total : bool
        The organisation's own value is hidden (fewer than the minimum scored it).
    rows, columns : ndarray of bool
        Rows / columns whose value is hidden.
    cells : ndarray of bool
        Cells whose value is hidden (rows x columns).
    """

    total: bool
    rows: np.ndarray
    columns: np.ndarray
    cells: np.ndarray


def protect_statistic(counts: np.ndarray, min_size: int, *, rows: np.ndarray | None = None,
                      columns: np.ndarray | None = None, cells: np.ndarray | None = None,
                      publish_rows: bool = True, publish_columns: bool = True, publish_cells: bool = True,
                      max_rounds: int = 1000) -> Hidden:
    """Hide what must be hidden for one statistic so that no set of fewer than ``min_size``
    respondents can be derived from the published values of the family.

    Parameters
    ----------
    counts : ndarray (rows x columns)
        How many respondents of each cell have the statistic (scored the dimension, answered the
        item). Include every cell that counts towards the published total (respondents without a
        unit as a row of their own, hidden beforehand).
    min_size : int
    rows, columns, cells : ndarray of bool, optional
        Hidden beforehand (suppressed groups, cells hidden on the respondents' counts).
    publish_rows, publish_columns, publish_cells : bool
        Which parts of the family are published at all (a report without roles publishes no
        columns and no cells).

    Notes
    -----
    First the rules of primary and complementary (secondary) suppression are settled along the
    rows, the columns and every line of cells (Hundepool et al. 2012, chapter 4): a hidden part is
    never alone in a line whose total is shown, and the hidden parts of a line hold at least
    ``min_size`` respondents together; a line whose cells are all hidden but unprotected hides its
    total; a hidden total keeps at least one hidden cell. Those rules can still leave a cell
    derivable through a chain of rows and columns, so every candidate is then checked exactly
    (:func:`disclosures`): each published value is a linear equation in the hidden sums, and a set
    of fewer than ``min_size`` respondents is disclosed when its sum lies in their span. Anything
    disclosed gets one more part hidden beside it, and everything is settled again.

    Examples
    --------
    One suppressed unit (3 respondents) whose complement answered nothing on this dimension:
    the next unit is hidden in its place.

    >>> import numpy as np
    >>> h = protect_statistic(np.array([[30], [25], [0], [3]]), 5, rows=np.array([False, False, True, True]),
    ...                       publish_columns=False, publish_cells=False)
    >>> h.rows.tolist()
    [False, True, True, True]
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_rows, n_columns = counts.shape
    nonzero = counts > 0
    row_n, column_n, total = counts.sum(axis=1), counts.sum(axis=0), int(counts.sum())
    rows = np.zeros(n_rows, dtype=bool) if rows is None else np.array(rows, dtype=bool)
    columns = np.zeros(n_columns, dtype=bool) if columns is None else np.array(columns, dtype=bool)
    cells = np.zeros(counts.shape, dtype=bool) if cells is None else np.array(cells, dtype=bool)
    if 0 < total < min_size:  # the organisation itself is too small on this statistic
        return Hidden(True, rows | (row_n > 0), columns | (column_n > 0), nonzero.copy())
    rows |= (row_n > 0) & (row_n < min_size)
    columns |= (column_n > 0) & (column_n < min_size)
    cells |= nonzero & (counts < min_size)
    if not publish_cells:
        cells |= nonzero
    family = _Family(counts, min_size, publish_rows, publish_columns, publish_cells)
    for _ in range(max_rounds):
        family.settle(rows, columns, cells)
        found = family.disclosures(rows, columns, cells)
        if not found:
            return Hidden(False, rows, columns, cells)
        family.repair(found[0], rows, columns, cells)
    raise RuntimeError("disclosure control did not settle")  # pragma: no cover - each round hides one more part


def disclosures(counts: np.ndarray, hidden: Hidden, min_size: int, *, publish_rows: bool = True,
                publish_columns: bool = True, publish_cells: bool = True) -> list[str]:
    """The sets of fewer than ``min_size`` respondents that the published values of one statistic
    disclose (an empty list when none): cells, hidden rows and columns, and what is left of a
    shown line once its shown parts are subtracted."""
    family = _Family(np.asarray(counts, dtype=np.int64), min_size, publish_rows, publish_columns, publish_cells)
    if hidden.total:
        return []
    return [d.name for d in family.disclosures(hidden.rows.copy(), hidden.columns.copy(), hidden.cells.copy())]


@dataclass
class _Disclosure:
    name: str
    cells: np.ndarray  # bool mask of the cells whose sum is disclosed


class _Family:
    """The rules and the exact check for one statistic of a rows x columns family."""

    def __init__(self, counts: np.ndarray, min_size: int, publish_rows: bool, publish_columns: bool,
                 publish_cells: bool):
        self.counts = counts
        self.nonzero = counts > 0
        self.min_size = min_size
        self.publish = (publish_rows, publish_columns, publish_cells)

    # --- the rules ----------------------------------------------------------------------------

    def settle(self, rows: np.ndarray, columns: np.ndarray, cells: np.ndarray) -> None:
        """Apply the suppression rules until nothing changes (arrays are updated in place)."""
        counts, nonzero, min_size = self.counts, self.nonzero, self.min_size
        publish_rows, publish_columns, publish_cells = self.publish
        while True:
            before = (rows.sum(), columns.sum(), cells.sum())
            if publish_rows:
                _complete_line(counts.sum(axis=1), rows, min_size)
            if publish_columns:
                _complete_line(counts.sum(axis=0), columns, min_size)
            cells |= (rows[:, None] | columns[None, :]) & nonzero
            if publish_cells:
                self._lines(cells, rows, publish_rows, axis=1)
                self._lines(cells.T, columns, publish_columns, axis=0)
            if (rows.sum(), columns.sum(), cells.sum()) == before:
                return

    def _lines(self, cells: np.ndarray, margins: np.ndarray, published: bool, axis: int) -> None:
        """Rules along the rows (axis 1) or the columns (axis 0, ``cells`` transposed)."""
        counts = self.counts if axis == 1 else self.counts.T
        nonzero = counts > 0
        hidden_cells = cells & nonzero
        n_hidden = hidden_cells.sum(axis=1)
        sum_hidden = np.where(hidden_cells, counts, 0).sum(axis=1)
        has = nonzero.any(axis=1)
        if published:  # a shown line: its hidden cells must be protected by its other cells
            bad = ~margins & (n_hidden > 0) & ((n_hidden < 2) | (sum_hidden < self.min_size))
            for i in np.flatnonzero(bad):
                if not _complete_line(counts[i], cells[i], self.min_size):
                    margins[i] = True  # every cell hidden and still unprotected: the total must go
            # A hidden line must keep a hidden cell, or the sum of its shown cells gives it away.
            for i in np.flatnonzero(margins & has & (n_hidden == 0)):
                shown = np.flatnonzero(nonzero[i] & ~cells[i])
                cells[i, shown[np.argmin(counts[i, shown])]] = True

    # --- the exact check ----------------------------------------------------------------------

    def _system(self, rows, columns, cells):
        """Unknowns (classes of hidden cells that enter the same equations) and the equations."""
        publish_rows, publish_columns, _ = self.publish
        hidden = cells & self.nonzero
        r, c = np.nonzero(hidden)
        row_key = np.where(publish_rows & ~rows[r], r, -1)
        column_key = np.where(publish_columns & ~columns[c], c, -1)
        keys = np.stack([row_key, column_key], axis=1)
        classes, member = (np.unique(keys, axis=0, return_inverse=True) if len(keys)
                           else (np.zeros((0, 2), dtype=int), np.zeros(0, dtype=int)))
        member = member.reshape(-1)
        equations = [np.ones(len(classes))]  # the organisation's total
        for i in np.flatnonzero(publish_rows & ~rows):
            equations.append((classes[:, 0] == i).astype(float))
        for j in np.flatnonzero(publish_columns & ~columns):
            equations.append((classes[:, 1] == j).astype(float))
        size = np.bincount(member, weights=self.counts[r, c], minlength=len(classes))
        return classes, member, (r, c), np.array(equations), size

    def disclosures(self, rows, columns, cells) -> list[_Disclosure]:
        classes, member, (r, c), equations, size = self._system(rows, columns, cells)
        if not len(classes):
            return []
        basis = _row_basis(equations)
        min_size = self.min_size
        candidates: list[tuple[str, np.ndarray]] = []
        for k in np.flatnonzero((size > 0) & (size < min_size)):
            cells_of_k = sorted(set(zip(r[member == k].tolist(), c[member == k].tolist(), strict=True)))
            candidates.append((f"cells {cells_of_k}", member == k))
        # Hidden rows and columns of fewer respondents: their sum is a function of the unknowns only
        # when every class holding one of their cells holds nothing else.
        for axis, margins, at in ((0, rows, r), (1, columns, c)):
            n = self.counts.sum(axis=1 - axis)
            small = np.flatnonzero(margins & (n > 0) & (n < min_size))
            if not len(small):
                continue
            pairs = np.unique(np.stack([member, at], axis=1), axis=0)
            owners = np.bincount(pairs[:, 0], minlength=len(classes))
            shared = np.unique(at[owners[member] > 1])
            for i in np.setdiff1d(small, shared):
                candidates.append((f"{'row' if axis == 0 else 'column'} {i}", at == i))
        found = []
        for name, cell_mask in candidates:
            vector = np.bincount(member[cell_mask], minlength=len(classes)).astype(float) > 0
            if _in_span(basis, vector.astype(float)):
                found.append(_Disclosure(name, _mask_of(self.counts.shape, r[cell_mask], c[cell_mask])))
        # What a shown line leaves once its shown parts are subtracted: a derived set by definition.
        for k_axis, margins, at in ((0, rows, r), (1, columns, c)):
            if not self.publish[k_axis]:
                continue
            for i in np.flatnonzero(~margins):
                left = at == i
                n = self.counts[r[left], c[left]].sum()
                if 0 < n < min_size:
                    found.append(_Disclosure(f"rest of {'row' if k_axis == 0 else 'column'} {i}",
                                             _mask_of(self.counts.shape, r[left], c[left])))
        total_left = self.counts[r, c].sum()
        if 0 < total_left < min_size:
            found.append(_Disclosure("rest of the total", _mask_of(self.counts.shape, r, c)))
        return found

    def repair(self, found: _Disclosure, rows, columns, cells) -> None:
        """Hide one more part beside a disclosed set: the smallest shown cell in its lines, else
        the smallest shown cell anywhere, else the smallest shown row or column total."""
        counts, nonzero = self.counts, self.nonzero
        publish_rows, publish_columns, publish_cells = self.publish
        involved_rows = np.asarray(found.cells.any(axis=1))
        involved_columns = np.asarray(found.cells.any(axis=0))
        shown_cells = nonzero & ~cells
        options = []
        if publish_cells:
            near = shown_cells & (involved_rows[:, None] | involved_columns[None, :])
            options += [("cell", near), ("cell", shown_cells)]
        for _kind, mask in options:
            if mask.any():
                r, c = np.nonzero(mask)
                k = np.lexsort((c, r, counts[r, c]))[0]
                cells[r[k], c[k]] = True
                return
        sizes = []
        if publish_rows:
            sizes += [(int(n), 0, i) for i, n in enumerate(counts.sum(axis=1)) if n > 0 and not rows[i]]
        if publish_columns:
            sizes += [(int(n), 1, j) for j, n in enumerate(counts.sum(axis=0)) if n > 0 and not columns[j]]
        if not sizes:  # pragma: no cover - nothing left to hide: the total alone is shown
            raise RuntimeError("disclosure control: nothing left to hide")
        _, axis, i = min(sizes)
        (rows if axis == 0 else columns)[i] = True


def _mask_of(shape, r, c) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[r, c] = True
    return mask


def _complete_line(sizes: np.ndarray, hidden: np.ndarray, min_size: int) -> bool:
    """One-way rule on a line (updates ``hidden``): its hidden groups with respondents are none,
    or at least two holding ``min_size`` together; returns False when no shown group is left to
    add and the rule still fails."""
    while True:
        mine = hidden & (sizes > 0)
        if not mine.any() or (mine.sum() >= 2 and sizes[mine].sum() >= min_size):
            return True
        shown = np.flatnonzero(~hidden & (sizes > 0))
        if not len(shown):
            return False
        hidden[shown[np.argmin(sizes[shown])]] = True


def _row_basis(equations: np.ndarray) -> np.ndarray:
    if not len(equations):
        return np.zeros((0, equations.shape[1] if equations.ndim == 2 else 0))
    _, s, vt = np.linalg.svd(equations, full_matrices=False)
    return vt[s > 1e-9 * max(1.0, s.max(initial=0.0))]


def _in_span(basis: np.ndarray, vector: np.ndarray) -> bool:
    if not len(basis):
        return not vector.any()
    rest = vector - basis.T @ (basis @ vector)
    return bool(np.abs(rest).max() < 1e-8)
