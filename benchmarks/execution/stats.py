"""Percentiles and the figures one peer reports for one workload."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Figures:
    """What one peer measured on one workload. Missing figures stay NaN."""

    peer: str
    workload: str
    overhead_p50_ms: float = math.nan  # per node, sequential runs
    overhead_p99_ms: float = math.nan
    steps_per_s: float = math.nan  # node-steps per second at saturation
    mem_per_exec_kb: float = math.nan  # resident memory per in-flight execution
    errors: int = 0
    note: str = ""
    extra: dict[str, float] = field(default_factory=dict)


def overheads(samples: list[tuple[float, float]], nodes: int) -> list[float]:
    """Per-node overhead in ms of each (wall_s, body_s) sample of one execution."""
    return [max(wall - body, 0.0) * 1000 / nodes for wall, body in samples]
