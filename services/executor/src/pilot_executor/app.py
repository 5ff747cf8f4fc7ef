"""The executor service: run requests in, runner messages in, tasks and events out."""

from __future__ import annotations

import asyncio
import logging

from faststream import FastStream
from nats.aio.msg import Msg
from pydantic import ValidationError

from pilot_shared import subjects
from pilot_shared.bus import work_subscriber
from pilot_shared.contracts import (
    RUNNER_MESSAGE_ADAPTER,
    CancelRequest,
    RerunRequest,
    RunnerMessage,
    RunRequest,
)
from pilot_shared.service import ServiceResources, service_app

from .consumers import BatchConsumer
from .manager import ExecutionManager
from .settings import ExecutorSettings

log = logging.getLogger(__name__)


def create_app(settings: ExecutorSettings | None = None) -> FastStream:
    settings = settings or ExecutorSettings()
    resources = ServiceResources("executor", settings)
    broker = resources.broker
    manager = ExecutionManager(
        broker,
        lambda: resources.db,
        limits=settings.limits(),
        conflict_retries=settings.executor_conflict_retries,
    )

    @work_subscriber(
        broker,
        subjects.RUN,
        subjects.EXECUTOR_RUNS_DURABLE,
        max_workers=settings.executor_run_workers,
    )
    async def on_run(request: RunRequest) -> None:
        await manager.handle_run(request)

    @work_subscriber(broker, subjects.CANCEL, subjects.EXECUTOR_CANCEL_DURABLE)
    async def on_cancel(request: CancelRequest) -> None:
        await manager.handle_cancel(request)

    @work_subscriber(broker, subjects.RERUN, subjects.EXECUTOR_RERUN_DURABLE)
    async def on_rerun(request: RerunRequest) -> None:
        await manager.handle_rerun(request)

    async def on_runner_messages(batch: list[Msg]) -> None:
        # chunks and results share one subject, so a batch holds them in the order the
        # runners produced them; the `kind` field tells them apart
        messages: list[RunnerMessage] = []
        for msg in batch:
            try:
                messages.append(RUNNER_MESSAGE_ADAPTER.validate_json(msg.data))
            except ValidationError as exc:
                log.error("dropping a malformed runner message: %s", exc)
        await manager.handle_runner_messages(messages)

    results = BatchConsumer(
        lambda: broker.connection,
        subjects.RESULTS,
        subjects.EXECUTOR_RESULTS_DURABLE,
        on_runner_messages,
        batch_size=settings.executor_results_batch_size,
        gather_s=settings.executor_results_gather_s,
    )

    resuming: set[asyncio.Task[int]] = set()

    async def resume_running() -> None:
        # in the background: start-up does not wait on a long list of executions
        task = asyncio.create_task(manager.resume_running(), name="resume-running")
        resuming.add(task)
        task.add_done_callback(resuming.discard)

    async def stop_resuming() -> None:
        for task in list(resuming):
            task.cancel()
        await asyncio.gather(*resuming, return_exceptions=True)

    app = service_app(resources)
    app.context.set_global("manager", manager)  # tests and ops read its counters
    app.after_startup(results.start)
    app.after_startup(resume_running)
    app.on_shutdown(stop_resuming)
    app.on_shutdown(results.stop)
    app.on_shutdown(manager.close)

    async def report() -> None:
        log.warning(
            "executor stats: steps_applied=%d conflicts=%d",
            manager.steps_applied,
            manager.conflicts,
        )

    app.on_shutdown(report)
    return app
