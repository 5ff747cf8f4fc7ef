"""`create_app()`: the gateway's FastAPI application.

Long-lived clients (the NATS broker, the store client) are opened in the lifespan and
reached by handlers through `deps`; nothing connects at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from pilot_shared.telemetry import setup_tracing

from .errors import install_error_handlers
from .executions.endpoints import router as executions_router
from .generation.endpoints import router as generation_router
from .health.endpoints import router as health_router
from .http_metrics import HttpMetricsMiddleware
from .middleware import BodyLimitMiddleware, CatchAllMiddleware
from .resources import GatewayResources
from .settings import GatewaySettings
from .workflows.endpoints import router as workflows_router

DESCRIPTION = """\
πlot turns a natural-language prompt into an AI-agent workflow graph, stores it and runs it.

Errors are JSON `{"error": "<kind>", "detail": "…"}` with the matching status code.
Execution events stream as server-sent events (`id: <seq>`, `event: <type>`,
`data: <json>`) and resume after `Last-Event-ID`.
"""


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = GatewayResources(settings)
        await resources.open()
        app.state.resources = resources
        try:
            yield
        finally:
            await resources.close()

    app = FastAPI(
        title="πlot",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url="/redoc",
    )
    install_error_handlers(app)
    # Added innermost first: metrics see the final status of everything, including the
    # 500s the catch-all produces and the 413s of the body limit.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(HttpMetricsMiddleware)

    app.include_router(generation_router)
    app.include_router(workflows_router)
    app.include_router(executions_router)
    app.include_router(health_router)

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=setup_tracing("pilot-gateway", settings.otlp_endpoint),
        excluded_urls="/healthz,/readyz,/metrics",
        # One span per SSE frame would drown the trace of a long stream.
        exclude_spans=["receive", "send"],
    )
    return app
