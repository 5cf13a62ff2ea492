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


@pytest.fixture(autouse=True)
def _no_spare_left():
    """Each test starts and ends without a spare kernel (a failing test must not leave one to the next)."""
    execution.discard_spare_kernel()
    yield
    execution.discard_spare_kernel()


def _kernels() -> set[int]:
    """Kernel processes this test process started and that are still running."""
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                cmdline = cmd.read()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z" and b"ipykernel" in cmdline:
            pids.add(int(entry))
    return pids


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

    before = _kernels()
    assert not execution.start_spare_kernel(tmp_path, preload="raise ValueError('no')")
    assert execution._SPARE is None and _kernels() <= before  # the kernel that failed is shut down
    assert execution.start_spare_kernel(tmp_path, preload="import colorsys")  # and the slot is free again


def test_an_unused_spare_is_shut_down_at_exit(tmp_path):
    assert execution.start_spare_kernel(tmp_path, preload="import colorsys")
    spare_pid = execution._SPARE[2].provisioner.pid
    assert _alive(spare_pid) and spare_pid in _kernels()
    execution.discard_spare_kernel()  # what the process runs at exit
    assert execution._SPARE is None and not _alive(spare_pid)


def test_an_interrupted_start_leaves_no_kernel_and_no_placeholder(tmp_path, monkeypatch):
    """A KeyboardInterrupt while the spare imports: the kernel is shut down, the slot freed, and the
    interrupt goes on to the caller."""
    before = _kernels()

    def interrupted(km, folder, preload, timeout):
        from jupyter_core.utils import run_sync

        run_sync(km.start_kernel)(cwd=folder, extra_arguments=list(execution.KERNEL_ARGUMENTS))
        assert _kernels() - before  # it did start
        raise KeyboardInterrupt

    monkeypatch.setattr(execution, "_start_and_preload", interrupted)
    with pytest.raises(KeyboardInterrupt):
        execution.start_spare_kernel(tmp_path)
    assert execution._SPARE is None and _kernels() <= before
