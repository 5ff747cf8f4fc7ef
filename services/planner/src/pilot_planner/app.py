"""The planner service: `PlanRequest` in, `GenerateRequest` and generation events out."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from faststream import FastStream
from faststream.nats import NatsBroker

from pilot_shared import metrics, subjects
from pilot_shared.bus import publish, work_subscriber
from pilot_shared.contracts import (
    GenerateRequest,
    GenerationEvent,
    PlanRequest,
    WorkflowBlueprint,
)
from pilot_shared.contracts.messages import (
    InstantiateReply,
    InstantiateRequest,
    OptimizeQuery,
    OptimizeReply,
    QueryError,
    RecommendQuery,
    RecommendReply,
    TemplateListQuery,
    TemplateListReply,
    TemplateQuery,
    TemplateReply,
)
from pilot_shared.service import ServiceResources, service_app
from pilot_shared.settings import PilotSettings

from . import queries
from .analyzer import PromptAnalyzer
from .errors import PlanningError
from .settings import PlannerSettings

log = logging.getLogger(__name__)


async def handle_plan(request: PlanRequest, analyzer: PromptAnalyzer, broker: NatsBroker) -> None:
    """Plan one prompt. A prompt that cannot be planned becomes a `generation.failed`
    event and the message is acked; a bus failure raises, so the request is redelivered
    (publishes carry msg ids, so a retry does not duplicate what already went out)."""
    gid = request.generation_id
    started = time.perf_counter()
    try:
        blueprint = await analyzer.plan(
            request.prompt, request.user_preferences, strategy=request.planner
        )
    except PlanningError as exc:
        log.info("generation %s: prompt rejected: %s", gid, exc)
        # No blueprint, so no strategy that made it: the one asked for stands in.
        metrics.GENERATIONS.labels(request.planner, "failed").inc()
        await _fail(broker, gid, str(exc), type(exc).__name__)
        return
    except Exception:
        # Planning touches no infrastructure (LLM failures fall back inside the analyzer),
        # so anything else is a bug that a redelivery would only repeat: fail fast.
        log.exception("generation %s: planner error", gid)
        metrics.GENERATIONS.labels(request.planner, "failed").inc()
        await _fail(broker, gid, "internal planner error; see the planner's log", "internal")
        return
    metrics.GENERATION_DURATION.labels("plan", blueprint.strategy).observe(
        time.perf_counter() - started
    )

    await publish_plan(broker, request, blueprint)


async def publish_plan(
    broker: NatsBroker, request: PlanRequest | InstantiateRequest, blueprint: WorkflowBlueprint
) -> None:
    """Hand a blueprint to the generator, after telling the generation's watchers."""
    gid = request.generation_id
    planned = GenerationEvent(
        generation_id=gid,
        type="generation.planned",
        detail={
            "strategy": blueprint.strategy,
            "strategy_reason": blueprint.strategy_reason,
            "intent": blueprint.intent.model_dump(mode="json"),
            "blueprint": blueprint.model_dump(mode="json"),
        },
    )
    # The event goes first so that whoever waits never sees `completed` before `planned`.
    await publish(broker, planned, subjects.generation_events(gid), f"{gid}:planned")
    generate = GenerateRequest(
        generation_id=gid,
        prompt=request.prompt,
        blueprint=blueprint,
        user_preferences=request.user_preferences,
        owner_id=request.owner_id,
    )
    # Not the bare gid: the gateway's PlanRequest used that id in the same commands
    # stream, whose dedupe would silently drop this message as a duplicate of it.
    await publish(broker, generate, subjects.GENERATE, f"{gid}:generate")
    log.info(
        "generation %s planned: %s via %s (%d steps)",
        gid,
        blueprint.intent.category,
        blueprint.strategy,
        len(blueprint.steps),
    )


async def handle_instantiate(request: InstantiateRequest, broker: NatsBroker) -> InstantiateReply:
    """Plan a built-in template as a generation. The reply only says the generation is
    under way (or why it cannot be): the workflow arrives as its generation events."""
    plan = queries.template_plan(request.template_id, request.prompt, request.user_preferences)
    if isinstance(plan, QueryError):
        return InstantiateReply(generation_id=request.generation_id, error=plan)
    await publish_plan(broker, request, plan)
    return InstantiateReply(generation_id=request.generation_id)


async def _fail(broker: NatsBroker, gid: str, error: str, kind: str) -> None:
    failed = GenerationEvent(
        generation_id=gid,
        type="generation.failed",
        error=error,
        detail={"stage": "plan", "kind": kind},
    )
    await publish(broker, failed, subjects.generation_events(gid), f"{gid}:failed")


def create_app(settings: PilotSettings | None = None) -> FastStream:
    config = PlannerSettings.from_base(settings)
    resources = ServiceResources("planner", config)
    analyzer = PromptAnalyzer(config)
    # Long enough for every repair attempt's LLM call, with its retries and the
    # json_object second try.
    per_attempt = 2 * config.planner_llm_timeout_s * (config.planner_llm_max_retries + 1)
    ack_wait = max(60.0, per_attempt * (config.planner_llm_repairs + 1) + 10)

    @work_subscriber(
        resources.broker,
        subjects.PLAN,
        subjects.PLANNER_DURABLE,
        max_workers=config.planner_concurrency,
        ack_wait_s=ack_wait,
    )
    async def plan(request: PlanRequest) -> None:
        await handle_plan(request, analyzer, resources.broker)

    register_queries(resources.broker)
    app = service_app(resources)
    app.after_shutdown(analyzer.aclose)
    return app


_INTERNAL = QueryError(kind="internal", detail="internal planner error; see the planner's log")


def register_queries(broker: NatsBroker) -> None:
    """Core NATS request/reply (no stream, no ack): a query nobody answers times out at
    the asker, which says so, rather than waiting in a queue for a planner to return.
    A handler that fails still answers, so the asker is not left to its timeout."""

    def subscriber(subject: str) -> Callable[..., Any]:
        return broker.subscriber(subject, queue=subjects.PLANNER_QUERY_QUEUE)

    @subscriber(subjects.TEMPLATES_LIST)
    async def list_templates(query: TemplateListQuery) -> TemplateListReply:
        return queries.list_templates(query)

    @subscriber(subjects.TEMPLATES_GET)
    async def get_template(query: TemplateQuery) -> TemplateReply:
        try:
            return queries.get_template(query)
        except Exception:
            log.exception("template %s: planner error", query.template_id)
            return TemplateReply(error=_INTERNAL)

    @subscriber(subjects.TEMPLATES_RECOMMEND)
    async def recommend(query: RecommendQuery) -> RecommendReply:
        try:
            return queries.recommend(query)
        except Exception:
            log.exception("recommendation: planner error")
            return RecommendReply(error=_INTERNAL)

    @subscriber(subjects.OPTIMIZATIONS)
    async def optimizations(query: OptimizeQuery) -> OptimizeReply:
        try:
            return queries.optimizations(query)
        except Exception:
            log.exception("optimizations of %s: planner error", query.workflow.id)
            return OptimizeReply(error=_INTERNAL)

    @subscriber(subjects.TEMPLATES_INSTANTIATE)
    async def instantiate(request: InstantiateRequest) -> InstantiateReply:
        try:
            return await handle_instantiate(request, broker)
        except Exception:
            # Publishing failed (or a bug): no generation is under way, so say so.
            log.exception("generation %s: instantiating failed", request.generation_id)
            return InstantiateReply(generation_id=request.generation_id, error=_INTERNAL)
