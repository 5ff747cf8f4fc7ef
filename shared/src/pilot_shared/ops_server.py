"""A tiny HTTP server for services without their own: `/metrics`, `/healthz`, `/readyz`.

Kubernetes probes and Prometheus need these on every deployment; the planner, generator,
executor and runners speak only NATS otherwise, so a full web framework would be dead
weight. Plain asyncio keeps it on the service's own event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .telemetry import metrics_registry

ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


class OpsServer:
    def __init__(self, port: int, readiness: ReadinessCheck, host: str = "0.0.0.0") -> None:
        self.port = port
        self.host = host
        self.readiness = readiness
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass  # headers are not needed
            parts = request_line.decode("latin-1").split()
            path = parts[1].split("?", 1)[0] if len(parts) >= 2 else "/"
            status, ctype, body = await self._route(path)
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _route(self, path: str) -> tuple[str, str, bytes]:
        if path == "/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(metrics_registry())
        if path == "/healthz":
            return "200 OK", "application/json", b'{"status": "ok"}'
        if path == "/readyz":
            try:
                checks = await asyncio.wait_for(self.readiness(), 5)
            except (TimeoutError, Exception):
                checks = {"check": False}
            ok = all(checks.values())
            body = json.dumps({"status": "ok" if ok else "unavailable", "checks": checks})
            return (
                ("200 OK" if ok else "503 Service Unavailable"),
                "application/json",
                body.encode(),
            )
        return (
            "404 Not Found",
            "application/json",
            b'{"error": "not_found", "detail": "no such path"}',
        )
