"""The node-runners service: one durable consumer per node type it serves."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from faststream import FastStream
from faststream.nats.annotations import NatsMessage

from pilot_shared import subjects
from pilot_shared.bus import Outgoing, publish, publish_all, work_subscriber
from pilot_shared.contracts import NODE_TYPES, NodeChunk, NodeTask, RunRequest
from pilot_shared.service import ServiceResources, service_app

from .registry import Registry, build_registry
from .settings import RunnerSettings
from .task import keep_alive, run_task

log = logging.getLogger(__name__)


def create_app(
    settings: RunnerSettings | None = None,
    types: Iterable[str] | None = None,
    registry: Registry | None = None,
) -> FastStream:
    settings = settings or RunnerSettings()
    selected = list(types) if types is not None else list(NODE_TYPES)
    unknown = sorted(set(selected) - set(NODE_TYPES))
    if unknown:
        raise ValueError(f"unknown node types {unknown}; choose from {list(NODE_TYPES)}")
    resources = ServiceResources("runners", settings)
    if registry is None:
        broker = resources.broker

        async def publish_run(request: RunRequest) -> None:
            # msg id = execution id: a repeated request is one run (as from the gateway)
            await publish(broker, request, subjects.RUN, msg_id=request.execution_id)

        registry = build_registry(settings, publish_run=publish_run)
    for node_type in selected:
        _subscribe(resources, registry, settings, node_type)
    app = service_app(resources)
    app.after_shutdown(registry.aclose)
    return app


def _subscribe(
    resources: ServiceResources, registry: Registry, settings: RunnerSettings, node_type: str
) -> None:
    broker = resources.broker

    @work_subscriber(
        broker,
        subjects.tasks(node_type),
        subjects.runner_durable(node_type),
        max_workers=settings.runner_workers,
        ack_wait_s=settings.runner_ack_wait_s,
    )
    async def handle_task(task: NodeTask, message: NatsMessage) -> None:
        next_index = 0

        async def emit_chunk(text: str) -> None:
            nonlocal next_index
            chunk = NodeChunk(
                task_id=task.task_id,
                execution_id=task.execution_id,
                node_id=task.node.id,
                attempt=task.attempt,
                index=next_index,
                text=text,
            )
            next_index += 1
            chunk_id = f"{task.task_id}:chunk:{chunk.index}"
            await publish_all(broker, [Outgoing(chunk, subjects.RESULTS, chunk_id)])

        async with keep_alive(message.in_progress, settings.runner_ack_wait_s / 3):
            result = await run_task(task, registry.handler_for(task.node.type), emit_chunk)
        # Raising from here (the bus is down) leaves the task unacked: it is redelivered,
        # and the result's msg id keeps a second publish from counting twice.
        # (the executor's results consumer reads no headers: no FastStream publish span)
        await publish_all(broker, [Outgoing(result, subjects.RESULTS, f"{task.task_id}:result")])
        # Ack now, not after FastStream's middlewares: the result is in its stream, and the
        # executor may record it within a millisecond; a runner killed between the two
        # must not leave a completed node's task to be run again.
        await message.ack()
        log.debug("task %s %s in %.1f ms", task.task_id, result.status, result.duration_ms)
