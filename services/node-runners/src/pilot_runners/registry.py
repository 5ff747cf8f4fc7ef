"""Node type -> handler. A handler computes one node's output from its task:
`async def handler(task, emit_chunk) -> NodeOutcome`, raising `NodeFailure` (or a
`TemplateError`) for failures it understands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared.contracts import NODE_TYPES, NodeTask
from pilot_shared.knowledge import Embedder
from pilot_shared.store import Document, create_store_client

from .handlers.api import ApiHandler
from .handlers.condition import ConditionHandler
from .handlers.input import handle_input
from .handlers.knowledge import KnowledgeHandler, openai_embedder
from .handlers.llm import LLMHandler
from .handlers.output import handle_output
from .handlers.tool import ToolHandler
from .handlers.unsupported import handle_unsupported
from .outcome import EmitChunk, NodeOutcome
from .providers import LLMProvider, provider_from_settings
from .providers.traced import TracedProvider
from .safe_http import SafeHttpClient, SsrfGuard
from .secrets import SecretStore, load_or_create_key
from .settings import RunnerSettings
from .tools import ToolRegistry
from .tools.workflow import PublishRun, RunWorkflowTool

Handler = Callable[[NodeTask, EmitChunk], Awaitable[NodeOutcome]]


class Registry:
    """The handlers of one runner process, and the long-lived clients they share."""

    def __init__(
        self,
        handlers: Mapping[str, Handler],
        provider: LLMProvider,
        *,
        closers: list[Callable[[], Awaitable[Any]]] | None = None,
        tools: ToolRegistry | None = None,
        secrets: SecretStore | None = None,
    ) -> None:
        self._handlers = dict(handlers)
        self.provider = provider
        self.tools = tools
        self.secrets = secrets
        self._closers = closers or []

    def handler_for(self, node_type: str) -> Handler:
        # every node type has a handler: an unknown one is a bug in the contracts
        return self._handlers.get(node_type, handle_unsupported)

    async def aclose(self) -> None:
        await self.provider.aclose()
        for close in self._closers:
            await close()


def build_registry(
    settings: RunnerSettings,
    provider: LLMProvider | None = None,
    *,
    db: AsyncDatabase[Document] | None = None,
    http: SafeHttpClient | None = None,
    tools: ToolRegistry | None = None,
    embedder: Embedder | None = None,
    publish_run: PublishRun | None = None,
) -> Registry:
    provider = provider or provider_from_settings(settings)
    llm = TracedProvider(provider)  # a span per LLM call, whoever makes it
    closers: list[Callable[[], Awaitable[Any]]] = []
    if db is None:
        # the client connects lazily: a runner serving only llm nodes never touches it
        client: AsyncMongoClient[Document] = create_store_client(settings.mongodb_url)
        db = client[settings.mongodb_db]
        closers.append(client.close)
    if http is None:
        http = SafeHttpClient(
            SsrfGuard(settings.http_allowlist), max_response_bytes=settings.http_max_response_bytes
        )
        closers.append(http.aclose)
    key = settings.secret_key.get_secret_value() if settings.secret_key else None
    secrets = SecretStore(db, lambda: load_or_create_key(key, settings.data_dir))
    if tools is None:
        tools = ToolRegistry.default(extra=[RunWorkflowTool(db, publish_run)])
    if embedder is None and settings.embeddings_base_url:
        from openai import AsyncOpenAI

        api_key = settings.embeddings_api_key or settings.llm_api_key
        embed_client = AsyncOpenAI(
            base_url=settings.embeddings_base_url,
            api_key=api_key.get_secret_value() if api_key else "none",
            max_retries=0,
            timeout=settings.llm_request_timeout_s,
        )
        embedder = openai_embedder(embed_client, settings.embeddings_model)
        closers.append(embed_client.close)
    handlers: dict[str, Handler] = {t: handle_unsupported for t in NODE_TYPES}
    handlers.update(
        {
            "input": handle_input,
            "output": handle_output,
            "condition": ConditionHandler(llm, default_model=settings.llm_model),
            "llm": LLMHandler(llm, default_model=settings.llm_model),
            "api": ApiHandler(http, secrets, max_response_bytes=settings.http_max_response_bytes),
            "tool": ToolHandler(tools, http, secrets, settings),
            "knowledge": KnowledgeHandler(db, embedder),
        }
    )
    return Registry(handlers, provider, closers=closers, tools=tools, secrets=secrets)
