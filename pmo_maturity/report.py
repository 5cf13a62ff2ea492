"""Reports: the parameterised notebooks' helpers, and HTML rendering for executives.

The notebooks in ``notebooks/`` are thin: a ``parameters`` cell of literals, then one call per cell
to this module. :func:`prepare` builds a :class:`Report` (scores, archetypes, findings, plan,
narrative) for the organisation or one business unit; its methods return displayable sections and
charts. :func:`render_report` (from :mod:`.execution`, also importable here) executes a notebook
with papermill and exports it with nbconvert to a self-contained HTML file without code or prompts.

The analysis is computed once per batch (:func:`analyse`, saved with :func:`save_analysis`, from
:mod:`.analysis`) and each unit's notebook loads it (``scores_file``), so a unit report only does
its own part.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from markupsafe import Markup

from . import charts
from .analysis import Analysis, analyse, check_reportable, load_analysis, save_analysis  # noqa: F401 - API too
from .execution import (ASSESSMENT_PARAMETERS, PORTFOLIO_PARAMETERS, execute_notebook,  # noqa: F401 - API too
                        export_html, notebook_parameters, notebook_path, render_report, validate_parameters)
from .archetypes import Archetypes
from .errors import ReportError
from .findings import Findings, find_findings
from .narrative import Narrative, render, write_narrative
from .recommendations import Plan, recommend, resolve_target
from .scoring import ORGANISATION, Scores, ScoringRules
from .trend import compare_cycles

# ---------------------------------------------------------------------------------------------
# A report for the organisation or one unit


class Html:
    """A rendered section: shown as HTML in notebooks, with a short plain-text form."""

    def __init__(self, html: str, text: str = ""):
        self.html = Markup(html)
        self.text = text

    def _repr_html_(self) -> str:
        return str(self.html)

    def __repr__(self) -> str:
        return self.text or "(section)"


@dataclass
class Report:
    """A report's content for one scope (the organisation or a unit)."""

    analysis: Analysis
    unit: str | None
    findings: Findings
    plan: Plan
    narrative: Narrative
    target: dict
    trend: pd.DataFrame | None = None
    date: str = field(default_factory=lambda: dt.date.today().isoformat())

    @property
    def scores(self) -> Scores:
        return self.analysis.scores

    @property
    def scope(self) -> str:
        return self.unit or ORGANISATION

    @property
    def title(self) -> str:
        q = self.scores.questionnaire
        who = self.analysis.organisation or "Organisation"
        return f"{q.title}: {who}" + (f", {self.unit}" if self.unit else "")

    def _scope_table(self) -> pd.DataFrame:
        return self.scores.dimensions_for(self.unit)

    def _target_scores(self) -> pd.Series:
        q = self.scores.questionnaire
        return pd.Series({d: q.level_floor(level) for d, level in self.target.items()})

    # --- sections -----------------------------------------------------------------------------

    def header(self) -> Html:
        q = self.scores.questionnaire
        overall = self.scores.overall_for(self.unit)
        subtitle = (f"{self.unit + ' - ' if self.unit else ''}{int(overall['n'])} respondents - {self.date} - "
                    f"questionnaire {q.id} version {q.version}")
        html = Markup('<style>{}</style><header class="pmo-header"><h1>{}</h1><p class="pmo-subtitle">{}</p>'
                      "</header>").format(Markup(STYLE), self.title, subtitle)
        return Html(html, f"{self.title} ({subtitle})")

    def summary(self) -> Html:
        return _section("Executive summary", self.narrative.summary_html, self.narrative.summary_text)

    def scorecard(self) -> Scorecard:
        return Scorecard(self.scores.scorecard(self.unit))

    def dimensions(self) -> Html:
        return _section("Dimension by dimension", self.narrative.dimensions_html)

    def plan_section(self) -> Html:
        return _section("Action plan", self.narrative.plan_html)

    def comments(self) -> Html:
        return _section("In their own words", self.narrative.comments_html)

    def trend_section(self) -> Html:
        if self.narrative.trend_html is None:
            return Html("", "(no previous cycle given)")
        return _section("Since the last assessment", self.narrative.trend_html)

    def method(self) -> Html:
        return _section("Method and data quality", self.narrative.method_html)

    # --- charts -------------------------------------------------------------------------------

    def profile_chart(self) -> charts.Chart:
        org = self.scores.organisation if self.unit else None
        return charts.radar(self.scores.questionnaire, self._scope_table(), org, self._target_scores(),
                            self.unit or "Organisation")

    def scores_chart(self) -> charts.Chart:
        return charts.dimension_scores(self.scores.questionnaire, self._scope_table(), self._target_scores())

    def answers_chart(self) -> charts.Chart:
        responses = self.scores.responses
        data = responses.data if self.unit is None else responses.data[responses.data["unit"] == self.unit]
        return charts.item_answers(self.scores.questionnaire, data)

    def gaps_chart(self) -> charts.Chart:
        q = self.scores.questionnaire
        if self.unit is None:
            roles = self.scores.roles
        else:
            cells = self.scores.role_cells
            roles = cells[cells["unit"] == self.unit]
        return charts.perception_gaps(q, roles, self.scores.rules.gap_points(q))

    def archetypes_chart(self) -> charts.Chart | Html:
        archetypes = self.analysis.archetypes
        if not archetypes.found:
            return _section("Archetypes", Markup("<p>No clear segments of respondents: {}.</p>").format(
                archetypes.reason), f"No clear segments: {archetypes.reason}")
        points, labels = _projection(self.scores, archetypes, self.unit)
        profiles = archetypes.profiles
        if self.unit is not None:  # only the archetypes the unit's composition may show
            shown = archetypes.composition_units.get(self.unit, pd.Series(dtype=float)).dropna().index
            profiles = profiles.assign(suppressed=profiles["suppressed"] | ~profiles["archetype"].isin(shown))
        return charts.archetype_profiles(self.scores.questionnaire, profiles, points, labels)

    def roadmap_chart(self) -> charts.Chart:
        return charts.roadmap(self.plan.actions)


class Scorecard:
    """The scorecard table: deterministic text (checked by nbval) and an HTML table."""

    def __init__(self, table: pd.DataFrame):
        self.table = table

    def __repr__(self) -> str:
        return self.table.to_string(index=False)

    def _repr_html_(self) -> str:
        title = self.table.attrs.get("title", "Scorecard")
        return str(Markup('<section class="pmo-section"><h2>Scorecard</h2>{}</section>').format(
            Markup(self.table.to_html(index=False, classes="pmo-table", border=0, escape=True,
                                      na_rep="", justify="left")).replace(
                "<table", Markup('<table aria-label="{}"').format(title), 1)))


def _section(title: str, body: Markup, text: str = "") -> Html:
    return Html(Markup('<section class="pmo-section"><h2>{}</h2>{}</section>').format(title, body), text or title)


def _projection(scores: Scores, archetypes: Archetypes, unit: str | None) -> tuple[np.ndarray, np.ndarray]:
    """First two principal components of the standardised profiles of clustered respondents
    (of the unit when given), for reportable archetypes only."""
    points = archetypes.projection.to_numpy(dtype=float)
    resp = scores.respondents.set_index("respondent_id").loc[archetypes.labels.index]
    labels = archetypes.labels.to_numpy()
    keep = np.isin(labels, archetypes.reportable["archetype"].to_numpy())
    if unit is not None:
        keep &= (resp["unit"] == unit).to_numpy()
    if len(points) > 5000:  # a readable scatter: a seeded sample
        chosen = np.zeros(len(points), dtype=bool)
        chosen[np.random.default_rng(scores.rules.seed).choice(len(points), 5000, replace=False)] = True
        keep &= chosen
    return points[keep], labels[keep]


def prepare(responses: str | None = None, questionnaire: str | None = None, unit: str | None = None, *,
            unit_column: str | None = None, load_options: dict | None = None, target: int | dict = 3,
            min_group_size: int = 5, headcount: int | dict | None = None, previous: str | None = None,
            scores_file: str | None = None, scores_sha256: str | None = None, organisation: str = "",
            seed: int = ScoringRules.seed, analysis: Analysis | None = None) -> Report:
    """Build a report for the organisation or one unit (the notebooks' first call).

    With ``scores_file`` (written by the batch runner) the organisation-wide analysis is loaded,
    not recomputed. ``load_options`` are the loader's options (a dict of
    :class:`~pmo_maturity.LoadOptions` fields). A unit must be reportable: a suppressed unit has no
    report.
    """
    if analysis is None:
        if scores_file:
            analysis = load_analysis(scores_file, scores_sha256)
        else:
            analysis = analyse(responses, questionnaire, unit_column=unit_column, load_options=load_options,
                               min_group_size=min_group_size, seed=seed, organisation=organisation)
    if organisation:
        analysis.organisation = organisation
    check_reportable(analysis, unit)
    scores = analysis.scores
    q = scores.questionnaire
    targets = resolve_target(target, q, unit)
    findings = find_findings(scores, unit=unit, archetypes=analysis.archetypes)
    plan = recommend(scores, unit=unit, target=target, findings=findings, catalogue=analysis.catalogue)
    trend = compare_cycles(scores, previous, unit=unit) if previous else None
    narrative = write_narrative(scores, unit=unit, findings=findings, plan=plan, archetypes=analysis.archetypes,
                                headcount=headcount, trend=trend)
    return Report(analysis=analysis, unit=unit, findings=findings, plan=plan, narrative=narrative, target=targets,
                  trend=trend)


# ---------------------------------------------------------------------------------------------
# The portfolio view


@dataclass
class Portfolio:
    """All units side by side."""

    analysis: Analysis
    target: dict
    date: str = field(default_factory=lambda: dt.date.today().isoformat())

    @property
    def scores(self) -> Scores:
        return self.analysis.scores

    def header(self) -> Html:
        q = self.scores.questionnaire
        who = self.analysis.organisation or "Organisation"
        n_units = len(self.scores.reportable_units)
        subtitle = f"{n_units} business units - {self.date} - questionnaire {q.id} version {q.version}"
        html = Markup('<style>{}</style><header class="pmo-header"><h1>{}</h1><p class="pmo-subtitle">{}</p>'
                      "</header>").format(Markup(STYLE), f"{q.title}: {who}, portfolio", subtitle)
        return Html(html, subtitle)

    def summary(self) -> Html:
        return _section("Portfolio summary", Markup(render("portfolio.html.j2", **self._context())))

    def _context(self) -> dict:
        groups = self.analysis.unit_groups
        table = groups.table
        q = self.scores.questionnaire
        overall = self.scores.overall_for()
        rows = table.to_dict("records")
        spread = (table["score"].max() - table["score"].min()) if len(table) else float("nan")
        return {"overall": overall.to_dict(), "rows": rows, "groups": groups, "spread": spread,
                "dimension_names": {d.id: d.short for d in q.dimensions},
                "suppressed_count": len(self.scores.suppressed_units), "min_group_size": self.scores.rules.min_group_size}

    def scorecard(self) -> Scorecard:
        table = self.scores.overall[(self.scores.overall["scope"] == "unit") & ~self.scores.overall["suppressed"]]
        table = table.sort_values("score", ascending=False, kind="stable")
        shown = pd.DataFrame({
            "Unit": table["group"], "n": table["n"].astype(int),
            "Score": table["score"].map(lambda v: f"{v:.2f}"),
            "95% CI": [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(table["ci_low"], table["ci_high"])],
            "Index": table["index"].map(lambda v: f"{v:.0f}"), "Level": table["continuous_level_name"],
            "Staged": table["staged_level_name"]})
        shown.attrs["title"] = "Business units"
        return Scorecard(shown.reset_index(drop=True))

    def heatmap(self) -> charts.Chart:
        return charts.portfolio_heatmap(self.scores.questionnaire, self.scores.units, self.scores.organisation)

    def profile_chart(self) -> charts.Chart:
        q = self.scores.questionnaire
        targets = pd.Series({d: q.level_floor(level) for d, level in self.target.items()})
        return charts.radar(q, self.scores.organisation, None, targets, "Organisation")

    def archetypes(self) -> Html:
        a = self.analysis.archetypes
        if not a.found:
            return _section("Archetypes across units", Markup("<p>No clear segments of respondents: {}.</p>").format(
                a.reason))
        table = a.composition_units.copy()
        body = Markup("<p>How each unit's respondents spread over the organisation's archetypes (blank: too few "
                      "people to show).</p>{}").format(Markup(table.to_html(classes="pmo-table", border=0,
                                                                            float_format=lambda v: f"{v:.0f}",
                                                                            na_rep="", escape=True)))
        return _section("Archetypes across units", body)

    def method(self) -> Html:
        narrative = write_narrative(self.scores, archetypes=self.analysis.archetypes)
        return _section("Method and data quality", narrative.method_html)


def prepare_portfolio(responses: str | None = None, questionnaire: str | None = None, *,
                      unit_column: str | None = None, load_options: dict | None = None, target: int | dict = 3,
                      min_group_size: int = 5, headcount: int | dict | None = None, scores_file: str | None = None,
                      scores_sha256: str | None = None, organisation: str = "", seed: int = ScoringRules.seed,
                      analysis: Analysis | None = None) -> Portfolio:
    """Build the portfolio view (the portfolio notebook's first call)."""
    report = prepare(responses, questionnaire, None, unit_column=unit_column, load_options=load_options,
                     target=target, min_group_size=min_group_size, headcount=headcount, scores_file=scores_file,
                     scores_sha256=scores_sha256, organisation=organisation, seed=seed, analysis=analysis)
    if not report.scores.responses.has_units:
        raise ReportError("the portfolio view needs a business unit column (unit_column)")
    return Portfolio(analysis=report.analysis, target=report.target)


STYLE = """
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #1b2631; }
main { max-width: 1000px; margin: 0 auto; padding: 0 1.5rem 3rem; }
.jp-Cell { padding: 0 !important; }
.pmo-header h1 { font-size: 1.9rem; margin: 1.5rem 0 0.2rem; color: #1b4f72; }
.pmo-subtitle { color: #5d6d7e; margin-top: 0; }
.pmo-section h2 { border-bottom: 2px solid #1b4f72; padding-bottom: 0.2rem; margin-top: 2rem; color: #1b4f72; }
.pmo-section h3 { margin-bottom: 0.3rem; color: #1b2631; }
.pmo-headline { font-size: 1.1rem; }
.pmo-table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
.jp-RenderedHTMLCommon .pmo-table td, .jp-RenderedHTMLCommon .pmo-table th { text-align: left !important; }
.pmo-table th, .pmo-table td { border-bottom: 1px solid #d5d8dc; padding: 0.3rem 0.6rem; text-align: left;
  vertical-align: top; }
.pmo-table th { background: #eaf2f8; }
.pmo-chart { margin: 1.2rem 0; }
.pmo-chart img { max-width: 100%; height: auto; }
.pmo-takeaway { font-weight: bold; color: #1b4f72; margin-bottom: 0.3rem; }
.pmo-note { color: #5d6d7e; font-size: 0.85rem; }
.pmo-dimension { margin-bottom: 1.2rem; }
"""

