"""Writing files atomically (a reader never sees a half-written file)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write to a temporary file beside ``path`` and rename it into place (readable by the owner
    only when ``private``, else with the usual mode). A file that cannot be written raises
    :class:`~pmo_maturity.errors.OutputError` naming it."""
    from .errors import OutputError

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise OutputError(path, f"cannot be written: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        file_mode(tmp, private)
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(path, f"cannot be written: {err.strerror or err}") from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_mode(path: str | Path, private: bool) -> None:
    """Owner-only for respondent-level files; otherwise the mode the user's umask gives a new file
    (``mkstemp`` makes every temporary file private)."""
    os.chmod(path, 0o600 if private else 0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
