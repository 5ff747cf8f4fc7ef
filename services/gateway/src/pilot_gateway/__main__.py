"""`python -m pilot_gateway`: serve the gateway on settings.host:settings.port."""

from __future__ import annotations

import uvicorn

from pilot_shared.telemetry import configure_logging

from .app import create_app
from .request_id import install_request_id_logging
from .server import GatewayServer
from .settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings()
    configure_logging(settings.log_level)
    install_request_id_logging()
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        # Bounds how long slow non-streaming requests may hold a stop.
        timeout_graceful_shutdown=5,
    )
    GatewayServer(app, config).run()


if __name__ == "__main__":
    main()
