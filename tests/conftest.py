"""Shared fixtures: small, deterministic, built from the bundled instrument and sample."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pmo_maturity import load_questionnaire, load_responses, score
from pmo_maturity.sample import bundled_sample, sample_path


def pytest_collection_modifyitems(config, items):
    """The notebooks' cells (nbval) run kernels and render reports: they belong to the slow tier that
    ``pytest -m "not slow"`` leaves out (``make test`` runs everything)."""
    for item in items:
        if str(item.path).endswith(".ipynb"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def questionnaire():
    return load_questionnaire()


@pytest.fixture(scope="session")
def sample():
    """The generator run behind the shipped sample file, with its ground truth."""
    return bundled_sample()


@pytest.fixture(scope="session")
def sample_responses(questionnaire):
    return load_responses(sample_path(), questionnaire)


@pytest.fixture(scope="session")
def sample_scores(sample_responses):
    return score(sample_responses)


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def tiny_yaml(tmp_path):
    """A two-dimension, 1-5 instrument with one reverse-keyed item, for hand-checked numbers."""
    return write_yaml(tmp_path / "tiny.yaml", """
        id: tiny
        version: "0.1"
        title: Tiny instrument
        scale:
          min: 1
          max: 5
          labels: [Strongly disagree, Disagree, Neutral, Agree, Strongly agree]
          na_labels: ["Don't know"]
        dimensions:
          - id: alpha
            name: Alpha
            weight: 2
            items:
              - {id: A1, text: "First alpha statement about our work."}
              - {id: A2, text: "Second alpha statement about our work."}
              - {id: A3, text: "Third alpha statement, reverse keyed.", reverse: true}
          - id: beta
            name: Beta
            items:
              - {id: B1, text: "First beta statement about our work."}
              - {id: B2, text: "Second beta statement about our work."}
        """)


EVIL_UNIT = '<img src=x onerror="window.__pwned=1">Ops'
EVIL_COMMENT = '<img src=x onerror="window.__pwned=2"> great <script>window.__pwned=3</script>'
# Personal details a comment may carry; none of them may reach a published output.
PERSONAL_COMMENT = "Ask {name} or write to {email}, call +1 (555) 013-2468, see https://wiki.example.org/pmo @pmo_lead"


@pytest.fixture(scope="session")
def small_export(tmp_path_factory, questionnaire):
    """A small export for report tests: three units (one with an HTML-injection name), one tiny unit,
    and comments that try to run code."""
    from pmo_maturity.sample import generate_sample

    # One tiny unit: it is suppressed, and so is the next smallest ("Operations") so that the tiny
    # unit cannot be worked out by subtraction.
    data = generate_sample(questionnaire, units=[("Finance", 26), (EVIL_UNIT, 24), ("Sales", 22), ("Operations", 18)],
                           small_units=1,
                           bad_row_share=0.02, comment_share=0.5, seed=17)
    frame = data.frame.copy()
    frame.loc[frame.index[::3], "comment"] = EVIL_COMMENT
    # A named form: e-mail and name columns (direct identifiers), and comments that repeat them.
    frame = frame.rename(columns={"email": "Email", "name": "Name"})
    for k, i in enumerate(frame.index[1::7]):
        other = frame.index[(k * 5 + 3) % len(frame)]
        frame.loc[i, "comment"] = PERSONAL_COMMENT.format(name=frame.loc[other, "Name"],
                                                          email=frame.loc[other, "Email"])
    path = tmp_path_factory.mktemp("export") / "export.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def small_batch(tmp_path_factory, small_export):
    """One batch run over the small export, shared by the batch and browser tests."""
    from pmo_maturity.batch import run_batch

    out = tmp_path_factory.mktemp("batch")
    return run_batch(small_export, out=out, workers=2, organisation="Test <Org>", progress=False)


def export_of(spec, questionnaire, seed=0, comment=None):
    """A wide export with item ids from ``(unit, role, count, typical answer)`` rows (answers vary
    around the typical one; ``comment(unit)`` fills a comment column when given)."""
    rng = np.random.default_rng(seed)
    rows, i = [], 0
    for unit, role, count, base in spec:
        for _ in range(count):
            i += 1
            row = {"ID": f"R{i:04d}", "Business unit": unit, "Role": role}
            for item in questionnaire.items:
                row[item.id] = int(np.clip(round(base + rng.normal(0, 0.8)), 1, 5))
            if comment is not None:
                row["Comment"] = comment(unit)
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture
def one_dimension(tmp_path):
    """A one-dimension instrument on a 0-10 scale without a catalogue, and 100 answers in two units."""
    q_path = write_yaml(tmp_path / "q1.yaml", """
        id: single
        version: "1"
        title: Single
        scale: {min: 0, max: 10}
        dimensions:
          - {id: d, name: D, items: [{id: D1, text: One}, {id: D2, text: Two}]}
        """)
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"Business unit": np.repeat(["U1", "U2"], 50), "D1": rng.integers(0, 11, 100),
                         "D2": rng.integers(0, 11, 100)})
    path = tmp_path / "answers.csv"
    data.to_csv(path, index=False)
    return q_path, path
