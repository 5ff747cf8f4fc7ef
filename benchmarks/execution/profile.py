"""Profile πlot's executor (or runners) under the saturation workload with py-spy:

    python -m benchmarks.execution.profile [executor|runners] [RUNS] [--sequential]

Writes collapsed stacks to /tmp/pilot-<service>.txt and prints the top frames by own
samples and by cumulative samples (the figures recorded in benchmarks/README.md)."""

from __future__ import annotations

import asyncio
import collections
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pilot.embedded import ManagedProcess

from .pilot_peer import warm_chain
from .workloads import chain


def top(path: Path, n: int = 25) -> str:
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        weight = int(count)
        samples += weight
        own[frames[-1]] += weight
        for frame in set(frames):
            total[frame] += weight
    out = [f"{samples} samples", "-- own --"]
    out += [f"{100 * c / samples:5.1f}% {f}" for f, c in own.most_common(n)]
    out += ["-- cumulative --"]
    out += [f"{100 * c / samples:5.1f}% {f}" for f, c in total.most_common(n)]
    return "\n".join(out)


def _pid(proc: ManagedProcess) -> int | None:
    return proc.proc.pid if proc.proc is not None else None


def cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of a process so far."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _py_spy(pid: int, out: Path, idle: bool) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), "--format", "raw", "-o", str(out)]
        + ["--rate", "250", "--nonblocking"]
        + (["--idle"] if idle else []),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def amain(service: str, runs: int, sequential: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="pilot-profile-") as tmp:
        async with warm_chain(Path(tmp)) as (system, wf):
            spec = chain(10)
            pids: dict[str, int | None] = {
                **system.children(),
                "nats": _pid(system.nats),
                "store": _pid(system.store),
            }
            before = {name: cpu_s(p) for name, p in pids.items()}
            pid = system.children()[f"pilot_{service}"]
            out = Path(f"/tmp/pilot-{service}.txt")
            spy = _py_spy(pid, out, sequential)
            await asyncio.sleep(1)  # py-spy attaches
            if sequential:
                for i in range(runs):
                    await system.wait(await system.submit(wf, [{"k": i}]), 60)
            else:
                await system.wait(await system.submit(wf, [{"k": i} for i in range(runs)]), 600)
            spy.send_signal(2)
            spy.wait(30)
            steps = runs * spec.node_steps
            print(top(out))
            print(f"-- CPU ms per node-step ({steps} steps, py-spy attached to {service}) --")
            for name, p in pids.items():
                print(f"{name:20} {(cpu_s(p) - before[name]) * 1000 / steps:6.2f}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    asyncio.run(
        amain(
            args[0] if args else "executor",
            int(args[1]) if len(args) > 1 else 300,
            "--sequential" in sys.argv,
        )
    )
