"""Consumer lag gauges follow JetStream's consumer_info, and a served service polls them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import nats
from nats.js.api import AckPolicy, ConsumerConfig
from prometheus_client import Gauge

from pilot.embedded import free_port
from pilot_shared import subjects
from pilot_shared.bus import ensure_streams
from pilot_shared.consumer_lag import ConsumerLagPoller, poll_consumer_lag
from pilot_shared.metrics import STREAM_ACK_PENDING, STREAM_PENDING
from pilot_shared.service import ServiceResources, service_app
from pilot_shared.settings import PilotSettings

STREAM = subjects.EVENTS.name
SUBJECT = f"{subjects.EXECUTION_EVENTS_PREFIX}.wf.lag"


def _gauge(gauge: Gauge, consumer: str) -> float | None:
    for metric in gauge.collect():
        for sample in metric.samples:
            if sample.labels == {"stream": STREAM, "consumer": consumer}:
                return sample.value
    return None


async def test_pending_and_ack_pending_follow_the_consumer(nats_server_url: str) -> None:
    nc = await nats.connect(nats_server_url)
    try:
        await ensure_streams(nc)
        js = nc.jetstream()
        for i in range(5):
            await js.publish(SUBJECT, f"{i}".encode())
        config = ConsumerConfig(
            durable_name="lag-probe", filter_subject=SUBJECT, ack_policy=AckPolicy.EXPLICIT
        )
        await js.add_consumer(STREAM, config)
        # An ordered (ephemeral) consumer has a random name: it must not become a series.
        ordered = await js.subscribe(SUBJECT, ordered_consumer=True)

        seen, unanswered = await poll_consumer_lag(nc)
        assert not unanswered
        assert seen == {(STREAM, "lag-probe")}
        assert _gauge(STREAM_PENDING, "lag-probe") == 5
        assert _gauge(STREAM_ACK_PENDING, "lag-probe") == 0

        sub = await js.pull_subscribe(SUBJECT, durable="lag-probe", stream=STREAM)
        msgs = await sub.fetch(2, timeout=5)
        await msgs[0].ack()
        await poll_consumer_lag(nc)
        assert _gauge(STREAM_PENDING, "lag-probe") == 3
        assert _gauge(STREAM_ACK_PENDING, "lag-probe") == 1
        # unsubscribed first: draining an ordered consumer waits out the drain timeout
        await ordered.unsubscribe()
    finally:
        await nc.drain()


async def test_the_poller_drops_a_deleted_consumer(nats_server_url: str) -> None:
    nc = await nats.connect(nats_server_url)
    poller = ConsumerLagPoller(nc, interval_s=0.05)
    try:
        await ensure_streams(nc)
        js = nc.jetstream()
        await js.add_consumer(STREAM, ConsumerConfig(durable_name="short-lived"))
        poller.start()
        await _until(lambda: _gauge(STREAM_PENDING, "short-lived") is not None)
        await js.delete_consumer(STREAM, "short-lived")
        await _until(lambda: _gauge(STREAM_PENDING, "short-lived") is None)
        assert _gauge(STREAM_ACK_PENDING, "short-lived") is None
    finally:
        await poller.stop()
        await nc.drain()


async def test_a_service_serving_metrics_exports_consumer_lag(settings: PilotSettings) -> None:
    port = free_port()
    resources = ServiceResources("probe", settings.model_copy(update={"metrics_port": port}))
    async with service_app(resources):
        js = resources.broker.connection.jetstream()
        await js.add_consumer(STREAM, ConsumerConfig(durable_name="served-probe"))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            line = 'pilot_stream_consumer_pending{consumer="served-probe",stream="PILOT_EVENTS"}'
            deadline = time.monotonic() + 20
            while line not in (await client.get("/metrics")).text:
                assert time.monotonic() < deadline, "the service never exported the lag"
                await asyncio.sleep(0.2)


async def _until(check: Callable[[], bool], timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
