"""`PromptAnalyzer`: prompt -> intent, entities, blueprint (the original plan's names).

Two strategies behind one `plan()`: the LLM planner when one is configured, and the
offline rules, which are always there and which the LLM planner falls back to. The
blueprint records which strategy made it and why (`strategy`, `strategy_reason`).
"""

from __future__ import annotations

import logging
from typing import Literal, Protocol

from pilot_shared.contracts import Entity, UserPreferences, WorkflowBlueprint, WorkflowIntent

from .errors import LLMPlanError
from .guard import check_prompt
from .llm import LLMPlanner
from .offline import OfflinePlanner
from .settings import PlannerSettings

log = logging.getLogger(__name__)

StrategyChoice = Literal["auto", "offline", "llm"]


class PlanningStrategy(Protocol):
    name: str

    async def plan(self, prompt: str, preferences: UserPreferences) -> WorkflowBlueprint: ...


class PromptAnalyzer:
    def __init__(
        self,
        settings: PlannerSettings | None = None,
        *,
        offline: OfflinePlanner | None = None,
        llm: PlanningStrategy | None = None,
    ) -> None:
        self.settings = settings or PlannerSettings()
        self.offline = offline or OfflinePlanner(default_model=self.settings.llm_model)
        if llm is None and self.settings.llm_enabled:
            llm = LLMPlanner(self.settings)
        self.llm = llm

    async def aclose(self) -> None:
        if isinstance(self.llm, LLMPlanner):
            await self.llm.aclose()

    # --- the rule-based pieces, each usable on its own --------------------------------

    def analyze_intent(self, prompt: str) -> WorkflowIntent:
        return self.offline.analyze_intent(check_prompt(prompt))

    def extract_entities(self, prompt: str) -> list[Entity]:
        return self.offline.extract_entities(check_prompt(prompt))

    def suggest_workflow_structure(
        self,
        intent: WorkflowIntent,
        entities: list[Entity] | None = None,
        preferences: UserPreferences | None = None,
        *,
        prompt: str = "",
    ) -> WorkflowBlueprint:
        """A blueprint for an intent already analyzed. `prompt` lends its specifics (the
        wording of system prompts, a general workflow's task); without it the intent's
        summary stands in."""
        text = prompt or intent.summary or intent.category
        return self.offline.suggest_workflow_structure(
            intent, entities or [], preferences or UserPreferences(), prompt=text
        )

    # --- the whole thing --------------------------------------------------------------

    async def plan(
        self,
        prompt: str,
        preferences: UserPreferences | None = None,
        *,
        strategy: StrategyChoice = "auto",
    ) -> WorkflowBlueprint:
        """Raises PromptRejected for an empty or oversized prompt; otherwise always
        returns a blueprint (an LLM failure falls back to the offline rules)."""
        prompt = check_prompt(prompt)
        prefs = preferences or UserPreferences()
        choice = self.settings.planner_strategy if strategy == "auto" else strategy
        if choice == "offline":
            return await self.offline.plan(
                prompt, prefs, reason="the offline planner was requested"
            )
        if self.llm is None:
            reason = "no LLM is configured (PILOT_LLM_API_KEY is unset)"
            if choice == "llm":
                reason = "the LLM planner was requested, but " + reason
            return await self.offline.plan(prompt, prefs, reason=reason)
        try:
            return await self.llm.plan(prompt, prefs)
        except LLMPlanError as exc:
            reason = f"{exc}; used the offline rules instead"
        except Exception as exc:  # any provider or client failure must not fail the plan
            log.warning("LLM planner failed", exc_info=True)
            reason = (
                f"the LLM planner failed ({type(exc).__name__}); used the offline rules instead"
            )
        log.info("planning fell back to offline rules: %s", reason)
        return await self.offline.plan(prompt, prefs, reason=reason)
