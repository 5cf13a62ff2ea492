"""The README's command-line block and Python block run as written, in an empty folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def readme_block(heading: str, language: str) -> str:
    """The first ``language`` code block under the README's ``## heading``."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return section.split(f"```{language}\n", 1)[1].split("```", 1)[0]


def test_readme_blocks_run_as_written(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    commands = readme_block("Command line", "sh")
    run = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", commands], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=1500)
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-3000:])
    out = tmp_path / "outputs"
    for name in ("survey.xlsx", "export.csv", "scores.xlsx", "plan.xlsx", "scores_2026.csv", "finance.html",
                 "batch/index.html"):
        assert (out / name).is_file(), name
    assert "Since scores_2026.csv" in run.stdout and "rows in " in run.stdout

    script = tmp_path / "readme_api.py"
    script.write_text(readme_block("Python API", "python"), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=1500)
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-3000:])
    assert "282 rows: 267 accepted, 15 quarantined" in run.stdout and "exit code 0" in run.stdout
    # The resumed batch reused the command line's reports: leaving out --by changed no setting.
    manifest = json.loads((out / "batch" / "manifest.json").read_text())
    assert manifest["units"] and all(entry.get("reused") for entry in manifest["units"].values())
