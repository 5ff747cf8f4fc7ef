"""The planner service: `PlanRequest` in, `GenerateRequest` and generation events out."""

from __future__ import annotations

import logging

from faststream import FastStream
from faststream.nats import NatsBroker

from pilot_shared import subjects
from pilot_shared.bus import publish, work_subscriber
from pilot_shared.contracts import GenerateRequest, GenerationEvent, PlanRequest
from pilot_shared.service import ServiceResources, service_app
from pilot_shared.settings import PilotSettings

from .analyzer import PromptAnalyzer
from .errors import PlanningError
from .settings import PlannerSettings

log = logging.getLogger(__name__)


async def handle_plan(request: PlanRequest, analyzer: PromptAnalyzer, broker: NatsBroker) -> None:
    """Plan one prompt. A prompt that cannot be planned becomes a `generation.failed`
    event and the message is acked; a bus failure raises, so the request is redelivered
    (publishes carry msg ids, so a retry does not duplicate what already went out)."""
    gid = request.generation_id
    try:
        blueprint = await analyzer.plan(
            request.prompt, request.user_preferences, strategy=request.planner
        )
    except PlanningError as exc:
        log.info("generation %s: prompt rejected: %s", gid, exc)
        await _fail(broker, gid, str(exc), type(exc).__name__)
        return
    except Exception:
        # Planning touches no infrastructure (LLM failures fall back inside the analyzer),
        # so anything else is a bug that a redelivery would only repeat: fail fast.
        log.exception("generation %s: planner error", gid)
        await _fail(broker, gid, "internal planner error; see the planner's log", "internal")
        return

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

    app = service_app(resources)
    app.after_shutdown(analyzer.aclose)
    return app
