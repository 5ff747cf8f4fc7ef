"""Building brokers, declaring streams, subscribing and publishing the πlot way.

Every JetStream publish carries a `Nats-Msg-Id` so that a retried publish inside the
stream's duplicate window is not a second message. Every work subscriber is a durable pull
consumer (one durable per role, so N processes of a role share the work) with an explicit
ack policy chosen here, once.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import nats
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.nats.prometheus import NatsPrometheusMiddleware
from nats.aio.client import Client as NatsClient
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from opentelemetry.propagate import inject

from . import metrics
from .contracts import PilotModel
from .settings import PilotSettings
from .subjects import STREAMS, StreamSpec, stream_for
from .telemetry import metrics_registry, setup_tracing


def _normalise_fetch_timeouts() -> None:
    """nats-py 2.16's `PullSubscription.fetch` raises the builtin TimeoutError on one path
    (its deadline spent before the lingering pull request), while FastStream 0.7.8's pull
    loop suppresses only `nats.errors.TimeoutError`: the builtin one ends its consume
    task, and FastStream's supervisor restarts it after a growing delay, stalling the
    consumer. That happens often when several processes share one durable consumer (two
    executors, three runners of one type). Re-raise it as nats' own (a subclass of the
    builtin, so every other caller sees no difference)."""
    from nats.errors import TimeoutError as NatsTimeoutError
    from nats.js.client import JetStreamContext

    pull = JetStreamContext.PullSubscription
    original = pull.fetch
    if getattr(original, "_pilot_normalised", False):
        return

    async def fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        except NatsTimeoutError:
            raise
        except TimeoutError as exc:
            raise NatsTimeoutError() from exc

    fetch._pilot_normalised = True  # type: ignore[attr-defined]
    pull.fetch = fetch  # type: ignore[method-assign]


_normalise_fetch_timeouts()

log = logging.getLogger(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"
PUBLISH_TIMEOUT_S = 10.0
ACK_POLL_S = 0.2  # how often a publisher waiting for acks looks at its connection


def build_broker(service: str, settings: PilotSettings, **kwargs: Any) -> NatsBroker:
    """A broker named after the service, with OpenTelemetry context propagation and
    Prometheus metrics on every message, reconnecting forever."""
    tracer_provider = setup_tracing(f"pilot-{service}", settings.otlp_endpoint)
    return NatsBroker(
        settings.nats_url,
        name=f"pilot-{service}",
        middlewares=[
            NatsTelemetryMiddleware(tracer_provider=tracer_provider),
            NatsPrometheusMiddleware(
                registry=metrics_registry(), app_name=f"pilot-{service}", metrics_prefix="pilot_bus"
            ),
        ],
        log_level=logging.DEBUG,  # per-message logs only when debugging
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        **kwargs,
    )


def stream_config(spec: StreamSpec) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        retention=RetentionPolicy.WORK_QUEUE if spec.work_queue else RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=spec.max_age_s or None,
        max_msg_size=spec.max_msg_size,
        duplicate_window=spec.duplicate_window_s,
    )


async def ensure_streams(nc: NatsClient) -> None:
    """Create or update every πlot stream. Idempotent; every service calls it at start so
    that publishing never depends on which service started first."""
    js = nc.jetstream()
    for spec in STREAMS:
        config = stream_config(spec)
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
            log.info("created stream %s", spec.name)
        else:
            await js.update_stream(config)


async def ensure_streams_at(url: str) -> None:
    nc = await nats.connect(url)
    try:
        await ensure_streams(nc)
    finally:
        await nc.drain()


def work_subscriber(
    registrar: Any,
    subject: str,
    durable: str,
    *,
    batch_size: int = 16,
    max_workers: int = 1,
    ack_wait_s: float = 60,
    max_deliver: int = 20,
) -> Callable[..., Any]:
    """A durable pull consumer on a work-queue subject.

    Ack policy NACK_ON_ERROR: a handler that returns acks; one that raises (the store or
    the bus is unreachable) is redelivered, up to `max_deliver`. Handlers turn failures
    that retrying cannot fix into results or events themselves, and return normally.
    """
    spec = stream_for(subject)
    return registrar.subscriber(  # type: ignore[no-any-return]
        subject,
        stream=JStream(spec.name, declare=False),
        durable=durable,
        pull_sub=PullSub(batch_size=batch_size, timeout=1.0),
        config=ConsumerConfig(ack_wait=ack_wait_s, max_deliver=max_deliver),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_workers=max_workers,
    )


async def publish(broker: NatsBroker, message: PilotModel, subject: str, msg_id: str) -> None:
    """Publish to the stream holding `subject`, waiting for the stream's ack."""
    await broker.publish(
        message,
        subject,
        headers={MSG_ID_HEADER: msg_id},
        stream=stream_for(subject).name,
        timeout=10,
    )


_contexts: weakref.WeakKeyDictionary[NatsClient, JetStreamContext] = weakref.WeakKeyDictionary()


def _jetstream(nc: NatsClient) -> JetStreamContext:
    # one context per connection: each sets up its own inbox for async publish acks
    js = _contexts.get(nc)
    if js is None:
        js = _contexts[nc] = nc.jetstream()
    return js


class Outgoing(NamedTuple):
    message: PilotModel
    subject: str
    msg_id: str
    # e.g. the trace context of the span that sends it; None: the current context
    headers: dict[str, str] | None = None


async def publish_all(broker: NatsBroker, messages: Sequence[Outgoing]) -> None:
    """Publish the messages in this order, then wait for every stream ack.

    Waiting for each ack before the next publish made a step's publishes cost one round
    trip each; here they are written back to back on the one connection, so the stream
    stores them, and subscribers see them, in the order given. Raises if any is not
    acknowledged (the caller's outbox then publishes them again, deduplicated by msg id).
    The trace context goes in the headers, where FastStream's consumers look for it.
    """
    if not messages:
        return
    nc = broker.connection
    js = _jetstream(nc)
    reconnects = nc.stats["reconnects"]
    current: dict[str, str] = {}
    inject(current)
    acks: list[asyncio.Future[Any]] = []
    try:
        for message, subject, msg_id, extra in messages:
            headers = {
                MSG_ID_HEADER: msg_id,
                "content-type": "application/json",
                **(current if extra is None else extra),
            }
            stream = stream_for(subject).name
            acks.append(
                await js.publish_async(
                    subject, message.model_dump_json().encode(), stream=stream, headers=headers
                )
            )
            metrics.BUS_PIPELINED_PUBLISHES.labels(stream).inc()
        await _acknowledged(nc, acks, reconnects)
    finally:
        for ack in acks:  # a cancelled future frees its slot in nats-py's pending table
            if not ack.done():
                ack.cancel()


async def _acknowledged(nc: NatsClient, acks: list[asyncio.Future[Any]], reconnects: int) -> None:
    """Every ack, or an error as soon as the connection has dropped: acks that a restarted
    server never sends would otherwise hold the caller (and its execution) for the whole
    timeout before the outbox could publish again."""
    deadline = asyncio.get_running_loop().time() + PUBLISH_TIMEOUT_S
    pending = set(acks)
    while pending:
        done, pending = await asyncio.wait(pending, timeout=ACK_POLL_S)
        for ack in done:
            ack.result()  # raises the stream's error, if it sent one
        if not pending:
            return
        if nc.stats["reconnects"] != reconnects or not nc.is_connected:
            raise ConnectionError("the NATS connection dropped before every publish was acked")
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{len(pending)} publishes not acked in {PUBLISH_TIMEOUT_S:g}s")
