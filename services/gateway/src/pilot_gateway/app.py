"""`create_app()`: the gateway's FastAPI application.

Long-lived clients (the NATS broker, the store client) are opened in the lifespan and
reached by handlers through `deps`; nothing connects at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from pilot_shared.telemetry import setup_tracing

from .asyncapi import router as asyncapi_router
from .collab.endpoints import router as collab_router
from .errors import install_error_handlers
from .executions.control import router as execution_control_router
from .executions.endpoints import router as executions_router
from .generation.endpoints import router as generation_router
from .health.endpoints import router as health_router
from .http_metrics import HttpMetricsMiddleware
from .knowledge.endpoints import router as knowledge_router
from .middleware import BodyLimitMiddleware, CatchAllMiddleware
from .monitoring.endpoints import router as monitoring_router
from .openapi import install_openapi
from .request_id import RequestIdMiddleware
from .resources import GatewayResources
from .settings import GatewaySettings
from .sharing.endpoints import router as sharing_router
from .templates.endpoints import router as templates_router
from .transfer.endpoints import router as transfer_router
from .users.endpoints import router as users_router
from .versions.endpoints import router as versions_router
from .workflows.endpoints import router as workflows_router

DESCRIPTION = """\
πlot turns a natural-language prompt into an AI-agent workflow graph, stores it and runs it.

**Authentication.** Send `Authorization: Bearer <key>` with an API key (`pilot up` writes
the admin's to `<data-dir>/admin.key`; admins create users with `POST /api/users` or
`pilot users create NAME`), or with a short-lived token from `POST /api/auth/token`.

**Access.** Every workflow has an owner, who may share it with other users as `viewer`
(read it, its versions and executions, follow it live) or `editor` (also change and run
it). Workflows you may not see answer 404, as if they did not exist.

**Versions.** Every save is a new version (`GET …/versions`); `GET` answers with the
version in `ETag`; send it back as `If-Match` and a save made on a stale version is a 409
conflict instead of overwriting someone else's change. Executions record the version they
ran (`workflow_version`).

**Errors** are JSON `{"error": "<kind>", "detail": "…", "request_id": "…"}` with the
matching status code; every response carries `X-Request-ID`, which the logs carry too.
Limits answer 429 with `Retry-After`.

**Live.** Execution events stream as server-sent events (`id: <seq>`, `event: <type>`,
`data: <json>`) and resume after `Last-Event-ID`. `WS /ws/workflow/{id}` relays every
edit and execution event of a workflow and takes edits (see the `collab` docs in the
README). The bus itself is documented as AsyncAPI at `/asyncapi`.
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
    install_openapi(app)
    # Added innermost first: metrics see the final status of everything, including the
    # 500s the catch-all produces and the 413s of the body limit.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(HttpMetricsMiddleware)
    # Outermost: every response and log line, even the last-resort 500, has the id.
    app.add_middleware(RequestIdMiddleware)

    app.include_router(generation_router)
    app.include_router(transfer_router)  # before /{workflow_id}: "import" is not an id
    app.include_router(workflows_router)
    app.include_router(versions_router)
    app.include_router(sharing_router)
    app.include_router(executions_router)
    app.include_router(execution_control_router)
    app.include_router(knowledge_router)
    app.include_router(templates_router)
    app.include_router(monitoring_router)
    app.include_router(users_router)
    app.include_router(collab_router)
    app.include_router(health_router)
    app.include_router(asyncapi_router)
    install_web_panel(app)

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=setup_tracing("pilot-gateway", settings.otlp_endpoint),
        excluded_urls="/healthz,/readyz,/metrics",
        # One span per SSE frame would drown the trace of a long stream.
        exclude_spans=["receive", "send"],
    )
    return app


# The workflow panel (plain ES modules, no build step): `/` is the page, `/ui/…` its files.
# Neither needs a key; the API calls the page makes send the key the user pastes into it.
WEB_DIR = Path(__file__).parent / "web"


def install_web_panel(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def web_panel() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/ui", StaticFiles(directory=WEB_DIR), name="web")
