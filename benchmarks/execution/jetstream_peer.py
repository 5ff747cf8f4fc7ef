"""The floor: one node hop over bare JetStream with nats-py and no framework. A driver
publishes a task to a work-queue stream, a worker pulls it and publishes a result to a
second stream, the driver pulls the result: publish -> pull -> publish -> pull."""

from __future__ import annotations

import asyncio
import contextlib
import time

import nats
from nats.js.api import RetentionPolicy, StreamConfig

from .stats import Figures, percentile


async def round_trips(url: str, hops: int) -> list[float]:
    """ms of each of `hops` sequential task -> result round trips."""
    driver, worker = await nats.connect(url), await nats.connect(url)
    try:
        js, wjs = driver.jetstream(), worker.jetstream()
        for name, subject in (("BENCH_TASKS", "bench.tasks"), ("BENCH_RESULTS", "bench.results")):
            await js.add_stream(
                StreamConfig(name=name, subjects=[subject], retention=RetentionPolicy.WORK_QUEUE)
            )
        tasks = await wjs.pull_subscribe("bench.tasks", durable="worker")
        results = await js.pull_subscribe("bench.results", durable="driver")

        async def work() -> None:
            while True:
                try:
                    (msg,) = await tasks.fetch(1, timeout=5)
                except TimeoutError:
                    continue
                await wjs.publish(
                    "bench.results", msg.data, headers={"Nats-Msg-Id": "r" + msg.data.decode()}
                )
                await msg.ack()

        worker_task = asyncio.create_task(work())
        samples: list[float] = []
        try:
            for i in range(hops):
                t0 = time.perf_counter()
                await js.publish("bench.tasks", str(i).encode(), headers={"Nats-Msg-Id": str(i)})
                (msg,) = await results.fetch(1, timeout=10)
                await msg.ack()
                samples.append((time.perf_counter() - t0) * 1000)
        finally:
            worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker_task
        return samples
    finally:
        await worker.close()
        await driver.close()


async def bench(url: str, hops: int) -> Figures:
    samples = await round_trips(url, hops + 20)
    samples = samples[20:]  # warm-up
    return Figures(
        "JetStream (bare)",
        "hop",
        overhead_p50_ms=percentile(samples, 50),
        overhead_p99_ms=percentile(samples, 99),
        note="publish->pull->publish->pull, no node body",
    )
