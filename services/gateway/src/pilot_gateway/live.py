"""Core-NATS subscriptions that feed one HTTP client (an SSE stream, a WebSocket, a
waiting generate request).

Core subscriptions cost the server nothing durable: events published to the JetStream
events stream are delivered to them too. What they miss (a slow client overflowing the
buffer) the caller fills from the store, so the buffer is bounded and drops on overflow.

When the gateway begins to shut down, every subscription stops: waiting readers get
`SubscriptionClosed`, so SSE streams end at once (clients resume with Last-Event-ID
elsewhere) instead of holding the shutdown until the server's grace period runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import ValidationError

from .commands import BusUnavailableError, require_connected

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BUFFER = 10_000
FLUSH_TIMEOUT_S = 5


class SubscriptionClosed(Exception):
    """The gateway is shutting down: no more live messages will come."""


class LiveBus:
    """Opens live subscriptions on the gateway's NATS connection, and stops them all when
    the gateway begins to shut down."""

    def __init__(self, nc: NatsClient) -> None:
        self.nc = nc
        self.stopping = asyncio.Event()

    def subscription(
        self, subject: str, parse: Callable[[bytes], T], *, buffer: int = DEFAULT_BUFFER
    ) -> LiveSubscription[T]:
        return LiveSubscription(self.nc, subject, parse, buffer=buffer, stopping=self.stopping)

    async def subscribe(
        self, subject: str, parse: Callable[[bytes], T], *, buffer: int = DEFAULT_BUFFER
    ) -> LiveSubscription[T]:
        return await self.subscription(subject, parse, buffer=buffer).start()

    def stop(self) -> None:
        self.stopping.set()


class LiveSubscription(Generic[T]):
    def __init__(
        self,
        nc: NatsClient,
        subject: str,
        parse: Callable[[bytes], T],
        *,
        buffer: int = DEFAULT_BUFFER,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self._nc = nc
        self.subject = subject
        self._parse = parse
        self._queue: asyncio.Queue[T] = asyncio.Queue(maxsize=buffer)
        self._stopping = stopping or asyncio.Event()
        self._sub: Subscription | None = None
        self.dropped = 0

    async def start(self) -> LiveSubscription[T]:
        require_connected(self._nc)
        self._sub = await self._nc.subscribe(self.subject, cb=self._on_message)
        try:
            # Round-trip to the server so the subscription is registered before the caller
            # publishes the command whose events it waits for.
            await self._nc.flush(timeout=FLUSH_TIMEOUT_S)
        except Exception as exc:
            await self.close()
            raise BusUnavailableError(f"the message bus did not answer: {exc!r}") from exc
        return self

    async def _on_message(self, msg: Msg) -> None:
        try:
            item = self._parse(msg.data)
        except (ValidationError, ValueError) as exc:
            log.warning("ignoring a malformed message on %s: %s", msg.subject, exc)
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1

    async def get(self, wait_s: float | None) -> T | None:
        """The next message, or None when none arrived within `wait_s` seconds.
        Raises SubscriptionClosed once the gateway is shutting down."""
        if self._stopping.is_set():
            raise SubscriptionClosed(self.subject)
        if not self._queue.empty():  # the hot path: no tasks, no timers
            return self._queue.get_nowait()
        getter = asyncio.ensure_future(self._queue.get())
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait(
                {getter, stopper}, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stopper.cancel()
            if not getter.done():
                getter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await getter
        if getter.done() and not getter.cancelled():
            return getter.result()
        if self._stopping.is_set():
            raise SubscriptionClosed(self.subject)
        return None

    async def close(self) -> None:
        """Idempotent; safe when the connection is already gone."""
        sub, self._sub = self._sub, None
        if sub is None:
            return
        try:
            await sub.unsubscribe()
        except Exception as exc:  # the connection closed under us: nothing to release
            log.debug("unsubscribe from %s failed: %r", self.subject, exc)
