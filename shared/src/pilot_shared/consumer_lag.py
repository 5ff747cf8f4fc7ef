"""Consumer lag of every πlot stream, as the gauges STREAM_PENDING / STREAM_ACK_PENDING.

Every bus service that serves /metrics polls all πlot durable consumers, not only its own:
the lag of a role matters most when that role is down, and then only another service can
report it. Several services (and replicas) therefore export the same series; dashboards
take `max by (stream, consumer)`. Ephemeral consumers (an SSE client's replay) are skipped:
their names are random, and labels must stay a bounded set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError

from .metrics import STREAM_ACK_PENDING, STREAM_PENDING
from .subjects import STREAMS

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 5.0


async def poll_consumer_lag(nc: NatsClient) -> tuple[set[tuple[str, str]], set[str]]:
    """Set the gauges from one round of consumer_info. Returns the (stream, consumer)
    pairs seen, so that the series of a deleted consumer can be dropped, and the streams
    that did not answer, whose series are kept as they were."""
    js = nc.jetstream()
    seen: set[tuple[str, str]] = set()
    unanswered: set[str] = set()
    for spec in STREAMS:
        try:
            infos = await js.consumers_info(spec.name)
        except (NatsError, TimeoutError) as exc:
            log.debug("consumer lag: %s unavailable: %s", spec.name, exc)
            unanswered.add(spec.name)
            continue
        for info in infos:
            if not info.config.durable_name:
                continue
            labels = (spec.name, info.name)
            STREAM_PENDING.labels(*labels).set(info.num_pending or 0)
            STREAM_ACK_PENDING.labels(*labels).set(info.num_ack_pending or 0)
            seen.add(labels)
    return seen, unanswered


class ConsumerLagPoller:
    def __init__(self, nc: NatsClient, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.nc = nc
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._exported: set[tuple[str, str]] = set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="pilot-consumer-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            if self.nc.is_connected:
                try:
                    seen, unanswered = await poll_consumer_lag(self.nc)
                except Exception:
                    # A metrics poll must never take the service down; the next round retries.
                    log.exception("consumer lag poll failed")
                else:
                    kept = {labels for labels in self._exported if labels[0] in unanswered}
                    for labels in self._exported - seen - kept:
                        STREAM_PENDING.remove(*labels)
                        STREAM_ACK_PENDING.remove(*labels)
                    self._exported = seen | kept
            await asyncio.sleep(self.interval_s)
