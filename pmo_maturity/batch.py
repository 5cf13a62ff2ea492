"""Batch runs: one export in, one report per business unit out, in parallel, surviving a bad unit.

:func:`run_batch` reads and scores the export once, saves the analysis, then runs the assessment
notebook for every reportable unit (and the portfolio notebook once) in worker processes. It takes
any ``concurrent.futures.Executor``: a local process pool by default, or a Dask cluster's
``Client.get_executor()`` with ``out`` on shared storage; a unit's run only reads the files named
in its task (absolute paths), never the parent's memory or current directory.

Every output is written atomically (a half-written report never looks finished). ``manifest.json``
records each unit's status, duration, whole error message and the input's SHA-256, and the
settings of the run; it is rewritten after each unit, so that ``resume=True`` re-runs only the
units that failed or are missing, and says which settings differ when everything must run again.
One batch at a time writes into an output folder: a lock file holds the writer's process id and
start time, and a lock left by a process that no longer runs is taken over.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from ._version import kit_version
from .errors import BatchLockedError, OutputError
from .headcount import read_headcount

# The heavy modules (pandas, scipy, the report) are imported inside the functions: the parent starts
# its worker processes first, so that they load while it scores.

MANIFEST = "manifest.json"
INDEX = "index.html"
PORTFOLIO = "__portfolio__"
ORGANISATION_REPORT = "__organisation__"
_WHOLE = {PORTFOLIO: "portfolio", ORGANISATION_REPORT: "organisation"}  # reports that are not of one unit
LOCK = ".batch.lock"


@dataclass(frozen=True)
class UnitTask:
    """Everything a worker needs to render one report (picklable, absolute paths only)."""

    name: str  # the unit, PORTFOLIO or ORGANISATION_REPORT
    notebook: str  # "assessment", "portfolio" or the path of a custom notebook
    html: str
    parameters: dict


@dataclass
class BatchResult:
    """The outcome of a batch run."""

    out: Path
    index: Path
    manifest: dict
    failed: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def slug(name: str) -> str:
    """A file name for a unit: readable, safe and unique (unit names are untrusted text)."""
    readable = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "unit"
    return f"{readable}-{hashlib.sha1(name.encode('utf-8')).hexdigest()[:6]}"


def run_unit(task: UnitTask) -> dict:
    """Render one report; never raises (a failure is returned as a status with its error)."""
    started = time.perf_counter()
    html = Path(task.html)
    error_notebook = html.with_name(html.stem + ".error.ipynb")
    try:
        from .execution import ASSESSMENT_PARAMETERS, execute_notebook, export_html, render_report, validate_parameters

        # Readers get the HTML only: the executed notebook (code, parameters, paths) is kept only when
        # the run fails, as the notebook with the error.
        if task.notebook in ("assessment", "portfolio"):
            render_report(html, notebook=task.notebook, keep_notebook=False, **task.parameters)
        else:  # a consultant's own notebook: same parameters, same export
            validate_parameters(task.parameters, ASSESSMENT_PARAMETERS, Path(task.notebook).name)
            executed = execute_notebook(task.notebook, html.with_suffix(".ipynb"), dict(task.parameters))
            export_html(executed, html)
            html.with_suffix(".ipynb").unlink(missing_ok=True)
        error_notebook.unlink(missing_ok=True)
        status, error = "ok", ""
    except Exception as err:  # report the failure, keep the other units going
        status, error = "failed", error_text(err)
    return {"unit": task.name, "status": status, "seconds": round(time.perf_counter() - started, 2),
            "error": error, "html": html.name if status == "ok" else "",
            "error_notebook": error_notebook.name if status == "failed" and error_notebook.exists() else ""}


def warm_up(notebooks: str | None = None, spare_kernel: bool = True) -> bool:
    """Get a worker ready while the parent is still scoring: load what a report run needs (imports,
    the HTML exporter's templates) and, with ``spare_kernel``, start the kernel of its first report,
    which imports the report helpers meanwhile (``notebooks``: the folder of the notebooks it will
    run). The batch asks for the kernel only in the worker processes it starts itself, which end
    with the batch (and shut down a kernel they did not use)."""
    import nbformat

    from .execution import _exporter, start_spare_kernel

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    _exporter().from_notebook_node(nb, resources={"metadata": {"name": "warm-up"}})
    if spare_kernel:
        start_spare_kernel(notebooks)
    return True


def error_text(err: BaseException) -> str:
    """A failure's whole message, as the manifest keeps it (terminal colours removed)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip()
    detail = re.sub(r"\x1b\[[0-9;]*m", "", str(getattr(err, "detail", "") or "")).strip()
    if detail and detail not in text:
        text = f"{text}\n{detail}"
    return text or "".join(traceback.format_exception_only(type(err), err)).strip()


def error_summary(text: str, width: int = 160) -> str:
    """A failure's message in one readable line for the screen (its first line, shortened)."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    first = lines[0] if lines else "(no message)"
    return first if len(first) <= width else first[:width - 3] + "..."


def run_batch(source: str | Path, *, by: str | None = None, out: str | Path = "outputs/batch", workers: int = 2,
              executor: Executor | None = None, resume: bool = False, questionnaire: str | Path | None = None,
              load_options=None, target: int | dict = 3, min_group_size: int = 5,
              headcount: int | dict | str | Path | None = None, organisation: str = "", seed: int | None = None,
              notebook: str | Path | None = None, portfolio: bool = True, progress: bool = True,
              notify: Callable[[str], None] | None = None, work_dir: str | Path | None = None,
              day_rate: float | None = None, currency: str = "") -> BatchResult:
    """Score an export once, then render one report per unit, the portfolio and an index page.

    Parameters
    ----------
    source : path
        The survey export.
    by : str, optional
        The business unit column (default: detected); a shorthand for ``load_options``' ``unit_column``.
    out : path
        Output folder (``index.html``, ``manifest.json``, ``units/``, ``portfolio.html``). One batch at
        a time writes into it (:class:`~pmo_maturity.errors.BatchLockedError` otherwise).
    workers : int
        Worker processes of the default local pool.
    executor : Executor, optional
        Any ``concurrent.futures.Executor`` (for example ``dask.distributed.Client.get_executor()``).
    resume : bool
        Re-run only the units that failed or whose report is missing (same input file and settings;
        when they differ, every unit runs again and ``notify`` says which settings differ).
    load_options : LoadOptions or dict, optional
        The loader's options (:class:`~pmo_maturity.LoadOptions`).
    notebook : path, optional
        A customised copy of the assessment notebook (same parameters).
    headcount : int, dict or path, optional
        People invited (see :mod:`pmo_maturity.headcount`), for the response rates.
    day_rate, currency : optional
        Cost of a person-day, for indicative costs in the plans.
    work_dir : path, optional
        Where the analysis handed to the workers is kept during the run (default: a hidden folder
        beside ``out``, ``.<out>.work``; on a cluster, a folder every worker can read). It holds
        aggregates only, is never inside ``out`` (the folder handed to readers) and is removed when
        the run ends.
    notify : callable, optional
        Receives messages for the user (a lock taken over, why units run again); default: standard error.

    Returns
    -------
    BatchResult
        ``exit_code`` is 1 when any unit failed.
    """
    from .options import LoadOptions

    options = LoadOptions.coerce(load_options, unit_column=by)
    notify = notify or _to_stderr
    out = Path(out).resolve()
    source = Path(source).resolve()
    try:
        (out / "units").mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(out, f"cannot be written: {err.strerror or err}") from err
    work = Path(work_dir).resolve() if work_dir is not None else out.parent / f".{out.name}.work"
    with OutputLock(out, notify):
        started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        own_pool = executor is None
        pool = executor or ProcessPoolExecutor(max_workers=workers, mp_context=_spawn())
        try:
            return _run(pool, source, started, out, out / "units", work, own_pool=own_pool, options=options,
                        workers=workers, resume=resume, questionnaire=questionnaire, target=target,
                        min_group_size=min_group_size, headcount=headcount, organisation=organisation, seed=seed,
                        notebook=notebook, portfolio=portfolio, progress=progress, notify=notify,
                        costs={"day_rate": day_rate, "currency": currency})
        finally:
            if own_pool:
                pool.shutdown(wait=True, cancel_futures=True)
            shutil.rmtree(work, ignore_errors=True)  # the hand-off to the workers is never left behind


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run(pool: Executor, source: Path, started, out: Path, units_dir: Path, work: Path, *, own_pool, options,
         workers, resume, questionnaire, target, min_group_size, headcount, organisation, seed, notebook, portfolio,
         progress, notify, costs) -> BatchResult:
    """The batch's steps once the pool exists: score once, run the units, write the index."""
    # Workers load, and start their first kernel, while the parent scores.
    notebooks = str(Path(notebook).resolve().parent) if notebook else None
    warming = [pool.submit(warm_up, notebooks, own_pool) for _ in range(workers)]
    from .export import atomic_write_bytes, write_json
    from .analysis import analyse, check_reportable, save_analysis
    from .scoring import ScoringRules

    seed = ScoringRules.seed if seed is None else seed

    # 1. Score once; every unit reads this analysis.
    analysis = analyse(source, questionnaire, load_options=options, min_group_size=min_group_size, seed=seed,
                       organisation=organisation)
    scores = analysis.scores
    input_sha = scores.provenance["input_sha256"]  # the reader hashed the file as it read it
    check_reportable(analysis, None, portfolio=True)
    responses = scores.responses  # kept for the run's settings: the hand-off to the workers has no rows
    analysis_path = work / "analysis.pkl"
    analysis_sha = save_analysis(analysis, analysis_path)
    if isinstance(headcount, (str, Path)) and not str(headcount).strip().isdigit():
        headcount = str(Path(headcount).resolve())
    read_headcount(headcount)  # a bad headcount file is an error now, not in every report

    # 2. Decide what to run.
    previous = _read_manifest(out) if resume else {}
    common = {"responses": str(source), "questionnaire": str(Path(questionnaire).resolve()) if questionnaire else None,
              "unit_column": None, "load_options": options.to_dict(changed_only=True) or None, "target": target,
              "min_group_size": min_group_size, "headcount": headcount, "scores_file": str(analysis_path),
              "scores_sha256": analysis_sha, "organisation": organisation, "seed": seed}
    settings = run_settings({**common, **costs}, notebook, responses)
    digest = _digest(settings)
    reuse_ok = resume and _resume_check(previous, input_sha, settings, digest, notify)
    tasks, entries, again = [], {}, []
    for unit in scores.reportable_units:
        html = units_dir / f"{slug(unit)}.html"
        old = previous.get("units", {}).get(unit, {})
        if reuse_ok and old.get("status") == "ok" and html.exists():
            entries[unit] = {**old, "reused": True}
            continue
        if reuse_ok:
            again.append(f"{unit}: {'failed last time' if old.get('status') == 'failed' else 'no report yet'}")
        tasks.append(UnitTask(unit, str(notebook) if notebook else "assessment", str(html),
                              {**common, **costs, "unit": unit, "index_url": f"../{INDEX}"}))
    whole = [(ORGANISATION_REPORT, str(notebook) if notebook else "assessment", {**common, **costs})]
    if portfolio:
        whole.append((PORTFOLIO, "portfolio", dict(common)))
    for name, book, parameters in whole:
        key = _WHOLE[name]
        html = out / f"{key}.html"
        old = previous.get(key, {})
        if reuse_ok and old.get("status") == "ok" and html.exists():
            entries[name] = {**old, "reused": True}
        else:
            tasks.append(UnitTask(name, book, str(html), {**parameters, "index_url": INDEX}))
            if reuse_ok:
                again.append(f"{key}: {'failed last time' if old.get('status') == 'failed' else 'no report yet'}")
    if reuse_ok:
        notify(f"resume: {len(entries)} report(s) reused, {len(tasks)} to render"
               + (f" ({'; '.join(again)})" if again else ""))

    # Longest first, so that no worker is left alone with a long report at the end: the organisation
    # (every unit's plan) and the portfolio (every unit), then units by size.
    sizes = scores.overall[scores.overall["scope"] == "unit"].set_index("group")["n"].fillna(0)
    tasks.sort(key=lambda t: (t.name not in _WHOLE, -int(sizes.get(t.name, 0))))

    # 3. Run in parallel, recording each result as it arrives.
    manifest = {
        "kit_version": kit_version(), "input": str(source), "input_sha256": input_sha,
        "questionnaire": f"{scores.questionnaire.id} v{scores.questionnaire.version}", "settings_sha256": digest,
        "settings": settings,
        "started": started.isoformat(), "workers": workers, "units": {}, "suppressed": scores.suppressed_units,
        "organisation": {}, "portfolio": {},
    }
    for name, entry in entries.items():
        _record(manifest, name, entry)
    for future in warming:  # a worker that cannot even start shows up here, before any unit runs
        future.exception()
    futures = {pool.submit(run_unit, task): task for task in tasks}
    bar = _progress(len(futures), progress)
    for future in as_completed(futures):
        task = futures[future]
        try:
            result = future.result()
        except Exception as err:  # the worker itself died (killed, out of memory, ...)
            result = {"unit": task.name, "status": "failed", "seconds": None, "error": error_text(err),
                      "html": "", "error_notebook": ""}
        result["input_sha256"] = input_sha
        if task.name not in _WHOLE:
            result["html"] = f"units/{result['html']}" if result["html"] else ""
            result["error_notebook"] = f"units/{result['error_notebook']}" if result["error_notebook"] else ""
        _record(manifest, task.name, result)
        write_json(manifest, out / MANIFEST)
        bar.update(1)
        if result["status"] != "ok":
            bar.write(f"{_WHOLE.get(task.name, task.name)}: failed: {error_summary(result['error'])}")
    bar.close()

    # 4. The index page and the final manifest.
    failed = sorted(u for u, e in manifest["units"].items() if e["status"] != "ok")
    failed += [key for key in ("organisation", "portfolio") if manifest[key] and manifest[key].get("status") != "ok"]
    manifest.update(finished=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
                    failed=failed, exit_code=1 if failed else 0)
    index = out / INDEX
    atomic_write_bytes(index, _index_html(analysis, manifest).encode("utf-8"))
    write_json(manifest, out / MANIFEST)
    return BatchResult(out=out, index=index, manifest=manifest, failed=failed)


def run_settings(common: dict, notebook, responses=None) -> dict:
    """What the reports depend on besides the input file's content, as the manifest records it.

    The loader's options count by their effect (the columns, encoding and delimiter the file was
    read with), not as given: leaving out ``--by`` when it names the column that is detected
    anyway changes nothing.
    """
    settings = {k: v for k, v in common.items()
                if k not in ("scores_file", "scores_sha256", "responses", "unit_column", "load_options")}
    settings["notebook"] = hashlib.sha256(Path(notebook).read_bytes()).hexdigest() if notebook else "assessment"
    settings["kit_version"] = kit_version()
    for key in ("questionnaire", "headcount"):  # files: their content counts, not only their name
        value = settings.get(key)
        if isinstance(value, str) and Path(value).is_file():
            settings[f"{key}_sha256"] = hashlib.sha256(Path(value).read_bytes()).hexdigest()
    if responses is not None:
        s, src = responses.summary, responses.summary["source"]
        settings["columns"] = {**{f"{role} column": header for role, header in responses.columns.meta.items()},
                               "items": dict(sorted(responses.columns.items.items()))}
        settings["reading"] = {"encoding": src["encoding"], "delimiter": src["delimiter"], "sheet": src["sheet"],
                               "layout": s["layout"], "na_codes": s["na_codes"]}
        options = dict(common.get("load_options") or {})
        settings["loading"] = {k: options.get(k, default) for k, default in
                               (("values", {}), ("require_unit", True), ("exclude_flagged", False))}
    return json.loads(json.dumps(settings, sort_keys=True, default=str))


def _settings_digest(common: dict, notebook) -> str:
    """What a report depends on besides the input file; a resumed run reuses reports only when it matches."""
    return _digest(run_settings(common, notebook))


def _digest(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _resume_check(previous: dict, input_sha: str, settings: dict, digest: str, notify) -> bool:
    """Whether a resumed run may reuse the previous run's reports; if not, says why."""
    if not previous:
        notify("resume: no earlier run in this folder (no manifest.json): every report is rendered")
        return False
    reasons = []
    if previous.get("input_sha256") != input_sha:
        reasons.append(f"the input file changed (SHA-256 {str(previous.get('input_sha256'))[:12]}... now "
                       f"{input_sha[:12]}...)")
    if previous.get("settings_sha256") != digest:
        old = previous.get("settings")
        if not isinstance(old, dict):
            reasons.append("the earlier run recorded its settings only as a digest, which differs")
        else:
            before, now = _flat(old), _flat(settings)
            for key in sorted(set(before) | set(now)):
                if before.get(key) != now.get(key):
                    reasons.append(f"{key}: {_shown(before.get(key))} then, {_shown(now.get(key))} now")
    if not reasons:
        return True
    when = previous.get("started", "the earlier run")
    notify(f"resume: every report is rendered again, because the run of {when} differs: " + "; ".join(reasons))
    return False


def _flat(settings: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in settings.items():
        if isinstance(value, dict) and key != "items" and value:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _shown(value) -> str:
    if value is None:
        return "none"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class OutputLock:
    """One batch at a time in an output folder: an exclusive lock on ``<folder>/.batch.lock``,
    which records the holder's process id, host and start time.

    The operating system releases the lock when its process ends, however it ends; a lock file left
    by a process that no longer runs is taken over (``notify`` says so). Where file locks are not
    available, the file itself is the lock, and a holder whose process is gone is taken over.
    """

    def __init__(self, folder: Path, notify: Callable[[str], None] = _to_stderr):
        self.folder, self.path, self.notify = Path(folder), Path(folder) / LOCK, notify
        self._fd: int | None = None

    def __enter__(self) -> OutputLock:
        try:
            import fcntl
        except ImportError:  # not POSIX: the file is the lock
            fcntl = None
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            holder = _read_lock(fd)
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    raise BatchLockedError(str(self.folder), holder.get("pid"), holder.get("started", "unknown"),
                                           holder.get("host", "")) from None
            elif holder.get("pid") and _alive(holder["pid"]) and holder.get("pid") != os.getpid():
                os.close(fd)
                raise BatchLockedError(str(self.folder), holder.get("pid"), holder.get("started", "unknown"),
                                       holder.get("host", ""))
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:  # else the holder removed the file as it finished: lock the new one
                break
            os.close(fd)
        self._fd = fd
        if holder.get("pid"):
            self.notify(f"{self.folder}: taking over the lock of batch pid {holder['pid']} (started "
                        f"{holder.get('started', 'at an unknown time')}), which is no longer running")
        mine = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(mine).encode("utf-8"), 0)
        os.fsync(fd)
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            try:
                self.path.unlink(missing_ok=True)
            finally:
                os.close(self._fd)  # releases the lock
                self._fd = None


def _read_lock(fd: int) -> dict:
    try:
        data = os.pread(fd, 4096, 0)
        holder = json.loads(data.decode("utf-8")) if data.strip() else {}
        return holder if isinstance(holder, dict) else {}
    except (OSError, ValueError):
        return {}


def _alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, OverflowError):
        return False
    return True


def _record(manifest: dict, name: str, entry: dict) -> None:
    entry = {k: v for k, v in entry.items() if k != "unit"}
    if name in _WHOLE:
        manifest[_WHOLE[name]] = entry
    else:
        manifest["units"][name] = entry


def _read_manifest(out: Path) -> dict:
    path = out / MANIFEST
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _spawn():
    import multiprocessing

    return multiprocessing.get_context("spawn")  # clean workers: no copy of the parent's memory or threads


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="reports", unit="report", disable=not enabled or total == 0)


def _index_html(analysis, manifest: dict) -> str:
    from .narrative import render

    scores = analysis.scores
    q = scores.questionnaire
    overall = scores.overall.set_index("group")

    def reading(o) -> str:
        return q.level_reading(o["continuous_level"], o["continuous_level_ci_low"], o["continuous_level_ci_high"])

    rows = []
    for unit, entry in sorted(manifest["units"].items()):
        o = overall.loc[unit]
        rows.append({"unit": unit, "status": entry["status"], "html": entry.get("html", ""),
                     "error_notebook": entry.get("error_notebook", ""), "error": entry.get("error", ""),
                     "n": int(o["n"]), "score": o["score"], "index": o["index"], "level": reading(o),
                     "staged": q.level_reading(o["staged_level"], o["staged_level_ci_low"], o["staged_level_ci_high"])})
    rows.sort(key=lambda r: -r["score"])
    org = scores.overall_for()
    return render("index.html.j2", title=f"{q.title}: {analysis.organisation or 'Organisation'}, all reports",
                  rows=rows, overall=org.to_dict(), level=reading(org), manifest=manifest,
                  suppressed=manifest["suppressed"], questionnaire=f"{q.id} version {q.version}",
                  min_group_size=scores.rules.min_group_size, date=manifest["started"][:10],
                  portfolio=manifest.get("portfolio", {}), organisation_report=manifest.get("organisation", {}))
