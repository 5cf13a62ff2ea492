"""The questionnaire format: the bundled instrument, other Likert instruments and clear errors."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import numpy as np
import pytest

from pmo_maturity import QuestionnaireError, load_questionnaire
from pmo_maturity.questionnaire import normalise_text

from .conftest import write_yaml

DIMENSIONS = ["insight", "vision", "action", "culture", "change", "ppt", "portfolio", "capability"]


def test_bundled_instrument_structure(questionnaire):
    q = questionnaire
    assert (q.id, q.version) == ("pmo-integration", "1.0")
    assert q.dimension_ids == DIMENSIONS
    assert [lv.name for lv in q.levels] == ["Ad hoc", "Emerging", "Defined", "Integrated", "Optimising"]
    for d in q.dimensions:
        assert 4 <= len(d.items) <= 6, d.id
        assert any(i.reverse for i in d.items), f"{d.id} has no reverse-keyed item"
        assert sorted(d.level_descriptors) == [1, 2, 3, 4, 5], d.id
        assert all(len(text.split()) >= 8 for text in d.level_descriptors.values()), d.id
    texts = [normalise_text(i.text) for i in q.items]
    assert len(set(texts)) == len(texts)
    assert not [a for a in texts for b in texts if a != b and a in b], "an item text is inside another"
    assert q.items[0].id == q.dimensions[0].items[0].id and isinstance(q.items[0].reverse, bool)


def test_bundled_items_are_single_statements(questionnaire):
    for item in questionnaire.items:
        words = item.text.split()
        assert 6 <= len(words) <= 25, item.id
        assert item.text.count("?") == 0 and " and/or " not in item.text, item.id


@pytest.mark.slow  # builds and installs a wheel
def test_bundled_instrument_loads_from_an_installed_wheel(tmp_path):
    """Build the wheel (from a copy of the checkout where an editor left checkpoints), unpack it
    away from the checkout and load the instrument from it."""
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    source = tmp_path / "source"
    for folder in ("pmo_maturity", "questionnaires", "notebooks"):
        shutil.copytree(root / folder, source / folder, ignore=shutil.ignore_patterns(".*", "__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(root / name, source / name)
    for folder in ("notebooks", "questionnaires", "pmo_maturity"):  # what JupyterLab leaves behind
        (source / folder / ".ipynb_checkpoints").mkdir()
        (source / folder / ".ipynb_checkpoints" / "draft-checkpoint.ipynb").write_text("{}")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True)
    if build.returncode != 0:  # no hatchling in the environment: build in isolation
        build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                                str(tmp_path / "dist"), str(source)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "dist").glob("pmo_maturity-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if ".ipynb_checkpoints" in n]
    shipped = [f"questionnaires/{p.name}" for p in (root / "questionnaires").glob("*.yaml")]
    shipped += [f"notebooks/{p.name}" for p in (root / "notebooks").glob("*.ipynb")]
    assert len(shipped) == 5 and all(f"pmo_maturity/{n}" in names for n in shipped)
    assert "pmo_maturity/data/sample_export.csv" in names
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    code = ("import pmo_maturity, sys; q = pmo_maturity.load_questionnaire(); "
            "assert 'site' in pmo_maturity.__file__, pmo_maturity.__file__; print(q.id, len(q.items))")
    run = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path / 'site')!r}); "
                          + code], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["pmo-integration", "40"]


@pytest.mark.parametrize(
    ("scale", "bounds"),
    [
        ({"min": 1, "max": 6}, [1, 2, 3, 4, 5, 6]),
        ({"min": 0, "max": 10}, [0, 2, 4, 6, 8, 10]),
        ({"min": 1, "max": 4}, [1, 1.6, 2.2, 2.8, 3.4, 4]),
    ],
)
def test_any_integer_scale_gets_equal_width_levels(tmp_path, scale, bounds):
    path = write_yaml(tmp_path / "q.yaml", f"""
        id: other
        version: 2
        title: Other
        scale: {{min: {scale['min']}, max: {scale['max']}}}
        dimensions:
          - id: d
            name: D
            items: [{{id: D1, text: One}}, {{id: D2, text: Two, reverse: true}}]
        """)
    q = load_questionnaire(path)
    assert q.version == "2" and q.scale.points == scale["max"] - scale["min"] + 1
    np.testing.assert_allclose(q.level_bounds, bounds)
    assert q.level_of(bounds[1]) == 2  # a score on a boundary takes the upper level
    assert q.level_of(bounds[1] - 0.006) == 1
    # Classified as displayed (two decimals): just under the boundary prints as the boundary itself.
    assert q.level_of(bounds[1] - 1e-6) == 2 and f"{bounds[1] - 1e-6:.2f}" == f"{bounds[1]:.2f}"
    assert q.level_of(scale["max"]) == 5
    assert q.index(scale["max"]) == 100 and q.index(scale["min"]) == 0


def test_explicit_thresholds(tmp_path):
    path = write_yaml(tmp_path / "q.yaml", """
        id: t
        version: "1"
        title: T
        scale: {min: 1, max: 5}
        levels:
          - {level: 1, name: Low, min: 1}
          - {level: 2, name: Middle, min: 2.5}
          - {level: 3, name: High, min: 4}
        dimensions:
          - {id: d, name: D, items: [{id: D1, text: One}]}
        """)
    q = load_questionnaire(path)
    assert [q.level_of(x) for x in (1, 2.49, 2.5, 3.99, 4, 5)] == [1, 1, 2, 2, 3, 3]
    assert q.level_name(2) == "Middle" and q.level_floor(3) == 4


BAD = {
    "duplicate item": ("""
        id: t
        version: "1"
        title: T
        scale: {min: 1, max: 5}
        dimensions:
          - {id: a, name: A, items: [{id: X1, text: One}, {id: X1, text: Two}]}
        """, "duplicate item id"),
    "empty dimension": ("""
        id: t
        version: "1"
        title: T
        scale: {min: 1, max: 5}
        dimensions:
          - {id: a, name: A, items: []}
        """, "dimensions[0] (id 'a').items"),
    "min >= max": ("""
        id: t
        version: "1"
        title: T
        scale: {min: 5, max: 5}
        dimensions:
          - {id: a, name: A, items: [{id: X1, text: One}]}
        """, "scale.min (5) must be smaller than scale.max (5)"),
    "unknown key": ("""
        id: t
        version: "1"
        title: T
        scale: {min: 1, max: 5}
        dimensions:
          - {id: a, name: A, items: [{id: X1, text: One, reversed: true}]}
        """, "items[0] (id 'X1').reversed"),
    "bad boolean": ("""
        id: t
        version: "1"
        title: T
        scale: {min: 1, max: 5}
        dimensions:
          - {id: a, name: A, items: [{id: X1, text: One, reverse: maybe}]}
        """, "'maybe'"),
    "labels count": ("""
        id: t
        version: "1"
        title: T
        scale: {min: 1, max: 5, labels: [a, b, c]}
        dimensions:
          - {id: a, name: A, items: [{id: X1, text: One}]}
        """, "has 3 labels but the scale 1-5 has 5 points"),
    "duplicate yaml key": ("""
        id: t
        id: u
        version: "1"
        title: T
        scale: {min: 1, max: 5}
        dimensions:
          - {id: a, name: A, items: [{id: X1, text: One}]}
        """, "duplicate key 'id'"),
    "yaml syntax": ("id: [unclosed\n", "YAML syntax error"),
    "not a mapping": ("- just\n- a list\n", "expected a mapping"),
    "missing dimensions": ("""
        id: t
        version: "1"
        title: T
        scale: {min: 1, max: 5}
        """, "dimensions: Field required"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_invalid_questionnaires_name_file_key_and_value(tmp_path, case):
    text, expected = BAD[case]
    path = write_yaml(tmp_path / "bad.yaml", text)
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(QuestionnaireError, match="file not found"):
        load_questionnaire(tmp_path / "nope.yaml")


def test_yaml_is_loaded_safely(tmp_path):
    path = write_yaml(tmp_path / "evil.yaml", """
        id: !!python/object/apply:os.system ["echo pwned"]
        version: "1"
        title: T
        scale: {min: 1, max: 5}
        dimensions:
          - {id: a, name: A, items: [{id: X1, text: One}]}
        """)
    with pytest.raises(QuestionnaireError, match="YAML syntax error"):
        load_questionnaire(path)


def test_labels_normalise_case_space_and_quotes(questionnaire):
    values = questionnaire.scale.label_values
    assert values[normalise_text("  strongly   AGREE ")] == 5
    assert normalise_text("Don\u2019t know") in questionnaire.scale.na_keys
