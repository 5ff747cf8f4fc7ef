"""Every bus service answers /healthz, /readyz and /metrics on PILOT_METRICS_PORT."""

from __future__ import annotations

import httpx

from pilot.embedded import free_port
from pilot_shared.service import ServiceResources, service_app
from pilot_shared.settings import PilotSettings


async def test_ops_endpoints(settings: PilotSettings) -> None:
    port = free_port()
    resources = ServiceResources("probe", settings.model_copy(update={"metrics_port": port}))
    async with service_app(resources), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
        assert (await c.get("/healthz")).json() == {"status": "ok"}
        ready = await c.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"nats": True, "store": True}
        metrics = await c.get("/metrics")
        assert metrics.status_code == 200 and "python_info" in metrics.text
        assert (await c.get("/nope")).status_code == 404


async def test_readyz_reports_a_store_that_is_down(settings: PilotSettings) -> None:
    port = free_port()
    dead_store = f"mongodb://127.0.0.1:{free_port()}"
    resources = ServiceResources(
        "probe", settings.model_copy(update={"metrics_port": port, "mongodb_url": dead_store})
    )
    await resources.broker.connect()
    from pilot_shared.ops_server import OpsServer
    from pilot_shared.store import create_store_client

    resources._mongo = create_store_client(dead_store, timeout_ms=300)
    ops = OpsServer(port, resources.readiness)
    await ops.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            ready = await c.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"nats": True, "store": False}
    finally:
        await ops.stop()
        await resources.close()
        await resources.broker.stop()
