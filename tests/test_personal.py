"""Personal data: identifiers dropped at load, comments screened, nothing personal in any output."""

from __future__ import annotations

import os
import re
import stat

import pandas as pd
import pytest

from pmo_maturity import load_responses, score
from pmo_maturity.personal import REMOVED, Screen, identifier_columns
from pmo_maturity.sample import generate_sample

from .conftest import PERSONAL_COMMENT

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+\.[A-Za-z]{2,}")


@pytest.fixture(scope="module")
def named_export(questionnaire):
    """A Qualtrics-like export: identifying columns of several survey tools, and comments that name
    people and give contact details."""
    data = generate_sample(questionnaire, units=[("Finance", 30), ("Sales", 25)], small_units=0, bad_row_share=0,
                           comment_share=0.6, seed=8)
    frame = data.frame.rename(columns={"email": "RecipientEmail", "name": "Name"})
    frame["IPAddress"] = [f"10.0.{i // 250}.{i % 250}" for i in range(len(frame))]
    frame["RecipientFirstName"] = frame["Name"].str.split().str[0]
    frame["Department code"] = "D-" + frame["business_unit"].str[:3]  # an ordinary extra column: kept
    frame.loc[frame.index[:4], "comment"] = [
        PERSONAL_COMMENT.format(name=frame.loc[frame.index[9], "Name"],
                                email=frame.loc[frame.index[9], "RecipientEmail"]),
        f"{frame.loc[frame.index[11], 'RecipientFirstName']} blocks every change request.",
        "Write to pmo-help@example.co.uk or phone 020 7946 0321.",
        "Nothing personal here: 3 of 12 projects closed in 2025-2026.",
    ]
    return frame


def test_identifiers_are_dropped_at_load(named_export, questionnaire):
    responses = load_responses(named_export, questionnaire)
    dropped = set(responses.summary["identifiers_dropped"])
    assert dropped == {"RecipientEmail", "Name", "IPAddress", "RecipientFirstName"}
    assert dropped.isdisjoint(responses.data.columns) and responses.identifiers is None
    assert "Department code" in responses.data.columns  # other columns stay metadata
    text = responses.data.astype(str).to_string()
    assert not EMAIL.search(text)
    assert not any(name in text for name in named_export["Name"])


def test_identifiers_can_be_kept_apart_for_linking(named_export, questionnaire):
    responses = load_responses(named_export, questionnaire, keep_identifiers=True)
    assert set(responses.identifiers.columns) == {"row", "respondent_id", "RecipientEmail", "Name", "IPAddress",
                                                  "RecipientFirstName"}
    assert len(responses.identifiers) == len(responses.data)
    assert "RecipientEmail" not in responses.data.columns
    scores = score(responses, n_resamples=200)
    assert "RecipientEmail" not in scores.respondents.columns


def test_comments_are_screened(named_export, questionnaire):
    responses = load_responses(named_export, questionnaire)
    comments = responses.data.set_index("row")["comment"]
    first, second, third, fourth = (comments.loc[r] for r in (2, 3, 4, 5))
    assert first == f"Ask {REMOVED} or write to {REMOVED}, call {REMOVED}, see {REMOVED} {REMOVED}"
    assert second == f"{REMOVED} blocks every change request."
    assert third == f"Write to {REMOVED} or phone {REMOVED}."
    assert fourth == "Nothing personal here: 3 of 12 projects closed in 2025-2026."
    # These three, and the few the generator plants (a colleague's name, contact details).
    changed = comments.str.contains(REMOVED, regex=False).sum()
    assert responses.summary["comments_screened"] == changed >= 3
    assert not comments.dropna().str.contains(EMAIL.pattern).any()
    raw = load_responses(named_export, questionnaire, screen_comments=False)
    assert raw.summary["comments_screened"] is None and "@" in raw.data.set_index("row").loc[2, "comment"]


def test_an_email_used_as_the_respondent_id_is_replaced_by_a_pseudonym(named_export, questionnaire):
    frame = named_export.assign(respondent_id=named_export["RecipientEmail"] + "")
    responses = load_responses(frame, questionnaire)
    assert responses.data["respondent_id"].str.fullmatch(r"P-[0-9a-f]{10}").all()
    assert responses.data["respondent_id"].is_unique


@pytest.mark.parametrize("text, expected", [
    ("Ring +49 30 901820 now", f"Ring {REMOVED} now"),
    ("See http://a.example/b?c=d.", f"See {REMOVED}"),
    ("Thanks @anna_k!", f"Thanks {REMOVED}!"),
    ("Budget 1,200,000 over 36 months", "Budget 1,200,000 over 36 months"),
    ("Dates 12/10/2026 and 2026-10-12", "Dates 12/10/2026 and 2026-10-12"),
])
def test_screen_patterns(text, expected):
    assert Screen(set())(text) == expected


def test_identifier_headers_of_survey_tools():
    headers = ["ResponseId", "IPAddress", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
               "ExternalReference", "LocationLatitude", "LocationLongitude", "Email Address", "First Name",
               "Last Name", "Custom Data 1", "IP Address", "ipaddr", "token", "Business unit", "Role", "Comments"]
    assert identifier_columns(headers) == headers[1:15]


def test_outputs_follow_the_umask_unless_respondent_level(sample_scores, tmp_path):
    old = os.umask(0o027)
    try:
        paths = [sample_scores.write(tmp_path / f"scores.{ext}") for ext in ("csv", "xlsx", "json")]
        private = [sample_scores.write(tmp_path / f"all.{ext}", include_respondents=True) for ext in ("xlsx", "json")]
        sample_scores.write(tmp_path / "all.csv", include_respondents=True)
        private.append(tmp_path / "all_respondents.csv")
    finally:
        os.umask(old)
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert len(pd.read_csv(private[-1])) == len(sample_scores.respondents)


@pytest.mark.slow  # runs a batch
def test_a_batch_folder_holds_nothing_personal(small_batch, small_export):
    """What a reader is handed: no e-mail address, no name from the export, no respondent-level file."""
    export = pd.read_csv(small_export)
    names = set(export["Name"])
    parts = {p for n in names for p in n.split()}
    files = [p for p in small_batch.out.rglob("*") if p.is_file()]
    assert files and not any(p.suffix in (".pkl", ".parquet", ".feather") for p in files)
    assert not any(p.name.startswith(".") for p in small_batch.out.rglob("*"))
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert not EMAIL.search(text), path
        found = sorted(n for n in parts if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text))
        assert not found, (path, found)
    work = small_batch.out.parent / f".{small_batch.out.name}.work"
    assert not work.exists()  # the hand-off to the workers is removed after the run
