"""Generate an evaluation case's workflow in-process: the planner, then the generator."""

from __future__ import annotations

from pilot_generator.generator import WorkflowGenerator
from pilot_planner.analyzer import PromptAnalyzer
from pilot_planner.settings import PlannerSettings
from pilot_shared.contracts import Workflow

from .scoring import Case

_analyzer: PromptAnalyzer | None = None
_generator = WorkflowGenerator()


def offline_analyzer() -> PromptAnalyzer:
    global _analyzer
    if _analyzer is None:
        _analyzer = PromptAnalyzer(PlannerSettings(llm_api_key=None, planner_strategy="offline"))
    return _analyzer


def generate(case: Case) -> Workflow:
    blueprint = offline_analyzer().offline.plan_now(case.prompt, case.preferences)
    return _generator.generate_workflow(blueprint, prompt=case.prompt)
