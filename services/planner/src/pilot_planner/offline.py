"""The offline strategy: deterministic rules, no network. Always available, and what the
LLM strategy falls back to."""

from __future__ import annotations

from pilot_shared.contracts import Entity, UserPreferences, WorkflowBlueprint, WorkflowIntent

from .builder import PlanContext
from .entities import extract_entities, name_spans
from .intent import classify
from .language import detect_language
from .templates import template_for


class OfflinePlanner:
    name = "offline"

    def __init__(self, default_model: str = "gpt-4o-mini") -> None:
        self.default_model = default_model

    def extract_entities(self, prompt: str) -> list[Entity]:
        return extract_entities(prompt)

    def analyze_intent(self, prompt: str, entities: list[Entity] | None = None) -> WorkflowIntent:
        found = extract_entities(prompt) if entities is None else entities
        # Product and model names say nothing about the writer's language.
        language = detect_language(prompt, ignore=name_spans(found))
        return classify(prompt, language)

    def suggest_workflow_structure(
        self,
        intent: WorkflowIntent,
        entities: list[Entity],
        preferences: UserPreferences,
        *,
        prompt: str,
    ) -> WorkflowBlueprint:
        ctx = PlanContext(
            prompt=prompt,
            intent=intent,
            entities=entities,
            preferences=preferences,
            default_model=self.default_model,
        )
        return template_for(intent.category)(ctx)

    async def plan(
        self, prompt: str, preferences: UserPreferences, *, reason: str = ""
    ) -> WorkflowBlueprint:
        entities = self.extract_entities(prompt)
        intent = self.analyze_intent(prompt, entities)
        blueprint = self.suggest_workflow_structure(intent, entities, preferences, prompt=prompt)
        return blueprint.model_copy(
            update={
                "strategy": "offline",
                "strategy_reason": reason or f"offline rules: {intent.category} template",
            }
        )
