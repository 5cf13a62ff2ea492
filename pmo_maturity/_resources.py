"""Where the bundled files live, in a checkout and in an installed wheel alike."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_questionnaire_dir() -> Path:
    """The folder holding the bundled instrument and action catalogue.

    An installed wheel carries ``questionnaires/`` inside the package; a checkout (or an editable
    install) has it at the top of the repository.
    """
    inside = Path(str(resources.files("pmo_maturity") / "questionnaires"))
    if inside.is_dir():
        return inside
    return _PACKAGE_DIR.parent / "questionnaires"


def bundled_file(name: str) -> Path:
    """Path of a file in the bundled ``questionnaires/`` folder."""
    return bundled_questionnaire_dir() / name


def data_file(name: str) -> Path:
    """Path of a file shipped in ``pmo_maturity/data`` (the sample export)."""
    return _PACKAGE_DIR / "data" / name


def template_dir() -> Path:
    """Folder of the Jinja2 templates used by the narrative and the index page."""
    return _PACKAGE_DIR / "templates"


def notebook_dir() -> Path:
    """The folder of the report notebooks (inside an installed wheel, or ``notebooks/`` of a checkout)."""
    inside = Path(str(resources.files("pmo_maturity") / "notebooks"))
    if inside.is_dir():
        return inside
    return _PACKAGE_DIR.parent / "notebooks"
