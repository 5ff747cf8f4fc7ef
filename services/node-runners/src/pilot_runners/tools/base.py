"""What a tool is. A plugin needs nothing from here to be written (duck typing): any object
with `name`, `description`, optional `params_schema` and `async run(params, context)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..safe_http import SafeHttpClient, SsrfGuard
    from ..settings import RunnerSettings


class ToolError(Exception):
    """A failure the tool understands; `retryable` when trying again may help."""

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after_s = retry_after_s


@dataclass
class ToolContext:
    """What a tool may use: the SSRF-guarded HTTP client (all HTTP must go through it),
    the guard itself (for other protocols, e.g. SMTP), the runner's settings and the
    node's context (workflow input and upstream outputs)."""

    http: SafeHttpClient
    guard: SsrfGuard
    settings: RunnerSettings
    node_context: dict[str, Any]
    timeout_s: float = 30.0
    # the calling node's execution and task (for tools that start or track work)
    execution_id: str | None = None
    task_id: str | None = None


@runtime_checkable
class Tool(Protocol):
    name: str
    description: str

    async def run(self, params: dict[str, Any], context: ToolContext) -> Any: ...
