"""Charts for the reports: one consistent palette, fixed scale limits, a takeaway on each.

Every function returns a :class:`Chart`: an SVG image (vector: sharp at any zoom, rendered once,
embedded as a data URI so reports open offline) with a one-line takeaway computed from the data,
which is shown as the caption and used as the image's alt text. Text stays text in the SVG (escaped
by matplotlib), and an SVG shown through ``<img>`` can run no script. Suppressed groups never reach
a chart: the functions only draw the reportable rows of the tables they are given.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd
from markupsafe import Markup
from matplotlib.figure import Figure
from matplotlib.transforms import ScaledTranslation

from .questionnaire import Questionnaire

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

# One palette for every report, so that units are comparable across reports.
LEVEL_COLOURS = ["#d7301f", "#fc8d59", "#fdcc8a", "#b3cde3", "#6497b1"]  # Ad hoc .. Optimising
SERIES = {"unit": "#1b4f72", "organisation": "#7f8c8d", "target": "#27ae60", "highlight": "#c0392b"}
ANSWER_COLOURS = {"negative": "#d7301f", "neutral": "#bdbdbd", "positive": "#2c7fb8"}
HORIZON_COLOURS = {30: "#5dade2", 60: "#aed6f1", 90: "#d6eaf8"}
DPI = 96
LABEL_PAD = 7.0  # points between an axis and its category labels (matplotlib's tick length + pad)
SVG_STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text as text: small files, and the reader's fonts (sans-serif fallback)
    "svg.hashsalt": "pmo-maturity",  # the same chart gives the same file
}


@dataclass(frozen=True)
class Chart:
    """A rendered chart (SVG) and its one-line takeaway."""

    svg: bytes
    takeaway: str
    title: str
    shown: tuple[str, ...] = ()  # the groups drawn (units, roles, archetypes), for checks

    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg).decode("ascii")

    def html(self) -> Markup:
        return Markup('<figure class="pmo-chart"><figcaption class="pmo-takeaway">{}</figcaption>'
                      '<img src="{}" alt="{}"></figure>').format(self.takeaway, self.data_uri(),
                                                                 f"{self.title}. {self.takeaway}")

    def _repr_html_(self) -> str:
        return str(self.html())

    def __repr__(self) -> str:
        return f"{self.title}: {self.takeaway}"


def _figure(ncols: int = 1, *, figsize: tuple[float, float]):
    """A figure and its axes, outside pyplot: no global figure registry to fill or close, and
    nothing shared between charts drawn at the same time."""
    fig = Figure(figsize=figsize)
    axes = fig.subplots(1, ncols, squeeze=False)
    return fig, axes[0] if ncols > 1 else axes[0][0]


def _render(fig, title: str, takeaway: str, shown=()) -> Chart:
    buffer = io.BytesIO()
    with matplotlib.rc_context(SVG_STYLE):
        # dpi sizes the parts drawn as pixels (dense scatters); no date, so that files repeat
        fig.savefig(buffer, format="svg", dpi=DPI, metadata={"Date": None})
    return Chart(buffer.getvalue(), takeaway, title, tuple(str(s) for s in shown))


def _category_labels(ax, positions, labels, *, axis: str = "y", fontsize: float = 9, rotation: float = 0) -> None:
    """Name the categories along an axis with plain texts, where tick labels would stand.

    Same place and look as ``set_yticks`` + ``set_yticklabels`` (size 9, as ``_style`` sets for tick
    labels; no tick marks), but none
    of matplotlib's tick objects: each is a tick mark, a grid line and two labels, laid out twice
    when drawn, and with 40 statements they cost more than everything else in the chart.
    """
    fig = ax.figure  # figure texts: outside the plot, so no clip path to set up for each
    if axis == "y":
        ax.set_yticks([])
        place = ax.get_yaxis_transform() + ScaledTranslation(-LABEL_PAD / 72, 0, fig.dpi_scale_trans)
        for position, label in zip(positions, labels, strict=True):
            fig.text(0, position, label, transform=place, ha="right", va="center_baseline", fontsize=fontsize)
    else:
        ax.set_xticks([])
        place = ax.get_xaxis_transform() + ScaledTranslation(0, -LABEL_PAD / 72, fig.dpi_scale_trans)
        for position, label in zip(positions, labels, strict=True):
            fig.text(position, 0, label, transform=place, ha="right" if rotation else "center", va="top",
                     rotation=rotation, rotation_mode="anchor", fontsize=fontsize)


def _scale_ticks(ax, q: Questionnaire) -> None:
    """The scale on the x axis, its whole numbers (1, 2, ... 5) as ticks, at most 11 (a 0-10 scale)."""
    lo, hi = q.scale.min, q.scale.max
    ax.set_xticks(np.arange(lo, hi + 1, max(1, int(np.ceil((hi - lo) / 10)))))
    ax.set_xlim(lo, hi)


def _bars(ax, y: np.ndarray, start: np.ndarray, stop: np.ndarray, colour, label: str | None = None,
          height: float = 0.75, vertical: bool = False) -> None:
    """Horizontal bars from ``start`` to ``stop`` at rows ``y`` (columns when ``vertical``), as one
    shape (one SVG path): the same picture as ``barh``/``bar`` without an artist (and an autoscale
    update) per bar. The caller sets the axis limits."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    low, high = y - height / 2, y + height / 2
    corners = np.stack([np.column_stack([start, low]), np.column_stack([start, high]),
                        np.column_stack([stop, high]), np.column_stack([stop, low]),
                        np.column_stack([start, low])], axis=1)
    if vertical:
        corners = corners[:, :, ::-1]
    codes = np.tile([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY], len(corners))
    shape = Path(corners.reshape(-1, 2).astype(float), codes.astype(Path.code_type))
    ax.add_patch(PathPatch(shape, facecolor=colour, edgecolor="none", label=label))


def _style(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=9)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + "\u2026"


def _wrap(text: str, width: int = 28) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def _bands(ax, q: Questionnaire, horizontal: bool = True) -> None:
    bounds = q.level_bounds
    for i, level in enumerate(q.levels):
        colour = LEVEL_COLOURS[min(i, len(LEVEL_COLOURS) - 1)]
        if horizontal:
            ax.axvspan(bounds[i], bounds[i + 1], color=colour, alpha=0.18, lw=0)
            ax.text((bounds[i] + bounds[i + 1]) / 2, 1.0, level.name, transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=8, color="#555555")


def radar(q: Questionnaire, scope: pd.DataFrame, organisation: pd.DataFrame | None, target: pd.Series,
          scope_name: str, status: pd.Series | None = None) -> Chart:
    """The scope's profile against the organisation and the target, on the full scale.

    Drawn on plain axes (a circle of radius 1 is the top of the scale, the centre its bottom) with
    rings at the level thresholds: the picture of a polar plot, without its tick machinery, which
    cost more than the rest of the chart.
    """
    from matplotlib.collections import LineCollection

    dims = q.dimension_ids
    values = scope.set_index("dimension").loc[dims, "mean"].to_numpy(dtype=float)
    angles = np.linspace(0, 2 * np.pi, len(dims), endpoint=False)
    fig, ax = _figure(figsize=(6.2, 5.2))
    fig.subplots_adjust(left=0.1, right=0.78, top=0.88, bottom=0.08)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    lo, span = q.scale.min, q.scale.max - q.scale.min

    def xy(series: np.ndarray, at: np.ndarray = angles) -> np.ndarray:
        radius = (np.asarray(series, dtype=float) - lo) / span
        return np.column_stack([radius * np.cos(at), radius * np.sin(at)])

    # grid: a ring per level threshold, the outer circle and a spoke per dimension
    around = np.linspace(0, 2 * np.pi, 181)
    inner = q.level_bounds[1:-1]
    rings = [xy(np.full(around.size, b), around) for b in inner]
    spokes = [np.array([[0.0, 0.0], [np.cos(a), np.sin(a)]]) for a in angles]
    ax.add_collection(LineCollection(rings + spokes, colors="#b0b0b0", linewidths=0.8), autolim=False)
    ax.add_collection(LineCollection([xy(np.full(around.size, q.scale.max), around)], colors="black", linewidths=0.8),
                      autolim=False)
    for b in inner:  # the thresholds' values along a ray between the first two spokes
        ax.text(*xy(np.array([b]), np.array([np.pi / 8]))[0], f"{b:.1f}", fontsize=7, color="#777777", ha="left",
                va="bottom")
    for a, d in zip(angles, dims, strict=True):  # dimension names outside the circle, aligned away from it
        c, s = np.cos(a), np.sin(a)
        ax.text(1.08 * c, 1.08 * s, _wrap(q.dimension(d).short, 14), fontsize=8,
                ha="left" if c > 0.1 else "right" if c < -0.1 else "center",
                va="bottom" if s > 0.1 else "top" if s < -0.1 else "center")

    def draw(series, colour, label, style="-", fill=False):
        points = xy(np.append(series, series[0]), np.append(angles, angles[0]))
        ax.plot(points[:, 0], points[:, 1], style, color=colour, lw=2, label=label)
        if fill:
            ax.fill(points[:, 0], points[:, 1], color=colour, alpha=0.12)

    draw(target.loc[dims].to_numpy(dtype=float), SERIES["target"], "Target", "--")
    if organisation is not None:
        draw(organisation.set_index("dimension").loc[dims, "mean"].to_numpy(dtype=float), SERIES["organisation"],
             "Organisation")
    draw(values, SERIES["unit"], scope_name, fill=True)
    ax.legend(loc="upper right", bbox_to_anchor=(1.3, 1.12), fontsize=8, frameon=False)
    if status is None:  # without the plan's reading: the point estimates
        status = pd.Series({d: "reached" if v >= target[d] - 1e-9 else "not reached"
                            for d, v in zip(dims, values, strict=True)})
    parts = []
    for word, label in (("not reached", "below target"), ("borderline", "borderline (the interval spans the target)")):
        named = [q.dimension(d).short for d in dims if status.get(d) == word]
        if named:
            parts.append(f"{len(named)} {label}: {', '.join(named)}")
    reached = sum(status.get(d) == "reached" for d in dims)
    takeaway = (f"{reached} of {len(dims)} dimensions have reached their target; " + "; ".join(parts) + "."
                if parts else "Every dimension has reached its target.")
    if organisation is not None:
        org = organisation.set_index("dimension").loc[dims, "mean"].to_numpy(dtype=float)
        diff = np.round(values, 2) - np.round(org, 2)  # as the two scores are displayed
        far = np.nanmax(np.abs(diff))
        named = [f"{q.dimension(d).short} ({v:+.2f})" for d, v in zip(dims, diff, strict=True)
                 if abs(abs(v) - far) < 1e-9]
        takeaway += f" Furthest from the organisation: {' and '.join(named)}."
    return _render(fig, "Profile against target", takeaway)


def dimension_scores(q: Questionnaire, scope: pd.DataFrame, target: pd.Series) -> Chart:
    """Each dimension's score with its 95% interval, over the level bands."""
    table = scope.set_index("dimension").loc[q.dimension_ids].iloc[::-1]
    fig, ax = _figure(figsize=(7.5, 4.2))
    fig.subplots_adjust(left=0.3, right=0.97, top=0.9, bottom=0.13)
    _bands(ax, q)
    y = np.arange(len(table))
    means = table["mean"].to_numpy(dtype=float)
    err = np.vstack([means - table["ci_low"].to_numpy(dtype=float), table["ci_high"].to_numpy(dtype=float) - means])
    ax.errorbar(means, y, xerr=np.nan_to_num(err), fmt="o", color=SERIES["unit"], ecolor=SERIES["unit"], capsize=3,
                ms=7)
    ax.scatter(target.loc[table.index].to_numpy(dtype=float), y, marker="|", s=250, color=SERIES["target"], zorder=3)
    _category_labels(ax, y, [_wrap(q.dimension(d).name, 32) for d in table.index])
    _scale_ticks(ax, q)
    ax.set_ylim(-0.5, len(table) - 0.5)
    ax.set_xlabel(f"Score ({q.scale.min}-{q.scale.max}) with 95% interval; green mark: the target")
    _style(ax)
    low = table["mean"].idxmin()
    high = table["mean"].idxmax()
    takeaway = (f"Scores run from {table.loc[low, 'mean']:.2f} ({q.dimension(low).short}, "
                f"{table.loc[low, 'level_name']}) to {table.loc[high, 'mean']:.2f} ({q.dimension(high).short}, "
                f"{table.loc[high, 'level_name']}).")
    return _render(fig, "Dimension scores", takeaway)


def item_answers(q: Questionnaire, answers: pd.DataFrame, hidden: Sequence[str] = ()) -> Chart:
    """Diverging stacked bars: share of disagreeing, neutral and agreeing answers per statement.

    ``answers`` has one row per statement of the scope: ``item, n, negative, neutral, positive``
    (counts of raw answers below, at and above the scale's middle; see
    :func:`pmo_maturity.digest.build`). Reverse-worded statements are said so: agreeing with them is
    the unfavourable answer. ``hidden`` statements are left out (too few answers to show).
    """
    counts = answers.set_index("item")
    items = [(d, item) for d in q.dimensions for item in d.items
             if item.id in counts.index and item.id not in set(hidden) and counts.loc[item.id, "n"] > 0]
    n = np.array([counts.loc[item.id, "n"] for _, item in items], dtype=float)
    neg = np.array([counts.loc[item.id, "negative"] for _, item in items], dtype=float) / n * 100
    pos = np.array([counts.loc[item.id, "positive"] for _, item in items], dtype=float) / n * 100
    # Each statement in its own words (two lines at most); reverse-worded ones say so.
    labels = [_wrap(_clip(item.text + (" (reverse-worded)" if item.reverse else ""), 104), 54) for _, item in items]
    frame = pd.DataFrame({"item": [item.id for _, item in items], "label": labels,
                          "reverse": [item.reverse for _, item in items],
                          "negative": neg, "neutral": 100 - neg - pos, "positive": pos,
                          "dimension": [d.short for d, _ in items]}).iloc[::-1]
    height = max(4.0, 0.3 * len(frame) + 1)
    fig, ax = _figure(figsize=(9.5, height))
    fig.subplots_adjust(left=0.42, right=0.98, top=1 - 0.45 / height, bottom=0.5 / height)
    y = np.arange(len(frame))
    half = frame["neutral"].to_numpy() / 2
    # Unfavourable answers to the left, favourable to the right: for a reverse-worded statement,
    # agreeing is the unfavourable answer.
    reverse = frame["reverse"].to_numpy()
    unfavourable = np.where(reverse, frame["positive"], frame["negative"])
    favourable = np.where(reverse, frame["negative"], frame["positive"])
    _bars(ax, y, -half, -unfavourable - half, ANSWER_COLOURS["negative"], "Unfavourable")
    _bars(ax, y, -half, half, ANSWER_COLOURS["neutral"], "Neutral")
    _bars(ax, y, half, half + favourable, ANSWER_COLOURS["positive"], "Favourable")
    ax.set_ylim(-0.5, len(frame) - 0.5)
    ax.axvline(0, color="#333333", lw=0.8)
    _category_labels(ax, y, frame["label"], fontsize=7)
    ax.set_xlim(-100, 100)
    ax.set_xticks([-100, -50, 0, 50, 100])
    ax.set_xticklabels(["100%", "50%", "0", "50%", "100%"], fontsize=8)
    ax.legend(loc="lower right", fontsize=8, ncols=3, frameon=False, bbox_to_anchor=(1, 1.0))
    _style(ax)
    favourable = frame.assign(fav=np.where(frame["reverse"], frame["negative"], frame["positive"]))
    worst = favourable.sort_values("fav").iloc[0]
    text = next(i.text for i in q.items if i.id == worst["item"])
    takeaway = f"Least favourable statement: \u201c{text}\u201d ({worst['fav']:.0f}% favourable answers)."
    if len(hidden):
        takeaway += f" {len(hidden)} statement{'s' if len(hidden) != 1 else ''} not shown, to protect anonymity."
    return _render(fig, "Answers per statement", takeaway)


def perception_gaps(q: Questionnaire, roles: pd.DataFrame, threshold: float, gaps: pd.DataFrame | None = None
                    ) -> Chart:
    """Each reportable role's mean per dimension (a dot per role, a line for the spread).

    The takeaway names the widest *flagged* gap of the scope (``gaps``: rows of ``Scores.gaps``),
    with its interval; a spread that is not clear of the uncertainty is said to be so.
    """
    shown = roles[~roles["suppressed"].astype(bool)].dropna(subset=["mean"])
    dims = q.dimension_ids
    fig, ax = _figure(figsize=(7.5, 4.2))
    fig.subplots_adjust(left=0.3, right=0.74, top=0.9, bottom=0.08)
    _bands(ax, q)
    palette = matplotlib.colormaps["tab10"]
    role_names = sorted(shown["role"].unique())
    # One colour per role in every report: the questionnaire's roles first, in their order.
    known = [*q.roles, *sorted(set(role_names) - set(q.roles))] if q.roles else sorted(role_names)
    colour_of = {role: palette(i % 10) for i, role in enumerate(known)}
    # dimensions (bottom to top) x roles; a role's missing dimensions are NaN and not drawn
    cells = shown.drop_duplicates(["dimension", "role"])
    cells = cells[cells["dimension"].isin(dims)]
    table = np.full((len(dims), len(role_names)), np.nan)
    table[cells["dimension"].map({d: i for i, d in enumerate(dims[::-1])}).to_numpy(dtype=int),
          np.searchsorted(role_names, cells["role"].to_numpy())] = cells["mean"].to_numpy(dtype=float)
    ys = np.arange(len(dims))
    compared = np.flatnonzero((~np.isnan(table)).sum(axis=1) > 1)  # dimensions with two or more roles
    if len(compared):
        ax.hlines(compared, np.nanmin(table[compared], axis=1), np.nanmax(table[compared], axis=1), color="#999999",
                  lw=1, zorder=1)
    for k, role in enumerate(role_names):
        has = ~np.isnan(table[:, k])
        ax.scatter(table[has, k], ys[has], color=colour_of.get(role, palette(k % 10)), label=_wrap(role, 24), s=36,
                   zorder=2)
    _category_labels(ax, ys, [_wrap(q.dimension(d).name, 32) for d in dims[::-1]])
    _scale_ticks(ax, q)
    ax.set_ylim(-0.5, len(dims) - 0.5)
    if role_names:
        ax.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1, 0.5))
    _style(ax)
    flagged = gaps[gaps["flagged"].astype(bool)] if gaps is not None and len(gaps) else pd.DataFrame()
    widest = gaps.sort_values("difference", ascending=False).iloc[0] if gaps is not None and len(gaps) else None
    if len(flagged):
        g = flagged.sort_values("difference", ascending=False).iloc[0]
        takeaway = (f"Widest clear gap on {q.dimension(g['dimension']).short}: {g['higher']} {g['mean_higher']:.2f} "
                    f"against {g['lower']} {g['mean_lower']:.2f} ({g['difference']:.2f} points, 95% CI "
                    f"{g['ci_low']:.2f} to {g['ci_high']:.2f}).")
    elif widest is not None:
        takeaway = (f"No gap between roles is clear of the uncertainty: the widest, on "
                    f"{q.dimension(widest['dimension']).short}, is {widest['difference']:.2f} points (95% CI "
                    f"{widest['ci_low']:.2f} to {widest['ci_high']:.2f}), but with {int(widest['comparisons'])} "
                    f"comparisons made, a gap this size can arise by chance; gaps count from {threshold:.2f}.")
    else:
        takeaway = "Too few respondents per role to compare roles."
    return _render(fig, "Perception gaps by role", takeaway, role_names)


def archetype_profiles(q: Questionnaire, profiles: pd.DataFrame, organisation: pd.Series,
                       shares: pd.Series | None = None, scope_name: str = "") -> Chart:
    """Each shown archetype's mean score per dimension against the organisation's, in scale points.

    ``shares`` (archetype -> share of a unit's respondents) labels the groups with the unit's own
    shares beside the organisation's.
    """
    shown = profiles[~profiles["suppressed"].astype(bool)]
    dims = q.dimension_ids
    fig, ax = _figure(figsize=(7.5, 5.2))
    fig.subplots_adjust(left=0.11, right=0.98, top=0.95, bottom=0.36 + 0.05 * len(shown))
    palette = matplotlib.colormaps["Set2"]
    x = np.arange(len(dims))
    width = 0.8 / max(len(shown), 1)
    org = organisation.reindex(dims).to_numpy(dtype=float)
    reach = 0.5
    diffs = {}
    for k, row in enumerate(shown.itertuples()):
        diff = np.array([getattr(row, d) for d in dims], dtype=float) - org
        diffs[row.archetype] = diff
        reach = max(reach, float(np.nanmax(np.abs(diff))) if np.isfinite(diff).any() else 0.0)
        share = (f"{shares[row.archetype]:.0%} of {scope_name}, {row.share:.0%} of the organisation"
                 if shares is not None and row.archetype in shares.index else f"{row.share:.0%} of respondents")
        _bars(ax, x + k * width - 0.4 + width / 2, np.zeros(len(diff)), np.nan_to_num(diff), palette(k % 8),
              f"{row.archetype} ({share})", height=width, vertical=True)
    ax.set_xlim(-0.6, len(dims) - 0.4)
    ax.axhline(0, color="#333333", lw=0.8)
    _category_labels(ax, x, [_wrap(q.dimension(d).short, 16) for d in dims], axis="x", rotation=35, fontsize=8)
    ax.set_ylabel(f"Points above or below the organisation\n({q.scale.min}-{q.scale.max} scale)", fontsize=8)
    limit = np.ceil(reach * 4) / 4
    ax.set_ylim(-limit, limit)
    if len(shown):
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.34), ncols=1)
    _style(ax)
    takeaway = "No group is large enough to show."
    if len(shown):
        largest = shown.iloc[0]
        diff = pd.Series(diffs[largest["archetype"]], index=dims)
        top, bottom = diff.idxmax(), diff.idxmin()
        share = (f"{shares[largest['archetype']]:.0%} of {scope_name}" if shares is not None
                 and largest["archetype"] in shares.index else f"{largest['share']:.0%} of respondents")
        takeaway = (f"The largest group, '{largest['archetype']}' ({share}), scores furthest above the "
                    f"organisation on {q.dimension(top).short} ({diff[top]:+.2f}) and furthest below on "
                    f"{q.dimension(bottom).short} ({diff[bottom]:+.2f}).")
    return _render(fig, "Groups of respondents with a shared pattern", takeaway, shown["archetype"])


def portfolio_heatmap(q: Questionnaire, units: pd.DataFrame, organisation: pd.DataFrame) -> Chart:
    """Units x dimensions: each cell is the unit's difference to the organisation, annotated."""
    import seaborn as sns

    shown = units[~units["suppressed"].astype(bool)]
    table = shown.pivot(index="unit", columns="dimension", values="mean")[q.dimension_ids]
    org = organisation.set_index("dimension")["mean"]
    diff = table.round(2) - org.round(2)  # differences of the scores as displayed
    order = table.mean(axis=1).sort_values(ascending=False).index
    diff = diff.loc[order]
    height = 0.42 * len(diff) + 1.8
    fig, ax = _figure(figsize=(8.5, height))
    fig.subplots_adjust(left=0.22, right=1.0, top=1 - 0.2 / height, bottom=0.8 / height)
    limit = q.scale.range / 4
    sns.heatmap(diff, ax=ax, cmap="RdBu", center=0, vmin=-limit, vmax=limit, annot=table.loc[order], fmt=".2f",
                annot_kws={"fontsize": 7}, cbar_kws={"label": "Difference to the organisation"}, linewidths=0.5)
    ax.set_xticklabels([_wrap(q.dimension(d).short, 12) for d in q.dimension_ids], rotation=0, fontsize=7)
    ax.set_yticklabels([_wrap(u, 24) for u in diff.index], fontsize=8, rotation=0)
    ax.set_xlabel("")
    ax.set_ylabel("")
    cell = diff.stack()
    worst = cell.idxmin()
    best = cell.idxmax()
    takeaway = (f"Largest shortfall: {worst[0]} on {q.dimension(worst[1]).short} ({cell.min():+.2f} against the "
                f"organisation); largest lead: {best[0]} on {q.dimension(best[1]).short} ({cell.max():+.2f}).")
    return _render(fig, "Units against the organisation", takeaway, diff.index)


def roadmap(plan_actions: pd.DataFrame) -> Chart:
    """The 30/60/90-day plan as a timeline, one bar per action (each in its window)."""
    actions = plan_actions.sort_values(["window", "rank"]).reset_index(drop=True)
    height = max(2.2, 0.36 * len(actions) + 1.2)
    fig, ax = _figure(figsize=(8.5, height))
    fig.subplots_adjust(left=0.03, right=0.97, top=1 - 0.2 / height, bottom=0.5 / height)
    window = actions["window"].astype(int).to_numpy()
    start = window - 30  # each window is 30 days, ending on its day
    rows = np.arange(len(actions))
    for days, colour in HORIZON_COLOURS.items():
        mine = window == days
        if mine.any():
            _bars(ax, rows[mine], start[mine], window[mine], colour, height=0.6)
    for i, a in enumerate(actions.itertuples()):
        room = 62 if start[i] < 60 else 34  # characters that fit between the bar's start and the right edge
        ax.text(start[i] + 1, i, _clip(f"{a.rank}. {a.title} ({a.owner})", room), va="center", fontsize=7,
                color="#1b2631")
    ax.set_ylim(-0.5, max(len(actions), 1) - 0.5)
    ax.set_yticks([])
    ax.set_xlim(0, 90)
    ax.set_xticks([0, 30, 60, 90])
    ax.set_xticklabels(["start", "day 30", "day 60", "day 90"], fontsize=8)
    ax.invert_yaxis()
    _style(ax)
    counts = actions["window"].value_counts().reindex([30, 60, 90], fill_value=0)
    effort = f"{int(actions['days_low'].sum())}-{int(actions['days_high'].sum())} person-days" if len(actions) else ""
    takeaway = (f"{counts[30]} action{'s' if counts[30] != 1 else ''} by day 30, {counts[60]} by day 60 and "
                f"{counts[90]} by day 90: {effort} in all." if len(actions) else
                "No action is needed to reach the target.")
    return _render(fig, "30/60/90-day roadmap", takeaway)

