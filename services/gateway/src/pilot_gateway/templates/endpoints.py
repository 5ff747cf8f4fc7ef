"""/api/templates: the built-in templates, ranked recommendations for a prompt, a new
workflow from a template; and GET /api/workflows/{id}/optimizations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from pilot_shared.contracts.messages import (
    OptimizationSuggestion,
    TemplateDetail,
    TemplateRecommendation,
    TemplateSummary,
)

from ..deps import CallerDep, LiveDep, NatsDep, SettingsDep, ViewableWorkflow, WorkflowStoreDep
from ..errors import COMMON_ERRORS, error_responses
from ..generation.schemas import GenerateWorkflowResponse
from ..workflows.service import record_first_version
from .schemas import (
    OPTIMIZATIONS_EXAMPLE,
    RECOMMENDATIONS_EXAMPLE,
    TEMPLATE_DETAIL_EXAMPLE,
    TEMPLATE_SUMMARY_EXAMPLE,
    InstantiateTemplateRequest,
    Language,
    RecommendRequest,
    example,
)
from .service import Planner

router = APIRouter(
    tags=["templates"],
    responses=error_responses(
        *COMMON_ERRORS,
        502,
        _502="The planner's answer could not be used",
        _503="The planner (or NATS) is not running or did not answer in time",
    ),
)


def get_planner(nc: NatsDep, settings: SettingsDep) -> Planner:
    return Planner(nc, settings)


PlannerDep = Annotated[Planner, Depends(get_planner)]
LanguageParam = Annotated[
    Language, Query(description="Language of names, descriptions and tags: en or zh")
]

_NOT_FOUND = error_responses(404, _404="No built-in template has this id")


@router.get(
    "/api/templates",
    response_model=list[TemplateSummary],
    summary="List the built-in templates",
    responses=example([TEMPLATE_SUMMARY_EXAMPLE]),
)
async def list_templates(
    _: CallerDep, planner: PlannerDep, language: LanguageParam = "en"
) -> list[TemplateSummary]:
    return await planner.list_templates(language)


@router.post(
    "/api/templates/recommend",
    response_model=list[TemplateRecommendation],
    summary="Rank the templates that fit a prompt",
    responses=example(RECOMMENDATIONS_EXAMPLE, "The best templates first, scores in [0, 1]"),
)
async def recommend_templates(
    body: RecommendRequest, _: CallerDep, planner: PlannerDep
) -> list[TemplateRecommendation]:
    """Scores blend the planner's intent model with the template keywords the prompt uses."""
    return await planner.recommend(body)


@router.get(
    "/api/templates/{template_id}",
    response_model=TemplateDetail,
    summary="One template, with its graph",
    responses={**example(TEMPLATE_DETAIL_EXAMPLE), **_NOT_FOUND},
)
async def get_template(
    template_id: str, _: CallerDep, planner: PlannerDep, language: LanguageParam = "en"
) -> TemplateDetail:
    return await planner.get_template(template_id, language)


@router.post(
    "/api/templates/{template_id}/instantiate",
    status_code=status.HTTP_201_CREATED,
    response_model=GenerateWorkflowResponse,
    summary="Create a workflow from a template",
    responses={
        **_NOT_FOUND,
        **error_responses(504, _504="No workflow within the generation timeout"),
    },
)
async def instantiate_template(
    template_id: str,
    caller: CallerDep,
    planner: PlannerDep,
    live: LiveDep,
    store: WorkflowStoreDep,
    body: InstantiateTemplateRequest | None = None,
) -> GenerateWorkflowResponse:
    """The workflow is generated from the template as from a prompt (validated, laid out,
    costed), stored, owned by the caller, and returned as generate returns it."""
    watch = await planner.instantiate(
        live, template_id, body or InstantiateTemplateRequest(), owner_id=caller.id
    )
    try:
        result = await watch.result(store.workflows)
        await record_first_version(store, result.workflow)
        return result
    finally:
        await watch.close()


@router.get(
    "/api/workflows/{workflow_id}/optimizations",
    response_model=list[OptimizationSuggestion],
    summary="Suggestions to make a workflow cheaper, faster or sturdier",
    responses={
        **example(OPTIMIZATIONS_EXAMPLE, "Each suggestion with the patch that applies it"),
        **error_responses(404),
    },
)
async def workflow_optimizations(
    authorized: ViewableWorkflow, planner: PlannerDep
) -> list[OptimizationSuggestion]:
    """Read from the graph's structure (models, retries, chains of LLM calls, steps that
    could run in parallel); nothing is run."""
    return await planner.optimizations(authorized.workflow)
