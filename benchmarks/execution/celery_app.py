"""The Celery peer's tasks: one task per node, the llm kind calling the test model once
over a client kept per worker process. Each task adds its model time to what it passes
on, so the last result of a run carries the run's body time."""

from __future__ import annotations

import os
import time
from typing import Any

import httpx
from celery import Celery

app = Celery(
    "bench",
    broker=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    backend=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    worker_prefetch_multiplier=4,
    task_acks_late=True,  # as πlot: a killed worker's task runs again
    result_expires=600,
    worker_hijack_root_logger=False,
)

_http: httpx.Client | None = None


def _client() -> httpx.Client:
    global _http
    if _http is None:
        _http = httpx.Client(base_url=os.environ["BENCH_LLM_URL"], timeout=60)
    return _http


def _body(previous: Any) -> float:
    if isinstance(previous, list):  # a join: the branches' body times
        return sum(_body(p) for p in previous)
    if isinstance(previous, dict):
        return float(previous.get("body_s", 0.0))
    return 0.0


@app.task(name="bench.passthrough")  # type: ignore[untyped-decorator]
def passthrough(previous: Any = None, k: int = 0) -> dict[str, Any]:
    return {"output": k, "body_s": _body(previous)}


@app.task(name="bench.llm")  # type: ignore[untyped-decorator]
def llm(previous: Any = None, k: int = 0, model: str = "bench") -> dict[str, Any]:
    t0 = time.perf_counter()
    response = _client().post(
        "/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": f"Say ok to {k}"}]},
    )
    response.raise_for_status()
    took = time.perf_counter() - t0
    # a branch of a fan-out starts from the input's result: pass on only its own time
    base = _body(previous) if not isinstance(previous, dict) or "branch" not in previous else 0
    return {"output": response.json()["choices"][0]["message"]["content"], "body_s": base + took}
