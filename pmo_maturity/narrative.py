"""The narrative: plain words, specific numbers, deterministic output.

:func:`write_narrative` renders Jinja2 templates (``pmo_maturity/templates``, autoescaped, so unit
names, role names and comments can never inject markup) into an executive brief of at most 200 words
(one level and the 0-100 index, the weakest area, the first three actions, how sure), the key
findings, a section per dimension that quotes the level descriptors (both, when the interval spans
two levels), the action plan by window, and the method and data-quality notes in plain words.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import jinja2
import pandas as pd
from markupsafe import Markup

from ._resources import template_dir
from .archetypes import Archetypes
from .digest import digest_of
from .findings import Findings, find_findings, reliability_for
from .headcount import read_headcount, response_rate
from .recommendations import PLAN_RULES, WINDOWS, Plan, recommend
from .responses import FLAGS, REASONS
from .scoring import ORGANISATION, Scores

SUMMARY_WORD_LIMIT = 200


@dataclass(frozen=True)
class Narrative:
    """Rendered narrative sections (HTML fragments, already escaped) and a plain-text summary."""

    scope: str
    summary_html: Markup
    summary_text: str
    dimensions_html: Markup
    plan_html: Markup
    method_html: Markup
    comments_html: Markup = Markup("")
    trend_html: Markup | None = None
    brief_html: Markup = Markup("")
    brief_text: str = ""
    response: str = ""  # the response rate in plain words

    @property
    def summary_words(self) -> int:
        """Words of the executive brief (at most :data:`SUMMARY_WORD_LIMIT`)."""
        return len(self.brief_text.split())

    def html(self) -> Markup:
        parts = [("In brief", self.brief_html), ("Key findings", self.summary_html),
                 ("Dimensions", self.dimensions_html), ("Action plan", self.plan_html),
                 ("In their own words", self.comments_html)]
        if self.trend_html is not None:
            parts.append(("Since the last assessment", self.trend_html))
        parts.append(("Method and data quality", self.method_html))
        return Markup("\n").join(Markup("<h2>{}</h2>\n{}").format(title, body) for title, body in parts)

    def _repr_html_(self) -> str:  # JupyterLab shows the narrative as HTML
        return str(self.html())


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between processes (every report runs in a fresh kernel). Jinja's
    default folder is private to the user (created 0700 and checked); without it, no cache."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        bytecode_cache=_bytecode_cache(),
        loader=jinja2.FileSystemLoader(str(template_dir())),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "html"), default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
    )
    env.filters["num"] = _num
    env.filters["signed"] = lambda x: "" if _missing(x) else f"{x:+.2f}"
    env.filters["points"] = lambda x: "" if _missing(x) else ("less than 0.01 points" if x < 0.005
                                                              else f"{x:.2f} points")
    return env


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _num(x, digits: int = 2) -> str:
    return "" if _missing(x) else f"{float(x):.{digits}f}"


def render(template: str, **context) -> str:
    """Render one template of the kit (used by the report and the index page too)."""
    return _environment().get_template(template).render(**context)


def write_narrative(scores: Scores, *, unit: str | None = None, findings: Findings | None = None,
                    plan: Plan | None = None, archetypes: Archetypes | None = None,
                    headcount: int | dict | None = None, trend: pd.DataFrame | None = None,
                    name: str = "") -> Narrative:
    """Render the narrative for the organisation or one (reportable) business unit.

    Parameters
    ----------
    scores : Scores
    unit : str, optional
    findings, plan, archetypes : optional
        Computed here when not given (archetypes are then left out).
    headcount : int, dict or path, optional
        People invited (for the organisation, or per unit; see :mod:`pmo_maturity.headcount`), to
        state the response rate.
    trend : DataFrame, optional
        From :func:`~pmo_maturity.trend.compare_cycles`.
    name : str
        The organisation's name (for the brief of an organisation report).

    Examples
    --------
    >>> import pmo_maturity as pm
    >>> scores = pm.score(pm.load_responses(pm.sample_path()))
    >>> pm.write_narrative(scores).summary_words <= 200
    True
    """
    scores.check_reportable(unit, "a narrative")
    q = scores.questionnaire
    findings = findings if findings is not None else find_findings(scores, unit=unit, archetypes=archetypes)
    plan = plan if plan is not None else recommend(scores, unit=unit, findings=findings)
    scope = unit or ORGANISATION
    table = scores.dimensions_for(unit).set_index("dimension")
    overall = scores.overall_for(unit)
    scale = f"{q.scale.min}-{q.scale.max}"
    headcount = read_headcount(headcount)
    brief_html = Markup(render("brief.html.j2", **_brief_context(scores, unit, plan, headcount, name)))
    summary_context = _summary_context(scores, findings, plan, archetypes, table, overall, unit)
    summary_html = Markup(render("summary.html.j2", scale=scale, **summary_context))
    dimensions_html = Markup(render("dimensions.html.j2", scale=scale,
                                    dimensions=_dimension_context(scores, findings, plan, table)))
    plan_html = Markup(render("plan.html.j2", **plan_context(plan)))
    method_html = Markup(render("method.html.j2", **_method_context(scores, unit, archetypes, headcount)))
    trend_html = None
    if trend is not None and len(trend):
        trend_html = Markup(render("trend.html.j2", rows=trend.to_dict("records"), note=trend.attrs.get("note", "")))
    comments_html = Markup(render("comments.html.j2", **comment_context(scores, unit)))
    summary_text = html_to_text(brief_html) + "\n" + html_to_text(summary_html)
    response = response_rate(headcount, int(overall["n"]), unit, scores.unit_names).describe()
    return Narrative(scope, summary_html, summary_text, dimensions_html, plan_html, method_html, comments_html,
                     trend_html, brief_html, html_to_text(brief_html), response)


def plan_context(plan: Plan, per_window: int = 3, max_actions: int = 8) -> dict:
    """What the plan section shows: the windows with effort (and cost), the candidates left out,
    and, for an organisation plan, each owner's load per window."""
    def money(low: float, high: float | None = None) -> str:
        amount = f"{low:,.0f}" if high is None else f"{low:,.0f}-{high:,.0f}"
        return f"{plan.currency} {amount}" if plan.currency else amount

    def effort(a: dict) -> str:
        text = f"{a['days_low']}-{a['days_high']} person-days"
        return text + (f", {money(a['cost_low'], a['cost_high'])}" if plan.day_rate else "")

    windows = []
    for w in plan.totals().to_dict("records"):
        actions = [{**a, "effort_words": effort(a)} for a in plan.window(w["window"]).to_dict("records")]
        if actions:
            windows.append({"days": w["window"], "actions": actions, "days_low": w["days_low"],
                            "days_high": w["days_high"],
                            "cost": money(w["cost_low"], w["cost_high"]) if plan.day_rate else ""})
    considered = [{**a, "units": a["units"] if isinstance(a["units"], str) else "", "effort_words": effort(a)}
                  for a in plan.considered.head(8).to_dict("records")]
    load = plan.owner_load.to_dict("records") if plan.scope == ORGANISATION and len(plan.owner_load) else []
    heavy = [r["owner"] for r in load if any(r[f"by day {d}"] > per_window for d in WINDOWS)]
    if plan.day_rate:
        cost_note = (f"Effort is the time of the people doing the work and attending it, in person-days; costs "
                     f"are indicative: person-days x a day rate of {money(plan.day_rate)}. Licences, tools and "
                     f"training fees are not included.")
    else:
        cost_note = ("Effort is the time of the people doing the work and attending it, in person-days; give a day "
                     "rate (--day-rate) for an indicative cost.")
    everything = ""
    if plan.all_plans is not None:
        low, high, count = plan.all_plans
        everything = (f"All {count} plans together (the organisation's and each unit's, each counted in full): "
                      f"{low}-{high} person-days" + (f", {money(low * plan.day_rate, high * plan.day_rate)}"
                                                     if plan.day_rate else "") + ".")
    return {"windows": windows, "considered": considered, "per_window": per_window, "max_actions": max_actions,
            "owner_load": load if len(load) > 0 else [], "windows_all": WINDOWS, "everything": everything,
            "overloaded": ", ".join(heavy), "overloaded_count": len(heavy), "cost_note": cost_note}


def _brief_context(scores: Scores, unit: str | None, plan: Plan, headcount, name: str) -> dict:
    """The executive brief: one level and the 0-100 index, the weakest area, the first three
    actions with owner and due day, and how sure the numbers are."""
    q = scores.questionnaire
    overall = scores.overall_for(unit)
    table = scores.dimensions_for(unit)
    who = unit or name or "The organisation"
    level, low, high = (overall["continuous_level"], overall["continuous_level_ci_low"],
                        overall["continuous_level_ci_high"])
    other = between = None
    if not _missing(low) and not _missing(high) and int(low) != int(high):
        if int(low) == int(level) or int(high) == int(level):
            other = q.level_name(int(high) if int(low) == int(level) else int(low))
        else:
            between = (q.level_name(low), q.level_name(high))
    scored = table.dropna(subset=["mean"])
    lowest = round(float(scored["mean"].min()), 2) if len(scored) else None
    weakest = [{"name": r["name"], "index": f"{r['index']:.0f}",
                "reading": q.level_reading(r["level"], r["level_ci_low"], r["level_ci_high"])}
               for _, r in scored.iterrows() if round(float(r["mean"]), 2) == lowest]
    rate = response_rate(headcount, int(overall["n"]), unit, scores.unit_names)
    quality = _quality_for(scores, unit)
    share = quality["rows_quarantined"] / quality["rows_in"] if quality["rows_in"] else 0.0
    percent = f"{share:.1%}" if share < 0.1 else f"{share:.0%}"
    quality_line = (f"{quality['rows_in']} replies received, {quality['rows_scored']} usable."
                    if quality["rows_quarantined"] else f"All {quality['rows_in']} replies were usable.")
    cautions = []
    if rate.low:
        cautions.append(f"Caution: only {rate.rate:.0%} of the people invited answered.")
    if int(overall["n"]) < 30:
        cautions.append(f"Caution: {int(overall['n'])} respondents; differences of a few points are within the "
                        f"uncertainty.")
    if share > 0.10:
        cautions.append(f"Caution: {percent} of the replies could not be used; see Method and data quality.")
    unreliable = reliability_for(scores, unit)
    unreliable = unreliable[unreliable["status"] == "low"]
    if len(unreliable):
        cautions.append(f"Read {', '.join(unreliable['name'])} with care: its statements do not hang together well.")
    actions = plan.top(3)
    first_reason = ""
    if len(actions) and len(weakest) and actions.iloc[0]["dimension"] not in {d for d in
                                                                               table.loc[table["name"].isin(
                                                                                   [w["name"] for w in weakest]),
                                                                                   "dimension"]}:
        first = actions.iloc[0]
        if first["source"] not in ("level", "consolidate", "next level"):
            on = f" on {first['dimension_name']}" if first["dimension_name"] else ""
            first_reason = f"The first action answers a clearer finding first: a {first['source']}{on}."
    floors = [(lv.name, q.index(q.level_floor(lv.level))) for lv in q.levels]
    current = int(level) if not _missing(level) else None
    bands = ", ".join(f"{name} from {value:.0f}" for k, (name, value) in enumerate(floors, start=1)
                      if current is not None and k in (current, current + 1))
    return {
        "name": who, "name_lower": who if unit or name else "the organisation", "level": q.level_name(level),
        "other_level": other, "between": between, "index": f"{overall['index']:.0f}",
        "index_low": f"{q.index(overall['ci_low']):.0f}", "index_high": f"{q.index(overall['ci_high']):.0f}",
        "weakest": weakest, "first_reason": first_reason, "bands": bands,
        "actions": actions.to_dict("records"), "response": rate.describe()[:1].upper() + rate.describe()[1:],
        "quality": quality_line, "cautions": cautions,
    }


def _quality_for(scores: Scores, unit: str | None) -> dict:
    """The data-quality counts of the organisation's file, or of one unit's rows in it."""
    quality = scores.data_quality
    if unit is not None:
        quality = {**quality, **digest_of(scores).quality[unit]}
    return quality


def comment_context(scores: Scores, unit: str | None) -> dict:
    """The comments a scope may show (see :func:`pmo_maturity.digest.comments`), for the template."""
    found = digest_of(scores).comments[unit or ORGANISATION]
    return {"scope_name": "the organisation" if unit is None else unit, "comments": found["comments"],
            "shown": len(found["comments"]), "total": found["total"], "reason": found["reason"]}


_BREAKS = re.compile(r"<(?:/p|/li|br\s*/?|/h\d|/tr)>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment rendered by the kit (for the terminal and word counts)."""
    import html

    flat = " ".join(str(fragment).split())
    text = html.unescape(_TAGS.sub("", _BREAKS.sub("\n", flat)))
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _summary_context(scores, findings, plan, archetypes, table, overall, unit) -> dict:
    q = scores.questionnaire
    scored = table.dropna(subset=["mean"])

    def described(dim: str) -> dict:
        row = scored.loc[dim]
        return {"name": q.dimension(dim).name, **row.to_dict(),
                "reading": q.level_reading(row["level"], row["level_ci_low"], row["level_ci_high"])}

    gap = findings.first("perception_gap")
    gap_dimension = q.dimension(gap.dimensions[0]).short if gap else ""
    archetypes_line = ""
    if archetypes is not None and unit is None:
        if archetypes.found and len(archetypes.reportable):
            shown = archetypes.reportable
            names = "; ".join(f"'{r.archetype}' ({r.share:.0%})" for r in shown.itertuples())
            archetypes_line = f"{len(shown)} groups of respondents with a shared pattern of answers: {names}."
            if archetypes.mirrors_units:
                archetypes_line += f" Note: {archetypes.reason}."
        elif archetypes.found:
            archetypes_line = "No group of respondents with a shared pattern of answers is large enough to be shown."
        else:
            archetypes_line = f"No distinct groups of respondents: {archetypes.reason}."
    elif archetypes is not None and archetypes.found:
        members = findings.of("archetype")
        if members and members[0].evidence["share"] == members[0].evidence["share"]:  # not NaN
            top = members[0]
            share = top.evidence["share"]
            others = [m.evidence["share"] for m in members[1:]]
            largest = " (the largest group)" if others and share > max(others) else ""
            archetypes_line = (f"{share:.0%} of the unit's respondents share the pattern "
                               f"'{top.groups[0]}'{largest}.")
    return {
        "scope_name": "The organisation" if unit is None else unit,
        "scope_lower": "the organisation" if unit is None else unit,
        "overall": overall.to_dict(), "strongest": described(scored["mean"].idxmax()),
        "weakest": described(scored["mean"].idxmin()), "gap": gap,
        "gap_dimension": gap_dimension, "gap_threshold": scores.rules.gap_points(q),
        "has_roles": scores.has_roles,
        "archetypes_line": archetypes_line,
    }


def _dimension_context(scores: Scores, findings: Findings, plan: Plan, table: pd.DataFrame) -> list[dict]:
    q = scores.questionnaire
    targets = plan.targets.set_index("dimension")
    out = []
    for d in q.dimensions:
        row = table.loc[d.id]
        level = None if _missing(row["level"]) else int(row["level"])
        t = targets.loc[d.id]
        low, high = row["level_ci_low"], row["level_ci_high"]
        between = []
        if level is not None and not _missing(low) and not _missing(high) and int(low) != int(high):
            # The interval spans levels: no descriptor is stated as fact, each possible one is quoted.
            between = [{"name": q.level_name(lv), "text": q.descriptor(d.id, lv)}
                       for lv in range(int(low), int(high) + 1)]
        top = max(int(high) if between else (level or 0), level or 0)
        nxt = top + 1 if level is not None and top < len(q.levels) else None
        notes = [f.title for f in findings if d.id in f.dimensions and f.kind in
                 ("perception_gap", "low_agreement", "low_reliability")]
        actions = [a["title"] for a in plan.actions.to_dict("records") if a["dimension"] == d.id]
        out.append({
            "id": d.id, "name": d.name, "mean": row["mean"], "ci_low": row["ci_low"], "ci_high": row["ci_high"],
            "n": int(row["n"]) if not _missing(row["n"]) and row["n"] is not pd.NA else 0, "index": row["index"],
            "level_name": row["level_name"], "reading": q.level_reading(row["level"], low, high) if level else "",
            "between": between, "today": q.descriptor(d.id, level) if level else "",
            "next_name": q.level_name(nxt) if nxt else "", "next": q.descriptor(d.id, nxt) if nxt else "",
            "target_level": int(t["target_level"]), "target_name": q.level_name(t["target_level"]),
            "target_score": t["target_score"], "gap": t["gap"], "status": t["status"],
            "scored": bool(t["scored"]), "findings": notes, "actions": actions,
        })
    out.sort(key=lambda x: (_missing(x["mean"]), x["mean"]))  # weakest first: where the work is
    return out


def _method_context(scores: Scores, unit: str | None, archetypes: Archetypes | None, headcount) -> dict:
    q = scores.questionnaire
    quality = _quality_for(scores, unit)
    rate = response_rate(headcount, int(scores.overall_for(unit)["n"]), unit, scores.unit_names)
    reliability, reliability_scope = _reliability_rows(scores, unit)
    return {
        "quality": quality, "source_name": re.split(r"[\\/]", str(quality["source"]["file"]))[-1],
        "unit": unit, "file_rows": scores.data_quality["rows_in"],
        "response_rate": rate.describe(),
        "quarantine": [(REASONS.get(k, k), v) for k, v in quality["quarantined_by_reason"].items()],
        "flagged": [(FLAGS.get(k, k), v) for k, v in quality["flagged"].items()],
        "suppressed_count": len(scores.suppressed_units) if unit is None else 0,
        "identifiers_dropped": scores.data_quality.get("identifiers_dropped", []),
        "comments_screened": scores.data_quality.get("comments_screened", 0),
        "reliability": reliability, "reliability_scope": reliability_scope,
        "agreement_line": _agreement_line(scores, unit), "icc_line": _icc_line(scores) if unit is None else "",
        "archetype_method": _archetype_method(archetypes) if archetypes is not None else "",
        "rules": scores.rules.describe(q), "plan_rules": [PRIORITY_WORDS, *PLAN_RULES],
        "provenance": scores.provenance,
    }


PRIORITY_WORDS = ("Actions are ranked by how far a dimension is from its target (in points), times the dimension's "
                  "weight, times the action's expected impact (1-5), divided by its effort (small 1, medium 2, "
                  "large 3).")


def _reliability_rows(scores: Scores, unit: str | None) -> tuple[list[dict], str]:
    """Whether each dimension's statements hang together (Cronbach's alpha with its Feldt interval):
    the unit's own when it has enough respondents, otherwise the organisation's, said so."""
    table = scores.reliability
    scope = "the organisation"
    if unit is not None:
        own = reliability_for(scores, unit)
        if (own["status"] != "not enough data").any():
            table, scope = own, unit
        else:
            scope = (f"the organisation (all {int(scores.overall_for()['n'])} respondents: {unit} has fewer than "
                     f"{scores.rules.min_reliability_n})")
    rows = [{"name": r.name, "alpha": None if _missing(r.alpha) else r.alpha, "ci_low": r.ci_low,
             "ci_high": r.ci_high, "n": r.n, "status": _reliability_word(r.status)} for r in table.itertuples()]
    return rows, scope


def _archetype_method(archetypes: Archetypes) -> str:
    return ("Groups of respondents are found in each person's pattern of answers: their score on each dimension "
            "compared with their own average, so that groups differ in what they rate high or low, not in how "
            "positive they are overall (Gaussian mixtures with the number of groups chosen by BIC, one group "
            "allowed; groups must be separate peaks and stable when the respondents are resampled, bootstrap "
            f"Jaccard). {archetypes.n_clustered} respondents with every dimension scored took part"
            + (f"; {archetypes.n_excluded} with a dimension missing did not" if archetypes.n_excluded else "") + ".")


def _reliability_word(status: str) -> str:
    return {"ok": "the statements hang together", "low": "low: read the score with care", "not enough data":
            "too few respondents", "single item": "one statement"}.get(status, status)


def _agreement_line(scores: Scores, unit: str | None) -> str:
    a = scores.agreement
    threshold = scores.rules.agreement_threshold
    if a.empty:
        return "Agreement within units needs a business unit column."
    if unit is not None:
        rows = a[a["unit"] == unit]
        low = rows[rows["status"] == "low"]
        median = rows["rwg_j"].median()
        return (f"Do people in {unit} agree? Agreement runs from 0 (answers as scattered as chance) to 1 (everyone "
                f"gives the same answer); its median across dimensions is {median:.2f}, and {len(low)} of {len(rows)} "
                f"dimensions are under {threshold:.2f}, below which an average hides divergent views (a rule of "
                f"thumb; within-group agreement rwg(j), James, Demaree & Wolf 1984; LeBreton & Senter 2008).")
    shown = a[a["rwg_j"].notna()]
    if shown.empty:
        return "Agreement within units is not shown: no unit has enough respondents to be reported."
    low = shown[shown["status"] == "low"]
    return (f"Do people within each unit agree? In {len(low)} of {len(shown)} unit-dimension pairs agreement is under "
            f"{threshold:.2f} (median {shown['rwg_j'].median():.2f} on a 0-1 scale), below which an average hides "
            f"divergent views (a rule of thumb; within-group agreement rwg(j), LeBreton & Senter 2008).")


def _icc_line(scores: Scores) -> str:
    icc = scores.icc.dropna(subset=["icc1"]) if len(scores.icc) else scores.icc
    if icc.empty:
        return ""
    return (f"How much do units differ? Between {icc['icc1'].min():.0%} and {icc['icc1'].max():.0%} of the differences "
            f"between respondents lie between units rather than within them (ICC(1)), and the unit averages are "
            f"{icc['icc2'].min():.2f} to {icc['icc2'].max():.2f} reliable on a 0-1 scale (ICC(2); Bliese 2000), "
            f"across the dimensions, for the units shown.")
