"""What a report shows of each scope besides the scores, computed once from the responses.

The findings, the narrative and the charts read these digests, never the respondent-level rows, so
that the data flows one way (responses -> scores -> digests -> report) and a report can be rendered
from aggregates alone (a batch's workers get no respondent-level data):

- ``quality``: each scope's data-quality counts (rows in, scored, set aside by reason, flagged);
- ``answers``: how many disagreed, were neutral or agreed with each statement, per scope (the
  statements whose answers may not be shown are left out: ``Scores.item_hidden``);
- ``comments``: the comments a scope may show (screened at load; only from groups of at least
  ``min_comment_group``; see :func:`comments`);
- ``reliability``: each unit's own consistency per dimension (Cronbach's alpha and its Feldt
  interval; "not enough data" under ``min_reliability_n``).

Scopes are the organisation (:data:`~pmo_maturity.scoring.ORGANISATION`) and the reportable units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from . import stats
from .responses import primary_reasons
from .scoring import ORGANISATION, Scores

if TYPE_CHECKING:
    from .responses import Responses

COMMENT_LIMIT = 8  # comments shown per scope


@dataclass
class Digest:
    """The per-scope digests of one scored file (see the module docstring)."""

    quality: dict[str, dict]
    answers: pd.DataFrame
    comments: dict[str, dict]
    reliability: pd.DataFrame
    has_units: bool = False
    has_roles: bool = False
    scopes: list[str] = field(default_factory=list)

    def answers_of(self, scope: str) -> pd.DataFrame:
        """``item, n, negative, neutral, positive`` for one scope (statements that may be shown)."""
        return self.answers[self.answers["scope"] == scope].drop(columns="scope").reset_index(drop=True)


def digest_of(scores: Scores) -> Digest:
    """The scores' digest, computed from their responses the first time it is asked for."""
    if scores.digest is None:
        if scores.responses is None:
            raise ValueError("these scores carry neither their responses nor their digest")
        scores.digest = build(scores, scores.responses)
    return cast(Digest, scores.digest)


def build(scores: Scores, responses: Responses) -> Digest:
    """The digest of ``scores``, from the responses they were computed from."""
    scopes = [ORGANISATION, *scores.reportable_units]
    return Digest(quality=_quality(scores, responses, scopes), answers=_answers(scores, responses, scopes),
                  comments={s: comments(scores, None if s == ORGANISATION else s, responses=responses)
                            for s in scopes},
                  reliability=_reliability(scores, responses), has_units=responses.has_units,
                  has_roles=responses.has_roles, scopes=scopes)


def _quality(scores: Scores, responses: Responses, scopes: list[str]) -> dict[str, dict]:
    base = {k: scores.data_quality[k] for k in ("rows_in", "rows_scored", "rows_quarantined",
                                                "quarantined_by_reason", "flagged")}
    out = {ORGANISATION: base}
    if not responses.has_units:
        return out
    data = responses.data
    primary = primary_reasons(responses.quarantine)
    flags = responses.flags.merge(data[["row", "unit"]], on="row", how="inner") if len(responses.flags) else \
        pd.DataFrame(columns=["unit", "flag"])
    accepted = (data.groupby("unit")["input_rows"].agg(lambda rows: sum(map(len, rows)))
                if "input_rows" in data.columns else data["unit"].value_counts())
    for unit in scopes[1:]:
        mine = primary[primary["unit"] == unit] if len(primary) else primary
        by_reason = mine["reason"].value_counts().to_dict() if len(mine) else {}
        flagged = flags.loc[flags["unit"] == unit, "flag"].value_counts().to_dict() if len(flags) else {}
        scored = int(accepted.get(unit, 0))
        out[unit] = {"rows_in": scored + int(len(mine)), "rows_scored": scored, "rows_quarantined": int(len(mine)),
                     "quarantined_by_reason": {k: int(v) for k, v in sorted(by_reason.items(), key=lambda kv: -kv[1])},
                     "flagged": {k: int(v) for k, v in flagged.items()}}
    return out


def _answers(scores: Scores, responses: Responses, scopes: list[str]) -> pd.DataFrame:
    """Disagree / neutral / agree counts per statement and scope (raw answers: a reverse-worded
    statement's agreement is its unfavourable answer)."""
    q = scores.questionnaire
    data = responses.data
    values = data[q.item_ids].to_numpy(dtype=float)
    middle = (q.scale.min + q.scale.max) / 2
    frames = []
    for scope in scopes:
        rows = np.ones(len(data), dtype=bool) if scope == ORGANISATION else (data["unit"] == scope).to_numpy()
        block = values[rows]
        answered = ~np.isnan(block)
        table = pd.DataFrame({"scope": scope, "item": q.item_ids, "n": answered.sum(axis=0),
                              "negative": (block < middle).sum(axis=0), "positive": (block > middle).sum(axis=0)})
        table["neutral"] = table["n"] - table["negative"] - table["positive"]
        hidden = scores.item_hidden.loc[scope] if scope in scores.item_hidden.index else None
        if hidden is not None:
            table = table[~hidden.reindex(q.item_ids, fill_value=False).to_numpy(dtype=bool)]
        frames.append(table[table["n"] > 0])
    return pd.concat(frames, ignore_index=True)[["scope", "item", "n", "negative", "neutral", "positive"]]


def comments(scores: Scores, unit: str | None, limit: int = COMMENT_LIMIT, *,
             responses: Responses | None = None) -> dict:
    """Free-text comments of the scope, only when it has ``min_comment_group`` respondents or more.

    Comments are shown without respondent ids, units or roles, and only from units large enough to
    show comments of their own (so no subtraction reveals a small unit's); identical comments are
    counted once with how many gave them; the selection is deterministic (most frequent, then first
    in the file). Returns ``comments`` (text, count), ``total`` and, when none are shown, ``reason``.
    ``responses`` are the scores' own unless given.
    """
    responses = responses if responses is not None else scores.responses
    if responses is None:
        raise ValueError("these scores carry no responses: read the comments from their digest")
    data = responses.data
    minimum = scores.rules.min_comment_group
    if responses.has_units:
        # Only comments of units that may show comments themselves: otherwise the organisation's list
        # minus the units' lists would reveal the comments of a small unit.
        sizes = data["unit"].value_counts()
        allowed = set(sizes[sizes >= minimum].index) - set(scores.suppressed_units)
        data = data[data["unit"].isin(allowed)]
    if unit is not None:
        data = data[data["unit"] == unit]
    base = {"comments": [], "total": 0, "screened": responses.summary.get("comments_screened") is not None}
    if len(data) < minimum:
        return {**base, "reason": f"Comments are shown only for groups of at least {minimum} respondents."}
    texts = data["comment"].dropna().astype(str).str.strip()
    texts = texts[texts != ""]
    if texts.empty:
        return {**base, "reason": "No respondent left a comment."}
    counts = texts.value_counts(sort=False)
    first = {t: i for i, t in reversed(list(enumerate(texts)))}
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], first[kv[0]]))[:limit]
    return {**base, "comments": [{"text": t, "count": int(c)} for t, c in ordered], "total": int(len(texts)),
            "reason": ""}


def _reliability(scores: Scores, responses: Responses) -> pd.DataFrame:
    """Each reportable unit's own consistency per dimension (the columns of ``Scores.reliability``)."""
    cols = ["unit", "dimension", "name", "n", "k", "alpha", "ci_low", "ci_high", "status"]
    if not responses.has_units or not scores.reportable_units:
        return pd.DataFrame(columns=cols)
    rules, q = scores.rules, scores.questionnaire
    units = responses.data["unit"].to_numpy()
    items = responses.items()
    rows = []
    for unit in scores.reportable_units:
        mine = items[units == unit]
        for d in q.dimensions:
            block = mine[d.item_ids]
            n = int((block.notna().sum(axis=1) >= 2).sum())
            row = {"unit": unit, "dimension": d.id, "name": d.name, "n": n, "k": len(d.items), "alpha": np.nan,
                   "ci_low": np.nan, "ci_high": np.nan,
                   "status": "single item" if len(d.items) < 2 else "not enough data"}
            if len(d.items) >= 2 and n >= rules.min_reliability_n:
                alpha = stats.cronbach_alpha(block)
                low, high = stats.feldt_interval(alpha, n, len(d.items), rules.confidence)
                row.update(alpha=alpha, ci_low=low, ci_high=high,
                           status="low" if alpha < rules.reliability_threshold else "ok")
            rows.append(row)
    return pd.DataFrame(rows, columns=cols)
