"""The SSE merge of stored and live execution events, with in-memory stand-ins for the
store and the live subscription: order, dedup, gap filling, resuming, closing."""

from __future__ import annotations

from pilot_gateway.executions.event_stream import ExecutionEventStream
from pilot_shared.contracts import ExecutionEvent

EID = "e1"


def ev(seq: int, type_: str = "node.chunk") -> ExecutionEvent:
    return ExecutionEvent(execution_id=EID, workflow_id="w1", seq=seq, type=type_)


def done(seq: int) -> ExecutionEvent:
    return ev(seq, "execution.completed")


class Store:
    def __init__(self, events: list[ExecutionEvent]) -> None:
        self.events = list(events)
        self.queries: list[int] = []

    async def list_after(
        self, execution_id: str, after_seq: int = 0, limit: int = 1000
    ) -> list[ExecutionEvent]:
        self.queries.append(after_seq)
        found = sorted((e for e in self.events if e.seq > after_seq), key=lambda e: e.seq)
        return found[:limit]


class Live:
    """Hands out a script of live events; None is an idle period. `on_idle` runs when an
    idle period is handed out (to change the world meanwhile)."""

    def __init__(
        self,
        script: list[ExecutionEvent | None],
        store: Store | None = None,
        stored_while_idle: list[ExecutionEvent] | None = None,
    ) -> None:
        self.script = list(script)
        self.store = store
        self.stored_while_idle = stored_while_idle or []
        self.closed = False
        self.reads = 0

    async def get(self, wait_s: float | None) -> ExecutionEvent | None:
        self.reads += 1
        if not self.script:
            raise AssertionError("the stream read past the end of the live script")
        item = self.script.pop(0)
        if item is None and self.store is not None and self.stored_while_idle:
            self.store.events.extend(self.stored_while_idle)
            self.stored_while_idle = []
        return item

    async def close(self) -> None:
        self.closed = True


class Status:
    def __init__(self, finished: bool = False) -> None:
        self.finished = finished

    async def __call__(self) -> bool:
        return self.finished


async def collect(stream: ExecutionEventStream) -> list[int | None]:
    return [None if e is None else e.seq async for e in stream.events()]


def stream(
    live: Live, store: Store, status: Status | None = None, after: int = 0, page: int = 1000
) -> ExecutionEventStream:
    return ExecutionEventStream(
        EID,
        live=live,
        stored=store,
        is_finished=status or Status(),
        after_seq=after,
        keepalive_s=0.01,
        page=page,
    )


async def test_replays_stored_events_then_forwards_live_ones_once() -> None:
    store = Store([ev(1), ev(2), ev(3)])
    # Live carries what was published while we replayed (2, 3) and later (4, 5).
    live = Live([ev(2), ev(3), ev(4), ev(4), ev(3), done(5)])
    assert await collect(stream(live, store)) == [1, 2, 3, 4, 5]


async def test_resumes_after_the_given_seq() -> None:
    store = Store([ev(1), ev(2), ev(3)])
    live = Live([ev(4), done(5)])
    assert await collect(stream(live, store, after=2)) == [3, 4, 5]
    assert store.queries[0] == 2


async def test_a_live_event_after_a_gap_pulls_the_missing_ones_from_the_store() -> None:
    store = Store([ev(1), ev(2)])
    live = Live([ev(3), ev(6), done(7)])
    store_later = [ev(3), ev(4), ev(5), ev(6)]

    s = stream(live, store)
    seen: list[int | None] = []
    async for e in s.events():
        seen.append(None if e is None else e.seq)
        if seen[-1] == 2:
            store.events.extend(store_later)  # stored by the executor meanwhile
    assert seen == [1, 2, 3, 4, 5, 6, 7]


async def test_a_gap_the_store_cannot_fill_does_not_stall_the_stream() -> None:
    store = Store([ev(1)])
    live = Live([ev(3), done(4)])
    assert await collect(stream(live, store)) == [1, 3, 4]


async def test_stops_at_a_terminal_event_in_the_replay_without_reading_live() -> None:
    store = Store([ev(1), done(2)])
    live = Live([])
    assert await collect(stream(live, store)) == [1, 2]
    assert live.reads == 0


async def test_an_already_finished_execution_replays_and_closes() -> None:
    # Finished, yet no terminal event stored (e.g. cancelled straight in the store).
    store = Store([ev(1), ev(2)])
    live = Live([])
    assert await collect(stream(live, store, Status(finished=True))) == [1, 2]
    assert live.reads == 0


async def test_idle_periods_yield_keepalives_and_catch_up_from_the_store() -> None:
    # The live message for 2 was lost (a slow client overflowed the buffer): the next
    # idle period finds it in the store.
    store = Store([ev(1)])
    live = Live([None, done(3)], store=store, stored_while_idle=[ev(2)])
    assert await collect(stream(live, store)) == [1, None, 2, 3]


async def test_an_execution_that_finishes_unheard_ends_the_stream_when_idle() -> None:
    store = Store([ev(1)])
    status = Status()
    live = Live([None, None])

    seen: list[int | None] = []
    async for e in stream(live, store, status).events():
        seen.append(None if e is None else e.seq)
        if e is None:
            status.finished = True
    assert seen == [1, None]


async def test_replays_page_by_page() -> None:
    store = Store([ev(i) for i in range(1, 6)] + [done(6)])
    assert await collect(stream(Live([]), store, page=2)) == [1, 2, 3, 4, 5, 6]
    assert store.queries == [0, 2, 4]


async def test_events_of_other_executions_are_ignored() -> None:
    other = ExecutionEvent(execution_id="e2", workflow_id="w1", seq=9, type="node.started")
    live = Live([other, done(1)])
    assert await collect(stream(live, Store([]))) == [1]


async def test_frames_are_sse_and_the_subscription_is_released() -> None:
    live = Live([None, done(2)])
    s = stream(live, Store([ev(1)]))
    frames = [f async for f in s.frames()]
    assert frames[0].startswith(b"id: 1\nevent: node.chunk\ndata: {")
    assert frames[1] == b": keepalive\n\n"
    assert frames[2].startswith(b"id: 2\nevent: execution.completed\ndata: ")
    assert all(f.endswith(b"\n\n") for f in frames)
    assert live.closed
