"""Synthetic survey exports of a fictional organisation, for the demo, the notebooks and the tests.

:func:`generate_sample` builds a seeded, realistic export: business units with different latent
maturity profiles, planted respondent segments (so clustering has real structure to find; the ground
truth is returned), executives rating higher than delivery staff, item noise, "Don't know" answers,
skipped items, free-text comments, speeders, straight-liners and a configurable share of bad rows
(out-of-range values, unknown labels, earlier duplicate submissions, blank units, empty rows), each
with the quarantine reason the loader must give it. :func:`write_export` writes it the way survey
tools do: item ids with numbers, MS Forms or Google Forms headers with labels, or long format, as
CSV or XLSX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._resources import data_file
from .questionnaire import Questionnaire, load_questionnaire

SAMPLE_FILE = "sample_export.csv"
HEADCOUNT_FILE = "sample_headcount.csv"  # written from SampleData.headcount of the same run
DEFAULT_SEED = 2026
SAMPLE_ORGANISATION = "Example Organisation"  # the bundled sample's name in titles

ROLES = (
    "Executive sponsor",
    "PMO staff",
    "Programme/project manager",
    "Team member",
    "Business stakeholder",
)
ROLE_SHARES = (0.09, 0.14, 0.25, 0.34, 0.18)
# Executives see the PMO through its strategy documents and rate it higher, on vision most of all;
# delivery staff see day-to-day integration and rate it lower (offsets as a share of the range).
ROLE_OFFSETS = {
    "Executive sponsor": {"*": 0.10, "vision": 0.22, "portfolio": 0.12},
    "PMO staff": {"*": 0.05},
    "Programme/project manager": {"*": 0.0},
    "Team member": {"*": -0.05, "vision": -0.06},
    "Business stakeholder": {"*": -0.02},
}

UNIT_NAMES = (
    "Finance", "Digital & IT", "Operations", "Sales & Marketing", "People & Culture", "Supply Chain",
    "Research & Development", "Customer Service", "Legal & Compliance", "Facilities", "Procurement",
    "Strategy Office", "Risk", "Manufacturing", "Logistics", "Quality", "Data & Analytics",
    "Corporate Affairs", "Internal Audit", "Treasury", "Product Management", "Engineering",
    "Field Services", "Shared Services",
)

# Respondent segments planted in the bundled instrument's data (offsets as a share of the range).
SEGMENTS = {
    "Strategic but disconnected": {"vision": 0.26, "portfolio": 0.14, "capability": 0.10,
                                   "culture": -0.22, "ppt": -0.20, "change": -0.10},
    "Delivery-focused": {"action": 0.26, "portfolio": 0.12, "ppt": 0.10,
                         "vision": -0.22, "insight": -0.16, "culture": -0.06},
    "Engaged learners": {"culture": 0.26, "insight": 0.22, "change": 0.12,
                         "portfolio": -0.18, "capability": -0.14, "action": -0.10},
}

COMMENTS = {
    "Strategic but disconnected": [
        "The strategy is clear at the top, but my team only hears about it at the annual kick-off.",
        "Portfolio reviews are good; what happens on the ground is another story.",
        "We have a great roadmap deck. Nobody on delivery teams has seen it.",
        "Tools are chosen centrally and rolled out without asking the people who use them.",
        "Leadership is aligned, but the PMO and the delivery teams work in separate worlds.",
    ],
    "Delivery-focused": [
        "We deliver on time but I could not tell you which strategic goal my project serves.",
        "Action plans are followed up every week; the why behind them is rarely explained.",
        "Lessons learned sessions happen, but nobody reads the outputs.",
        "Good delivery discipline. The PMO vision is a poster on the wall.",
        "Priorities change every quarter without explanation.",
    ],
    "Engaged learners": [
        "Our retrospectives are honest and we celebrate wins together.",
        "Great team spirit, but dependencies between projects still surprise us.",
        "We learn a lot from each other; the PMO could help us turn that into standards.",
        "Collaboration is strong, yet resourcing across the portfolio is a constant fight.",
        "The community of practice is the best thing the PMO has started.",
    ],
    "general": [
        "More transparency on how projects are prioritised would help.",
        "Benefits are estimated in the business case and never checked afterwards.",
        "-- too many templates, not enough conversations.",
        "The PMO should spend less time on reports and more time unblocking teams.",
        "Change fatigue is real: three reorganisations in two years.",
        "I would like clearer owners for cross-team actions.",
    ],
}

BAD_ROW_KINDS = ("out_of_range", "unknown_label", "superseded", "missing_unit", "empty_row")
UNKNOWN_LABELS = ("Somewhat agree", "Agree strongly", "Maybe", "yes", "3.5")


@dataclass(frozen=True)
class SampleData:
    """A generated export and the truth behind it.

    Attributes
    ----------
    frame : DataFrame
        The export in canonical form: ``respondent_id, business_unit, role, start_time,
        submitted_at``, one column per item id (numbers; ``NaN`` for a skipped item; the strings
        ``"Don't know"``/bad labels where given) and ``comment``. One row per submitted form.
    truth : DataFrame
        Per row of ``frame`` (same order): ``row`` (spreadsheet row number once written, header
        = 1), ``respondent_id``, ``unit``, ``role``, ``segment`` (planted archetype),
        ``expected_reason`` (the quarantine reason code, or empty when the row must be scored) and
        ``expected_flag`` (``straight_lining``/``speeder``/empty).
    questionnaire : Questionnaire
    seed : int
    """

    frame: pd.DataFrame
    truth: pd.DataFrame
    questionnaire: Questionnaire
    seed: int
    headcount: dict[str, int] = field(default_factory=dict)

    def write(self, path: str | Path, layout: str = "forms", **kwargs) -> Path:
        """Write the export; see :func:`write_export`."""
        return write_export(self, path, layout=layout, **kwargs)


def _segment_offsets(questionnaire: Questionnaire, n_segments: int) -> tuple[list[str], np.ndarray]:
    dims = questionnaire.dimension_ids
    if set(dims) >= {d for offsets in SEGMENTS.values() for d in offsets} and n_segments == len(SEGMENTS):
        names = list(SEGMENTS)
        table = np.array([[SEGMENTS[s].get(d, 0.0) for d in dims] for s in names])
        return names, table
    # Any other instrument: segment s is high on dimensions s, s+k, ... and low on the next ones.
    table = np.zeros((n_segments, len(dims)))
    for s in range(n_segments):
        for j in range(len(dims)):
            if j % n_segments == s:
                table[s, j] = 0.25
            elif j % n_segments == (s + 1) % n_segments:
                table[s, j] = -0.2
    return [f"Segment {s + 1}" for s in range(n_segments)], table


def _role_offsets(dims: list[str]) -> np.ndarray:
    return np.array([[ROLE_OFFSETS[r].get(d, ROLE_OFFSETS[r]["*"]) for d in dims] for r in ROLES])


def generate_sample(
    questionnaire: Questionnaire | None = None,
    *,
    units: int | list[tuple[str, int]] = 6,
    respondents_per_unit: tuple[int, int] = (32, 60),
    small_units: int = 2,
    segments: int = 3,
    bad_row_share: float = 0.05,
    dont_know_share: float = 0.04,
    comment_share: float = 0.3,
    seed: int = DEFAULT_SEED,
    start: str = "2026-10-05 08:00",
) -> SampleData:
    """Generate a seeded survey export of a fictional organisation.

    Parameters
    ----------
    questionnaire : Questionnaire, optional
        The instrument to answer (default: the bundled one). Any Likert instrument works.
    units : int or list of (name, size)
        Number of business units (names from a built-in list) or explicit names and sizes.
    respondents_per_unit : (low, high)
        Range of unit sizes when ``units`` is a number.
    small_units : int
        How many extra units of 3-4 respondents to add (they must be suppressed in reports).
    segments : int
        Number of planted respondent segments (archetypes).
    bad_row_share : float
        Share of extra bad rows (out of range, unknown label, duplicate, blank unit, empty).
    dont_know_share : float
        Probability that an answer is "Don't know".
    comment_share : float
        Share of respondents leaving a free-text comment.
    seed : int
        Everything is drawn from ``numpy.random.default_rng(seed)``.

    Returns
    -------
    SampleData

    Examples
    --------
    >>> sample = generate_sample(units=3, small_units=0, seed=1)
    >>> sample.truth["segment"].nunique()
    3
    """
    q = questionnaire or load_questionnaire()
    rng = np.random.default_rng(seed)
    unit_sizes = _unit_sizes(units, respondents_per_unit, small_units, rng)
    names = [name for name, _ in unit_sizes]
    sizes = np.array([size for _, size in unit_sizes])
    n = int(sizes.sum())
    dims = q.dimension_ids
    n_dims = len(dims)

    # Latent maturity on a 0-1 share of the scale: unit profile + segment + role + person noise.
    unit_base = rng.uniform(0.30, 0.58, size=len(names))
    org_dims = rng.normal(0.0, 0.07, size=n_dims)  # what the whole organisation is good and bad at
    unit_dims = org_dims + rng.normal(0.0, 0.06, size=(len(names), n_dims))
    seg_names, seg_table = _segment_offsets(q, segments)
    unit_of = np.repeat(np.arange(len(names)), sizes)
    seg_mix = rng.dirichlet(np.full(len(seg_names), 6.0), size=len(names))
    seg_of = (seg_mix[unit_of].cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    role_of = rng.choice(len(ROLES), p=ROLE_SHARES, size=n)
    latent = (
        unit_base[unit_of, None]
        + unit_dims[unit_of]
        + seg_table[seg_of]
        + _role_offsets(dims)[role_of]
        + rng.normal(0.0, 0.03, size=(n, 1))
        + rng.normal(0.0, 0.06, size=(n, n_dims))
    )
    answers = _answers(q, latent, rng)

    # Respondent behaviour: don't know, skipped items, straight-lining, speeding.
    dont_know = rng.random(answers.shape) < dont_know_share
    skipped = rng.random(answers.shape) < 0.01
    sparse = rng.random(n) < 0.015  # a few respondents who skip most of the survey
    skipped |= sparse[:, None] & (rng.random(answers.shape) < 0.7)
    answers[skipped] = np.nan
    flag = np.full(n, "", dtype=object)
    straight = rng.random(n) < 0.012
    answers[straight] = rng.integers(q.scale.min, q.scale.max + 1, size=(int(straight.sum()), 1))
    dont_know[straight] = False
    flag[straight] = "straight_lining" if any(i.reverse for i in q.items) else ""
    speeder = (rng.random(n) < 0.012) & ~straight
    flag[speeder] = "speeder"

    ids = np.array([f"R{i + 1:05d}" for i in range(n)], dtype=object) if n < 100_000 else np.char.add(
        "R", np.char.zfill(np.arange(1, n + 1).astype(str), 7)
    ).astype(object)
    start_at = pd.Timestamp(start) + pd.to_timedelta(rng.uniform(0, 18 * 24 * 3600, n).round(), unit="s")
    duration = np.exp(rng.normal(np.log(11 * 60), 0.35, n))
    duration[speeder] = rng.uniform(50, 95, int(speeder.sum()))
    submitted = start_at + pd.to_timedelta(duration.round(), unit="s")

    frame = pd.DataFrame(
        {
            "respondent_id": ids,
            "business_unit": np.array(names, dtype=object)[unit_of],
            "role": np.array(ROLES, dtype=object)[role_of],
            "start_time": start_at,
            "submitted_at": submitted,
        }
    )
    items = pd.DataFrame(answers, columns=q.item_ids)
    if dont_know.any():
        items = items.astype(object)
        items[pd.DataFrame(dont_know, columns=q.item_ids)] = q.scale.na_labels[0]
    frame = pd.concat([frame, items], axis=1)
    frame["comment"] = _comments(rng, n, seg_of, seg_names, comment_share)
    _add_personal_details(frame, np.random.default_rng([seed, 101]))  # its own stream: the answers stay as they were
    truth = pd.DataFrame(
        {
            "respondent_id": ids,
            "unit": frame["business_unit"].to_numpy(),
            "role": frame["role"].to_numpy(),
            "segment": np.array(seg_names, dtype=object)[seg_of],
            "expected_reason": "",
            "expected_flag": flag,
        }
    )
    # Respondents who skipped so much that no dimension can be scored are quarantined by the loader.
    answered = ~np.isnan(answers) & ~dont_know
    first, scorable = 0, np.zeros(n, dtype=bool)
    for d in q.dimensions:
        scorable |= answered[:, first:first + len(d.items)].sum(axis=1) >= d.min_answered(0.6)
        first += len(d.items)
    truth.loc[~scorable, "expected_reason"] = "too_few_answers"
    truth.loc[~scorable, "expected_flag"] = ""
    frame, truth = _add_bad_rows(frame, truth, q, rng, bad_row_share)

    order = np.argsort(frame["submitted_at"].to_numpy(), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    truth = truth.iloc[order].reset_index(drop=True)
    truth.insert(0, "row", np.arange(2, len(truth) + 2))
    headcount = {name: int(round(size * 1.35)) + 2 for name, size in unit_sizes}
    return SampleData(frame=frame, truth=truth, questionnaire=q, seed=seed, headcount=headcount)


def _unit_sizes(units, respondents_per_unit, small_units, rng) -> list[tuple[str, int]]:
    if isinstance(units, int):
        names = [f"Unit {i + 1:02d}" for i in range(units)] if units > len(UNIT_NAMES) else list(UNIT_NAMES[:units])
        low, high = respondents_per_unit
        result = [(name, int(rng.integers(low, high + 1))) for name in names]
    else:
        result = [(str(name), int(size)) for name, size in units]
    pool = [u for u in UNIT_NAMES if u not in {name for name, _ in result}]
    for i in range(small_units):
        result.append((pool[i] if i < len(pool) else f"Small unit {i + 1}", 3 + i % 2))
    return result


def _answers(q: Questionnaire, latent: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    dim_index = {d: j for j, d in enumerate(q.dimension_ids)}
    columns = [dim_index[d.id] for d in q.dimensions for _ in d.items]
    reverse = np.array([i.reverse for i in q.items])
    item_bias = rng.normal(0.0, 0.04, size=len(columns))
    share = latent[:, columns] + item_bias + rng.normal(0.0, 0.15, size=(latent.shape[0], len(columns)))
    values = np.clip(np.rint(q.scale.min + share * q.scale.range), q.scale.min, q.scale.max)
    values[:, reverse] = q.scale.min + q.scale.max - values[:, reverse]
    return values.astype(float)


def _comments(rng, n, seg_of, seg_names, share) -> np.ndarray:
    out = np.full(n, "", dtype=object)
    leave = np.flatnonzero(rng.random(n) < share)
    for i in leave:
        pool = COMMENTS.get(seg_names[seg_of[i]], []) if rng.random() < 0.7 else []
        pool = pool or COMMENTS["general"]
        out[i] = pool[int(rng.integers(len(pool)))]
    return out


FIRST_NAMES = ("Amara", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Keiko",
               "Liam", "Maya", "Nikhil", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor",
               "Wanda", "Xavier", "Yara", "Zoltan")
LAST_NAMES = ("Abbott", "Brennan", "Castillo", "Dubois", "Eriksen", "Fontaine", "Galloway", "Hartmann", "Ivanova",
              "Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero", "Rasmussen",
              "Santos", "Takahashi", "Ueda", "Varga", "Whitfield", "Xu", "Yilmaz", "Zimmermann")
PERSONAL_COMMENTS = (
    "Ask {colleague} about the portfolio tracker, she built it.",
    "Happy to talk more: {email}.",
    "Call me on {phone} if you want examples.",
    "Our lessons log is at https://intranet.example.com/pmo/lessons but nobody updates it.",
    "{colleague} and I raised this at every review; follow @pmo_{first} for the updates.",
)


def _add_personal_details(frame: pd.DataFrame, rng: np.random.Generator) -> None:
    """What a named MS Forms survey exports (each respondent's e-mail and name), and a few comments
    that name a colleague or give contact details, as real comments do (the kit must screen them)."""
    n = len(frame)
    first = np.array(FIRST_NAMES, dtype=object)[rng.integers(len(FIRST_NAMES), size=n)]
    last = np.array(LAST_NAMES, dtype=object)[rng.integers(len(LAST_NAMES), size=n)]
    frame["name"] = first + " " + last
    frame["email"] = [f"{f.lower()}.{s.lower()}@example.com" for f, s in zip(first, last, strict=True)]
    commented = np.flatnonzero(frame["comment"].to_numpy() != "")
    for k, i in enumerate(rng.choice(commented, size=min(len(commented), 6), replace=False)):
        template = PERSONAL_COMMENTS[k % len(PERSONAL_COMMENTS)]
        colleague = frame["name"].iloc[int(rng.integers(n))]
        phone = f"+44 20 7946 {int(rng.integers(1000)):04d}"
        frame.loc[frame.index[i], "comment"] = template.format(colleague=colleague, email=frame["email"].iloc[i],
                                                              phone=phone, first=first[i].lower())


def _add_bad_rows(frame, truth, q, rng, share) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Append bad rows of every kind, each marked with the quarantine reason it must get."""
    n_bad = int(round(len(frame) * share))
    if n_bad == 0:
        return frame, truth
    kinds = [BAD_ROW_KINDS[i % len(BAD_ROW_KINDS)] for i in range(n_bad)]
    good = np.flatnonzero((truth["expected_flag"].to_numpy() == "") & (truth["expected_reason"].to_numpy() == ""))
    chosen = rng.choice(good, size=n_bad, replace=False)
    items = q.item_ids
    rows, truths = [], []
    for kind, source in zip(kinds, chosen, strict=True):
        row = frame.iloc[source].copy()
        t = truth.iloc[source].copy()
        t["expected_flag"] = ""
        if kind == "superseded":
            # An earlier submission by the same respondent, with different answers.
            row["submitted_at"] = row["start_time"] - pd.Timedelta(days=int(rng.integers(1, 4)))
            row["start_time"] = row["submitted_at"] - pd.Timedelta(minutes=9)
            row[items] = rng.integers(q.scale.min, q.scale.max + 1, size=len(items)).astype(float)
            row["comment"] = ""
        else:
            row["respondent_id"] = f"{row['respondent_id']}-{kind[:3]}"
            t["respondent_id"] = row["respondent_id"]
            target = items[int(rng.integers(len(items)))]
            if kind == "out_of_range":
                row[target] = float(q.scale.max + 2 if rng.random() < 0.5 else q.scale.min - 1)
            elif kind == "unknown_label":
                row[target] = UNKNOWN_LABELS[int(rng.integers(len(UNKNOWN_LABELS)))]
                if row[target] == "3.5":  # a number between scale points has its own reason
                    kind = "not_on_scale"
            elif kind == "missing_unit":
                row["business_unit"] = ""
            elif kind == "empty_row":
                row[items] = np.nan
                row["comment"] = ""
        t["expected_reason"] = kind
        rows.append(row)
        truths.append(t)
    extra = pd.DataFrame(rows)
    frame = pd.concat([frame.astype({c: object for c in items}), extra.astype({c: object for c in items})],
                      ignore_index=True)
    truth = pd.concat([truth, pd.DataFrame(truths)], ignore_index=True)
    return frame, truth


# ---------------------------------------------------------------------------------------------
# Writing exports the way survey tools do

FORMS_META = {
    "respondent_id": "ID",
    "start_time": "Start time",
    "submitted_at": "Completion time",
    "business_unit": "Business unit",
    "role": "Role",
    "comment": "Anything else you would like to tell us?",
}
GOOGLE_META = {
    "submitted_at": "Timestamp",
    "respondent_id": "Respondent ID",
    "business_unit": "Which business unit do you work in?",
    "role": "Which role describes you best?",
    "comment": "Comments",
}
GOOGLE_GRID = "How far do you agree with each statement?"
LAYOUTS = ("ids", "forms", "google", "long")


def export_frame(sample: SampleData | pd.DataFrame, questionnaire: Questionnaire | None = None,
                 layout: str = "forms") -> pd.DataFrame:
    """The export as a survey tool would lay it out (see :data:`LAYOUTS`).

    ``ids``: item ids as headers, numbers as answers (blank for "Don't know"); ``forms``: MS Forms
    style (a named form), question text headers with each respondent's Email and Name, label answers; ``google``:
    Google Forms grid headers ``Question [statement]`` with labels; ``long``: one row per answer.
    """
    if isinstance(sample, SampleData):
        frame, q = sample.frame, sample.questionnaire
    else:
        frame, q = sample, questionnaire or load_questionnaire()
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}; got {layout!r}")
    items = q.item_ids
    if layout == "ids":
        out = frame.copy()
        for c in items:
            col = out[c]
            if col.dtype == object:
                out[c] = col.where(~col.isin(q.scale.na_labels), None)
        return out
    if layout == "long":
        meta = [c for c in frame.columns if c not in items]
        long = frame.melt(id_vars=meta, value_vars=items, var_name="item", value_name="answer")
        long = long[long["answer"].notna()]
        long = long.iloc[np.argsort(long["submitted_at"].to_numpy(), kind="stable")]
        return long[["respondent_id", "business_unit", "role", "submitted_at", "item", "answer"]].reset_index(drop=True)
    labelled = frame.copy()
    for c in items:
        labelled[c] = _to_labels(labelled[c], q)
    if layout == "forms":  # a named form: MS Forms exports each respondent's e-mail and name
        labelled["Email"] = labelled["email"] if "email" in labelled.columns else "anonymous"
        labelled["Name"] = labelled["name"] if "name" in labelled.columns else ""
        order = ["respondent_id", "start_time", "submitted_at", "Email", "Name", "business_unit", "role",
                 *items, "comment"]
        texts = {i.id: i.text for i in q.items}
        return labelled[order].rename(columns={**FORMS_META, **texts})
    texts = {i.id: f"{GOOGLE_GRID} [{i.text}]" for i in q.items}
    labelled = labelled.drop(columns=["start_time", *(c for c in ("name",) if c in labelled.columns)])
    if "email" in labelled.columns:  # Google Forms collects the e-mail address when the form asks for it
        labelled = labelled.rename(columns={"email": "Email Address"})
    order = ["submitted_at", *(c for c in labelled.columns if c != "submitted_at")]  # Google's Timestamp first
    return labelled[order].rename(columns={**GOOGLE_META, **texts})


def _to_labels(column: pd.Series, q: Questionnaire) -> pd.Series:
    if q.scale.labels is None:
        return column
    numeric = pd.to_numeric(column, errors="coerce")
    on_scale = numeric.isin(range(q.scale.min, q.scale.max + 1))
    labels = np.array(q.scale.labels, dtype=object)
    out = column.astype(object).copy()
    out[on_scale] = labels[(numeric[on_scale] - q.scale.min).astype(int).to_numpy()]
    whole = numeric.notna() & ~on_scale & (numeric == numeric.round())
    out[whole] = numeric[whole].astype(int).astype(str)  # an out-of-range 7 is written "7", not "7.0"
    return out


def write_export(sample: SampleData, path: str | Path, layout: str = "forms", *,
                 encoding: str = "utf-8", delimiter: str = ",", sheet: str = "Responses") -> Path:
    """Write a sample export to CSV (any encoding/delimiter) or XLSX (by the file suffix)."""
    from .errors import OutputError

    path = Path(path)
    frame = export_frame(sample, layout=layout)
    for c in ("start_time", "submitted_at", "Start time", "Completion time", "Timestamp"):
        if c in frame.columns:
            frame[c] = pd.to_datetime(frame[c]).dt.strftime("%Y-%m-%d %H:%M:%S")
    if path.suffix.lower() == ".xlsx":
        from .export import write_xlsx

        write_xlsx({sheet: frame}, path)
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False, encoding=encoding, sep=delimiter, lineterminator="\n")
    except OSError as err:
        raise OutputError(path, f"cannot be written: {err.strerror or err}") from err
    return path


def sample_path() -> Path:
    """Path of the small sample export shipped with the package (MS Forms layout, CSV)."""
    return data_file(SAMPLE_FILE)


def sample_headcount_path() -> Path:
    """Path of the sample organisation's headcounts (``Business unit,Headcount``), for response rates."""
    return data_file(HEADCOUNT_FILE)


def bundled_sample() -> SampleData:
    """The generator run behind the shipped sample file (same seed and settings), with its truth."""
    return generate_sample(seed=DEFAULT_SEED)
