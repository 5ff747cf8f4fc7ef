"""What a node handler returns, and how it reports a failure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pilot_shared.contracts import NodeError, Usage

# How a handler streams text: each call becomes one NodeChunk, in order.
EmitChunk = Callable[[str], Awaitable[None]]


@dataclass
class NodeOutcome:
    output: Any = None
    # for branching nodes: the outgoing `source_handle` the executor should follow
    handle: str | None = None
    usage: Usage | None = None
    # what the node actually worked on (e.g. the rendered prompt); kept for the execution
    # log once NodeResult carries it
    input: Any = None


class NodeFailure(Exception):
    """Raised by a handler for a failure it understands; becomes a failed NodeResult."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        retryable: bool = False,
        credentials: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.error = NodeError(
            kind=kind, message=message, retryable=retryable, retry_after_s=retry_after_s
        )
        # the provider refused our credentials: no other model of it will do better
        self.credentials = credentials
