"""pyproject.toml is the single source of truth; environment.yml must list the same dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _split(requirement: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_split(r) for r in project["dependencies"])
    for extra in ("test", "lab"):
        wanted.update(_split(r) for r in project["optional-dependencies"][extra])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = {}
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            for pip_entry in entry["pip"]:
                if not pip_entry.startswith("-e"):
                    listed.update([_split(pip_entry)])
        else:
            listed.update([_split(entry)])
    python = listed.pop("python")
    listed.pop("pip")
    assert python == ">=" + project["requires-python"].removeprefix(">=")
    assert listed == wanted


def test_outputs_are_ignored_but_the_readme():
    ignore = (ROOT / ".gitignore").read_text().splitlines()
    assert "outputs/*" in ignore and "!outputs/README.md" in ignore


def test_readme_shows_the_two_commands_first():
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block


def test_notebooks_are_committed_without_outputs_but_the_checked_cell():
    """Only the cells nbval compares (# NBVAL_CHECK_OUTPUT) carry a stored output."""
    import json

    for path in (ROOT / "notebooks").glob("*.ipynb"):
        nb = json.loads(path.read_text())
        with_output = [c for c in nb["cells"] if c.get("outputs")]
        assert with_output, f"{path.name}: the scorecard cell's reference output is missing"
        for cell in with_output:
            assert "".join(cell["source"]).startswith("# NBVAL_CHECK_OUTPUT"), path.name
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert not [c for c in code if c.get("execution_count") and not c.get("outputs")], path.name
        tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, path.name
