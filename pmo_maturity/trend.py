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


def cycle_of(frame: pd.DataFrame) -> tuple[str | None, str | None, tuple[float, float] | None]:
    """The questionnaire id, version and scale a scores table was computed on.

    Files written by this version of the kit say so in columns; older ones have a ``questionnaire``
    column (``"id vVERSION"``), and their scale follows from the 0-100 index written beside every
    mean: ``index = (mean - min) / (max - min) x 100`` is linear in the mean, so two rows give min
    and max.
    """
    qid = version = None
    if "questionnaire_id" in frame.columns and frame["questionnaire_id"].notna().any():
        qid = str(frame["questionnaire_id"].dropna().iloc[0])
        version = str(frame["questionnaire_version"].dropna().iloc[0]) if "questionnaire_version" in frame else None
    elif "questionnaire" in frame.columns and frame["questionnaire"].notna().any():
        qid, _, version = str(frame["questionnaire"].dropna().iloc[0]).rpartition(" v")
        qid, version = (qid, version) if qid else (version, None)
    if {"scale_min", "scale_max"} <= set(frame.columns) and frame["scale_min"].notna().any():
        return qid, version, (float(frame["scale_min"].dropna().iloc[0]), float(frame["scale_max"].dropna().iloc[0]))
    if "index" in frame.columns:
        both = frame[["mean", "index"]].apply(pd.to_numeric, errors="coerce").dropna()
        if both["mean"].nunique() >= 2:
            slope, intercept = np.polyfit(both["mean"], both["index"], 1)  # index = 100 (mean - min) / range
            if slope > 0:
                low = -intercept / slope
                return qid, version, (round(low, 6), round(low + 100 / slope, 6))
    return qid, version, None


def compare_cycles(scores: Scores, previous: str | Path | pd.DataFrame, *, unit: str | None = None) -> pd.DataFrame:
    """Per dimension (and overall): previous and current score with intervals, change and reading.

    Only like is compared with like: a previous cycle scored on another questionnaire (id) or
    scale is refused with an error naming both files; one scored on another version of the same
    questionnaire is compared on the dimensions both have, and the result says which were left out
    (``attrs["left_out"]`` and ``attrs["note"]``).

    Returns
    -------
    DataFrame
        ``dimension, name, previous, previous_low, previous_high, current, current_low,
        current_high, change, beyond, reading``. Dimensions missing from either cycle are left out.

    Raises
    ------
    ResponsesError
        The previous file is unreadable, not a scores file, or of another questionnaire or scale.
    """
    before = read_previous(previous) if not isinstance(previous, pd.DataFrame) else previous
    q = scores.questionnaire
    where = str(previous) if not isinstance(previous, pd.DataFrame) else "the previous cycle"
    current = scores.provenance.get("input_file") or "the current cycle"
    qid, version, scale = cycle_of(before)
    if qid is not None and qid != q.id:
        raise ResponsesError(where, f"was scored on questionnaire {qid!r}, the current cycle ({current}) on "
                                    f"{q.id!r}: cycles of different questionnaires cannot be compared")
    if scale is not None and not np.allclose(scale, (q.scale.min, q.scale.max), atol=1e-3):
        raise ResponsesError(where, f"was scored on a {scale[0]:g}-{scale[1]:g} scale, the current cycle ({current}) "
                                    f"on {q.scale.min}-{q.scale.max}: scores on different scales cannot be compared")
    scope, group = ("organisation", ORGANISATION) if unit is None else ("unit", unit)
    before = before[(before["scope"] == scope) & (before["group"] == group)].set_index("dimension")
    now = scores.to_frame()
    now = now[(now["scope"] == scope) & (now["group"] == group)].set_index("dimension")
    rows = []
    previous_dims = set(before.index) - {"overall"}
    left_out = sorted(previous_dims ^ set(q.dimension_ids))
    if left_out and version is not None and version != q.version:
        # Another version of the instrument: the overall index is an average over other dimensions.
        left_out.append("overall")
    for dim in [*q.dimension_ids, "overall"]:
        if dim not in before.index or dim not in now.index or dim in left_out:
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
    out = pd.DataFrame(rows, columns=["dimension", "name", "previous", "previous_low", "previous_high", "current",
                                      "current_low", "current_high", "change", "beyond", "reading"])
    out.attrs["left_out"] = left_out
    out.attrs["note"] = ""
    if left_out:
        was = f" (version {version}; now {q.version})" if version is not None and version != q.version else ""
        out.attrs["note"] = (f"The previous cycle{was} is compared on the dimensions both cycles have; left out: "
                             f"{', '.join(left_out)}.")
    return out
