"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from pilot_shared.telemetry import metrics_registry

from ..deps import ResourcesDep
from ..errors import error_response
from .service import readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: NATS connected and the store answers a ping",
    responses={503: {"description": "`detail` names the part that is down"}},
)
async def readyz(resources: ResourcesDep) -> Any:
    problems = await readiness(resources)
    checks = {part: "ok" if problem is None else problem for part, problem in problems.items()}
    down = [f"{part}: {problem}" for part, problem in problems.items() if problem is not None]
    if down:
        return error_response(503, "not_ready", "; ".join(down), checks=checks)
    return JSONResponse({"status": "ready", "checks": checks})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(metrics_registry()), media_type=CONTENT_TYPE_LATEST)
