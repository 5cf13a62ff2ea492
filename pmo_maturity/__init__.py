"""pmo-maturity: assess how well a PMO integrates strategy and execution.

The data flows questionnaire -> responses -> scores -> archetypes -> findings -> recommendations ->
narrative -> report -> batch; each stage is one module and one function here.

>>> import pmo_maturity as pm
>>> q = pm.load_questionnaire()
>>> scores = pm.score(pm.load_responses(pm.sample_path(), q))
>>> round(float(scores.overall_for()["score"]), 2)
2.85
"""

from importlib import import_module
from typing import TYPE_CHECKING

from ._version import kit_version
from .errors import (
    BatchLockedError,
    ConfigurationError,
    MappingFileError,
    NotebookError,
    OptionError,
    OutputError,
    PmoMaturityError,
    Problem,
    QuestionnaireError,
    ReportError,
    ResponsesError,
    UnitNotFound,
    UnitNotReportableError,
    UnknownNameError,
)

# The stage functions and types, by module. They are imported on first use, so that the command
# line and the batch workers start without loading pandas, scipy and scikit-learn up front.
_EXPORTS = {
    "archetypes": ("Archetypes", "UnitGroups", "cluster_respondents", "cluster_units"),
    "batch": ("BatchResult", "run_batch"),
    "findings": ("Finding", "Findings", "find_findings"),
    "narrative": ("Narrative", "write_narrative"),
    "options": ("LoadOptions", "read_mapping_file"),
    "questionnaire": ("Dimension", "Item", "Level", "Questionnaire", "Scale", "load_questionnaire"),
    "recommendations": ("Catalogue", "Plan", "load_catalogue", "recommend"),
    "report": ("Portfolio", "Report", "prepare", "prepare_portfolio"),
    "execution": ("notebook_parameters", "render_report"),
    "responses": ("REASONS", "WARNINGS", "Responses", "load_responses"),
    "sample": ("SampleData", "generate_sample", "sample_path"),
    "scoring": ("ScoringRules", "Scores", "score"),
    "settings": ("ReportSettings",),
    "template": ("write_template",),
    "trend": ("compare_cycles",),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pmo_maturity' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from .archetypes import Archetypes, UnitGroups, cluster_respondents, cluster_units  # noqa: F401
    from .batch import BatchResult, run_batch  # noqa: F401
    from .findings import Finding, Findings, find_findings  # noqa: F401
    from .narrative import Narrative, write_narrative  # noqa: F401
    from .options import LoadOptions, read_mapping_file  # noqa: F401
    from .questionnaire import Dimension, Item, Level, Questionnaire, Scale, load_questionnaire  # noqa: F401
    from .recommendations import Catalogue, Plan, load_catalogue, recommend  # noqa: F401
    from .report import Portfolio, Report, prepare, prepare_portfolio  # noqa: F401
    from .execution import notebook_parameters, render_report  # noqa: F401
    from .responses import REASONS, WARNINGS, Responses, load_responses  # noqa: F401
    from .sample import SampleData, generate_sample, sample_path  # noqa: F401
    from .scoring import Scores, ScoringRules, score  # noqa: F401
    from .settings import ReportSettings  # noqa: F401
    from .template import write_template  # noqa: F401
    from .trend import compare_cycles  # noqa: F401

__version__ = kit_version()

__all__ = [
    "REASONS",
    "WARNINGS",
    "BatchLockedError",
    "LoadOptions",
    "MappingFileError",
    "NotebookError",
    "OptionError",
    "OutputError",
    "UnitNotFound",
    "UnitNotReportableError",
    "UnknownNameError",
    "read_mapping_file",
    "Archetypes",
    "BatchResult",
    "Catalogue",
    "Finding",
    "Findings",
    "Narrative",
    "Plan",
    "UnitGroups",
    "cluster_respondents",
    "cluster_units",
    "compare_cycles",
    "find_findings",
    "load_catalogue",
    "recommend",
    "notebook_parameters",
    "prepare",
    "prepare_portfolio",
    "Portfolio",
    "Report",
    "ReportSettings",
    "render_report",
    "run_batch",
    "write_narrative",
    "ConfigurationError",
    "Dimension",
    "Item",
    "Level",
    "PmoMaturityError",
    "Problem",
    "Questionnaire",
    "QuestionnaireError",
    "ReportError",
    "Responses",
    "ResponsesError",
    "SampleData",
    "Scale",
    "Scores",
    "ScoringRules",
    "__version__",
    "generate_sample",
    "load_questionnaire",
    "load_responses",
    "sample_path",
    "score",
    "write_template",
]
