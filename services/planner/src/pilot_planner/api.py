"""The planner's catalog functions, for whatever serves them (the gateway, over whatever
transport the lead chooses): pure, no I/O, pydantic in and out.

- `list_templates(language)`: the built-in templates, for GET /api/templates
- `recommend_templates(prompt, limit)`: ranked with scores, for POST /api/templates/recommend
- `template_blueprint(template_id, preferences, prompt)`: a template as a blueprint, which
  the generator turns into a workflow (`WorkflowGenerator.generate_workflow`), for
  POST /api/templates/{id}/workflows
- `suggest_optimizations(workflow)`: concrete suggestions with patches, for
  GET /api/workflows/{id}/suggestions
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel

from pilot_shared.contracts import UserPreferences, Workflow, WorkflowBlueprint

from .optimizations import Suggestion
from .optimizations import suggest_optimizations as _suggest
from .recommender import Recommendation, TemplateRecommender, build_template
from .templates import CATALOG


class TemplateSummary(BaseModel):
    id: str
    title: str
    description: str
    node_types: list[str]


@cache
def _recommender() -> TemplateRecommender:
    return TemplateRecommender()


def list_templates(language: Literal["en", "zh"] = "en") -> list[TemplateSummary]:
    zh = language == "zh"
    return [
        TemplateSummary(
            id=t.id,
            title=t.title_zh if zh else t.title_en,
            description=t.description_zh if zh else t.description_en,
            node_types=sorted(t.node_types),
        )
        for t in CATALOG
    ]


def recommend_templates(prompt: str, limit: int = 3) -> list[Recommendation]:
    return _recommender().recommend_templates(prompt, limit=limit)


def template_blueprint(
    template_id: str, preferences: UserPreferences | None = None, prompt: str = ""
) -> WorkflowBlueprint:
    """Raises UnknownTemplate (a PlanningError: a 404) for an id not in the catalog."""
    return build_template(template_id, preferences, prompt=prompt)


def suggest_optimizations(workflow: Workflow) -> list[Suggestion]:
    return _suggest(workflow)


__all__ = [
    "Recommendation",
    "Suggestion",
    "TemplateSummary",
    "list_templates",
    "recommend_templates",
    "suggest_optimizations",
    "template_blueprint",
]
