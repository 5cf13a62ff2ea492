"""pmo-maturity: assess how well a PMO integrates strategy and execution.

The data flows questionnaire -> responses -> scores -> archetypes -> findings -> recommendations ->
narrative -> report -> batch; each stage is one module and one function here.

>>> import pmo_maturity as pm
>>> q = pm.load_questionnaire()
>>> scores = pm.score(pm.load_responses(pm.sample_path(), q))
>>> round(float(scores.overall_for()["score"]), 2)
2.85
"""

from ._version import kit_version
from .archetypes import Archetypes, UnitGroups, cluster_respondents, cluster_units
from .batch import BatchResult, run_batch
from .errors import (
    ConfigurationError,
    PmoMaturityError,
    Problem,
    QuestionnaireError,
    ReportError,
    ResponsesError,
)
from .findings import Finding, Findings, find_findings
from .narrative import Narrative, write_narrative
from .questionnaire import Dimension, Item, Level, Questionnaire, Scale, load_questionnaire
from .recommendations import Catalogue, Plan, load_catalogue, recommend
from .responses import REASONS, Responses, load_responses
from .sample import SampleData, generate_sample, sample_path
from .scoring import ScoringRules, Scores, score
from .report import render_report
from .template import write_template
from .trend import compare_cycles

__version__ = kit_version()

__all__ = [
    "REASONS",
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
