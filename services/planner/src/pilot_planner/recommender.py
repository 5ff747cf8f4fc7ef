"""`TemplateRecommender` (the original plan's name): which built-in templates fit a prompt,
ranked with scores, and what to improve in a workflow.

A template's score blends the trained intent model's probability for it with how many of
its keywords the prompt uses, so that a prompt the model has never seen still ranks the
templates whose vocabulary it shares.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from pilot_shared.contracts import UserPreferences, Workflow, WorkflowBlueprint

from .builder import PlanContext
from .classifier import IntentModel, load_model
from .entities import extract_entities
from .errors import UnknownTemplate
from .language import detect_language
from .optimizations import Suggestion, suggest_optimizations
from .templates import CATALOG, TemplateInfo, template_for

MODEL_WEIGHT = 0.7
KEYWORD_WEIGHT = 0.3
KEYWORDS_FOR_FULL_CREDIT = 3


class Recommendation(BaseModel):
    template_id: str
    title: str
    description: str
    score: float = Field(ge=0, le=1)
    matched: list[str] = Field(default_factory=list, description="keywords the prompt used")
    node_types: list[str]


def _keyword_hits(prompt: str, template: TemplateInfo) -> list[str]:
    lowered = prompt.lower()
    hits = []
    for word in template.keywords:
        pattern = rf"(?<![a-z]){re.escape(word)}" if word.isascii() else re.escape(word)
        if re.search(pattern, lowered):
            hits.append(word)
    return hits


class TemplateRecommender:
    def __init__(self, model: IntentModel | None = None) -> None:
        self.model = model or load_model()

    def recommend_templates(self, prompt: str, limit: int = 3) -> list[Recommendation]:
        """The `limit` best templates for `prompt`, best first, scores in [0, 1]."""
        probabilities = self.model.probabilities(prompt) if self.model else {}
        zh = detect_language(prompt) != "en"
        ranked: list[Recommendation] = []
        for template in CATALOG:
            hits = _keyword_hits(prompt, template)
            keyword = min(1.0, len(hits) / KEYWORDS_FOR_FULL_CREDIT)
            model = probabilities.get(template.id, 0.0)
            score = MODEL_WEIGHT * model + KEYWORD_WEIGHT * keyword if probabilities else keyword
            ranked.append(
                Recommendation(
                    template_id=template.id,
                    title=template.title_zh if zh else template.title_en,
                    description=template.description_zh if zh else template.description_en,
                    score=round(min(1.0, score), 3),
                    matched=hits,
                    node_types=sorted(template.node_types),
                )
            )
        ranked.sort(key=lambda r: (-r.score, r.template_id))
        return ranked[: max(0, limit)]

    def suggest_optimizations(self, workflow: Workflow) -> list[Suggestion]:
        return suggest_optimizations(workflow)


def build_template(
    template_id: str,
    preferences: UserPreferences | None = None,
    *,
    prompt: str = "",
    default_model: str = "gpt-4o-mini",
) -> WorkflowBlueprint:
    """A built-in template as a blueprint (for "create from template"); `prompt` lends
    it specifics (a model, a channel, a language) as it does for a generated workflow."""
    from .intent import classify

    titles = {t.id: t.title_en for t in CATALOG}
    if template_id not in titles:
        raise UnknownTemplate(f"no template {template_id!r}; the templates are {', '.join(titles)}")
    text = prompt or titles[template_id]
    language = detect_language(text)
    intent = classify(text, language).model_copy(
        update={"category": template_id, "confidence": 1.0}
    )
    ctx = PlanContext(
        prompt=text,
        intent=intent,
        entities=extract_entities(text),
        preferences=preferences or UserPreferences(),
        default_model=default_model,
    )
    blueprint = template_for(template_id)(ctx)
    return blueprint.model_copy(
        update={"strategy": "template", "strategy_reason": f"the built-in {template_id} template"}
    )
