"""The generator service: `GenerateRequest` in, a stored workflow and a
`generation.completed` (or `generation.failed`) event out."""

from __future__ import annotations

import logging
import time
import uuid

from faststream import FastStream
from faststream.nats import NatsBroker
from pymongo.errors import DuplicateKeyError

from pilot_shared import metrics, subjects
from pilot_shared.bus import publish, work_subscriber
from pilot_shared.contracts import GenerateRequest, GenerationEvent
from pilot_shared.repositories import WorkflowRepository
from pilot_shared.service import ServiceResources, service_app
from pilot_shared.settings import PilotSettings

from .errors import GenerationError
from .generator import WorkflowGenerator
from .settings import GeneratorSettings

log = logging.getLogger(__name__)

_WORKFLOW_IDS = uuid.UUID("6f1d2c1e-5b7a-4c55-9d0e-70696c6f7401")


def workflow_id_for(generation_id: str) -> str:
    """The same generation always makes the same workflow id, so a redelivered request
    finds the workflow it already stored instead of storing a second one."""
    return uuid.uuid5(_WORKFLOW_IDS, generation_id).hex


async def handle_generate(
    request: GenerateRequest,
    generator: WorkflowGenerator,
    workflows: WorkflowRepository,
    broker: NatsBroker,
) -> None:
    gid = request.generation_id
    workflow_id = workflow_id_for(gid)
    strategy = request.blueprint.strategy
    workflow = await workflows.get(workflow_id)
    if workflow is None:
        started = time.perf_counter()
        try:
            workflow = generator.generate_workflow(
                request.blueprint,
                owner_id=request.owner_id,
                prompt=request.prompt,
                workflow_id=workflow_id,
            )
        except GenerationError as exc:
            log.info("generation %s: invalid blueprint: %s", gid, exc)
            metrics.GENERATIONS.labels(strategy, "failed").inc()
            await _fail(broker, gid, str(exc), type(exc).__name__)
            return
        except Exception:
            # Building a workflow touches no infrastructure: anything else is a bug that a
            # redelivery would only repeat, so fail the generation now.
            log.exception("generation %s: generator error", gid)
            metrics.GENERATIONS.labels(strategy, "failed").inc()
            await _fail(
                broker, gid, "internal generator error; see the generator's log", "internal"
            )
            return
        metrics.GENERATION_DURATION.labels("generate", strategy).observe(
            time.perf_counter() - started
        )
        # Counted once per workflow built, not per redelivery that finds it stored.
        metrics.GENERATIONS.labels(strategy, "completed").inc()
        try:
            await workflows.insert(workflow)
        except DuplicateKeyError:
            # Another generator instance stored it first (a redelivery raced us): use theirs.
            workflow = await workflows.get(workflow_id) or workflow
    completed = GenerationEvent(
        generation_id=gid,
        type="generation.completed",
        workflow_id=workflow.id,
        workflow=workflow,
        detail={
            "estimated_cost": workflow.estimated_cost,
            "execution_time": workflow.execution_time,
        },
    )
    await publish(broker, completed, subjects.generation_events(gid), f"{gid}:completed")
    log.info(
        "generation %s completed: workflow %s (%d nodes)", gid, workflow.id, len(workflow.nodes)
    )


async def _fail(broker: NatsBroker, gid: str, error: str, kind: str) -> None:
    failed = GenerationEvent(
        generation_id=gid,
        type="generation.failed",
        error=error,
        detail={"stage": "generate", "kind": kind},
    )
    await publish(broker, failed, subjects.generation_events(gid), f"{gid}:failed")


def create_app(settings: PilotSettings | None = None) -> FastStream:
    config = GeneratorSettings.from_base(settings)
    resources = ServiceResources("generator", config)
    generator = WorkflowGenerator()

    @work_subscriber(
        resources.broker,
        subjects.GENERATE,
        subjects.GENERATOR_DURABLE,
        max_workers=config.generator_concurrency,
    )
    async def generate(request: GenerateRequest) -> None:
        await handle_generate(
            request, generator, WorkflowRepository(resources.db), resources.broker
        )

    return service_app(resources)
