"""The executor's consumer of runner messages: a durable pull consumer that hands its
handler whole batches, in stream order.

Why not a FastStream subscriber here (FastStream 0.7.8, nats-py 2.16):
- its plain pull subscriber handles the messages of one fetch concurrently, so two chunks
  of one node could be handled out of order;
- its batch subscriber keeps fetching until the batch is full or the window ends (every
  hop waits the whole window), and a builtin TimeoutError from nats-py escapes its loop,
  dropping the messages gathered so far until `ack_wait` redelivers them.
Here: wait for one message (no added latency when idle), then take whatever else is
already waiting (as many as the first message's metadata says are pending: a fetch for
more than that lingers for the whole gather window), so a busy executor turns many
chunks into one write. Messages are acked
after the handler returns and nak'ed (redelivered) if it raises, as with NACK_ON_ERROR.
A batch being handled is reported in progress every third of `ack_wait`, so `ack_wait`
can be short: a message whose executor died, or whose ack a restarting nats-server never
got, comes back in seconds.

Batches are handled in a pipeline (up to `max_inflight` at once): waiting for one batch's
store writes and publishes before fetching the next made every execution wait on the
slowest one (the profile under load showed the executor idle between round trips).
Each batch's handler is started in fetch order and the handler takes per-execution locks
before its first await, so one execution's messages are still handled in stream order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig

from pilot_shared.subjects import stream_for

log = logging.getLogger(__name__)

BatchHandler = Callable[[list[Msg]], Awaitable[None]]


class BatchConsumer:
    def __init__(
        self,
        connection: Callable[[], NatsClient],
        subject: str,
        durable: str,
        handler: BatchHandler,
        *,
        batch_size: int = 256,
        gather_s: float = 0.005,
        idle_wait_s: float = 1.0,
        ack_wait_s: float = 10,
        max_deliver: int = 20,
        redeliver_delay_s: float = 0.5,
        max_inflight: int = 8,
    ) -> None:
        self._connection = connection  # the broker connects after the app is built
        self.subject = subject
        self.durable = durable
        self._handler = handler
        self._batch_size = batch_size
        self._gather_s = gather_s
        self._idle_wait_s = idle_wait_s
        self._ack_wait_s = ack_wait_s
        self._max_deliver = max_deliver
        self._redeliver_delay_s = redeliver_delay_s
        self._task: asyncio.Task[None] | None = None
        self._sub: Any = None
        self._inflight = asyncio.Semaphore(max_inflight)
        self._deliveries: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        js = self._connection().jetstream()
        self._sub = sub = await js.pull_subscribe(
            self.subject,
            durable=self.durable,
            stream=stream_for(self.subject).name,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self._ack_wait_s,
                max_deliver=self._max_deliver,
            ),
        )
        self._task = asyncio.create_task(self._consume(sub), name=f"consume:{self.durable}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._deliveries:  # let batches in hand finish, so they are acked or nak'ed
            await asyncio.gather(*self._deliveries, return_exceptions=True)
        if self._sub is not None:
            # the broker drains its connection on stop, and would wait out the drain
            # timeout for an inbox nobody reads any more
            with suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def _consume(self, sub: Any) -> None:
        fetch = sub.fetch
        while True:
            try:
                batch: list[Msg] = await fetch(1, timeout=self._idle_wait_s)
            except TimeoutError:  # nats' TimeoutError is one too
                continue
            except Exception:  # disconnected: nats-py reconnects by itself
                log.warning("fetching from %s failed; retrying", self.durable, exc_info=True)
                await asyncio.sleep(self._idle_wait_s)
                continue
            waiting = min(_pending(batch[0]), self._batch_size - 1)
            if waiting > 0:  # asking for more when none wait costs the whole gather window
                with suppress(TimeoutError):
                    batch += await fetch(waiting, timeout=self._gather_s)
            await self._inflight.acquire()
            delivery = asyncio.create_task(self._deliver(batch))
            self._deliveries.add(delivery)
            delivery.add_done_callback(self._delivered)

    def _delivered(self, delivery: asyncio.Task[None]) -> None:
        self._deliveries.discard(delivery)
        self._inflight.release()

    async def _deliver(self, batch: list[Msg]) -> None:
        beating = asyncio.create_task(self._beat(batch))
        try:
            await self._handler(batch)
        except Exception:
            log.exception(
                "handling %d messages from %s failed; they will be redelivered",
                len(batch),
                self.durable,
            )
            for msg in batch:
                with suppress(Exception):
                    await msg.nak(delay=self._redeliver_delay_s)
            return
        finally:
            beating.cancel()
        for msg in batch:
            try:
                await msg.ack()
            except Exception:  # unacked: redelivered after ack_wait, which handling tolerates
                log.warning("ack of a message from %s failed", self.durable, exc_info=True)

    async def _beat(self, batch: list[Msg]) -> None:
        """A batch still being handled is in progress, not lost: a short `ack_wait` then
        redelivers only what a dead executor (or a dropped ack) left, and soon."""
        while True:
            await asyncio.sleep(self._ack_wait_s / 3)
            for msg in batch:
                with suppress(Exception):  # the ack or nak after handling tells the truth
                    await msg.in_progress()


def _pending(msg: Msg) -> int:
    """How many messages the consumer still holds after this one (its ack reply subject
    says so); 0 when unknown."""
    try:
        return int(msg.metadata.num_pending or 0)
    except Exception:  # not a JetStream message (tests feeding plain ones)
        return 0
