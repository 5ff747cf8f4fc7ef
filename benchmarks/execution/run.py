"""`make bench`: every peer on every workload in one run, one table, the ratios between
them and one GOAL line per goal of issue #8. BENCH_QUICK=1 runs tiny sizes (a smoke run:
its figures mean little)."""

from __future__ import annotations

import asyncio
import math
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pilot.embedded import nats_server
from pilot.embedded import nats_url as url_of_nats

from . import jetstream_peer, llm_server
from .stats import Figures, overheads, percentile
from .workloads import Spec, chain, fanout, for_each

SLOW_MODEL = "bench-200ms"
SLOW_S = 0.2


@dataclass(frozen=True)
class Sizes:
    hops: int  # bare JetStream round trips
    sequential: int  # chain runs one at a time (per-node overhead)
    saturation: int  # chain runs at once (node-steps per second)
    langgraph_saturation: int
    fanout: int
    for_each: int
    generations: int
    concurrent_slow: int  # executions at once with a 200 ms model
    sse_runs: int

    @classmethod
    def from_env(cls) -> Sizes:
        if os.environ.get("BENCH_QUICK"):
            return cls(50, 5, 10, 10, 4, 2, 3, 10, 2)
        return cls(1000, 50, 200, 500, 50, 10, 100, 1000, 20)


@dataclass
class Report:
    rows: list[Figures]
    slow: Figures | None = None  # 1,000 executions with a 200 ms model
    slow_ideal_s: float = math.nan
    slow_wall_s: float = math.nan
    sse_p50_ms: float = math.nan
    sse_p99_ms: float = math.nan

    def find(self, peer: str, workload: str) -> Figures | None:
        for row in self.rows:
            if row.peer == peer and row.workload == workload:
                return row
        return None


def _fmt(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


async def _guard(
    report: Report, peer: str, workload: str, run: Callable[[], Awaitable[Any]]
) -> Any:
    """A peer that cannot run (not installed, a server missing) is a row saying why, and
    the goals that need it FAIL; the rest of the run goes on."""
    print(f"[bench] {peer} ...", file=sys.stderr, flush=True)  # progress; the table is stdout
    t0 = time.perf_counter()
    try:
        return await run()
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        report.rows.append(Figures(peer, workload, errors=1, note=f"did not run: {exc!r}"[:90]))
        return None
    finally:
        print(f"[bench] {peer}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)


# --- peers ---------------------------------------------------------------------------------


async def bench_pilot(report: Report, workdir: Path, llm_url: str, sizes: Sizes) -> None:
    from .pilot_peer import PilotSystem, pilot_workflow, rss_kb

    system = PilotSystem(workdir / "pilot", llm_url)
    try:
        await system.start()
        spec = chain(10)
        wf = pilot_workflow(spec, "bench")
        await system.store_workflow(wf)
        await system.wait(await system.submit(wf, [{"k": i} for i in range(3)]), 60)  # warm-up

        system.want_bodies = True
        samples = []
        for i in range(sizes.sequential):
            (done,) = await system.wait(await system.submit(wf, [{"k": i}]), 60)
            samples.append((done.finished - done.submitted, done.body_s))
        system.want_bodies = False
        per_node = overheads(samples, spec.node_steps)
        row = Figures("πlot", spec.name, percentile(per_node, 50), percentile(per_node, 99))
        row.steps_per_s, row.errors = await _saturate(system, wf, spec, sizes.saturation)
        row.note = f"{sizes.saturation} concurrent runs, 1 executor + 1 runner process"
        report.rows.append(row)

        for other, count in ((fanout(8), sizes.fanout), (for_each(50), sizes.for_each)):
            other_wf = pilot_workflow(other, "bench")
            await system.store_workflow(other_wf)
            rate, errors = await _saturate(system, other_wf, other, count)
            report.rows.append(
                Figures(
                    "πlot",
                    other.name,
                    steps_per_s=rate,
                    errors=errors,
                    note=f"{count} concurrent runs",
                )
            )

        # generations: prompt -> planner -> generator -> stored workflow, all at once
        prompts = [
            f"Summarise support ticket {i} and email the customer" for i in range(sizes.generations)
        ]
        t0 = time.perf_counter()
        found = await system.generate(prompts, 300)
        wall = time.perf_counter() - t0
        gen = Figures(
            "πlot", f"generations{sizes.generations}", note="planner + generator, offline planner"
        )
        gen.errors = sum(t.status != "completed" for t in found)
        gen.extra["generations_per_s"] = len(found) / wall
        gen.extra["latency_p50_ms"] = percentile(
            [(t.finished - t.submitted) * 1000 for t in found], 50
        )
        report.rows.append(gen)

        # 1,000 executions at once, the model taking 200 ms a call
        slow_wf = pilot_workflow(spec, SLOW_MODEL)
        await system.store_workflow(slow_wf)
        pids = list(system.children().values())
        before = sum(rss_kb(p) for p in pids)
        peak = before
        sampling = True

        async def sample() -> None:
            nonlocal peak
            while sampling:
                peak = max(peak, sum(rss_kb(p) for p in pids))
                await asyncio.sleep(0.1)

        sampler = asyncio.create_task(sample())
        t0 = time.perf_counter()
        ids = await system.submit(slow_wf, [{"k": i} for i in range(sizes.concurrent_slow)])
        done_all = await system.wait(ids, 900)
        report.slow_wall_s = time.perf_counter() - t0
        sampling = False
        await sampler
        report.slow_ideal_s = len(spec.llm_nodes) * SLOW_S
        slow = Figures("πlot", f"{spec.name} x{sizes.concurrent_slow} @200ms")
        slow.errors = sum(t.status != "completed" for t in done_all)
        slow.steps_per_s = sizes.concurrent_slow * spec.node_steps / report.slow_wall_s
        slow.mem_per_exec_kb = (peak - before) / sizes.concurrent_slow
        slow.note = f"wall {report.slow_wall_s:.2f}s vs ideal {report.slow_ideal_s:.2f}s"
        report.rows.append(slow)
        report.slow = slow

        latencies = await system.sse_latencies(wf, sizes.sse_runs)
        report.sse_p50_ms = percentile(latencies, 50)
        report.sse_p99_ms = percentile(latencies, 99)
    finally:
        await system.stop()


async def _saturate(system: Any, wf: Any, spec: Spec, count: int) -> tuple[float, int]:
    inputs = [{"k": i, "items": list(range(spec.items))} for i in range(count)]
    t0 = time.perf_counter()
    done = await system.wait(await system.submit(wf, inputs), 900)
    wall = time.perf_counter() - t0
    return count * spec.node_steps / wall, sum(t.status != "completed" for t in done)


async def bench_jetstream(report: Report, workdir: Path, sizes: Sizes) -> None:
    server = nats_server(workdir / "jetstream")
    server.start()
    try:
        report.rows.append(await jetstream_peer.bench(url_of_nats(server), sizes.hops))
    finally:
        server.stop()


async def bench_langgraph(report: Report, llm_url: str, sizes: Sizes) -> None:
    from . import langgraph_peer

    report.rows.append(
        await langgraph_peer.bench(
            chain(10), llm_url, sequential=sizes.sequential, concurrent=sizes.langgraph_saturation
        )
    )
    for spec, count in ((fanout(8), sizes.fanout), (for_each(50), sizes.for_each)):
        figures = await langgraph_peer.bench(spec, llm_url, sequential=1, concurrent=count)
        figures.overhead_p50_ms = figures.overhead_p99_ms = math.nan  # only the chain's counts
        report.rows.append(figures)


async def bench_celery(report: Report, workdir: Path, llm_url: str, sizes: Sizes) -> None:
    from .celery_peer import CeleryPeer

    peer = CeleryPeer(workdir / "celery", llm_url)
    try:
        await asyncio.to_thread(peer.start)
        report.rows.append(
            await asyncio.to_thread(
                peer.bench, chain(10), sequential=sizes.sequential, concurrent=sizes.saturation
            )
        )
        for spec, count in ((fanout(8), sizes.fanout), (for_each(50), sizes.for_each)):
            figures = await asyncio.to_thread(peer.bench, spec, sequential=1, concurrent=count)
            figures.overhead_p50_ms = figures.overhead_p99_ms = math.nan
            report.rows.append(figures)
    finally:
        await asyncio.to_thread(peer.stop)


# --- the report ----------------------------------------------------------------------------


def render(report: Report) -> str:
    header = ("peer", "workload", "ovh p50 ms", "ovh p99 ms", "steps/s", "KB/exec", "err", "note")
    lines = [header]
    for r in report.rows:
        note = r.note
        if r.extra:
            note = ", ".join(f"{k}={v:,.1f}" for k, v in r.extra.items()) + (
                "; " + note if note else ""
            )
        lines.append(
            (
                r.peer,
                r.workload,
                _fmt(r.overhead_p50_ms),
                _fmt(r.overhead_p99_ms),
                _fmt(r.steps_per_s, 0),
                _fmt(r.mem_per_exec_kb, 1),
                str(r.errors),
                note,
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header) - 1)]
    out = []
    for i, row in enumerate(lines):
        cells = [
            cell.ljust(w) if j < 2 else cell.rjust(w)
            for j, (cell, w) in enumerate(zip(row, widths, strict=False))
        ]
        out.append("  ".join([*cells, row[-1]]))
        if i == 0:
            out.append("-" * len(out[0]))
    out.append(
        "SSE node completion -> client: "
        f"p50 {_fmt(report.sse_p50_ms)} ms, p99 {_fmt(report.sse_p99_ms)} ms"
    )
    return "\n".join(out)


def _get(row: Figures | None, name: str) -> float | None:
    return None if row is None else float(getattr(row, name))


def _ratio(a: float | None, b: float | None) -> float:
    if a is None or b is None or math.isnan(a) or math.isnan(b) or b == 0:
        return math.nan
    return a / b


def goals(report: Report) -> list[str]:
    pilot = report.find("πlot", "chain10")
    floor = report.find("JetStream (bare)", "hop")
    celery = report.find("Celery + Redis", "chain10")
    langgraph = report.find("LangGraph", "chain10")
    vs_floor = _ratio(_get(pilot, "overhead_p50_ms"), _get(floor, "overhead_p50_ms"))
    vs_celery = _ratio(_get(pilot, "steps_per_s"), _get(celery, "steps_per_s"))
    vs_langgraph = _ratio(_get(pilot, "steps_per_s"), _get(langgraph, "steps_per_s"))
    slow_ratio = report.slow_wall_s / report.slow_ideal_s
    slow_errors = report.slow.errors if report.slow else -1

    def line(name: str, measured: str, target: str, ok: bool) -> str:
        return f"GOAL {name}: {measured} (target {target}) {'PASS' if ok else 'FAIL'}"

    return [
        "ratios (same run): "
        f"πlot overhead p50 / JetStream hop p50 = {_fmt(vs_floor)}; "
        f"πlot steps/s / Celery = {_fmt(vs_celery)}; "
        f"πlot steps/s / LangGraph = {_fmt(vs_langgraph)}; "
        f"1,000-run wall / ideal = {_fmt(slow_ratio)}",
        line("overhead_vs_jetstream", f"{_fmt(vs_floor)}x", "<= 1.5x", vs_floor <= 1.5),
        line("throughput_vs_celery", f"{_fmt(vs_celery)}x", ">= 2x", vs_celery >= 2),
        line("throughput_vs_langgraph", f"{_fmt(vs_langgraph)}x", ">= 0.5x", vs_langgraph >= 0.5),
        line(
            "concurrent_1000_wall",
            f"{_fmt(slow_ratio)}x ideal, {slow_errors} errors",
            "<= 1.5x, 0 errors",
            slow_ratio <= 1.5 and slow_errors == 0,
        ),
        line("sse_p99", f"{_fmt(report.sse_p99_ms)} ms", "<= 50 ms", report.sse_p99_ms <= 50),
    ]


async def amain() -> int:
    sizes = Sizes.from_env()
    report = Report(rows=[])
    with tempfile.TemporaryDirectory(prefix="pilot-bench-") as tmp:
        workdir = Path(tmp)
        try:
            with llm_server.running(workdir) as llm_url:
                await _guard(
                    report,
                    "JetStream (bare)",
                    "hop",
                    lambda: bench_jetstream(report, workdir, sizes),
                )
                await _guard(
                    report, "πlot", "chain10", lambda: bench_pilot(report, workdir, llm_url, sizes)
                )
                await _guard(
                    report, "LangGraph", "chain10", lambda: bench_langgraph(report, llm_url, sizes)
                )
                await _guard(
                    report,
                    "Celery + Redis",
                    "chain10",
                    lambda: bench_celery(report, workdir, llm_url, sizes),
                )
        finally:
            if os.environ.get("BENCH_KEEP_LOGS"):
                import shutil

                shutil.copytree(workdir / "logs", os.environ["BENCH_KEEP_LOGS"], dirs_exist_ok=True)
    print(render(report))
    print()
    for line in goals(report):
        print(line)
    return 0


def main() -> None:
    sys.exit(asyncio.run(amain()))


if __name__ == "__main__":
    main()
