"""What to do when a node's attempt fails: retry it later, or apply its `on_error`.

Pure decisions; the engine carries them out. A later issue can add policies (circuit
breakers, retry budgets per execution) here without touching the scheduling.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, TypeAlias

from pilot_shared.contracts import ConditionNode, Node, NodeError, RetryPolicy


@dataclass(frozen=True)
class RetryLater:
    delay_ms: int


@dataclass(frozen=True)
class UseDefault:
    """on_error `continue`: the node completes with its default output."""

    output: Any
    handle: str | None


@dataclass(frozen=True)
class TakeErrorBranch:
    pass


@dataclass(frozen=True)
class FailExecution:
    pass


FailureAction: TypeAlias = RetryLater | UseDefault | TakeErrorBranch | FailExecution


def backoff_ms(policy: RetryPolicy, failed_attempt: int, rng: random.Random) -> int:
    """Exponential backoff before the attempt after `failed_attempt`, capped; with jitter
    the delay is drawn from its upper half, so retries of many executions spread out
    without any of them retrying much sooner than the policy says."""
    delay = policy.initial_delay_ms * policy.multiplier ** (failed_attempt - 1)
    delay = min(delay, policy.max_delay_ms)
    if policy.jitter:
        delay = rng.uniform(delay / 2, delay)
    return int(delay)


def plan_failure(
    node: Node,
    failed_attempt: int,
    error: NodeError,
    *,
    has_error_branch: bool,
    rng: random.Random,
) -> FailureAction:
    if error.retryable and failed_attempt < node.retry.max_attempts:
        delay = backoff_ms(node.retry, failed_attempt, rng)
        if error.retry_after_s is not None:
            # the provider said when it will take the call again (429/503 Retry-After):
            # retrying sooner would only be refused again
            delay = max(delay, int(error.retry_after_s * 1000))
        return RetryLater(delay)
    strategy = node.on_error.strategy
    if strategy == "continue":
        # a condition that cannot decide goes down its default branch
        handle = node.config.default_handle if isinstance(node, ConditionNode) else None
        return UseDefault(node.on_error.default_output, handle)
    if strategy == "error_branch" and has_error_branch:
        return TakeErrorBranch()
    # `fallback` is the runner's to apply (e.g. an llm node's fallback_models); once it
    # has given up, the node fails like `fail`. So does an error_branch with no branch.
    return FailExecution()
