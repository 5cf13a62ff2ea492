"""Notebooks under papermill, and the HTML export for executives."""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pandas as pd
import papermill
import pytest

from pmo_maturity import ConfigurationError, UnitNotFound, load_responses, prepare, render_report, score
from pmo_maturity.execution import ASSESSMENT_PARAMETERS, PORTFOLIO_PARAMETERS, notebook_path, validate_parameters

pytestmark = pytest.mark.slow


def _errors(nb) -> list:
    return [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.parametrize(("name", "spec"), [("assessment", ASSESSMENT_PARAMETERS), ("portfolio", PORTFOLIO_PARAMETERS)])
def test_parameters_cell_matches_the_spec(name, spec):
    inspected = papermill.inspect_notebook(str(notebook_path(name)))
    assert set(inspected) == set(spec)
    nb = nbformat.read(str(notebook_path(name)), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    values = {}
    exec(cell.source, {}, values)  # literals only: the cell must run on its own
    validate_parameters(values, spec, name)


@pytest.mark.parametrize("name", ["assessment", "portfolio", "engagement"])
def test_notebooks_use_only_the_public_api(name):
    """A notebook is what consultants copy: it imports ``pmo_maturity as pm`` and calls only names
    that ``pm`` exports (their results' methods aside)."""
    import pmo_maturity as pm

    source = "\n".join(c.source for c in nbformat.read(str(notebook_path(name)), as_version=4).cells
                       if c.cell_type == "code")
    assert "import pmo_maturity as pm" in source
    assert not re.search(r"from pmo_maturity[\w.]* import|import pmo_maturity\.", source)
    used = set(re.findall(r"\bpm\.(\w+)", source))
    assert used and used <= set(pm.__all__), used - set(pm.__all__)


def test_plain_papermill_command_line(tmp_path, small_export):
    out = tmp_path / "finance.ipynb"
    run = subprocess.run([sys.executable, "-m", "papermill", str(notebook_path("assessment")), str(out),
                          "-p", "unit", "Finance", "-p", "responses", str(small_export), "--no-progress-bar"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    nb = nbformat.read(str(out), as_version=4)
    assert not _errors(nb)
    text = " ".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    assert "Finance is at" in text and 'class="pmo-brief"' in text and "Key findings" in text


def test_papermill_api_with_defaults_runs_the_bundled_sample(tmp_path):
    out = tmp_path / "portfolio.ipynb"
    papermill.execute_notebook(str(notebook_path("portfolio")), str(out), progress_bar=False, kernel_name="python3")
    nb = nbformat.read(str(out), as_version=4)
    assert not _errors(nb)
    html = " ".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    assert "Sales &amp; Marketing" in html and "Customer Service" not in html.split("not shown")[0]


@pytest.fixture(scope="module")
def unit_html(tmp_path_factory, small_export):
    out = tmp_path_factory.mktemp("report") / "finance.html"
    return render_report(out, unit="Finance", responses=str(small_export), organisation="Acme")


def test_html_report_has_no_code_and_nothing_online(unit_html):
    html = unit_html.read_text(encoding="utf-8")
    assert unit_html.stat().st_size < 2 * 1024 * 1024
    assert "jp-InputArea jp-Cell-inputArea" not in html and "In&nbsp;[" not in html and "rpt.scorecard()" not in html
    assert "<script" not in html.lower()
    external = re.findall(r"""(?:src|href)\s*=\s*["']?(https?:)?//""", html, flags=re.IGNORECASE)
    assert not external
    assert not re.search(r"@import|url\(\s*['\"]?https?:", html)
    assert "<title>PMO Integration Maturity: Acme, Finance</title>" in html


def test_html_report_order_and_title(unit_html):
    html = unit_html.read_text(encoding="utf-8")
    order = [html.index(s) for s in ("<h1>", 'class="pmo-brief"', "<h2>Scorecard", "<h2>Key findings",
                                     'class="pmo-chart"', "<h2>Dimension by dimension", "<h2>Action plan",
                                     "<h2>Method and data quality")]
    assert order == sorted(order)
    assert "Acme, Finance" in html and "Questionnaire: PMO Integration Maturity (pmo-integration, version 1.0)" in html
    assert html.count('class="pmo-takeaway"') >= 6


def test_parameters_are_validated_before_a_run(tmp_path):
    with pytest.raises(ConfigurationError, match=r"unknown parameter 'unti' \(did you mean 'unit'\?\)"):
        render_report(tmp_path / "x.html", unti="Finance")
    with pytest.raises(ConfigurationError, match="parameter 'min_group_size' must be int; got str"):
        render_report(tmp_path / "x.html", min_group_size="5")
    with pytest.raises(ConfigurationError, match="parameter 'target' must be int or dict"):
        render_report(tmp_path / "x.html", target=True)
    assert not list(tmp_path.iterdir())  # nothing ran, nothing was written


def test_suppressed_unit_gets_no_report(sample_scores):
    hidden = next(iter(sample_scores.suppressed_units))
    with pytest.raises(UnitNotFound, match="too few respondents"):
        prepare(unit=hidden)
    with pytest.raises(UnitNotFound, match="no such unit"):
        prepare(unit="Atlantis")


def test_every_section_renders_when_dimensions_are_hidden(questionnaire):
    """A unit with a hidden dimension (its complement answered "Not applicable" throughout one
    dimension, a small unit beside it) still gets every section of its report."""
    from pmo_maturity.sample import ROLES, generate_sample

    data = generate_sample(questionnaire, units=[("Finance", 30), ("Sales", 25), ("Operations", 20), ("Legal", 3),
                                                 ("Audit", 7)], small_units=0, bad_row_share=0, seed=41)
    frame = data.frame.copy()
    frame.loc[frame["business_unit"] == "Legal", "role"] = [ROLES[0], ROLES[1], ROLES[3]]
    for unit, dim in (("Operations", "vision"), ("Audit", "change")):
        items = questionnaire.dimension(dim).item_ids
        frame[items] = frame[items].astype(object)
        frame.loc[frame["business_unit"] == unit, items] = "Not applicable"
    analysis = pm_analysis(frame, questionnaire)
    units = analysis.scores.units
    assert (units["hidden"] & ~units["suppressed"]).any()  # a shown unit with a hidden dimension
    for unit in [None, *analysis.scores.reportable_units]:
        rpt = prepare(unit=unit, analysis=analysis)
        for section in (rpt.header, rpt.brief, rpt.scorecard, rpt.summary, rpt.profile_chart, rpt.scores_chart,
                        rpt.gaps_chart, rpt.answers_chart, rpt.archetypes_chart, rpt.dimensions, rpt.plan_section,
                        rpt.roadmap_chart, rpt.comments, rpt.method):
            html = section()._repr_html_()
            assert html and "nan" not in re.sub(r"<[^>]+>", " ", html).split(), (unit, section.__name__)


def pm_analysis(frame, questionnaire):
    from pmo_maturity.analysis import Analysis
    from pmo_maturity.archetypes import cluster_respondents, cluster_units
    from pmo_maturity.recommendations import default_catalogue

    scores = score(load_responses(frame, questionnaire), n_resamples=200)
    return Analysis(scores=scores, archetypes=cluster_respondents(scores), unit_groups=cluster_units(scores),
                    organisation="Test", catalogue=default_catalogue(questionnaire))


@pytest.mark.parametrize(("name", "parameters", "error"), [
    ("assessment", {"untis": "Finance"}, "UnknownNameError: assessment.ipynb: unknown parameter 'untis' (did you mean "
                                         "'unit'?)"),
    ("assessment", {"min_group_size": "abc"}, "parameter 'min_group_size' must be int; got str 'abc'"),
    ("portfolio", {"load_options": {"role_colum": "Role"}}, "unknown loader option 'role_colum' (did you mean "
                                                             "'role_column'?)"),
])
def test_notebook_parameters_are_checked_in_the_notebook(tmp_path, name, parameters, error):
    # Plain papermill, as a consultant would run it (-p untis Finance): the notebook itself refuses.
    with pytest.raises(papermill.PapermillExecutionError) as raised:
        papermill.execute_notebook(str(notebook_path(name)), str(tmp_path / "out.ipynb"), parameters=parameters,
                                   progress_bar=False, kernel_name="python3")
    assert error in f"{raised.value.ename}: {raised.value.evalue}"


def test_load_options_reach_the_loader_through_the_notebook(tmp_path, small_export):

    frame = pd.read_csv(small_export).rename(columns={"role": "Position"})
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False)
    html = render_report(tmp_path / "r.html", responses=str(path), load_options={"role_column": "Position"})
    text = html.read_text(encoding="utf-8")
    # The roles were read (from "Position"): the summary compares them, which it cannot without roles.
    assert "roles were not collected" not in text
    assert "No two roles see a dimension clearly" in text or "perception gap, on" in text


def test_other_instrument_without_a_catalogue_gets_a_report(one_dimension):
    q_path, path = one_dimension
    report = prepare(str(path), str(q_path))
    assert report.plan.actions.empty and "No action catalogue" in report.plan.notes[0]
    assert not report.analysis.archetypes.found and "at least 3" in report.analysis.archetypes.reason
    for section in ("summary", "scorecard", "profile_chart", "scores_chart", "answers_chart", "archetypes_chart",
                    "dimensions", "plan_section", "method"):
        assert getattr(report, section)()._repr_html_()
