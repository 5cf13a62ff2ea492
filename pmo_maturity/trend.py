"""Trend: what moved since the previous assessment cycle, and whether beyond the uncertainty.

The previous cycle is a file written by ``pmo-maturity score -o`` (CSV, XLSX or JSON): its tidy
``scores`` table has the mean and 95% interval of every group and dimension. A change counts as
real when the two intervals do not overlap (a conservative reading: it never calls noise a change).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ResponsesError
from .scoring import ORGANISATION, Scores

_NEEDED = {"scope", "group", "dimension", "mean", "ci_low", "ci_high"}


def read_previous(path: str | Path) -> pd.DataFrame:
    """Read a previous cycle's scores file (``.csv``, ``.xlsx`` or ``.json`` from ``pmo-maturity score``)."""
    path = Path(path)
    if not path.is_file():
        raise ResponsesError(path, "previous scores file not found")
    try:
        if path.suffix.lower() == ".json":
            frame = pd.DataFrame(json.loads(path.read_text(encoding="utf-8"))["scores"])
        elif path.suffix.lower() == ".xlsx":
            frame = pd.read_excel(path, sheet_name="scores")
        else:
            frame = pd.read_csv(path, encoding="utf-8-sig")
    except (ValueError, KeyError, OSError) as err:
        raise ResponsesError(path, f"is not a scores file written by 'pmo-maturity score' ({err})") from err
    missing = _NEEDED - set(frame.columns)
    if missing:
        raise ResponsesError(path, f"is not a scores file written by 'pmo-maturity score': no column(s) "
                                   f"{sorted(missing)}")
    from .export import restore

    for column in ("group", "name", "dimension"):  # undo the spreadsheet neutralisation of the export
        if column in frame.columns:
            frame[column] = frame[column].astype(str).map(restore)
    return frame


def compare_cycles(scores: Scores, previous: str | Path | pd.DataFrame, *, unit: str | None = None) -> pd.DataFrame:
    """Per dimension (and overall): previous and current score with intervals, change and reading.

    Returns
    -------
    DataFrame
        ``dimension, name, previous, previous_low, previous_high, current, current_low,
        current_high, change, beyond, reading``. Dimensions missing from either cycle are left out.
    """
    before = read_previous(previous) if not isinstance(previous, pd.DataFrame) else previous
    scope, group = ("organisation", ORGANISATION) if unit is None else ("unit", unit)
    before = before[(before["scope"] == scope) & (before["group"] == group)].set_index("dimension")
    now = scores.to_frame()
    now = now[(now["scope"] == scope) & (now["group"] == group)].set_index("dimension")
    rows = []
    for dim in [*scores.questionnaire.dimension_ids, "overall"]:
        if dim not in before.index or dim not in now.index:
            continue
        b, c = before.loc[dim], now.loc[dim]
        values = [float(b["mean"]), float(b["ci_low"]), float(b["ci_high"]), float(c["mean"]), float(c["ci_low"]),
                  float(c["ci_high"])]
        if any(np.isnan(values)):
            continue
        change = values[3] - values[0]
        beyond = values[4] > values[2] or values[5] < values[1]
        direction = "up" if change > 0 else "down"
        reading = f"{direction}, beyond both intervals" if beyond else "no clear change (within the intervals)"
        name = "Overall integration index" if dim == "overall" else scores.questionnaire.dimension(dim).name
        rows.append({"dimension": dim, "name": name, "previous": values[0], "previous_low": values[1],
                     "previous_high": values[2], "current": values[3], "current_low": values[4],
                     "current_high": values[5], "change": change, "beyond": beyond, "reading": reading})
    return pd.DataFrame(rows, columns=["dimension", "name", "previous", "previous_low", "previous_high", "current",
                                       "current_low", "current_high", "change", "beyond", "reading"])
