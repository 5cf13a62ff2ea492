"""Reports: the content of the parameterised notebooks, for executives.

The notebooks in ``notebooks/`` are thin: a ``parameters`` cell of literals, then one call per cell
to the public API. :func:`prepare` builds a :class:`Report` (scores, archetypes, findings, plan,
narrative) for the organisation or one business unit, :func:`prepare_portfolio` a
:class:`Portfolio`; their methods return displayable sections and charts. Running a notebook and
exporting it to HTML is :mod:`.execution`'s job (:func:`~pmo_maturity.render_report`).

The analysis is computed once per batch (:func:`~pmo_maturity.analysis.analyse`, saved with
:func:`~pmo_maturity.analysis.save_analysis`) and each unit's notebook loads it (``scores_file``), so
a unit report only does its own part.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markupsafe import Markup

from . import charts
from .analysis import Analysis, analyse, check_reportable, load_analysis
from .digest import digest_of
from .errors import ConfigurationError, ReportError
from .findings import Findings, find_findings
from .headcount import read_headcount, response_rate
from .narrative import Narrative, render, write_narrative
from .recommendations import Plan, _targets, consolidate, recommend, resolve_target
from .sample import SAMPLE_ORGANISATION, sample_headcount_path
from .scoring import ORGANISATION, Scores
from .settings import ReportSettings
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
    index_url: str | None = None  # the batch's index page, linked from the top of the report

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
        overall = self.scores.overall_for(self.unit)
        subtitle = f"{self.unit + ' - ' if self.unit else ''}{int(overall['n'])} respondents - {self.date}"
        return _header(self.title, subtitle, self.index_url)

    def brief(self) -> Html:
        """The executive brief: the first screen of the report."""
        return Html(self.narrative.brief_html, self.narrative.brief_text)

    def summary(self) -> Html:
        """Key findings, after the scorecard (the brief comes first)."""
        return _section("Key findings", self.narrative.summary_html, self.narrative.summary_text)

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
                            self.unit or "Organisation", self.plan.targets.set_index("dimension")["status"])

    def scores_chart(self) -> charts.Chart:
        return charts.dimension_scores(self.scores.questionnaire, self._scope_table(), self._target_scores())

    def answers_chart(self) -> charts.Chart:
        hidden = self.scores.item_hidden
        hidden = list(hidden.columns[hidden.loc[self.scope].to_numpy(dtype=bool)]) if self.scope in hidden.index else []
        return charts.item_answers(self.scores.questionnaire, digest_of(self.scores).answers_of(self.scope),
                                   hidden=hidden)

    def gaps_chart(self) -> charts.Chart:
        q = self.scores.questionnaire
        if self.unit is None:
            roles = self.scores.roles
        else:
            cells = self.scores.role_cells
            roles = cells[cells["unit"] == self.unit]
        gaps = self.scores.gaps
        return charts.perception_gaps(q, roles, self.scores.rules.gap_points(q), gaps[gaps["scope"] == self.scope])

    def archetypes_chart(self) -> charts.Chart | Html:
        archetypes = self.analysis.archetypes
        title = "Groups of respondents with a shared pattern"
        if not archetypes.found:
            return _section(title, Markup("<p>No distinct groups of respondents: {}.</p>").format(archetypes.reason),
                            f"No distinct groups: {archetypes.reason}")
        profiles = archetypes.profiles
        if self.unit is not None:  # only the archetypes the unit's composition may show
            shown = archetypes.composition_units.get(self.unit, pd.Series(dtype=float)).dropna().index
            profiles = profiles.assign(suppressed=profiles["suppressed"] | ~profiles["archetype"].isin(shown))
        organisation = self.scores.organisation.set_index("dimension")["mean"]
        shares = None
        if self.unit is not None and self.unit in archetypes.composition_units.columns:
            counts = archetypes.composition_units[self.unit]
            shares = counts / counts.sum() if counts.notna().all() and counts.sum() > 0 else None
        return charts.archetype_profiles(self.scores.questionnaire, profiles, organisation, shares, self.unit or "")

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
        caption = self.table.attrs.get("caption", "")
        return str(Markup('<section class="pmo-section"><h2>Scorecard</h2>{}{}</section>').format(
            Markup(self.table.to_html(index=False, classes="pmo-table", border=0, escape=True,
                                      na_rep="", justify="left")).replace(
                "<table", Markup('<table aria-label="{}"').format(title), 1),
            Markup('<p class="pmo-note">{}</p>').format(caption) if caption else ""))


def _header(title: str, subtitle: str, index_url: str | None) -> Html:
    back = Markup('<nav class="pmo-back"><a href="{}">&larr; All reports</a></nav>').format(index_url) \
        if index_url else Markup("")
    html = Markup('<style>{}</style>{}<header class="pmo-header"><h1>{}</h1><p class="pmo-subtitle">{}</p>'
                  "</header>").format(Markup(STYLE), back, title, subtitle)
    return Html(html, f"{title} ({subtitle})")


def _section(title: str, body: Markup, text: str = "") -> Html:
    return Html(Markup('<section class="pmo-section"><h2>{}</h2>{}</section>').format(title, body), text or title)


def prepare(settings: ReportSettings | str | None = None, questionnaire: str | None = None, unit: str | None = None,
            *, analysis: Analysis | None = None, **values: Any) -> Report:
    """Build a report for the organisation or one unit (the assessment notebook's first call).

    Parameters
    ----------
    settings : ReportSettings or str, optional
        What to report on and how (see :class:`~pmo_maturity.ReportSettings`); for short, the path
        of the export, with any other setting as a keyword: ``prepare("export.csv", unit="Finance")``.
    questionnaire, unit : str, optional
        Two settings that may also be given by position, as in ``prepare("export.csv", None, "Finance")``.
    analysis : Analysis, optional
        An analysis already computed (else it is loaded from ``scores_file``, written by the batch
        runner, or computed from the export).
    **values
        Settings given one by one (they replace those of ``settings``).

    A unit must be reportable: an unknown or suppressed unit raises
    :class:`~pmo_maturity.UnitNotFound`. The organisation's plan is consolidated with the units'
    plans (:func:`~pmo_maturity.recommendations.consolidate`). With the bundled sample, its
    organisation name and headcount file are used unless given.
    """
    s = _settings(settings, {**values, **({"questionnaire": questionnaire} if questionnaire is not None else {}),
                             **({"unit": unit} if unit is not None else {})})
    analysis = analysis if analysis is not None else _analysis(s)
    if s.organisation:
        analysis.organisation = s.organisation
    check_reportable(analysis, s.unit)
    headcount = read_headcount(s.headcount)
    scores = analysis.scores
    q = scores.questionnaire
    targets = resolve_target(s.target, q, s.unit)
    findings = find_findings(scores, unit=s.unit, archetypes=analysis.archetypes)
    costs: dict[str, Any] = {"day_rate": s.day_rate, "currency": s.currency}
    plan = recommend(scores, unit=s.unit, target=s.target, findings=findings, catalogue=analysis.catalogue, **costs)
    if s.unit is None and scores.reportable_units:
        unit_plans = {u: recommend(scores, unit=u, target=s.target, archetypes=analysis.archetypes,
                                   catalogue=analysis.catalogue, **costs) for u in scores.reportable_units}
        plan = consolidate(plan, unit_plans)
    trend = compare_cycles(scores, s.previous, unit=s.unit) if s.previous else None
    narrative = write_narrative(scores, unit=s.unit, findings=findings, plan=plan, archetypes=analysis.archetypes,
                                headcount=headcount, trend=trend, name=analysis.organisation)
    return Report(analysis=analysis, unit=s.unit, findings=findings, plan=plan, narrative=narrative, target=targets,
                  trend=trend, index_url=s.index_url)


def _settings(settings: ReportSettings | str | None, values: dict[str, Any]) -> ReportSettings:
    """The settings of a report, with the bundled sample's name and headcount when no export is named."""
    if isinstance(settings, ReportSettings):
        s = settings.replace(**values) if values else settings
    else:
        s = ReportSettings.coerce(values, **({"responses": settings} if settings is not None else {}))
    if s.uses_sample:
        s = s.replace(organisation=s.organisation or SAMPLE_ORGANISATION,
                      headcount=s.headcount if s.headcount is not None else str(sample_headcount_path()))
    return s


def _analysis(s: ReportSettings) -> Analysis:
    """The organisation's analysis: loaded from the batch's hand-off, or computed from the export."""
    if s.scores_file:
        return load_analysis(s.scores_file, s.scores_sha256)
    return analyse(s.responses, s.questionnaire, unit_column=s.unit_column, load_options=dict(s.load_options or {}),
                   min_group_size=s.min_group_size, organisation=s.organisation,
                   **({"seed": s.seed} if s.seed is not None else {}))


# ---------------------------------------------------------------------------------------------
# The portfolio view


@dataclass
class Portfolio:
    """All units side by side."""

    analysis: Analysis
    target: dict
    date: str = field(default_factory=lambda: dt.date.today().isoformat())
    headcount: int | dict | None = None
    index_url: str | None = None

    @property
    def scores(self) -> Scores:
        return self.analysis.scores

    @property
    def title(self) -> str:
        return f"{self.scores.questionnaire.title}: {self.analysis.organisation or 'Organisation'}, portfolio"

    def header(self) -> Html:
        subtitle = f"{len(self.scores.reportable_units)} business units - {self.date}"
        return _header(self.title, subtitle, self.index_url)

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
                "suppressed_count": len(self.scores.suppressed_units),
                "min_group_size": self.scores.rules.min_group_size}

    def scorecard(self) -> Scorecard:
        table = self.scores.overall[(self.scores.overall["scope"] == "unit") & ~self.scores.overall["suppressed"]]
        table = table.sort_values("score", ascending=False, kind="stable")
        q = self.scores.questionnaire
        rates = [response_rate(self.headcount, int(n), unit)
                 for unit, n in zip(table["group"], table["n"], strict=True)]
        shown = pd.DataFrame({
            "Unit": table["group"], "n": table["n"].astype(int),
            "Response rate": [f"{r.rate:.0%}{' (low)' if r.low else ''}" if r.rate is not None else "" for r in rates],
            "Score": table["score"].map(lambda v: f"{v:.2f}"),
            "95% CI": [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)],
            "Index": table["index"].map(lambda v: f"{v:.0f}"),
            "Level": [q.level_reading(*v) for v in zip(table["continuous_level"], table["continuous_level_ci_low"],
                                                         table["continuous_level_ci_high"], strict=True)],
            "Staged": [q.level_reading(*v) for v in zip(table["staged_level"], table["staged_level_ci_low"],
                                                          table["staged_level_ci_high"], strict=True)]})
        if shown["Response rate"].eq("").all():
            shown = shown.drop(columns="Response rate")
        shown.attrs["title"] = "Business units"
        return Scorecard(shown.reset_index(drop=True))

    def heatmap(self) -> charts.Chart:
        return charts.portfolio_heatmap(self.scores.questionnaire, self.scores.units, self.scores.organisation)

    def profile_chart(self) -> charts.Chart:
        q = self.scores.questionnaire
        targets = pd.Series({d: q.level_floor(level) for d, level in self.target.items()})
        status = _targets(self.scores, q, self.target, None).set_index("dimension")["status"]
        return charts.radar(q, self.scores.organisation, None, targets, "Organisation", status)

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
        narrative = write_narrative(self.scores, archetypes=self.analysis.archetypes, headcount=self.headcount,
                                    name=self.analysis.organisation)
        return _section("Method and data quality", narrative.method_html)


def prepare_portfolio(settings: ReportSettings | str | None = None, questionnaire: str | None = None, *,
                      analysis: Analysis | None = None, **values: Any) -> Portfolio:
    """Build the portfolio view (the portfolio notebook's first call); arguments as :func:`prepare`'s
    (the settings that only a unit report takes, such as ``unit``, are refused)."""
    s = _settings(settings, {**values, **({"questionnaire": questionnaire} if questionnaire is not None else {})})
    portfolio_only = ReportSettings.spec("portfolio")
    for name, value in s.for_notebook("assessment", changed_only=True).items():
        if name not in portfolio_only:
            raise ConfigurationError(f"the portfolio view takes no {name!r} setting (got {value!r}); it shows "
                                     f"every unit")
    analysis = analysis if analysis is not None else _analysis(s)
    if s.organisation:
        analysis.organisation = s.organisation
    if not analysis.scores.has_units:
        raise ReportError("the portfolio view needs a business unit column (unit_column)")
    return Portfolio(analysis=analysis, target=resolve_target(s.target, analysis.scores.questionnaire),
                     headcount=read_headcount(s.headcount), index_url=s.index_url)


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
.pmo-back { margin-top: 0.8rem; font-size: 0.9rem; }
.pmo-back a { color: #1b4f72; }
.pmo-brief { border: 2px solid #1b4f72; border-radius: 6px; padding: 0.7rem 1.1rem; margin: 0.6rem 0 1.4rem;
  background: #f4f8fb; }
.pmo-verdict { font-size: 1.3rem; margin: 0 0 0.5rem; line-height: 1.4; }
.pmo-index { font-size: 1.5rem; color: #1b4f72; }
.pmo-brief-grid { display: grid; grid-template-columns: 1fr 1.35fr 1fr; gap: 1.1rem; }
.pmo-brief-part h3 { margin: 0.2rem 0 0.3rem; font-size: 0.95rem; color: #1b4f72; text-transform: uppercase;
  letter-spacing: 0.03em; }
.pmo-brief-part p, .pmo-brief-part ol { margin: 0.2rem 0; font-size: 0.93rem; line-height: 1.35; }
.pmo-brief-part ol { padding-left: 1.2rem; }
.pmo-who { color: #5d6d7e; }
.pmo-caution { color: #a04000; font-weight: bold; }
@media (max-width: 820px) { .pmo-brief-grid { grid-template-columns: 1fr; } }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  .pmo-back { display: none; }
  .pmo-brief { background: none; }
  .pmo-chart, .pmo-dimension, .pmo-table tr, .pmo-brief, figure, img { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""

