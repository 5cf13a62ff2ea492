"""Running notebooks: a kernel started ahead is used by one notebook only, changes nothing in the
executed notebook, and never outlives its use."""

from __future__ import annotations

import os

import nbformat
import pytest

from pmo_maturity import execution

pytestmark = pytest.mark.slow

CELLS = ["import os, sys\nprint(os.getpid())", "print('colorsys' in sys.modules)", "1 + 1"]


def _notebook(folder):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "probe.ipynb"
    nbformat.write(nb, str(path))
    return path


def _outputs(nb):
    cells = [c for c in nb.cells if c.cell_type == "code"]
    pid = int(cells[0].outputs[0]["text"])
    preloaded = cells[1].outputs[0]["text"].strip() == "True"
    return pid, preloaded, [c.execution_count for c in cells], cells[2].outputs[0]["data"]["text/plain"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a child that exited but was not reaped yet
        return stat.read().split()[2] != "Z"


def test_a_spare_kernel_runs_the_next_notebook_once_and_is_shut_down(tmp_path):
    notebook = _notebook(tmp_path)
    assert execution.start_spare_kernel(tmp_path, preload="import colorsys")
    assert not execution.start_spare_kernel(tmp_path, preload="import colorsys")  # one at a time
    spare = execution._SPARE[2]
    spare_pid = spare.provisioner.pid

    first = execution.execute_notebook(notebook, tmp_path / "first.ipynb", {})
    pid, preloaded, counts, result = _outputs(first)
    assert pid == spare_pid and preloaded  # the spare ran it, after its silent preload
    assert counts == [1, 2, 3] and result == "2"  # the preload left no trace in the notebook
    assert execution._SPARE is None and not spare.has_kernel and not _alive(spare_pid)

    second = execution.execute_notebook(notebook, tmp_path / "second.ipynb", {})
    pid2, preloaded2, counts2, _ = _outputs(second)
    assert pid2 != spare_pid and not preloaded2 and counts2 == [1, 2, 3]  # a fresh kernel of its own
    assert not _alive(pid2)


def test_a_spare_for_another_folder_or_a_failing_preload_is_not_used(tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    notebook = _notebook(tmp_path)
    assert execution.start_spare_kernel(other, preload="import colorsys")
    spare_pid = execution._SPARE[2].provisioner.pid
    pid, preloaded, _, _ = _outputs(execution.execute_notebook(notebook, tmp_path / "out.ipynb", {}))
    assert pid != spare_pid and not preloaded and not _alive(spare_pid) and execution._SPARE is None

    assert not execution.start_spare_kernel(tmp_path, preload="raise ValueError('no')")
    assert execution._SPARE is None


def test_an_unused_spare_is_shut_down_at_exit(tmp_path):
    assert execution.start_spare_kernel(tmp_path, preload="import colorsys")
    spare_pid = execution._SPARE[2].provisioner.pid
    assert _alive(spare_pid)
    execution.discard_spare_kernel()  # what the process runs at exit
    assert execution._SPARE is None and not _alive(spare_pid)
