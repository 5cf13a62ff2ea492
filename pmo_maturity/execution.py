"""Running the report notebooks: parameters checked, executed with papermill in a fresh kernel,
exported with nbconvert to self-contained HTML without code or prompts.

Kept apart from :mod:`.report` (whose helpers run inside the notebooks) so that the processes that
only run notebooks, such as the batch workers, load no data or plotting library.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ._files import atomic_write_bytes
from ._resources import notebook_dir, template_dir
from .errors import ConfigurationError, ReportError

# The parameters of the notebooks: name -> accepted types (checked before every run).
ASSESSMENT_PARAMETERS: dict[str, tuple[type, ...]] = {
    "responses": (str, type(None)), "questionnaire": (str, type(None)), "unit": (str, type(None)),
    "unit_column": (str, type(None)), "target": (int, dict), "min_group_size": (int,),
    "headcount": (int, dict, type(None)), "previous": (str, type(None)), "scores_file": (str, type(None)),
    "scores_sha256": (str, type(None)), "organisation": (str,), "seed": (int,),
}
PORTFOLIO_PARAMETERS: dict[str, tuple[type, ...]] = {
    k: v for k, v in ASSESSMENT_PARAMETERS.items() if k not in ("unit", "previous")
}


def validate_parameters(parameters: dict, spec: dict[str, tuple[type, ...]], notebook: str) -> None:
    """Refuse unknown parameter names and wrong types before a run, naming what is accepted."""
    unknown = sorted(set(parameters) - set(spec))
    if unknown:
        raise ConfigurationError(f"{notebook}: unknown parameter(s) {unknown}; accepted: {sorted(spec)}")
    for name, value in parameters.items():
        allowed = spec[name]
        if isinstance(value, bool) or not isinstance(value, allowed):
            names = " or ".join("None" if t is type(None) else t.__name__ for t in allowed)
            raise ConfigurationError(f"{notebook}: parameter {name!r} must be {names}; got {type(value).__name__} "
                                     f"{value!r}")


def notebook_path(name: str) -> Path:
    """Path of a bundled notebook (``assessment`` or ``portfolio``)."""
    path = notebook_dir() / f"{name}.ipynb"
    if not path.is_file():
        raise ReportError(f"notebook {path} not found; reinstall pmo-maturity")
    return path


def execute_notebook(notebook: str | Path, output: str | Path, parameters: dict):
    """Execute a notebook with papermill in a fresh kernel; the executed notebook is written to
    ``output`` atomically and returned."""
    import papermill

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".running.{output.name}")
    try:
        executed = papermill.execute_notebook(str(notebook), str(tmp), parameters=parameters, progress_bar=False,
                                   log_output=False, kernel_name="python3", cwd=str(Path(notebook).parent),
                                   request_save_on_cell_execute=False,
                                   kernel_manager_class="pmo_maturity.execution.LocalKernelManager")
    except Exception:
        if tmp.exists():  # keep the partly executed notebook with its error for the reader
            os.replace(tmp, output.with_name(output.stem + ".error.ipynb"))
        raise
    os.replace(tmp, output)
    return executed


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
                                 exclude_markdown=True, exclude_raw=True, embed_images=True)
    return _EXPORTER


def export_html(notebook, output: str | Path, title: str | None = None) -> Path:
    """Export an executed notebook (a path or a notebook node) to self-contained HTML without code
    or prompts (atomically)."""
    import nbformat

    nb = notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(str(notebook), as_version=4)
    if title:
        nb.metadata["title"] = title
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title or Path(output).stem}})
    atomic_write_bytes(Path(output), body.encode("utf-8"))
    return Path(output)


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
    for key in ("responses", "questionnaire", "previous"):
        if parameters.get(key):
            parameters[key] = str(Path(parameters[key]).resolve())
    if parameters.get("scores_file"):
        parameters["scores_file"] = str(Path(parameters["scores_file"]).resolve())
    output = Path(output).resolve()
    executed = output.with_suffix(".ipynb")
    nb = execute_notebook(notebook_path(notebook), executed, parameters)
    html = export_html(nb, output, title=output.stem)
    if not keep_notebook:
        executed.unlink()
    return html
