"""Answers to the planner's queries (templates, recommendations, optimizations), as the
gateway asks for them over core NATS request/reply. Pure: message in, reply out; the
one query with an effect, instantiating a template, is wired in `app.py`."""

from __future__ import annotations

import logging
from typing import Literal

from pilot_shared.contracts import UserPreferences, Workflow, WorkflowBlueprint
from pilot_shared.contracts.messages import (
    OptimizationSuggestion,
    OptimizeQuery,
    OptimizeReply,
    QueryError,
    RecommendQuery,
    RecommendReply,
    TemplateConnection,
    TemplateDetail,
    TemplateListQuery,
    TemplateListReply,
    TemplateNode,
    TemplateQuery,
    TemplateRecommendation,
    TemplateReply,
    TemplateSummary,
)

from . import api
from .errors import PlanningError, UnknownTemplate
from .recommender import Recommendation
from .templates import CATALOG, TemplateInfo

log = logging.getLogger(__name__)

# Both titles and descriptions of every built-in template exist in each of these.
LANGUAGES: list[Literal["en", "zh"]] = ["en", "zh"]


def _summary(template: TemplateInfo, language: Literal["en", "zh"]) -> TemplateSummary:
    zh = language == "zh"
    # Keywords double as tags; each language gets those written in it.
    tags = [k for k in template.keywords if k.isascii() != zh]
    return TemplateSummary(
        id=template.id,
        name=template.title_zh if zh else template.title_en,
        description=template.description_zh if zh else template.description_en,
        tags=tags,
        languages=LANGUAGES,
        node_types=sorted(template.node_types),
    )


def list_templates(query: TemplateListQuery) -> TemplateListReply:
    return TemplateListReply(templates=[_summary(t, query.language) for t in CATALOG])


def _graph(blueprint: WorkflowBlueprint) -> tuple[list[TemplateNode], list[TemplateConnection]]:
    nodes = [
        TemplateNode(id=s.key, type=s.type, name=s.name, config=s.config) for s in blueprint.steps
    ]
    connections = [
        TemplateConnection(source=e.source, target=e.target, source_handle=e.handle)
        for e in blueprint.edges
    ]
    return nodes, connections


def get_template(query: TemplateQuery) -> TemplateReply:
    template = next((t for t in CATALOG if t.id == query.template_id), None)
    if template is None:
        return TemplateReply(error=_unknown(query.template_id))
    blueprint = api.template_blueprint(template.id)
    nodes, connections = _graph(blueprint)
    summary = _summary(template, query.language)
    return TemplateReply(
        template=TemplateDetail(**summary.model_dump(), nodes=nodes, connections=connections)
    )


# Below this score a template without keyword hits is named a weak match, not a fit.
CLOSE_SCORE = 0.3


def _reason(rec: Recommendation, zh: bool) -> str:
    if rec.matched:
        words = "、".join(rec.matched) if zh else ", ".join(f"“{w}”" for w in rec.matched)
        return f"提示中提到了{words}" if zh else f"the prompt mentions {words}"
    if rec.score >= CLOSE_SCORE:
        return "意图模型认为它接近该需求" if zh else "the intent model ranks it close to the prompt"
    return (
        "匹配度低：提示中没有用到它的关键词"
        if zh
        else "a weak match: the prompt uses none of its keywords"
    )


def recommend(query: RecommendQuery) -> RecommendReply:
    prompt = query.prompt.strip()
    if not prompt:
        return RecommendReply(error=QueryError(kind="invalid", detail="the prompt is empty"))
    zh = any(not ch.isascii() for ch in prompt)
    return RecommendReply(
        recommendations=[
            TemplateRecommendation(
                template_id=r.template_id,
                name=r.title,
                score=r.score,
                reason=_reason(r, zh),
            )
            for r in api.recommend_templates(prompt, limit=query.limit)
        ]
    )


def optimizations(query: OptimizeQuery) -> OptimizeReply:
    workflow: Workflow = query.workflow
    return OptimizeReply(
        suggestions=[
            OptimizationSuggestion.model_validate(s.model_dump(mode="json"))
            for s in api.suggest_optimizations(workflow)
        ]
    )


def template_plan(
    template_id: str, query_prompt: str, preferences: UserPreferences
) -> WorkflowBlueprint | QueryError:
    """The template as a blueprint to generate, or why there is none."""
    try:
        return api.template_blueprint(template_id, preferences, prompt=query_prompt)
    except UnknownTemplate:
        return _unknown(template_id)
    except PlanningError as exc:
        return QueryError(kind="invalid", detail=str(exc))


def _unknown(template_id: str) -> QueryError:
    known = ", ".join(t.id for t in CATALOG)
    return QueryError(
        kind="not_found", detail=f"no template {template_id!r}; the templates are {known}"
    )
