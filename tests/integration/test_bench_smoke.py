"""`make bench` in its quick mode on tiny sizes: the harness starts every peer it can,
prints the table and one GOAL line per goal. Whether the goals pass is the benchmark's
business (figures from a smoke run mean little), not this test's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOALS = (
    "overhead_vs_jetstream",
    "throughput_vs_celery",
    "throughput_vs_langgraph",
    "concurrent_1000_wall",
    "sse_p99",
)


@pytest.mark.timeout(600)
@pytest.mark.slow
def test_quick_bench_prints_the_table_and_every_goal() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOT_")}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.execution"],
        cwd=ROOT,
        env={**env, "BENCH_QUICK": "1", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"^peer\s+workload\s+ovh p50 ms\s+ovh p99 ms\s+steps/s", out, re.M), out
    for peer in ("JetStream (bare)", "πlot", "LangGraph", "Celery + Redis"):
        assert re.search(rf"^{re.escape(peer)}\s", out, re.M), f"no row for {peer}:\n{out}"
    # πlot ran every workload (the other peers may be missing where `make bench` was not run)
    for workload in ("chain10", "fanout8", "for_each50", "generations3", "chain10 x10 @200ms"):
        assert re.search(rf"^πlot\s+{re.escape(workload)}\s", out, re.M), out
    assert "did not run" not in "\n".join(
        line for line in out.splitlines() if line.startswith(("πlot", "JetStream"))
    ), out
    lines = [line for line in out.splitlines() if line.startswith("GOAL ")]
    assert [line.split()[1].rstrip(":") for line in lines] == list(GOALS), out
    for line in lines:
        assert re.fullmatch(r"GOAL \w+: .+ \(target .+\) (PASS|FAIL)", line), line
