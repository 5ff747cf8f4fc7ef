"""Settings of the executor (prefix PILOT_)."""

from __future__ import annotations

from pydantic import Field

from pilot_shared.settings import PilotSettings

from .engine import Limits


class ExecutorSettings(PilotSettings):
    # Runner messages (chunks and results) are handled in batches: the first message that
    # arrives plus up to this many more that are already waiting (looked for during the
    # gather time). Many chunks of a busy execution then cost one store write.
    executor_results_batch_size: int = Field(default=256, ge=1, le=4096)
    executor_results_gather_s: float = Field(default=0.005, gt=0, le=1)
    # Run requests started at once. Starting one waits on a few store round trips, so a
    # burst of requests (1,000 at once in the benchmark) queued behind 4 of them.
    executor_run_workers: int = Field(default=32, ge=1, le=256)
    # Per-execution limits; exceeding one fails the execution with a clear reason.
    executor_max_steps: int = Field(default=10_000, ge=1)  # node attempts, loop bodies included
    executor_max_wall_time_s: float = Field(default=3600.0, gt=0)
    executor_max_loop_iterations: int = Field(default=1000, ge=1)
    executor_max_call_depth: int = Field(default=5, ge=0)
    # Optimistic-concurrency conflicts (another executor wrote the execution first) are
    # retried in place this many times before the message is handed back to the bus.
    executor_conflict_retries: int = Field(default=20, ge=1)

    def limits(self) -> Limits:
        return Limits(
            max_steps=self.executor_max_steps,
            max_wall_time_s=self.executor_max_wall_time_s,
            max_loop_iterations=self.executor_max_loop_iterations,
            max_call_depth=self.executor_max_call_depth,
        )
