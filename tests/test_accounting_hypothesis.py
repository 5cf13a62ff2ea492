"""Property: rows_in == rows_scored + rows_quarantined for any input, loaded and scored."""

from __future__ import annotations

import csv

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmo_maturity import ScoringRules, load_questionnaire, load_responses, score

Q = load_questionnaire()
ITEMS = Q.item_ids[:6] + Q.item_ids[10:12]

cells = st.one_of(
    st.none(),
    st.integers(-2, 8),
    st.sampled_from([1.0, 2.5, 5.0, float("nan")]),
    st.sampled_from(["", " ", "Agree", "strongly agree", "Don't know", "N/A", "maybe", "=1+1", "4", "3,0"]),
    st.text(max_size=6),
)
rows = st.fixed_dictionaries({
    "id": st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d"]), st.text(min_size=1, max_size=3)),
    "Business unit": st.one_of(st.none(), st.sampled_from(["Finance", "IT", " ", "R&D"])),
    "Role": st.one_of(st.none(), st.sampled_from(["Team member", "Executive sponsor"])),
    **{item: cells for item in ITEMS},
})


def _check(frame: pd.DataFrame, path) -> None:
    # Quote every field: a bare carriage return inside an unquoted field is a line break to every
    # CSV reader, so the file would really have more rows than the frame.
    frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    r = load_responses(path, Q)
    s = r.summary
    assert s["rows_in"] == len(frame) == s["rows_accepted"] + s["rows_quarantined"]
    assert set(r.quarantine["row"]).isdisjoint(set(r.data["row"]))
    assert set(r.quarantine["row"]) | set(r.data["row"]) == set(range(2, len(frame) + 2))
    if s["rows_accepted"]:
        scores = score(r, rules=ScoringRules(n_resamples=200))
        dq = scores.data_quality
        assert dq["rows_in"] == dq["rows_scored"] + dq["rows_quarantined"]
        assert dq["rows_scored"] == len(scores.respondents)


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(rows, min_size=1, max_size=25))
def test_row_accounting_holds_for_random_files(tmp_path, data):
    _check(pd.DataFrame(data), tmp_path / "random.csv")
