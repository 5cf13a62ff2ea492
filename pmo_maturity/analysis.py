"""The organisation-wide analysis (scores, archetypes, unit groups), computed once per run.

The batch runner computes it in the parent process and saves it; each unit's notebook loads it
(``scores_file``), so a unit report only does its own part. Kept apart from :mod:`.report` so that
the parent needs no plotting library.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
from dataclasses import dataclass, replace
from pathlib import Path

from ._files import atomic_write_bytes
from .archetypes import Archetypes, UnitGroups, cluster_respondents, cluster_units
from .digest import digest_of
from .errors import ReportError
from .options import LoadOptions
from .questionnaire import load_questionnaire
from .recommendations import Catalogue, default_catalogue
from .responses import load_responses
from .sample import sample_path
from .scoring import Scores, ScoringRules, score

ANALYSIS_MAGIC = b"pmo-maturity analysis v1\n"


@dataclass
class Analysis:
    """Everything computed once for an organisation: scores, archetypes and unit groups."""

    scores: Scores
    archetypes: Archetypes
    unit_groups: UnitGroups
    organisation: str = ""
    created: str = ""
    catalogue: Catalogue | None = None  # the questionnaire's action catalogue, read once for every unit


def analyse(responses: str | Path | None = None, questionnaire: str | Path | None = None, *,
            unit_column: str | None = None, load_options: LoadOptions | dict | None = None, min_group_size: int = 5,
            seed: int = ScoringRules.seed, organisation: str = "") -> Analysis:
    """Load, score and cluster a response file (default: the bundled sample).

    ``load_options`` are the loader's options (:class:`~pmo_maturity.LoadOptions` or a dict of its
    fields); ``unit_column`` is a shorthand for its ``unit_column``.
    """
    q = load_questionnaire(questionnaire)
    options = LoadOptions.coerce(load_options, unit_column=unit_column or None)
    loaded = load_responses(responses if responses is not None else sample_path(), q, options)
    rules = ScoringRules(min_group_size=min_group_size, seed=seed)
    scores = score(loaded, rules=rules)
    return Analysis(scores=scores, archetypes=cluster_respondents(scores), unit_groups=cluster_units(scores),
                    organisation=organisation, created=dt.date.today().isoformat(), catalogue=default_catalogue(q))


def check_reportable(analysis: Analysis, unit: str | None, *, portfolio: bool = False) -> None:
    """Refuse a report that cannot be made, before any notebook runs: a unit that is unknown or
    suppressed (naming the units that have a report and the closest name), or a portfolio of a file
    without units."""
    scores = analysis.scores
    source = scores.provenance.get("input_file") or "the response file"
    if portfolio and not scores.has_units:
        raise ReportError(f"{source}: the portfolio view needs a business unit column; none was found (name it "
                          f"with --by, or unit_column)")
    scores.check_reportable(unit)


def save_analysis(analysis: Analysis, path: str | Path) -> str:
    """Save an analysis for the unit notebooks (atomically); returns its SHA-256.

    Only aggregates are handed on: the scores' per-scope digests are built first, then the
    respondent-level rows (the responses, each respondent's scores, the archetype of each) are left
    out; a report needs none of them. The file is a pickle: load only files this kit wrote (the batch
    runner records each file's hash and the notebooks check it).
    """
    analysis = aggregates_only(analysis)
    payload = ANALYSIS_MAGIC + pickle.dumps(analysis, protocol=pickle.HIGHEST_PROTOCOL)
    atomic_write_bytes(Path(path), payload)  # aggregates only: the user's umask, so other accounts' workers can read it
    return hashlib.sha256(payload).hexdigest()


def aggregates_only(analysis: Analysis) -> Analysis:
    """The analysis without any respondent-level row (what reports need, and all a worker gets)."""
    scores = analysis.scores
    digest_of(scores)  # built from the rows while they are here
    scores = replace(scores, responses=None, respondents=scores.respondents.iloc[:0].copy())
    archetypes = replace(analysis.archetypes, labels=analysis.archetypes.labels.iloc[:0],
                         projection=analysis.archetypes.projection.iloc[:0])
    return replace(analysis, scores=scores, archetypes=archetypes)


def load_analysis(path: str | Path, sha256: str | None = None) -> Analysis:
    """Load an analysis written by :func:`save_analysis` (refusing anything else)."""
    path = Path(path)
    try:
        payload = path.read_bytes()
    except OSError as err:
        raise ReportError(f"{path}: cannot read the analysis file ({err})") from err
    if not payload.startswith(ANALYSIS_MAGIC):
        raise ReportError(f"{path}: not an analysis file written by pmo-maturity")
    if sha256 and hashlib.sha256(payload).hexdigest() != sha256:
        raise ReportError(f"{path}: the analysis file changed after the batch wrote it")
    return pickle.loads(payload[len(ANALYSIS_MAGIC):])  # noqa: S301 - our own file, checked above
