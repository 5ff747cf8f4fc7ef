"""Node type -> handler. A handler computes one node's output from its task:
`async def handler(task, emit_chunk) -> NodeOutcome`, raising `NodeFailure` (or a
`TemplateError`) for failures it understands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from pilot_shared.contracts import NODE_TYPES, NodeTask

from .handlers.condition import ConditionHandler
from .handlers.input import handle_input
from .handlers.llm import LLMHandler
from .handlers.output import handle_output
from .handlers.unsupported import handle_unsupported
from .outcome import EmitChunk, NodeOutcome
from .providers import LLMProvider, provider_from_settings
from .settings import RunnerSettings

Handler = Callable[[NodeTask, EmitChunk], Awaitable[NodeOutcome]]


class Registry:
    """The handlers of one runner process, and the long-lived clients they share."""

    def __init__(self, handlers: Mapping[str, Handler], provider: LLMProvider) -> None:
        self._handlers = dict(handlers)
        self.provider = provider

    def handler_for(self, node_type: str) -> Handler:
        # every node type has a handler: an unknown one is a bug in the contracts
        return self._handlers.get(node_type, handle_unsupported)

    async def aclose(self) -> None:
        await self.provider.aclose()


def build_registry(settings: RunnerSettings, provider: LLMProvider | None = None) -> Registry:
    provider = provider or provider_from_settings(settings)
    handlers: dict[str, Handler] = {t: handle_unsupported for t in NODE_TYPES}
    handlers.update(
        {
            "input": handle_input,
            "output": handle_output,
            "condition": ConditionHandler(provider, default_model=settings.llm_model),
            "llm": LLMHandler(provider, default_model=settings.llm_model),
        }
    )
    return Registry(handlers, provider)
