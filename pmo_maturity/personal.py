"""Personal data: direct identifiers dropped at load, personal details screened out of comments.

Survey tools export more than the answers: MS Forms adds ``Email`` and ``Name``, Google Forms
``Email Address``, Qualtrics ``RecipientEmail``, ``RecipientFirstName``, ``IPAddress`` and a
location, SurveyMonkey ``IP Address``, ``Email Address``, ``First Name``, ``Last Name`` and
``Custom Data``, LimeSurvey ``ipaddr``, ``email`` and ``token``. None of them is needed to score a
survey, and each identifies a person, so :func:`minimise` drops them as soon as a file is loaded
(data minimisation, GDPR Art. 5(1)(c)). A caller who needs them to link responses to another
source asks for them with ``keep_identifiers=True``: they are then kept apart, in
``Responses.identifiers``, and never reach scores, reports or any file the kit writes.

Free-text comments are screened before anything can show or export them: e-mail addresses, phone
numbers, web links, @handles and the names found in the export's own name columns are replaced by
``[removed]``. Screening can be turned off (``screen_comments=False``) for a consultant's private
reading only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import replace

import pandas as pd

from .questionnaire import normalise_text

REMOVED = "[removed]"

# Headers (lower case, without spaces or punctuation) of the columns that identify a person.
_IDENTIFIER_KEYS = {
    "email", "emailaddress", "mail", "respondentemail", "recipientemail", "useremail", "contactemail",
    "name", "fullname", "yourname", "respondentname", "recipientname", "firstname", "lastname", "surname",
    "givenname", "familyname", "recipientfirstname", "recipientlastname",
    "ipaddress", "ip", "ipaddr", "locationlatitude", "locationlongitude", "latitude", "longitude",
    "externalreference", "externaldatareference", "token", "phone", "phonenumber", "mobile", "telephone",
    "username", "userid", "login",
}
_CUSTOM_DATA = re.compile(r"^customdata\d*$")  # SurveyMonkey's custom data fields (often an e-mail)
_NAME_KEYS = {"name", "fullname", "yourname", "respondentname", "recipientname", "firstname", "lastname", "surname",
              "givenname", "familyname", "recipientfirstname", "recipientlastname"}

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
URL = re.compile(r"(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d ().\-/]{6,}\d(?![\w])")
HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_]{2,}")
_PLACEHOLDERS = {"", "anonymous", "anon", "n/a", "na", "none", "-", "unknown"}


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", normalise_text(header))


def identifier_columns(headers: Iterable[str], frame: pd.DataFrame | None = None) -> list[str]:
    """The columns that identify a person: by their header, or (``frame`` given) because most of
    their values are e-mail addresses.

    >>> identifier_columns(["ID", "Email", "Name", "Business unit", "IPAddress", "Custom Data 1"])
    ['Email', 'Name', 'IPAddress', 'Custom Data 1']
    """
    out = []
    for header in headers:
        key = _key(header)
        if (key in _IDENTIFIER_KEYS or _CUSTOM_DATA.match(key)
                or (frame is not None and header in frame.columns and _mostly_emails(frame[header]))):
            out.append(header)
    return out


def _mostly_emails(column: pd.Series) -> bool:
    values = column.dropna().astype(str).str.strip()
    values = values[values != ""].head(200)
    return len(values) > 0 and values.str.fullmatch(EMAIL.pattern).mean() > 0.5


def names_in(frame: pd.DataFrame, columns: Iterable[str]) -> set[str]:
    """The names written in the export's name columns (full names and their parts, two letters
    or more), to screen comments for."""
    names: set[str] = set()
    for column in columns:
        if _key(column) not in _NAME_KEYS:
            continue
        for value in frame[column].dropna().astype(str):
            value = " ".join(value.split())
            if normalise_text(value) in _PLACEHOLDERS:
                continue
            names.add(value)
            names.update(part for part in re.split(r"[\s,]+", value) if len(part) >= 2)
    return names


class Screen:
    """Replaces personal details in free text (see the module docstring).

    >>> Screen({"Jane Doe", "Jane", "Doe"})("Ask Jane Doe (jane.doe@example.com, +44 20 7946 0958) or see www.x.org")
    'Ask [removed] ([removed], [removed]) or see [removed]'
    >>> Screen(set())("Three reorganisations in 2025-2026; 40% of projects late.")
    'Three reorganisations in 2025-2026; 40% of projects late.'
    """

    def __init__(self, names: set[str]):
        ordered = sorted(names, key=len, reverse=True)  # full names before their parts
        self.names = (re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, ordered)) + r")(?!\w)")
                      if ordered else None)

    def __call__(self, text: str) -> str:
        text = EMAIL.sub(REMOVED, text)
        text = URL.sub(REMOVED, text)
        text = PHONE.sub(lambda m: REMOVED if _is_phone(m.group(0)) else m.group(0), text)
        text = HANDLE.sub(REMOVED, text)
        if self.names is not None:
            text = self.names.sub(REMOVED, text)
        return text


def _is_phone(text: str) -> bool:
    """At least nine digits (a date or a year range has fewer), or an international prefix and seven."""
    digits = sum(ch.isdigit() for ch in text)
    international = text.startswith(("+", "00"))
    return digits >= 9 or (international and digits >= 7)


def pseudonym(value: str, salt: str) -> str:
    """A stable stand-in for an identifying respondent id (an e-mail address used as the id)."""
    return "P-" + hashlib.sha256(f"{salt}\x00{value}".encode()).hexdigest()[:10]


def minimise(responses, *, keep_identifiers: bool = False, screen_comments: bool = True):
    """Drop direct identifiers from loaded responses and screen their comments.

    Returns new :class:`~pmo_maturity.responses.Responses` whose ``summary`` records
    ``identifiers_dropped`` (the headers) and ``comments_screened`` (how many comments had
    something replaced, or None when screening is off).
    """
    data = responses.data
    columns = responses.columns
    found = identifier_columns(columns.extra, data)
    names = names_in(data, found)
    identifiers = None
    if keep_identifiers and found:
        identifiers = data[["row", "respondent_id", *found]].copy()
    data = data.drop(columns=found)
    quarantine = responses.quarantine
    flags = responses.flags
    if len(data) and _mostly_emails(data["respondent_id"]):  # the id itself is an e-mail address
        salt = responses.source.sha256
        data = data.assign(respondent_id=data["respondent_id"].map(lambda v: pseudonym(str(v), salt)))
        quarantine = quarantine.assign(respondent_id=quarantine["respondent_id"].map(
            lambda v: v if v is None or pd.isna(v) else pseudonym(str(v), salt)))
        flags = flags.assign(respondent_id=flags["respondent_id"].map(lambda v: pseudonym(str(v), salt)))
    screened = None
    if screen_comments and "comment" in data.columns:
        screen = Screen(names)
        original = data["comment"]
        present = original.notna()
        cleaned = original.copy()
        cleaned[present] = original[present].astype(str).map(screen)
        screened = int((cleaned[present] != original[present].astype(str)).sum())
        data = data.assign(comment=cleaned)
    summary = {**responses.summary, "identifiers_dropped": found, "comments_screened": screened,
               "extra_columns": [c for c in responses.summary.get("extra_columns", []) if c not in found]}
    columns = replace(columns, extra=[c for c in columns.extra if c not in found])
    return replace(responses, data=data, quarantine=quarantine, flags=flags, summary=summary, columns=columns,
                   identifiers=identifiers)
