"""Running the report notebooks: parameters checked, executed with papermill in a fresh kernel,
exported with nbconvert to self-contained HTML without code or prompts.

Kept apart from :mod:`.report` (whose helpers run inside the notebooks) so that the processes that
only run notebooks, such as the batch workers, load no data or plotting library.
"""

from __future__ import annotations

import functools
import html
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

from ._files import atomic_write_bytes
from ._resources import notebook_dir, template_dir
from .errors import ConfigurationError, NotebookError, OutputError, ReportError, UnknownNameError
from .settings import ReportSettings

# The parameters of the notebooks: name -> accepted types, from the one definition of the settings
# (checked before every run, and again in the notebook itself, where papermill's -p and -y can set anything).
ASSESSMENT_PARAMETERS: dict[str, tuple[type, ...]] = ReportSettings.spec("assessment")
PORTFOLIO_PARAMETERS: dict[str, tuple[type, ...]] = ReportSettings.spec("portfolio")
NOTEBOOK_PARAMETERS = {"assessment": ASSESSMENT_PARAMETERS, "portfolio": PORTFOLIO_PARAMETERS}


def validate_parameters(parameters: dict, spec: dict[str, tuple[type, ...]], notebook: str) -> None:
    """Refuse unknown parameter names and wrong types before a run, naming what is accepted."""
    for name in sorted(set(parameters) - set(spec)):
        raise UnknownNameError("parameter", name, spec, where=notebook)
    for name, value in parameters.items():
        allowed = spec[name]
        if isinstance(value, bool) or not isinstance(value, allowed):
            names = " or ".join("None" if t is type(None) else t.__name__ for t in allowed)
            raise ConfigurationError(f"{notebook}: parameter {name!r} must be {names}; got {type(value).__name__} "
                                     f"{value!r}")
    if parameters.get("load_options") is not None:
        from .options import LoadOptions

        LoadOptions.from_dict(parameters["load_options"], where=f"{notebook}: parameter 'load_options'")


def notebook_parameters(namespace: dict, notebook: str) -> dict:
    """The parameters of a running report notebook, checked (the notebook's first call).

    ``namespace`` is the notebook's ``globals()``: its ``parameters`` cell and the cell papermill
    injects after it (``-p name value``). A name papermill injected that the notebook does not
    take (``-p untis Finance``) is refused with the closest accepted name, and every parameter's
    type is checked (``-p min_group_size abc``), with one clear error instead of a failure further
    down.
    """
    spec = NOTEBOOK_PARAMETERS[notebook]
    where = f"{notebook}.ipynb"
    for name in sorted(set(_injected_names(namespace)) - set(spec)):
        raise UnknownNameError("parameter", name, spec, where=where)
    values = {name: namespace[name] for name in spec if name in namespace}
    validate_parameters(values, spec, where)
    return values


def _injected_names(namespace: dict) -> list[str]:
    """The names assigned by papermill's injected cell (its source starts with ``# Parameters``)."""
    import ast

    for source in reversed(list(namespace.get("In") or [])):
        if isinstance(source, str) and source.lstrip().startswith("# Parameters"):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return []
            return [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                    if isinstance(t, ast.Name)]
    return []


def notebook_path(name: str) -> Path:
    """Path of a bundled notebook (``assessment``, ``portfolio`` or ``engagement``)."""
    path = notebook_dir() / f"{name}.ipynb"
    if not path.is_file():
        raise ReportError(f"notebook {path} not found; reinstall pmo-maturity")
    return path


def execute_notebook(notebook: str | Path, output: str | Path, parameters: dict):
    """Execute a notebook with papermill in a fresh kernel; the executed notebook is written to
    ``output`` atomically and returned.

    The kernel is new and used for this notebook only. When :func:`start_spare_kernel` started one
    ahead in this process (for the same folder), that kernel is used: it has run nothing but the
    report helpers' import, silently.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output = Path(output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(output, f"cannot be written: {err.strerror or err}") from err
    tmp = output.with_name(f".running.{output.name}")
    cwd = str(Path(notebook).resolve().parent)
    spare = None
    try:
        spare = _take_spare(cwd)
        ahead = {"engine_name": _warm_engine(), "km": spare} if spare is not None else {}
        executed = papermill.execute_notebook(str(notebook), str(tmp), parameters=parameters, progress_bar=False,
                                   log_output=False, kernel_name=KERNEL, cwd=cwd, request_save_on_cell_execute=False,
                                   kernel_manager_class="pmo_maturity.execution.LocalKernelManager", **ahead)
    except PapermillExecutionError as err:  # a cell raised: its error, and the notebook that shows it
        kept = _keep_error_notebook(tmp, output)
        raise NotebookError(str(kept or notebook), err.ename, _plain(err.evalue)) from err
    except Exception as err:
        _keep_error_notebook(tmp, output)
        raise _run_error(notebook, err) from err
    finally:
        if spare is not None and spare.has_kernel:  # papermill stopped before the notebook client took it
            _shut_down(spare)
    os.replace(tmp, output)
    return executed


def _keep_error_notebook(tmp: Path, output: Path) -> Path | None:
    """Keep the partly executed notebook with its error for the reader (``<name>.error.ipynb``)."""
    if not tmp.exists():
        return None
    kept = output.with_name(output.stem + ".error.ipynb")
    os.replace(tmp, kept)
    return kept


def _plain(text: object) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", str(text)).strip()


def _run_error(notebook, err: Exception) -> ReportError:
    """Why a notebook could not run at all (most often: its kernel did not start)."""
    lines = [line.strip() for line in _plain(err).splitlines() if line.strip()]
    first = lines[0] if lines else type(err).__name__
    if type(err).__name__ in ("NoSuchKernel", "DeadKernelError", "TimeoutError", "FileNotFoundError",
                              "PermissionError") or "kernel" in first.lower():
        error = ReportError(f"{notebook}: the Jupyter kernel {KERNEL!r} could not start ({type(err).__name__}: "
                            f"{first}); check that ipykernel is installed in this environment "
                            f"(python -m ipykernel install --user --name {KERNEL})")
    else:
        error = ReportError(f"{notebook}: could not run ({type(err).__name__}: {first})")
    error.detail = _plain(err)  # the whole message, for the batch manifest
    return error


KERNEL = "python3"
# nbclient keeps a kernel's IPython history in memory (not in ~/.ipython); a spare kernel starts alike.
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]
REPORT_IMPORT = "import pmo_maturity.report"
# The kernel started ahead: (thread that started it, folder, kernel manager); one per process.
_SPARE: tuple[int, str, object] | None = None
_SPARE_LOCK = threading.Lock()


def start_spare_kernel(cwd: str | Path | None = None, preload: str = REPORT_IMPORT, timeout: float = 120) -> bool:
    """Start the kernel of this process's next report now, and let it import the report helpers.

    A batch worker calls this while the parent process is still scoring, so that its first report
    finds a kernel that has started and imported already (about 3 seconds of a report's run). The
    report still gets a kernel of its own: new, used for that notebook only, shut down after it.
    ``preload`` runs silently (no output, no execution count), so the executed notebook is the same.

    Only the thread that started the spare uses it, and a process holds one at a time. Returns False,
    starting nothing, when a spare kernel is already waiting; and False after shutting it down again
    when the kernel did not start or ``preload`` failed (the report then starts its own kernel and
    shows the error where it belongs).
    """
    global _SPARE
    with _SPARE_LOCK:
        if _SPARE is not None:
            return False
        _SPARE = (threading.get_ident(), "", None)  # taken: no second spare while this one starts
    km, ready = None, False
    try:
        folder = str(Path(cwd).resolve() if cwd else notebook_dir().resolve())
        km = _local_kernel_manager()(kernel_name=KERNEL)
        ready = _start_and_preload(km, folder, preload, timeout)
    except Exception:  # noqa: BLE001, S110 - a spare is an optimisation: the report will start its own kernel
        pass
    finally:  # also on KeyboardInterrupt: the slot filled or freed, no kernel left behind
        with _SPARE_LOCK:
            _SPARE = (threading.get_ident(), folder, km) if ready else None
        if not ready and km is not None:
            _shut_down(km)
    if ready:
        _register_spare_cleanup()
    return ready


def _start_and_preload(km, folder: str, preload: str, timeout: float) -> bool:
    """Start ``km``'s kernel in ``folder`` and run ``preload`` in it silently; True when it ran."""
    from jupyter_client.blocking import BlockingKernelClient
    from jupyter_core.utils import run_sync

    run_sync(km.start_kernel)(cwd=folder, extra_arguments=list(KERNEL_ARGUMENTS))
    client = BlockingKernelClient()
    client.load_connection_info(km.get_connection_info())
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
        sent = client.execute(preload, silent=True, store_history=False, allow_stdin=False)
        reply = client.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != sent:
            reply = client.get_shell_msg(timeout=timeout)
        return reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()


def _take_spare(cwd: str):
    """This thread's spare kernel, for a notebook in ``cwd``; a spare started for another folder is
    shut down."""
    global _SPARE
    with _SPARE_LOCK:
        if _SPARE is None or _SPARE[0] != threading.get_ident() or _SPARE[2] is None:
            return None
        _, folder, km = _SPARE
        _SPARE = None
    from jupyter_core.utils import run_sync

    if folder == cwd and run_sync(km.is_alive)():
        return km
    _shut_down(km)
    return None


def discard_spare_kernel() -> None:
    """Shut down a spare kernel nobody used (at the exit of the process that started it)."""
    global _SPARE
    with _SPARE_LOCK:
        spare, _SPARE = _SPARE, None
    if spare is not None and spare[2] is not None:
        _shut_down(spare[2])


def _shut_down(km) -> None:
    from jupyter_core.utils import run_sync

    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=False)
        else:
            run_sync(km.cleanup_resources)()
    except Exception:  # noqa: BLE001 - already gone; nothing left to free
        pass


_CLEANUP_REGISTERED = False


def _register_spare_cleanup() -> None:
    global _CLEANUP_REGISTERED
    if _CLEANUP_REGISTERED:
        return
    import atexit
    from multiprocessing import util

    atexit.register(discard_spare_kernel)  # a plain process
    util.Finalize(None, discard_spare_kernel, exitpriority=10)  # a pool worker (exits without atexit)
    _CLEANUP_REGISTERED = True


_ENGINE = "pmo-maturity-spare-kernel"


@functools.cache
def _warm_engine() -> str:
    """papermill's nbclient engine for a kernel started ahead: the notebook client gets that kernel
    and shuts it down when the notebook is done, as it does with a kernel it starts itself."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, logger, papermill_engines

    class SpareKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, km=None, **kwargs):
            for unused in ("input_path", "startup_timeout"):
                kwargs.pop(unused, None)
            timeout = execution_timeout or kwargs.pop("timeout", None)  # as papermill's own engine
            kwargs.pop("timeout", None)
            client = PapermillNotebookClient(nb_man, km=km, timeout=timeout, startup_timeout=start_timeout,
                                             kernel_name=kernel_name, log=logger, log_output=log_output,
                                             stdout_file=stdout_file, stderr_file=stderr_file, **kwargs)
            return client.execute(cleanup_kc=True)  # shut the kernel down after, as for its own kernels

    papermill_engines.register(_ENGINE, SpareKernelEngine)
    return _ENGINE


@functools.cache
def _local_kernel_manager():
    from jupyter_client.manager import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        """Talks to the kernel over local IPC sockets rather than unencrypted TCP ports."""

        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            super().__init__(**kwargs)
            if self.transport == "ipc":
                self.ip = str(Path(tempfile.mkdtemp(prefix="pmo-kernel-")) / "kernel")

        async def _async_interrupt_kernel(self) -> None:
            # jupyter_client interrupts a kernel before asking it to shut down, which makes ipykernel
            # log "KeyboardInterrupt caught in kernel" in every worker; a finished report has nothing
            # left to interrupt.
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

        interrupt_kernel = _async_interrupt_kernel

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart and self.transport == "ipc":
                shutil.rmtree(Path(self.ip).parent, ignore_errors=True)

        cleanup_resources = _async_cleanup_resources

        async def _async_start_kernel(self, **kwargs) -> None:
            try:
                await super()._async_start_kernel(**kwargs)
            except BaseException:  # a kernel that does not start leaves no file behind
                try:
                    self.cleanup_connection_file()
                    self.cleanup_ipc_files()
                finally:
                    if self.transport == "ipc":
                        shutil.rmtree(Path(self.ip).parent, ignore_errors=True)
                raise

        start_kernel = _async_start_kernel

    return LocalKernelManager


def __getattr__(name: str):  # papermill imports the kernel manager class by its dotted name
    if name == "LocalKernelManager":
        return _local_kernel_manager()
    raise AttributeError(name)


_EXPORTER = None


def _exporter():
    global _EXPORTER  # one exporter per process: templates are parsed once
    if _EXPORTER is None:
        from nbconvert import HTMLExporter

        _EXPORTER = HTMLExporter(template_name="pmo", extra_template_basedirs=[str(template_dir() / "nbconvert")],
                                 exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                                 exclude_markdown=True, exclude_raw=True, embed_images=True,
                                 optimistic_validation=True)  # validate once, not after each preprocessor
    return _EXPORTER


def export_html(notebook, output: str | Path, title: str | None = None) -> Path:
    """Export an executed notebook (a path or a notebook node) to self-contained HTML without code
    or prompts (atomically)."""
    import nbformat

    nb = notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(str(notebook), as_version=4)
    title = title or report_title(nb) or Path(output).stem
    nb.metadata["title"] = title
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title or Path(output).stem}})
    atomic_write_bytes(Path(output), body.encode("utf-8"))
    return Path(output)


_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)


def report_title(nb) -> str | None:
    """The report's own title: the text of the first heading its cells output (``<title>`` of the
    HTML, instead of the file's name)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            found = _H1.search(str(output.get("data", {}).get("text/html", "")))
            if found:
                return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip() or None
    return None


def render_report(output: str | Path, *, unit: str | None = None, notebook: str = "assessment",
                  keep_notebook: bool = True, **parameters) -> Path:
    """Execute a report notebook with papermill and export it as HTML for executives.

    Parameters
    ----------
    output : path
        The ``.html`` file to write (the executed ``.ipynb`` is kept beside it).
    unit : str, optional
        A business unit (assessment notebook only).
    notebook : {"assessment", "portfolio"}
    **parameters
        The notebook's parameters (see :data:`ASSESSMENT_PARAMETERS`); paths are made absolute.

    Returns
    -------
    Path of the HTML file.
    """
    spec = ASSESSMENT_PARAMETERS if notebook == "assessment" else PORTFOLIO_PARAMETERS
    if unit is not None:
        parameters["unit"] = unit
    validate_parameters(parameters, spec, f"{notebook}.ipynb")
    if isinstance(parameters.get("headcount"), str) and not parameters["headcount"].strip().isdigit():
        parameters["headcount"] = str(Path(parameters["headcount"]).resolve())
    for key in ("responses", "questionnaire", "previous"):
        if parameters.get(key):
            parameters[key] = str(Path(parameters[key]).resolve())
    if parameters.get("scores_file"):
        parameters["scores_file"] = str(Path(parameters["scores_file"]).resolve())
    output = Path(output).resolve()
    executed = output.with_suffix(".ipynb")
    with tempfile.TemporaryDirectory(prefix="pmo-analysis-") as work:
        if not parameters.get("scores_file"):
            # Score here, before any kernel starts: a unit without a report is refused at once, with
            # the units that have one; the notebook then loads this analysis instead of scoring again.
            parameters.update(_analysed(parameters, notebook, Path(work)))
        nb = execute_notebook(notebook_path(notebook), executed, parameters)
    written = export_html(nb, output)
    if not keep_notebook:
        executed.unlink()
    return written


def _analysed(parameters: dict, notebook: str, work: Path) -> dict:
    """Analyse the export of a report's parameters, check the unit (or that units exist for the
    portfolio), and save the analysis for the notebook: its ``scores_file`` parameters."""
    from .analysis import analyse, check_reportable, save_analysis

    analysis = analyse(parameters.get("responses"), parameters.get("questionnaire"),
                       unit_column=parameters.get("unit_column"), load_options=parameters.get("load_options"),
                       min_group_size=parameters.get("min_group_size", 5), organisation=parameters.get("organisation", ""),
                       **({"seed": parameters["seed"]} if "seed" in parameters else {}))
    check_reportable(analysis, parameters.get("unit"), portfolio=notebook == "portfolio")
    path = work / "analysis.pkl"
    return {"scores_file": str(path), "scores_sha256": save_analysis(analysis, path)}
