"""Generating a workflow from a prompt: a request/response over the bus.

The gateway subscribes to the generation's event subject *before* publishing the
`PlanRequest`, so no event can slip past; it then waits for `generation.completed` or
`generation.failed` with a deadline (ARCHITECTURE.md, "How a generation flows").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from faststream.nats import NatsBroker

from pilot_shared import subjects, tracing
from pilot_shared.contracts import GenerationEvent, PlanRequest, new_id
from pilot_shared.repositories import WorkflowRepository

from ..commands import send_command
from ..errors import PilotError, ServiceUnavailableError
from ..live import LiveBus, LiveSubscription, SubscriptionClosed
from ..settings import GatewaySettings
from .schemas import GenerateWorkflowRequest, GenerateWorkflowResponse

TERMINAL_GENERATION_EVENTS = frozenset({"generation.completed", "generation.failed"})


class InvalidPromptError(PilotError):
    status_code = 422
    kind = "invalid_prompt"


class GenerationFailedError(PilotError):
    status_code = 422
    kind = "generation_failed"


class GenerationTimeoutError(PilotError):
    status_code = 504
    kind = "generation_timeout"


class GenerationIncompleteError(PilotError):
    status_code = 502
    kind = "bad_gateway"


def check_prompt(prompt: str, max_chars: int) -> str:
    """Refuse what no planner could use, before anything is published."""
    text = prompt.strip()
    if not text:
        raise InvalidPromptError("the prompt is empty")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):  # from a JSON escape like \ud800
        raise InvalidPromptError("the prompt is not valid Unicode text (it holds a lone surrogate)")
    if len(text) > max_chars:
        raise InvalidPromptError(
            f"the prompt has {len(text):,} characters; the limit is {max_chars:,}",
            extra={"limit": max_chars},
        )
    return text


class GenerationWatch:
    """One generation in flight, its events already subscribed."""

    def __init__(
        self, generation_id: str, live: LiveSubscription[GenerationEvent], timeout_s: float
    ) -> None:
        self.generation_id = generation_id
        self._live = live
        self._timeout_s = timeout_s
        self._deadline = asyncio.get_running_loop().time() + timeout_s

    async def events(self) -> AsyncIterator[GenerationEvent]:
        """Every event of the generation up to the terminal one; raises
        GenerationTimeoutError when the deadline passes first."""
        loop = asyncio.get_running_loop()
        while True:
            remaining = self._deadline - loop.time()
            try:
                event = await self._live.get(remaining) if remaining > 0 else None
            except SubscriptionClosed:
                raise ServiceUnavailableError("the gateway is shutting down") from None
            if event is None:
                raise GenerationTimeoutError(
                    f"no result within {self._timeout_s:g}s "
                    f"(generation {self.generation_id}); is the planner running?",
                    extra={"generation_id": self.generation_id},
                )
            if event.generation_id != self.generation_id:
                continue
            yield event
            if event.type in TERMINAL_GENERATION_EVENTS:
                return

    async def result(self, workflows: WorkflowRepository) -> GenerateWorkflowResponse:
        async for event in self.events():
            if event.type == "generation.failed":
                raise GenerationFailedError(
                    event.error or "the workflow could not be generated",
                    extra={"generation_id": self.generation_id},
                )
            if event.type == "generation.completed":
                return await self._completed(event, workflows)
        raise AssertionError("events() ends with a terminal event or raises")

    async def _completed(
        self, event: GenerationEvent, workflows: WorkflowRepository
    ) -> GenerateWorkflowResponse:
        workflow = event.workflow
        if workflow is None and event.workflow_id:
            workflow = await workflows.get(event.workflow_id)
        if workflow is None:
            raise GenerationIncompleteError(
                "the generator reported success without a workflow",
                extra={"generation_id": self.generation_id},
            )
        return GenerateWorkflowResponse(
            workflow_id=workflow.id, workflow=workflow, generation_id=self.generation_id
        )

    async def close(self) -> None:
        await self._live.close()


async def start_generation(
    live_bus: LiveBus,
    broker: NatsBroker,
    request: GenerateWorkflowRequest,
    settings: GatewaySettings,
    owner_id: str = "anonymous",
) -> GenerationWatch:
    prompt = check_prompt(request.prompt, settings.max_prompt_chars)
    generation_id = new_id()
    tracing.annotate_current({tracing.GENERATION_ID: generation_id})
    live = await live_bus.subscribe(
        subjects.generation_events(generation_id), GenerationEvent.model_validate_json
    )
    try:
        await send_command(
            broker,
            PlanRequest(
                generation_id=generation_id,
                prompt=prompt,
                user_preferences=request.user_preferences,
                owner_id=owner_id,
                planner=request.planner,
            ),
            subjects.PLAN,
            msg_id=generation_id,
        )
    except BaseException:
        await live.close()
        raise
    return GenerationWatch(generation_id, live, settings.generate_timeout_s)
