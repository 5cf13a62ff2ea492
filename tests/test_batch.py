"""Batch runs: every unit, in parallel, surviving a failing unit, resumable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html import escape
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from click.testing import CliRunner

from pmo_maturity.batch import run_batch, slug
from pmo_maturity.cli import main
from pmo_maturity.execution import notebook_path

from .conftest import EVIL_UNIT

pytestmark = pytest.mark.slow


def test_batch_outputs_and_manifest(small_batch):
    out, m = small_batch.out, small_batch.manifest
    assert small_batch.exit_code == 0 and not small_batch.failed
    assert set(m["units"]) == {"Finance", EVIL_UNIT, "Sales"}
    for unit, entry in m["units"].items():
        assert entry["status"] == "ok" and entry["seconds"] > 0 and entry["input_sha256"] == m["input_sha256"]
        assert (out / entry["html"]).exists() and entry["html"] == f"units/{slug(unit)}.html"
    assert m["portfolio"]["status"] == "ok" and (out / "portfolio.html").exists()
    assert sorted(m["suppressed"].values()) == ["complementary", "small"]
    assert m["suppressed"]["Operations"] == "complementary"
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["exit_code"] == 0 and on_disk["input_sha256"] == m["input_sha256"]
    leftovers = [p.name for p in out.rglob("*") if p.name.startswith(".") or p.suffix in (".tmp", ".running")]
    assert not leftovers


def test_index_links_every_report_and_lists_suppressed(small_batch):
    html = small_batch.index.read_text(encoding="utf-8")
    for entry in small_batch.manifest["units"].values():
        assert f'href="{entry["html"]}"' in html
    assert 'href="portfolio.html"' in html
    assert "No report for 2 units" in html
    assert all(escape(unit) in html for unit in small_batch.manifest["suppressed"])
    assert "&lt;img src=x onerror=" in html and "<img src=x" not in html
    assert "Test &lt;Org&gt;" in html


def _failing_notebook(tmp_path, unit: str):
    """A copy of the report notebook that fails for one unit while a flag file exists (a transient
    failure, such as a locked input, that a resumed run no longer meets)."""
    flag = tmp_path / "fail-now"
    flag.touch()
    nb = nbformat.read(str(notebook_path("assessment")), as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell(
        f"import pathlib\nif unit == {unit!r} and pathlib.Path({str(flag)!r}).exists():\n"
        f"    raise RuntimeError('planted failure\\nsecond line\\n\\t/usr/share/jupyter')"))
    path = tmp_path / "failing.ipynb"
    nbformat.write(nb, str(path))
    return path, flag


def test_a_failing_unit_does_not_stop_the_others_and_resume_reruns_it(tmp_path, small_export):
    out = tmp_path / "batch"
    runner = CliRunner()
    failing, flag = _failing_notebook(tmp_path, "Sales")
    first = runner.invoke(main, ["batch", str(small_export), "--out", str(out), "--workers", "2", "--notebook",
                                 str(failing), "--no-progress"])
    assert first.exit_code == 1, first.output
    manifest = json.loads((out / "manifest.json").read_text())
    sales = manifest["units"]["Sales"]
    assert sales["status"] == "failed" and "RuntimeError: planted failure" in sales["error"]
    assert "planted failure\nsecond line\n\t/usr/share/jupyter" in sales["error"]  # the whole message
    screen = [line for line in first.output.splitlines() if line.startswith("failed: Sales")]
    assert len(screen) == 1 and "RuntimeError: planted failure" in screen[0] and "manifest.json" in screen[0]
    assert "/usr/share/jupyter" not in screen[0]  # a readable summary on screen
    assert (out / sales["error_notebook"]).exists()
    assert all(e["status"] == "ok" for u, e in manifest["units"].items() if u != "Sales")
    assert manifest["failed"] == ["Sales"] and manifest["exit_code"] == 1
    index = (out / "index.html").read_text()
    assert f'href="{sales["error_notebook"]}"' in index and "planted failure" in index
    done = {u: (out / e["html"]).stat().st_mtime_ns for u, e in manifest["units"].items() if e["status"] == "ok"}

    flag.unlink()
    # --by names the column the first run detected: the same settings, so the reports are reused.
    second = runner.invoke(main, ["batch", str(small_export), "--out", str(out), "--workers", "2", "--resume",
                                  "--notebook", str(failing), "--no-progress", "--by", "business_unit"])
    assert second.exit_code == 0, second.output
    assert "resume: 4 report(s) reused, 1 to render (Sales: failed last time)" in second.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["units"]["Sales"]["status"] == "ok" and not manifest["failed"]
    assert not (out / sales["error_notebook"]).exists()
    for unit, mtime in done.items():  # the units that had succeeded were not run again
        assert manifest["units"][unit].get("reused") is True
        assert (out / manifest["units"][unit]["html"]).stat().st_mtime_ns == mtime
    assert manifest["portfolio"].get("reused") is True
    third = runner.invoke(main, ["batch", str(small_export), "--out", str(out), "--workers", "2", "--resume",
                                 "--notebook", str(failing), "--target", "4", "--no-progress"])
    assert third.exit_code == 0, third.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert not [u for u, e in manifest["units"].items() if e.get("reused")]  # new settings: everything again
    assert "every report is rendered again" in third.output and "target: 3 then, 4 now" in third.output
    assert manifest["settings"]["target"] == 4


def test_any_executor_can_run_the_batch(tmp_path, small_export):
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = run_batch(small_export, out=tmp_path / "threads", executor=pool, portfolio=False, progress=False)
    assert result.exit_code == 0 and len(result.manifest["units"]) == 3 and not result.manifest["portfolio"]


def test_a_second_batch_into_the_same_folder_is_refused_with_the_holders_pid(tmp_path, small_export):
    out = tmp_path / "batch"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from pmo_maturity.batch import OutputLock\n"
        f"with OutputLock(Path({str(out)!r})):\n    print('locked', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = CliRunner().invoke(main, ["batch", str(small_export), "--out", str(out), "--no-progress"])
        assert result.exit_code == 2, result.output
        line = result.output.strip().splitlines()[-1]
        assert line.startswith("error: ") and f"pid {holder.pid}" in line and "started 20" in line, line
        assert not (out / "manifest.json").exists()  # refused before any work
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_dead_batch_is_taken_over_with_a_message(tmp_path):
    from pmo_maturity.batch import LOCK, OutputLock

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / LOCK).write_text(json.dumps({"pid": int(dead.stdout), "host": "here", "started": "2026-01-02T03:04:05"}))
    messages = []
    with OutputLock(tmp_path, messages.append):
        held = json.loads((tmp_path / LOCK).read_text())
        assert held["pid"] == os.getpid()
    assert len(messages) == 1 and f"pid {int(dead.stdout)}" in messages[0] and "2026-01-02T03:04:05" in messages[0]
    assert "no longer running" in messages[0] and not (tmp_path / LOCK).exists()


def test_settings_change_means_rerun(tmp_path):
    from pmo_maturity.batch import _settings_digest

    common = {"responses": "x.csv", "target": 3, "organisation": "Acme", "scores_file": "a", "scores_sha256": "b"}
    assert _settings_digest(common, None) == _settings_digest({**common, "scores_file": "other"}, None)
    assert _settings_digest(common, None) != _settings_digest({**common, "target": 4}, None)
    assert _settings_digest(common, None) != _settings_digest({**common, "organisation": "Other"}, None)
