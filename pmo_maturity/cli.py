"""The ``pmo-maturity`` command line: a thin layer that parses arguments and calls the package.

Every command that reads a response file takes the same loader options, generated from
:class:`~pmo_maturity.LoadOptions` (one definition). Every error a user can cause ends the command
with exit code 2 and one line naming the file, row, column or option, the value and what was
expected; no traceback. ``-`` reads the response file from standard input, and writes a CSV (or the
HTML report) to standard output, the messages then going to standard error.
"""

from __future__ import annotations

import contextvars
import functools
import os
import shutil
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

import click
import pandas as pd

from .errors import PmoMaturityError, QuestionnaireError
from .options import LoadOptions

EXIT_BAD_INPUT = 2
DEMO_DAY_RATE, DEMO_CURRENCY = 750, "EUR"  # an example consulting day rate, to show indicative costs
STDIO = "-"
_MESSAGES_TO_STDERR = contextvars.ContextVar("messages_to_stderr", default=False)


def one_line(err: BaseException) -> str:
    """An error as one line (several problems of a file joined with '; ')."""
    if isinstance(err, QuestionnaireError) and len(err.problems) > 1:
        return f"{err.path}: invalid: " + "; ".join(map(str, err.problems))
    return " ".join(str(err).split("\n")).strip()


class _Group(click.Group):
    """Turns the kit's own errors, usage errors and unreadable or unwritable files into one clear line
    on stderr (exit 2) instead of a traceback or a usage screen."""

    def invoke(self, ctx: click.Context):
        token = _MESSAGES_TO_STDERR.set(False)
        try:
            return super().invoke(ctx)
        except PmoMaturityError as err:
            _fail(ctx, one_line(err))
        except click.UsageError as err:
            where = f" (see 'pmo-maturity {err.ctx.info_name} --help')" if err.ctx and err.ctx.parent else ""
            _fail(ctx, one_line(click.ClickException(err.format_message())) + where)
        except OSError as err:
            name = err.filename if err.filename is not None else "a file"
            _fail(ctx, f"{name}: {err.strerror or err}")
        finally:
            _MESSAGES_TO_STDERR.reset(token)


def _fail(ctx: click.Context, message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    ctx.exit(EXIT_BAD_INPUT)


def say(message: str = "", **style) -> None:
    """A message for the user (on stderr when stdout carries a file)."""
    click.secho(message, err=_MESSAGES_TO_STDERR.get(), **style)


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


# ---------------------------------------------------------------------------------------------
# Parameter types


class InputFile(click.ParamType):
    """A response file, or ``-``: standard input, kept in a temporary file for the command's run."""

    name = "FILE"

    def convert(self, value, param, ctx):
        if isinstance(value, Path):
            return value
        if value == STDIO:
            data = sys.stdin.buffer.read()
            folder = Path(tempfile.mkdtemp(prefix="pmo-stdin-"))
            ctx.call_on_close(lambda: shutil.rmtree(folder, ignore_errors=True))
            path = folder / ("stdin.xlsx" if data[:4] == b"PK\x03\x04" else "stdin.csv")
            path.write_bytes(data)
            return path
        path = Path(value)
        if not path.exists():
            self.fail(f"{value!r}: file not found", param, ctx)
        if path.is_dir():
            self.fail(f"{value!r} is a folder; expected a response file (.csv or .xlsx)", param, ctx)
        return path


class OutputFile(click.ParamType):
    """A file to write, with one of ``suffixes`` (checked before any work), in a folder that can be
    written; ``-`` for standard output when ``stdout`` names the format written there."""

    name = "FILE"

    def __init__(self, suffixes: tuple[str, ...], stdout: str | None = None):
        self.suffixes, self.stdout = suffixes, stdout

    def convert(self, value, param, ctx):
        if isinstance(value, Path) or value is None:
            return value
        if value == STDIO:
            if self.stdout is None:
                self.fail("cannot be written to standard output ('-'); give a file name", param, ctx)
            _MESSAGES_TO_STDERR.set(True)
            return STDIO
        path = Path(value)
        if path.suffix.lower() not in self.suffixes:
            self.fail(f"{value!r}: expected a {' or '.join(self.suffixes)} file", param, ctx)
        if path.is_dir():
            self.fail(f"{value!r} is a folder; expected a file name", param, ctx)
        problem = _unwritable(path.parent)
        if problem:
            self.fail(f"{value!r}: cannot be written: {problem}", param, ctx)
        return path


class OutputFolder(click.ParamType):
    """A folder to write into (created if needed)."""

    name = "FOLDER"

    def convert(self, value, param, ctx):
        path = Path(value)
        if path.exists() and not path.is_dir():
            self.fail(f"{value!r} is a file; expected a folder", param, ctx)
        problem = _unwritable(path)
        if problem:
            self.fail(f"{value!r}: cannot be written: {problem}", param, ctx)
        return path


def _unwritable(folder: Path) -> str:
    """Why files cannot be written in ``folder`` (created later if missing), or ''."""
    existing = folder.resolve()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"no permission to write in {existing}"
    return ""


# ---------------------------------------------------------------------------------------------
# Loader options: one click option per field of LoadOptions


_PREFIX = "load_"


def loader_options(func):
    """The loader's options (every field of :class:`~pmo_maturity.LoadOptions` that has a flag)."""
    for f in reversed(fields(LoadOptions)):
        meta = f.metadata
        flag = meta.get("flag")
        if not flag:
            continue
        kwargs: dict = {"help": meta["help"], "metavar": meta.get("metavar")}
        if meta.get("multiple"):
            kwargs["multiple"] = True
        elif meta.get("choices"):
            kwargs.update(type=click.Choice(meta["choices"]), default=f.default, show_default=True)
            kwargs.pop("metavar")
        elif meta.get("is_flag"):
            kwargs.update(is_flag=True, default=f.default)
            kwargs.pop("metavar")
        elif meta.get("flag_pair"):
            kwargs.update(default=f.default, show_default=True)
            kwargs.pop("metavar")
        elif meta.get("path"):
            kwargs["type"] = InputFile()
        func = click.option(flag, _PREFIX + f.name, **kwargs)(func)
    return func


def questionnaire_option(func):
    return click.option("-q", "--questionnaire", type=InputFile(),
                        help="Questionnaire YAML (default: the bundled PMO integration instrument).")(func)


def load_options_from(kwargs: dict) -> LoadOptions:
    """The loader options among a command's arguments (removed from ``kwargs``), checked."""
    given = {key[len(_PREFIX):]: kwargs.pop(key) for key in list(kwargs) if key.startswith(_PREFIX)}
    mapping = {}
    for entry in given.pop("mapping", ()) or ():
        header, sep, item = entry.rpartition("=")
        if not sep or not header or not item:
            raise click.BadParameter(f"expected HEADER=ITEM, got {entry!r}", param_hint="--map")
        mapping[header] = item
    given["mapping"] = mapping
    given["na_codes"] = tuple(given.pop("na_codes", ()) or ())
    if given.get("mapping_file") is not None:
        given["mapping_file"] = str(given["mapping_file"])
    return LoadOptions(**{k: v for k, v in given.items() if v is not None})


def _load(file: Path, questionnaire: Path | None, options: LoadOptions, min_answered: float = 0.6):
    from .questionnaire import load_questionnaire
    from .responses import load_responses

    return load_responses(file, load_questionnaire(questionnaire), options, min_answered=min_answered)


# ---------------------------------------------------------------------------------------------
# Reports on screen


def _clip(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _table(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False) if len(frame) else "(none)"


def print_quality(responses, *, limit: int = 10) -> None:
    """The data-quality report of a loaded file."""
    from .responses import FLAGS, REASONS, WARNINGS

    s = responses.summary
    src = s["source"]
    say(f"Data quality: {Path(src['file']).name}", bold=True)
    how = ", ".join(f"{k} {v!r}" for k, v in (("format", src["format"]), ("encoding", src["encoding"]),
                                               ("delimiter", src["delimiter"]), ("sheet", src["sheet"])) if v)
    rows = f" ({src['header_rows']} header rows)" if src.get("header_rows", 1) > 1 else ""
    tool = f"; {src['tool']} export{rows}" if src.get("tool") else ""
    say(f"  read as {how}{tool}; layout {s['layout']}; sha256 {src['sha256'][:12]}...")
    q = responses.questionnaire
    say(f"  questionnaire {q.describe()}: {s['items_matched']} of {len(q.item_ids)} items matched")
    if s["items_missing"]:
        say(f"  items not in the file: {', '.join(s['items_missing'])}", fg="yellow")
    meta = ", ".join(f"{k} <- {v!r}" for k, v in s["metadata_columns"].items()) or "none"
    say(f"  metadata columns: {meta}")
    if s.get("na_codes"):
        say(f"  don't-know codes: {', '.join(map(str, s['na_codes']))}")
    if s["extra_columns"]:
        say(f"  other columns kept as metadata: {len(s['extra_columns'])}")
    if s.get("identifiers_dropped"):
        say(f"  personal identifiers dropped at load: {', '.join(s['identifiers_dropped'])}")
    if s.get("comments_screened"):
        say(f"  comments screened: {s['comments_screened']} had e-mail addresses, phone numbers, links, "
            f"handles or names replaced by [removed]")
    say(f"  rows in {s['rows_in']} = accepted {s['rows_accepted']} + quarantined {s['rows_quarantined']}"
        f" ({s['respondents']} respondents)")
    for reason, count in s["quarantined_by_reason"].items():
        say(f"    {count:>5}  {reason}: {REASONS.get(reason, reason)}")
    for flag, count in s["flagged"].items():
        say(f"    {count:>5}  flagged {flag} (kept): {FLAGS.get(flag, flag)}")
    for warning, count in s.get("warnings", {}).items():
        say(f"    {count:>5}  warning {warning} (kept): {WARNINGS.get(warning, warning)}", fg="yellow")
    if len(responses.quarantine):
        shown = responses.quarantine.head(limit)
        say(f"  first quarantine records (of {len(responses.quarantine)}; --quarantine FILE writes all):")
        for r in shown.itertuples(index=False):
            value = "" if r.value is None else f" value {_clip(repr(r.value), 60)}"
            column = f" column {_clip(r.column)!r}" if r.column else ""
            say(f"    row {r.row} ({r.respondent_id}): {r.reason}{column}{value}")
    if len(responses.warnings):
        say(f"  first warnings (of {len(responses.warnings)}):")
        for w in responses.warnings.head(limit).itertuples(index=False):
            column = f" column {_clip(w.column)!r}" if w.column else ""
            say(f"    row {w.row}: {w.warning}{column} value {_clip(repr(w.value), 60)}: {w.detail}")


def print_scores(scores, *, units: bool = True) -> None:
    """The organisation's scorecard and the units' overall results."""
    from .scoring import ORGANISATION

    say(f"\n{scores.questionnaire.title}: organisation scorecard", bold=True)
    say(_table(scores.scorecard()))
    overall = scores.overall_for()
    if overall["levels_differ"]:
        say(f"Continuous level {overall['continuous_level_name']} but staged level "
            f"{overall['staged_level_name']}: the weakest dimension holds the organisation back.")
    if units and len(scores.units):
        say("\nBusiness units", bold=True)
        table = scores.overall[scores.overall["scope"] == "unit"]
        shown = pd.DataFrame({
            "Unit": table["group"],
            "n": [f"<{scores.rules.min_group_size}" if why == "small" else "-" if hidden else str(int(n))
                  for n, hidden, why in zip(table["n"], table["suppressed"], table["suppressed_reason"])],
            "Score": table["score"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}"),
            "95% CI": [("" if pd.isna(lo) else f"{lo:.2f}-{hi:.2f}") for lo, hi in zip(table["ci_low"], table["ci_high"])],
            "Continuous": table["continuous_level_name"], "Staged": table["staged_level_name"],
        })
        say(_table(shown))
        hidden = scores.suppressed_units
        if hidden:
            why_words = {"small": f"fewer than {scores.rules.min_group_size} respondents"}
            say("Not shown, to protect anonymity: " + ", ".join(
                f"{u} ({why_words.get(why, 'hidden so that a smaller unit cannot be worked out')})"
                for u, why in hidden.items()))
    low = scores.reliability[scores.reliability["status"] == "low"]
    for _, r in low.iterrows():
        say(f"Reliability: {r['name']} alpha {r['alpha']:.2f} is under "
            f"{scores.rules.reliability_threshold:.2f}; read its score with care.", fg="yellow")
    flagged = scores.gaps[(scores.gaps["scope"] == ORGANISATION) & scores.gaps["flagged"]]
    for _, g in flagged.head(3).iterrows():
        say(f"Perception gap on {g['dimension']}: {g['higher']} {g['mean_higher']:.2f} vs {g['lower']} "
            f"{g['mean_lower']:.2f} ({g['difference']:+.2f}, 95% CI {g['ci_low']:.2f} to {g['ci_high']:.2f}, "
            f"Holm-adjusted p {g['p_adjusted']:.3f} over {int(g['comparisons'])} comparisons)")


def _to_stdout_or_file(path, write_csv_frame: pd.DataFrame | None = None, write=None) -> None:
    """Write a table to a file, or as CSV to standard output for ``-``."""
    if path == STDIO:
        from .export import csv_text

        click.echo(csv_text(write_csv_frame), nl=False)
    else:
        write(path)


# ---------------------------------------------------------------------------------------------
# Commands


@main.command()
@click.argument("file", type=InputFile())
@questionnaire_option
@loader_options
@click.option("--quarantine", "quarantine_out", type=OutputFile((".csv", ".xlsx"), stdout="csv"),
              help="Write the full quarantine table (.csv, .xlsx with the flags and warnings too, or - for CSV "
                   "on standard output).")
def validate(file: Path, questionnaire: Path | None, quarantine_out, **options) -> None:
    """Check a response file and print its data-quality report.

    Every row ends either accepted or quarantined with a reason code; the identity
    rows in = accepted + quarantined is printed. Exit code 1 when no row can be used.

    \b
    Example:
      pmo-maturity validate export.csv --quarantine outputs/quarantine.xlsx
      pmo-maturity validate qualtrics.csv --mapping-file mapping.yaml
    """
    from .export import write_csv, write_xlsx

    responses = _load(file, questionnaire, load_options_from(options))
    print_quality(responses)
    if quarantine_out:
        table = responses.quarantine
        # Respondent-level rows (ids and the values set aside): readable by the owner only.
        if quarantine_out != STDIO and quarantine_out.suffix.lower() == ".xlsx":
            write_xlsx({"quarantine": table, "flags": responses.flags, "warnings": responses.warnings},
                       quarantine_out, private=True)
        else:
            _to_stdout_or_file(quarantine_out, table, lambda p: write_csv(table, p, private=True))
        say(f"quarantine written to {'standard output' if quarantine_out == STDIO else quarantine_out}"
            f"{'' if quarantine_out == STDIO else ' (respondent-level: readable by you only)'}")
    if responses.summary["rows_accepted"] == 0:
        click.secho("nothing could be scored: no row was accepted", fg="red", err=True)
        sys.exit(1)


@main.command("score")
@click.argument("file", type=InputFile())
@questionnaire_option
@loader_options
@click.option("-o", "--output", type=OutputFile((".csv", ".xlsx", ".json"), stdout="csv"),
              help="Write the scores: .csv (tidy table), .xlsx (all tables), .json (all, with provenance), or - "
                   "(the CSV on standard output).")
@click.option("--min-group-size", type=click.IntRange(min=3), default=5, show_default=True,
              help="Smallest reportable group.")
@click.option("--min-answered", type=click.FloatRange(0, 1, min_open=True), default=0.6, show_default=True,
              help="Share of a dimension's items needed for a respondent score.")
@click.option("--seed", type=int, default=20261126, show_default=True, help="Seed of the bootstrap intervals.")
@click.option("--include-respondents", is_flag=True,
              help="Also write respondent-level scores (they can identify people; keep them private): a sheet of "
                   "the .xlsx or .json file, or FILE.respondents.csv beside a .csv file.")
@click.option("--plan", "plan_out", type=OutputFile((".csv", ".xlsx"), stdout="csv"),
              help="Write the prioritised 30/60/90-day action plan (.csv, .xlsx or - for CSV on standard output).")
@click.option("--target", "targets", metavar="LEVEL|DIMENSION=LEVEL", multiple=True,
              help="Target level of the plan for every dimension (e.g. 3) or one dimension (vision=4); default 3. "
                   "Needs --plan.")
@click.option("--previous", type=InputFile(),
              help="A previous cycle's scores file (from -o) to show what moved.")
def score_command(file: Path, questionnaire: Path | None, output, min_group_size: int, min_answered: float,
                  seed: int, include_respondents: bool, plan_out, targets: tuple[str, ...], previous: Path | None,
                  **options) -> None:
    """Score a response file and print the scorecard.

    \b
    Example:
      pmo-maturity score export.csv --by "Business unit" -o outputs/scores.xlsx
      pmo-maturity score export.csv --plan outputs/plan.xlsx --target 3 --target vision=4
      pmo-maturity score export.csv --previous outputs/scores_2025.csv
    """
    from .scoring import ScoringRules, score

    if targets and not plan_out:
        raise click.UsageError("--target sets the action plan's target level: add --plan FILE to write the plan")
    if include_respondents and output in (None, STDIO):
        raise click.UsageError("--include-respondents writes respondent-level scores to a file: add -o FILE "
                               "(.csv, .xlsx or .json)")
    target = _parse_targets(targets)
    responses = _load(file, questionnaire, load_options_from(options), min_answered)
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
    say(f"{Path(file).name}: {q['rows_in']} rows in, {q['rows_scored']} scored, {q['rows_quarantined']} "
        f"quarantined (run 'pmo-maturity validate' for details)")
    print_scores(scores)
    if output == STDIO:
        _to_stdout_or_file(STDIO, scores.to_frame())
    elif output:
        scores.write(output, include_respondents=include_respondents)
        say(f"\nscores written to {output}")
        if include_respondents:
            where = output.with_name(f"{output.stem}_respondents.csv") if output.suffix.lower() == ".csv" else output
            say(f"respondent-level scores written to {where} (readable by you only)")
    if previous:
        print_trend(trend, previous)
    if plan_out:
        print_plan(scores, plan_out, target)


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
    say(f"\nSince {previous.name}", bold=True)
    if trend.attrs.get("note"):
        say(trend.attrs["note"], fg="yellow")
    if trend.empty:
        say("(no dimension in common with the previous file)")
        return
    shown = pd.DataFrame({"Dimension": trend["name"], "Before": trend["previous"].map("{:.2f}".format),
                          "Now": trend["current"].map("{:.2f}".format), "Change": trend["change"].map("{:+.2f}".format),
                          "Reading": trend["reading"]})
    say(_table(shown))


def print_plan(scores, path, target) -> None:
    from .archetypes import cluster_respondents
    from .recommendations import recommend

    plan = recommend(scores, target=target, archetypes=cluster_respondents(scores))
    if path == STDIO:
        columns = ["rank", "window", "title", "dimension_name", "reason", "what", "why", "owner", "effort",
                   "days_low", "days_high", "impact", "gap", "priority", "success_measure", "id", "source"]
        _to_stdout_or_file(STDIO, plan.actions[columns])
    else:
        plan.write(path)
    say("\nAction plan", bold=True)
    for row in plan.actions.itertuples():
        say(f"  {row.rank:>2}. [by day {row.window}] {row.title} ({row.owner}; {row.effort}, "
            f"{row.days_low}-{row.days_high} person-days)")
    for note in plan.notes:
        say(f"  {note}")
    where = "standard output" if path == STDIO else path
    say(f"plan written to {where} ({len(plan.actions)} actions; {plan.formula})")


@main.command()
@click.option("-o", "--output", type=OutputFile((".csv", ".xlsx"), stdout="csv"),
              default="outputs/sample_export.csv", show_default=True,
              help="File to write (.csv, .xlsx, or - for CSV on standard output).")
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
@click.option("--truth", type=OutputFile((".csv",)),
              help="Also write the ground truth (planted segments, expected reasons) to this CSV.")
@questionnaire_option
def sample(output, layout: str, units: int, respondents: str, small_units: int, bad_rows: float, seed: int,
           truth: Path | None, questionnaire: Path | None) -> None:
    """Write a synthetic survey export of a fictional organisation (seeded).

    \b
    Example:
      pmo-maturity sample --units 24 --layout ids -o outputs/big.csv --truth outputs/truth.csv
    """
    from .questionnaire import load_questionnaire
    from .sample import export_frame, generate_sample

    try:
        low, high = (int(x) for x in respondents.split("-"))
    except ValueError as err:
        raise click.BadParameter(f"expected LOW-HIGH such as 32-60, got {respondents!r}",
                                 param_hint="--respondents") from err
    if low > high:
        raise click.BadParameter(f"LOW must not exceed HIGH, got {respondents!r}", param_hint="--respondents")
    data = generate_sample(load_questionnaire(questionnaire), units=units, respondents_per_unit=(low, high),
                           small_units=small_units, bad_row_share=bad_rows, seed=seed)
    if output == STDIO:
        frame = export_frame(data, layout=layout)
        click.echo(frame.to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d %H:%M:%S"), nl=False)
    else:
        data.write(output, layout=layout)
    say(f"{len(data.frame)} rows written to {'standard output' if output == STDIO else output} ({layout} layout, "
        f"seed {seed})")
    if truth:
        from .export import write_csv

        write_csv(data.truth, truth)
        say(f"ground truth written to {truth}")


@main.command()
@click.option("-o", "--output", type=OutputFile((".xlsx", ".csv"), stdout="csv"),
              default="outputs/response_template.xlsx", show_default=True,
              help=".xlsx (instructions, drop-downs), .csv (header row) or - (the header row on standard output).")
@questionnaire_option
@click.option("--rows", type=click.IntRange(min=1), default=500, show_default=True,
              help="Respondent rows prepared with drop-downs.")
def template(output, questionnaire: Path | None, rows: int) -> None:
    """Write a blank response sheet to send to respondents.

    \b
    Example:
      pmo-maturity template -o outputs/survey.xlsx
    """
    from .questionnaire import load_questionnaire
    from .template import template_headers, write_template

    q = load_questionnaire(questionnaire)
    if output == STDIO:
        from .export import csv_text

        click.echo(csv_text(pd.DataFrame(columns=template_headers(q))), nl=False)
        return
    write_template(output, q, rows=rows)
    say(f"template written to {output}")


def _report_options(func):
    @questionnaire_option
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
@click.argument("file", type=InputFile())
@click.option("--unit", help="Report on this business unit (default: the whole organisation).")
@click.option("--portfolio", is_flag=True, help="Render the portfolio view (all units side by side) instead.")
@click.option("-o", "--output", type=OutputFile((".html",), stdout="html"),
              help="HTML file to write, or - for standard output (default: outputs/report.html or "
                   "outputs/<unit>.html).")
@click.option("--previous", type=InputFile(),
              help="A previous cycle's scores file (from 'score -o') to show the trend.")
@loader_options
@_report_options
def report(file: Path, unit: str | None, portfolio: bool, output, previous: Path | None, questionnaire: Path | None,
           targets: tuple[str, ...], min_group_size: int, organisation: str, headcount: str | None,
           day_rate: float | None, currency: str, **options) -> None:
    """Render an HTML report for executives (papermill + nbconvert, no code, opens offline).

    The export is scored first, so that a unit without a report (unknown, or suppressed as
    too small) is refused before any notebook runs, with the units that have one.

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
    load = load_options_from(options)
    parameters = {"responses": str(file), "questionnaire": str(questionnaire) if questionnaire else None,
                  "load_options": load.to_dict(changed_only=True) or None, "target": _target_parameter(targets),
                  "min_group_size": min_group_size, "headcount": _headcount_parameter(headcount),
                  "organisation": organisation}
    read_headcount(parameters["headcount"])  # a bad file is refused before a kernel starts
    if not portfolio:
        parameters.update(previous=str(previous) if previous else None, day_rate=day_rate, currency=currency)
    with tempfile.TemporaryDirectory(prefix="pmo-report-") as work:
        target = Path(work) / "report.html" if output == STDIO else (output or Path("outputs") / (
            f"{slug(unit)}.html" if unit else "portfolio.html" if portfolio else "report.html"))
        say("rendering the report (executing the notebook)...")
        html = render_report(target, unit=unit, notebook="portfolio" if portfolio else "assessment",
                             keep_notebook=output != STDIO, **parameters)
        if output == STDIO:
            sys.stdout.buffer.write(html.read_bytes())
            sys.stdout.flush()
            return
    say(f"report written to {html}")


@main.command()
@click.argument("file", type=InputFile())
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Parallel worker processes.")
@click.option("--out", type=OutputFolder(), default="outputs/batch", show_default=True,
              help="Output folder (index.html, manifest.json, units/).")
@click.option("--resume", is_flag=True, help="Re-run only the units that failed or are missing (same input and "
                                             "settings; it says what differs otherwise).")
@click.option("--notebook", type=InputFile(),
              help="A customised copy of notebooks/assessment.ipynb to run for each unit.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@loader_options
@_report_options
def batch(file: Path, workers: int, out: Path, resume: bool, notebook: Path | None, no_progress: bool,
          questionnaire: Path | None, targets: tuple[str, ...], min_group_size: int, organisation: str,
          headcount: str | None, day_rate: float | None, currency: str, **options) -> None:
    """One report per business unit, the portfolio and an index page, in parallel.

    Scores the export once, then runs the assessment notebook for every unit in worker
    processes. A failing unit does not stop the others; manifest.json records each unit's
    status, duration, whole error and the input's SHA-256. Exit code 1 if any unit failed.
    Only one batch at a time writes into a folder.

    \b
    Example:
      pmo-maturity batch export.csv --by "Business unit" --workers 2 --out outputs/batch
      pmo-maturity batch export.csv --out outputs/batch --resume
    """
    from .batch import run_batch

    result = run_batch(file, out=out, workers=workers, resume=resume, questionnaire=questionnaire,
                       load_options=load_options_from(options), target=_target_parameter(targets),
                       min_group_size=min_group_size, headcount=_headcount_parameter(headcount),
                       organisation=organisation, notebook=notebook, progress=not no_progress,
                       notify=lambda m: say(m, fg="yellow"), day_rate=day_rate, currency=currency)
    _print_batch(result)
    sys.exit(result.exit_code)


def _print_batch(result) -> None:
    from .batch import error_summary

    m = result.manifest
    ok = sum(1 for e in m["units"].values() if e["status"] == "ok")
    say(f"{ok} of {len(m['units'])} unit reports ready; organisation report: "
        f"{m['organisation'].get('status', 'not run')}; portfolio: {m['portfolio'].get('status', 'not run')}; "
        f"{len(m['suppressed'])} units not shown (too few respondents)")
    for name in result.failed:
        entry = m["units"].get(name) or m.get(name, {})
        click.secho(f"failed: {name}: {error_summary(entry.get('error', ''))} (whole message in "
                    f"{result.out / 'manifest.json'})", fg="red", err=True)
    say(f"index: {result.index}")


@main.command()
@click.option("--out", type=OutputFolder(), default="outputs/demo", show_default=True,
              help="Folder for the demo's outputs.")
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
    from .sample import SAMPLE_ORGANISATION, sample_headcount_path, sample_path
    from .scoring import score

    source = sample_path()
    say(f"Sample export: {source}")
    responses = load_responses(source, load_questionnaire())
    print_quality(responses, limit=5)
    scores = score(responses)
    print_scores(scores)
    scores.write(out / "scores.xlsx")
    scores.write(out / "scores.json")
    costs = {"day_rate": DEMO_DAY_RATE, "currency": DEMO_CURRENCY}
    plan = recommend(scores, archetypes=cluster_respondents(scores), **costs)
    plan.write(out / "action_plan.xlsx")
    say(f"\nscores and plan written to {out.resolve()}")
    say("\nRendering the reports (the organisation, each business unit and the portfolio, in parallel)...")
    result = run_batch(source, out=out / "reports", workers=workers, organisation=SAMPLE_ORGANISATION,
                       headcount=sample_headcount_path(), notify=lambda m: say(m, fg="yellow"), **costs)
    _print_batch(result)
    say(str(result.index))
    sys.exit(result.exit_code)
