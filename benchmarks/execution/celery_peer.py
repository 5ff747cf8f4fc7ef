"""Celery 5 with a Redis broker and result backend: Debian's redis-server on a free
127.0.0.1 port, two prefork worker processes, the same graphs as chains, groups and
chords of one task per node."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from pilot.embedded import ManagedProcess, free_port

from .stats import Figures, overheads, percentile
from .workloads import Spec

ROOT = Path(__file__).resolve().parents[2]


def redis_binary() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


class CeleryPeer:
    def __init__(self, workdir: Path, llm_url: str, workers: int = 2) -> None:
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed (make bench-deps)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.redis = ManagedProcess(
            "redis",
            [
                *(binary, "--bind", "127.0.0.1", "--port", str(self.port)),
                *("--save", "", "--appendonly", "no", "--dir", str(workdir)),
            ],
            workdir / "logs" / "redis.log",
            port=self.port,
        )
        self.worker = ManagedProcess(
            "celery",
            [
                *(sys.executable, "-m", "celery", "-A", "benchmarks.execution.celery_app"),
                *("worker", "--pool", "prefork", "--concurrency", str(workers)),
                *("--loglevel", "WARNING", "--without-gossip", "--without-mingle"),
                "--without-heartbeat",
            ],
            workdir / "logs" / "celery.log",
            env={"BENCH_REDIS_URL": self.url, "BENCH_LLM_URL": llm_url, "PYTHONPATH": str(ROOT)},
        )

    def start(self) -> None:
        self.redis.start()
        os.environ["BENCH_REDIS_URL"] = self.url
        self.worker.start()
        from .celery_app import app

        self.app = app
        app.conf.broker_url = app.conf.result_backend = self.url
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):  # the worker answers once it consumes
            if time.monotonic() > deadline or not self.worker.alive:
                raise RuntimeError("celery worker did not start; see " + str(self.worker.log_path))

    def stop(self) -> None:
        self.worker.stop()
        self.redis.stop()

    def signature(self, spec: Spec, k: int, model: str) -> Any:
        from celery import chain, group

        from .celery_app import llm, passthrough

        first = passthrough.s(None, k)
        if spec.items:
            # the loop as a chord: one body task per item, joined by the output
            body = group(
                llm.s({"branch": True}, i, model).set(immutable=True) for i in range(spec.items)
            )
            return chain(first, passthrough.si(None, k), body, passthrough.s(k=k))
        if spec.name.startswith("fanout"):
            branches = group(llm.s(k=k, model=model) for _ in spec.llm_nodes)
            return chain(first, branches, passthrough.s(k=k))
        steps = [llm.s(k=k, model=model) for _ in spec.llm_nodes]
        return chain(first, *steps, passthrough.s(k=k))

    def bench(
        self, spec: Spec, *, sequential: int, concurrent: int, model: str = "bench"
    ) -> Figures:
        for i in range(3):
            self.signature(spec, i, model).apply_async().get(timeout=60)
        samples = []
        for i in range(sequential):
            t0 = time.perf_counter()
            result = self.signature(spec, i, model).apply_async().get(timeout=60)
            samples.append((time.perf_counter() - t0, float(result["body_s"])))
        per_node = overheads(samples, spec.node_steps)
        t0 = time.perf_counter()
        pending = [self.signature(spec, i, model).apply_async() for i in range(concurrent)]
        errors = 0
        for result in pending:
            try:
                result.get(timeout=300)
            except Exception:
                errors += 1
        wall = time.perf_counter() - t0
        return Figures(
            "Celery + Redis",
            spec.name,
            overhead_p50_ms=percentile(per_node, 50),
            overhead_p99_ms=percentile(per_node, 99),
            steps_per_s=concurrent * spec.node_steps / wall,
            errors=errors,
            note=f"{concurrent} concurrent runs, 2 prefork workers",
        )
