"""The one SSE stream of an execution's events, shared by GET /api/executions/{id}/events
and POST /api/workflows/{id}/execute with `Accept: text/event-stream`.

Gap-free whatever the timing, with no JetStream consumer per client
(ARCHITECTURE.md, "SSE"): the executor stores each event before it publishes it, so

1. subscribe to the execution's live subject first (events buffer meanwhile);
2. replay the stored events after the client's last id;
3. forward live events whose `seq` is above the last one sent: duplicates are dropped, and
   a live event that arrives after a gap (the buffer overflowed) first pulls the missing
   ones from the store.

The stream ends after a terminal event, at once (after the replay) when the execution
has already finished, or when the gateway shuts down. While idle it sends keep-alive
comments, and takes the chance to catch up from the store and to notice an execution that
ended without our hearing of it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from pilot_shared import subjects
from pilot_shared.contracts import (
    TERMINAL_EVENT_TYPES,
    TERMINAL_EXECUTION_STATUSES,
    ExecutionEvent,
)
from pilot_shared.repositories import EventRepository, ExecutionRepository

from ..live import LiveBus, SubscriptionClosed
from ..sse import KEEPALIVE, sse_frame

log = logging.getLogger(__name__)

REPLAY_PAGE = 1000


class LiveFeed(Protocol):
    async def get(self, wait_s: float | None) -> ExecutionEvent | None: ...

    async def close(self) -> None: ...


class StoredEvents(Protocol):
    async def list_after(
        self, execution_id: str, after_seq: int = 0, limit: int = 1000
    ) -> list[ExecutionEvent]: ...


class ExecutionEventStream:
    def __init__(
        self,
        execution_id: str,
        *,
        live: LiveFeed,
        stored: StoredEvents,
        is_finished: Callable[[], Awaitable[bool]],
        after_seq: int = 0,
        keepalive_s: float = 15.0,
        page: int = REPLAY_PAGE,
    ) -> None:
        self.execution_id = execution_id
        self.last_seq = after_seq
        self.done = False
        self._live = live
        self._stored = stored
        self._is_finished = is_finished
        self._keepalive_s = keepalive_s
        self._page = page

    @classmethod
    async def open(
        cls,
        live_bus: LiveBus,
        events: EventRepository,
        executions: ExecutionRepository,
        execution_id: str,
        *,
        after_seq: int = 0,
        keepalive_s: float = 15.0,
    ) -> ExecutionEventStream:
        """Subscribe now: anything published from here on is buffered for the stream."""
        live = await live_bus.subscribe(
            subjects.execution_events(execution_id=execution_id),
            ExecutionEvent.model_validate_json,
        )

        async def is_finished() -> bool:
            execution = await executions.get(execution_id)
            return execution is None or execution.status in TERMINAL_EXECUTION_STATUSES

        return cls(
            execution_id,
            live=live,
            stored=events,
            is_finished=is_finished,
            after_seq=after_seq,
            keepalive_s=keepalive_s,
        )

    async def frames(self) -> AsyncIterator[bytes]:
        """The SSE body: one frame per event, keep-alive comments while idle."""
        try:
            async for event in self.events():
                if event is None:
                    yield KEEPALIVE
                else:
                    yield sse_frame(event.model_dump_json(), event=event.type, id=event.seq)
        finally:
            await self.close()

    async def events(self) -> AsyncIterator[ExecutionEvent | None]:
        """Events in `seq` order, each once; None marks an idle keep-alive period."""
        async for event in self._catch_up():
            yield event
        if self.done:
            return
        if await self._is_finished():
            # Its terminal event may have been stored while we replayed.
            async for event in self._catch_up():
                yield event
            return
        while not self.done:
            try:
                live = await self._live.get(self._keepalive_s)
            except SubscriptionClosed:
                return  # the gateway is shutting down; the client resumes elsewhere
            if live is None:
                yield None
                async for event in self._catch_up():
                    yield event
                if not self.done and await self._is_finished():
                    async for event in self._catch_up():
                        yield event
                    return
                continue
            if live.execution_id != self.execution_id or live.seq <= self.last_seq:
                continue  # already sent (replayed, or a redelivered publish)
            if live.seq > self.last_seq + 1:
                async for event in self._catch_up():
                    yield event
                if self.done or live.seq <= self.last_seq:
                    continue
                log.warning(
                    "execution %s: events %d..%d missing from the store",
                    self.execution_id,
                    self.last_seq + 1,
                    live.seq - 1,
                )
            yield self._sent(live)

    async def _catch_up(self) -> AsyncIterator[ExecutionEvent]:
        """Stored events after the last one sent, page by page, up to a terminal one."""
        while not self.done:
            batch = await self._stored.list_after(self.execution_id, self.last_seq, self._page)
            for event in batch:
                if event.seq > self.last_seq:
                    yield self._sent(event)
                    if self.done:
                        return
            if len(batch) < self._page:
                return

    def _sent(self, event: ExecutionEvent) -> ExecutionEvent:
        self.last_seq = event.seq
        if event.type in TERMINAL_EVENT_TYPES:
            self.done = True
        return event

    async def close(self) -> None:
        await self._live.close()
