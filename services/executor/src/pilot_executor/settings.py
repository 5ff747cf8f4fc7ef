"""Settings of the executor (prefix PILOT_)."""

from __future__ import annotations

from pydantic import Field

from pilot_shared.settings import PilotSettings


class ExecutorSettings(PilotSettings):
    # Runner messages (chunks and results) are handled in batches: the first message that
    # arrives plus up to this many more that are already waiting (looked for during the
    # gather time). Many chunks of a busy execution then cost one store write.
    executor_results_batch_size: int = Field(default=256, ge=1, le=4096)
    executor_results_gather_s: float = Field(default=0.005, gt=0, le=1)
    # Run requests started at once.
    executor_run_workers: int = Field(default=4, ge=1, le=256)
