"""The ``pmo-maturity`` command line: a thin layer that parses arguments and calls the package."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
import pandas as pd

from .errors import PmoMaturityError

EXIT_BAD_INPUT = 2
DEMO_DAY_RATE, DEMO_CURRENCY = 750, "EUR"  # an example consulting day rate, to show indicative costs


class _Group(click.Group):
    """Turns the kit's own errors into one clear line on stderr instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PmoMaturityError as err:
            click.secho(f"error: {err}", fg="red", err=True)
            ctx.exit(EXIT_BAD_INPUT)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="pmo-maturity", prog_name="pmo-maturity")
def main() -> None:
    """Assess how well a PMO integrates strategy and execution.

    \b
    Typical engagement:
      pmo-maturity template -o survey.xlsx        # send out a blank response sheet
      pmo-maturity validate export.csv            # see data problems at once
      pmo-maturity score export.csv -o scores.xlsx
      pmo-maturity demo                           # everything on the bundled sample

    Exit codes: 0 success, 1 nothing usable (or a unit failed in a batch), 2 bad input.
    """


def _loading_options(func):
    """Options shared by every command that reads a response file."""

    @click.option("-q", "--questionnaire", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Questionnaire YAML (default: the bundled PMO integration instrument).")
    @click.option("--by", "unit_column", metavar="COLUMN",
                  help="Business unit column (default: detected, e.g. 'Business unit'; 'none' = whole file).")
    @click.option("--id-column", metavar="COLUMN", help="Respondent id column (default: detected; else row numbers).")
    @click.option("--role-column", metavar="COLUMN", help="Respondent role column (default: detected).")
    @click.option("--sheet", metavar="NAME", help="XLSX sheet (default: the first sheet with item columns).")
    @click.option("--map", "mapping", metavar="HEADER=ITEM", multiple=True,
                  help="Map a column header to an item id (repeatable).")
    @click.option("--layout", type=click.Choice(["auto", "wide", "long"]), default="auto", show_default=True,
                  help="One row per respondent (wide) or per answer (long).")
    @click.option("--encoding", help="CSV encoding (default: detected: UTF-8, UTF-8 BOM or Windows-1252).")
    @click.option("--delimiter", help="CSV delimiter: one character, or tab, comma, semicolon, pipe (default: detected).")
    @click.option("--exclude-flagged", is_flag=True, help="Quarantine straight-liners and speeders instead of "
                                                          "keeping them flagged.")
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


def _load(file: Path, *, questionnaire, unit_column, id_column, role_column, sheet, mapping, layout, encoding,
          delimiter, exclude_flagged):
    from .questionnaire import load_questionnaire
    from .responses import load_responses

    q = load_questionnaire(questionnaire)
    pairs = {}
    for entry in mapping:
        header, sep, item = entry.rpartition("=")
        if not sep or not header:
            raise click.BadParameter(f"expected HEADER=ITEM, got {entry!r}", param_hint="--map")
        pairs[header] = item
    unit = False if unit_column and unit_column.lower() == "none" else unit_column
    return load_responses(file, q, id_column=id_column, unit_column=unit, role_column=role_column, sheet=sheet,
                          mapping=pairs or None, layout=layout, encoding=encoding, delimiter=delimiter,
                          exclude_flagged=exclude_flagged)


def _clip(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _table(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False) if len(frame) else "(none)"


def print_quality(responses, *, limit: int = 10) -> None:
    """The data-quality report of a loaded file."""
    from .responses import FLAGS, REASONS

    s = responses.summary
    src = s["source"]
    click.secho(f"Data quality: {Path(src['file']).name}", bold=True)
    how = ", ".join(f"{k} {v!r}" for k, v in (("format", src["format"]), ("encoding", src["encoding"]),
                                               ("delimiter", src["delimiter"]), ("sheet", src["sheet"])) if v)
    click.echo(f"  read as {how}; layout {s['layout']}; sha256 {src['sha256'][:12]}...")
    q = responses.questionnaire
    click.echo(f"  questionnaire {q.describe()}: {s['items_matched']} of {len(q.item_ids)} items matched")
    if s["items_missing"]:
        click.secho(f"  items not in the file: {', '.join(s['items_missing'])}", fg="yellow")
    meta = ", ".join(f"{k} <- {v!r}" for k, v in s["metadata_columns"].items()) or "none"
    click.echo(f"  metadata columns: {meta}")
    if s["extra_columns"]:
        click.echo(f"  other columns kept as metadata: {len(s['extra_columns'])}")
    if s.get("identifiers_dropped"):
        click.echo(f"  personal identifiers dropped at load: {', '.join(s['identifiers_dropped'])}")
    if s.get("comments_screened"):
        click.echo(f"  comments screened: {s['comments_screened']} had e-mail addresses, phone numbers, links, "
                   f"handles or names replaced by [removed]")
    click.echo(f"  rows in {s['rows_in']} = accepted {s['rows_accepted']} + quarantined {s['rows_quarantined']}"
               f" ({s['respondents']} respondents)")
    for reason, count in s["quarantined_by_reason"].items():
        click.echo(f"    {count:>5}  {reason}: {REASONS.get(reason, reason)}")
    for flag, count in s["flagged"].items():
        click.echo(f"    {count:>5}  flagged {flag} (kept): {FLAGS.get(flag, flag)}")
    if len(responses.quarantine):
        shown = responses.quarantine.head(limit)
        click.echo(f"  first quarantine records (of {len(responses.quarantine)}; --quarantine FILE writes all):")
        for r in shown.itertuples(index=False):
            value = "" if r.value is None else f" value {r.value!r}"
            column = f" column {_clip(r.column)!r}" if r.column else ""
            click.echo(f"    row {r.row} ({r.respondent_id}): {r.reason}{column}{value}")


def print_scores(scores, *, units: bool = True) -> None:
    """The organisation's scorecard and the units' overall results."""
    from .scoring import ORGANISATION

    click.secho(f"\n{scores.questionnaire.title}: organisation scorecard", bold=True)
    click.echo(_table(scores.scorecard()))
    overall = scores.overall_for()
    if overall["levels_differ"]:
        click.echo(f"Continuous level {overall['continuous_level_name']} but staged level "
                   f"{overall['staged_level_name']}: the weakest dimension holds the organisation back.")
    if units and len(scores.units):
        click.secho("\nBusiness units", bold=True)
        table = scores.overall[scores.overall["scope"] == "unit"]
        shown = pd.DataFrame({
            "Unit": table["group"],
            "n": [f"<{scores.rules.min_group_size}" if why == "small" else "-" if hidden else str(int(n))
                  for n, hidden, why in zip(table["n"], table["suppressed"], table["suppressed_reason"])],
            "Score": table["score"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}"),
            "95% CI": [("" if pd.isna(lo) else f"{lo:.2f}-{hi:.2f}") for lo, hi in zip(table["ci_low"], table["ci_high"])],
            "Continuous": table["continuous_level_name"], "Staged": table["staged_level_name"],
        })
        click.echo(_table(shown))
        hidden = scores.suppressed_units
        if hidden:
            why_words = {"small": f"fewer than {scores.rules.min_group_size} respondents"}
            click.echo("Not shown, to protect anonymity: " + ", ".join(
                f"{u} ({why_words.get(why, 'hidden so that a smaller unit cannot be worked out')})"
                for u, why in hidden.items()))
    low = scores.reliability[scores.reliability["status"] == "low"]
    for _, r in low.iterrows():
        click.secho(f"Reliability: {r['name']} alpha {r['alpha']:.2f} is under "
                    f"{scores.rules.reliability_threshold:.2f}; read its score with care.", fg="yellow")
    flagged = scores.gaps[(scores.gaps["scope"] == ORGANISATION) & scores.gaps["flagged"]]
    for _, g in flagged.head(3).iterrows():
        click.echo(f"Perception gap on {g['dimension']}: {g['higher']} {g['mean_higher']:.2f} vs {g['lower']} "
                   f"{g['mean_lower']:.2f} ({g['difference']:+.2f}, 95% CI {g['ci_low']:.2f} to {g['ci_high']:.2f}, "
                   f"Holm-adjusted p {g['p_adjusted']:.3f} over {int(g['comparisons'])} comparisons)")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_loading_options
@click.option("--quarantine", "quarantine_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the full quarantine table (.csv or .xlsx).")
def validate(file: Path, quarantine_out: Path | None, **options) -> None:
    """Check a response file and print its data-quality report.

    Every row ends either accepted or quarantined with a reason code; the identity
    rows in = accepted + quarantined is printed. Exit code 1 when no row can be used.

    \b
    Example:
      pmo-maturity validate export.csv --quarantine outputs/quarantine.xlsx
    """
    from .export import write_csv, write_xlsx

    responses = _load(file, **options)
    print_quality(responses)
    if quarantine_out:
        table = responses.quarantine
        # Respondent-level rows (ids and the values set aside): readable by the owner only.
        if quarantine_out.suffix.lower() == ".xlsx":
            write_xlsx({"quarantine": table, "flags": responses.flags}, quarantine_out, private=True)
        else:
            write_csv(table, quarantine_out, private=True)
        click.echo(f"quarantine written to {quarantine_out} (respondent-level: readable by you only)")
    if responses.summary["rows_accepted"] == 0:
        click.secho("nothing could be scored: no row was accepted", fg="red", err=True)
        sys.exit(1)


@main.command("score")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_loading_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the scores: .csv (tidy table), .xlsx (all tables) or .json (all, with provenance).")
@click.option("--min-group-size", type=click.IntRange(min=3), default=5, show_default=True,
              help="Smallest reportable group.")
@click.option("--min-answered", type=click.FloatRange(0, 1, min_open=True), default=0.6, show_default=True,
              help="Share of a dimension's items needed for a respondent score.")
@click.option("--seed", type=int, default=20261126, show_default=True, help="Seed of the bootstrap intervals.")
@click.option("--include-respondents", is_flag=True,
              help="Also write respondent-level scores (they can identify people; keep them private).")
@click.option("--plan", "plan_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the prioritised 30/60/90-day action plan (.csv or .xlsx).")
@click.option("--target", "targets", metavar="LEVEL|DIMENSION=LEVEL", multiple=True,
              help="Target level for every dimension (e.g. 3) or one dimension (vision=4); default 3.")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A previous cycle's scores file (from -o) to show what moved.")
def score_command(file: Path, output: Path | None, min_group_size: int, min_answered: float, seed: int,
                  include_respondents: bool, plan_out: Path | None, targets: tuple[str, ...],
                  previous: Path | None, **options) -> None:
    """Score a response file and print the scorecard.

    \b
    Example:
      pmo-maturity score export.csv --by "Business unit" -o outputs/scores.xlsx
      pmo-maturity score export.csv --plan outputs/plan.xlsx --target 3 --target vision=4
      pmo-maturity score export.csv --previous outputs/scores_2025.csv
    """
    from .scoring import ScoringRules, score

    responses = _load(file, **options)
    if responses.summary["rows_accepted"] == 0:
        print_quality(responses)
        click.secho("nothing could be scored: no row was accepted", fg="red", err=True)
        sys.exit(1)
    rules = ScoringRules(min_group_size=min_group_size, min_answered=min_answered, seed=seed)
    scores = score(responses, rules=rules)
    trend = None
    if previous:  # checked before anything is written: another questionnaire or scale is refused
        from .trend import compare_cycles

        trend = compare_cycles(scores, previous)
    q = scores.data_quality
    click.echo(f"{Path(file).name}: {q['rows_in']} rows in, {q['rows_scored']} scored, {q['rows_quarantined']} "
               f"quarantined (run 'pmo-maturity validate' for details)")
    print_scores(scores)
    if output:
        scores.write(output, include_respondents=include_respondents)
        click.echo(f"\nscores written to {output}")
        if include_respondents:
            where = output.with_name(f"{output.stem}_respondents.csv") if output.suffix.lower() == ".csv" else output
            click.echo(f"respondent-level scores written to {where} (readable by you only)")
    if previous:
        print_trend(trend, previous)
    if plan_out:
        print_plan(scores, plan_out, _parse_targets(targets))


def _parse_targets(entries: tuple[str, ...]) -> int | dict | None:
    target: dict = {}
    for entry in entries:
        dim, sep, level = entry.rpartition("=")
        try:
            value = int(level)
        except ValueError as err:
            raise click.BadParameter(f"expected LEVEL or DIMENSION=LEVEL, got {entry!r}", param_hint="--target") from err
        target[dim if sep else "*"] = value
    return target or None


def print_trend(trend: pd.DataFrame, previous: Path) -> None:
    click.secho(f"\nSince {previous.name}", bold=True)
    if trend.attrs.get("note"):
        click.secho(trend.attrs["note"], fg="yellow")
    if trend.empty:
        click.echo("(no dimension in common with the previous file)")
        return
    shown = pd.DataFrame({"Dimension": trend["name"], "Before": trend["previous"].map("{:.2f}".format),
                          "Now": trend["current"].map("{:.2f}".format), "Change": trend["change"].map("{:+.2f}".format),
                          "Reading": trend["reading"]})
    click.echo(_table(shown))


def print_plan(scores, path: Path, target) -> None:
    from .archetypes import cluster_respondents
    from .recommendations import recommend

    plan = recommend(scores, target=target, archetypes=cluster_respondents(scores))
    plan.write(path)
    click.secho("\nAction plan", bold=True)
    for row in plan.actions.itertuples():
        click.echo(f"  {row.rank:>2}. [by day {row.window}] {row.title} ({row.owner}; {row.effort}, "
                   f"{row.days_low}-{row.days_high} person-days)")
    for note in plan.notes:
        click.echo(f"  {note}")
    click.echo(f"plan written to {path} ({len(plan.actions)} actions; {plan.formula})")


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("outputs/sample_export.csv"), show_default=True,
              help="File to write (.csv or .xlsx).")
@click.option("--layout", type=click.Choice(["forms", "google", "ids", "long"]), default="forms", show_default=True,
              help="forms: MS Forms headers and labels; google: Google Forms grid; ids: item ids and numbers; "
                   "long: one row per answer.")
@click.option("--units", type=click.IntRange(min=1), default=6, show_default=True, help="Business units.")
@click.option("--respondents", metavar="LOW-HIGH", default="32-60", show_default=True,
              help="Respondents per unit.")
@click.option("--small-units", type=click.IntRange(min=0), default=2, show_default=True,
              help="Extra units of 3-4 respondents (they must be suppressed).")
@click.option("--bad-rows", type=click.FloatRange(0, 0.5), default=0.05, show_default=True,
              help="Share of bad rows to plant.")
@click.option("--seed", type=int, default=2026, show_default=True)
@click.option("--truth", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the ground truth (planted segments, expected reasons) to this CSV.")
@click.option("-q", "--questionnaire", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Questionnaire YAML to answer (default: the bundled instrument).")
def sample(output: Path, layout: str, units: int, respondents: str, small_units: int, bad_rows: float, seed: int,
           truth: Path | None, questionnaire: Path | None) -> None:
    """Write a synthetic survey export of a fictional organisation (seeded).

    \b
    Example:
      pmo-maturity sample --units 24 --layout ids -o outputs/big.csv --truth outputs/truth.csv
    """
    from .questionnaire import load_questionnaire
    from .sample import generate_sample

    try:
        low, high = (int(x) for x in respondents.split("-"))
    except ValueError as err:
        raise click.BadParameter(f"expected LOW-HIGH such as 32-60, got {respondents!r}",
                                 param_hint="--respondents") from err
    data = generate_sample(load_questionnaire(questionnaire), units=units, respondents_per_unit=(low, high),
                           small_units=small_units, bad_row_share=bad_rows, seed=seed)
    data.write(output, layout=layout)
    click.echo(f"{len(data.frame)} rows written to {output} ({layout} layout, seed {seed})")
    if truth:
        from .export import write_csv

        write_csv(data.truth, truth)
        click.echo(f"ground truth written to {truth}")


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("outputs/response_template.xlsx"), show_default=True,
              help=".xlsx (instructions, drop-downs) or .csv (header row).")
@click.option("-q", "--questionnaire", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Questionnaire YAML (default: the bundled instrument).")
@click.option("--rows", type=click.IntRange(min=1), default=500, show_default=True,
              help="Respondent rows prepared with drop-downs.")
def template(output: Path, questionnaire: Path | None, rows: int) -> None:
    """Write a blank response sheet to send to respondents.

    \b
    Example:
      pmo-maturity template -o outputs/survey.xlsx
    """
    from .questionnaire import load_questionnaire
    from .template import write_template

    write_template(output, load_questionnaire(questionnaire), rows=rows)
    click.echo(f"template written to {output}")


def _report_options(func):
    @click.option("-q", "--questionnaire", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Questionnaire YAML (default: the bundled PMO integration instrument).")
    @click.option("--target", "targets", metavar="LEVEL|DIMENSION=LEVEL", multiple=True,
                  help="Target level for every dimension (e.g. 3) or one dimension (vision=4); default 3.")
    @click.option("--min-group-size", type=click.IntRange(min=3), default=5, show_default=True,
                  help="Smallest group shown in any table or chart.")
    @click.option("--organisation", default="", help="Organisation name for the titles.")
    @click.option("--headcount", metavar="N|FILE",
                  help="People invited, for the response rate: a number, or a CSV file 'unit,headcount'.")
    @click.option("--day-rate", type=click.FloatRange(min=0, min_open=True),
                  help="Cost of a person-day, for an indicative cost per action and window (default: person-days only).")
    @click.option("--currency", default="", help="Shown beside costs, e.g. EUR.")
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


def _headcount_parameter(value: str | None) -> int | str | None:
    """``--headcount``: a number of people, or a CSV file of unit headcounts."""
    if value is None:
        return None
    return int(value) if value.strip().isdigit() else str(Path(value).resolve())


def _target_parameter(targets: tuple[str, ...]) -> int | dict:
    target = _parse_targets(targets)
    if target is None:
        return 3
    if set(target) == {"*"}:
        return target["*"]
    return target


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit", help="Report on this business unit (default: the whole organisation).")
@click.option("--by", "unit_column", metavar="COLUMN", help="Business unit column (default: detected).")
@click.option("--portfolio", is_flag=True, help="Render the portfolio view (all units side by side) instead.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="HTML file to write (default: outputs/report.html or outputs/<unit>.html).")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A previous cycle's scores file (from 'score -o') to show the trend.")
@_report_options
def report(file: Path, unit: str | None, unit_column: str | None, portfolio: bool, output: Path | None,
           previous: Path | None, questionnaire: Path | None, targets: tuple[str, ...], min_group_size: int,
           organisation: str, headcount: str | None, day_rate: float | None, currency: str) -> None:
    """Render an HTML report for executives (papermill + nbconvert, no code, opens offline).

    \b
    Example:
      pmo-maturity report export.csv --unit Finance -o outputs/finance.html
      pmo-maturity report export.csv --headcount headcount.csv --day-rate 750 --currency EUR
      pmo-maturity report export.csv --portfolio -o outputs/portfolio.html
    """
    from .headcount import read_headcount

    from .batch import slug
    from .execution import render_report

    if portfolio and (unit or previous):
        raise click.UsageError("--portfolio shows every unit: it takes neither --unit nor --previous")
    output = output or Path("outputs") / (f"{slug(unit)}.html" if unit else
                                          "portfolio.html" if portfolio else "report.html")
    parameters = {"responses": str(file), "questionnaire": str(questionnaire) if questionnaire else None,
                  "unit_column": unit_column, "target": _target_parameter(targets), "min_group_size": min_group_size,
                  "headcount": _headcount_parameter(headcount), "organisation": organisation}
    read_headcount(parameters["headcount"])  # a bad file is refused before a kernel starts
    if not portfolio:
        parameters.update(previous=str(previous) if previous else None, day_rate=day_rate, currency=currency)
    click.echo("rendering the report (executing the notebook)...")
    html = render_report(output, unit=unit, notebook="portfolio" if portfolio else "assessment", **parameters)
    click.echo(f"report written to {html}")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "unit_column", metavar="COLUMN", help="Business unit column (default: detected).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Parallel worker processes.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("outputs/batch"),
              show_default=True, help="Output folder (index.html, manifest.json, units/).")
@click.option("--resume", is_flag=True, help="Re-run only the units that failed or are missing.")
@click.option("--notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A customised copy of notebooks/assessment.ipynb to run for each unit.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@_report_options
def batch(file: Path, unit_column: str | None, workers: int, out: Path, resume: bool, notebook: Path | None,
          no_progress: bool, questionnaire: Path | None, targets: tuple[str, ...], min_group_size: int,
          organisation: str, headcount: str | None, day_rate: float | None, currency: str) -> None:
    """One report per business unit, the portfolio and an index page, in parallel.

    Scores the export once, then runs the assessment notebook for every unit in worker
    processes. A failing unit does not stop the others; manifest.json records each unit's
    status, duration, error and the input's SHA-256. Exit code 1 if any unit failed.

    \b
    Example:
      pmo-maturity batch export.csv --by "Business unit" --workers 2 --out outputs/batch
      pmo-maturity batch export.csv --out outputs/batch --resume
    """
    from .batch import run_batch

    result = run_batch(file, by=unit_column, out=out, workers=workers, resume=resume, questionnaire=questionnaire,
                       target=_target_parameter(targets), min_group_size=min_group_size,
                       headcount=_headcount_parameter(headcount), organisation=organisation, notebook=notebook,
                       progress=not no_progress, day_rate=day_rate, currency=currency)
    _print_batch(result)
    sys.exit(result.exit_code)


def _print_batch(result) -> None:
    m = result.manifest
    ok = sum(1 for e in m["units"].values() if e["status"] == "ok")
    click.echo(f"{ok} of {len(m['units'])} unit reports ready; organisation report: "
               f"{m['organisation'].get('status', 'not run')}; portfolio: {m['portfolio'].get('status', 'not run')}; "
               f"{len(m['suppressed'])} units not shown (too few respondents)")
    for name in result.failed:
        entry = m["units"].get(name) or m.get(name, {})
        click.secho(f"failed: {name}: {entry.get('error', '')}", fg="red", err=True)
    click.echo(f"index: {result.index}")


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("outputs/demo"),
              show_default=True, help="Folder for the demo's outputs.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Parallel worker processes.")
def demo(out: Path, workers: int) -> None:
    """Run the sample engagement end to end: data quality, scores, plan and HTML reports.

    Validates and scores the bundled sample export, writes the scores and the action plan,
    then renders a report per business unit, the portfolio and an index page, and prints
    the index page's path.

    \b
    Example:
      pmo-maturity demo --out outputs/demo
    """
    from .archetypes import cluster_respondents
    from .batch import run_batch
    from .questionnaire import load_questionnaire
    from .recommendations import recommend
    from .responses import load_responses
    from .sample import sample_headcount_path, sample_path
    from .scoring import score

    source = sample_path()
    click.echo(f"Sample export: {source}")
    responses = load_responses(source, load_questionnaire())
    print_quality(responses, limit=5)
    scores = score(responses)
    print_scores(scores)
    out.mkdir(parents=True, exist_ok=True)
    scores.write(out / "scores.xlsx")
    scores.write(out / "scores.json")
    costs = {"day_rate": DEMO_DAY_RATE, "currency": DEMO_CURRENCY}
    plan = recommend(scores, archetypes=cluster_respondents(scores), **costs)
    plan.write(out / "action_plan.xlsx")
    click.echo(f"\nscores and plan written to {out.resolve()}")
    click.echo("\nRendering the reports (the organisation, each business unit and the portfolio, in parallel)...")
    result = run_batch(source, out=out / "reports", workers=workers, organisation="Example Organisation",
                       headcount=sample_headcount_path(), **costs)
    _print_batch(result)
    click.echo(str(result.index))
    sys.exit(result.exit_code)
