"""The lifecycle every bus service shares: connect the broker, declare the streams, open
the store, serve metrics; close them in reverse order.

A service's `app.py` builds `ServiceResources`, registers its handlers (closures over the
resources), and returns `service_app(resources)`. Tests run it with `async with app:`.
"""

from __future__ import annotations

import asyncio
import logging

from faststream import FastStream
from faststream.nats import NatsBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from .bus import build_broker, ensure_streams
from .settings import PilotSettings
from .store import Document, create_store_client, ensure_indexes
from .telemetry import serve_metrics

log = logging.getLogger(__name__)


class ServiceResources:
    def __init__(self, name: str, settings: PilotSettings) -> None:
        self.name = name
        self.settings = settings
        self.broker: NatsBroker = build_broker(name, settings)
        self._mongo: AsyncMongoClient[Document] | None = None

    @property
    def db(self) -> AsyncDatabase[Document]:
        if self._mongo is None:
            raise RuntimeError(f"{self.name}: the store is not open yet")
        return self._mongo[self.settings.mongodb_db]

    async def open(self) -> None:
        await self.broker.connect()
        await ensure_streams(self.broker.connection)
        self._mongo = create_store_client(self.settings.mongodb_url)
        await ensure_indexes(self.db)
        serve_metrics(self.settings.metrics_port)
        log.info("%s connected to %s", self.name, self.settings.nats_url)

    async def close(self) -> None:
        if self._mongo is not None:
            await self._mongo.close()
            self._mongo = None


def service_app(resources: ServiceResources) -> FastStream:
    app = FastStream(resources.broker)
    app.on_startup(resources.open)
    app.after_shutdown(resources.close)
    return app


def run_service(app: FastStream) -> None:
    """Entry point of `python -m pilot_<service>`: run until SIGINT/SIGTERM."""
    asyncio.run(app.run())
