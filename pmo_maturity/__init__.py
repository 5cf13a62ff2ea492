"""pmo-maturity: assess how well a PMO integrates strategy and execution.

The data flows questionnaire -> responses -> scores -> archetypes -> findings -> recommendations ->
narrative -> report -> batch; each stage is one module and one function here.

>>> import pmo_maturity as pm
>>> q = pm.load_questionnaire()
>>> scores = pm.score(pm.load_responses(pm.sample_path(), q))
>>> round(float(scores.overall_for()["score"]), 2)
3.06
"""

from ._version import kit_version
from .errors import (
    ConfigurationError,
    PmoMaturityError,
    Problem,
    QuestionnaireError,
    ReportError,
    ResponsesError,
)
from .questionnaire import Dimension, Item, Level, Questionnaire, Scale, load_questionnaire
from .responses import REASONS, Responses, load_responses
from .sample import SampleData, generate_sample, sample_path
from .scoring import ScoringRules, Scores, score
from .template import write_template

__version__ = kit_version()

__all__ = [
    "REASONS",
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
