"""Gateway HTTP metrics, on the registry every πlot metric shares.

Labels stay bounded: the route *template* (`/api/workflows/{workflow_id}`), never the
path with ids in it; unknown methods collapse into `other`.
"""

from __future__ import annotations

import time

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pilot_shared.telemetry import metrics_registry

# Created once per process: the registry is process-wide, and a second registration of
# the same name would fail (tests build many apps in one process).
REQUEST_DURATION = Histogram(
    "pilot_http_request_duration_seconds",
    "Time from request to response headers, by method, route template and status",
    ["method", "route", "status"],
    registry=metrics_registry(),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class HttpMetricsMiddleware:
    """Observes time to the response *headers*: for JSON answers that is the whole
    request, and an SSE stream that lasts minutes is measured by how fast it opened
    rather than skewing the histogram with its lifetime."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        method = scope.get("method", "GET")
        method = method if method in _METHODS else "other"

        async def observing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                REQUEST_DURATION.labels(method, route_label(scope), str(message["status"])).observe(
                    time.perf_counter() - start
                )
            await send(message)

        await self.app(scope, receive, observing_send)
