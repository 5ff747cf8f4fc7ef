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
from .consumer_lag import ConsumerLagPoller
from .ops_server import OpsServer
from .settings import PilotSettings
from .store import Document, create_store_client, ensure_indexes

log = logging.getLogger(__name__)


class ServiceResources:
    def __init__(self, name: str, settings: PilotSettings) -> None:
        self.name = name
        self.settings = settings
        self.broker: NatsBroker = build_broker(name, settings)
        self._mongo: AsyncMongoClient[Document] | None = None
        self._db: AsyncDatabase[Document] | None = None
        self._ops: OpsServer | None = None
        self._lag: ConsumerLagPoller | None = None

    @property
    def db(self) -> AsyncDatabase[Document]:
        if self._mongo is None:
            raise RuntimeError(f"{self.name}: the store is not open yet")
        # one object while the client lives: hot paths resolve it per store call
        if self._db is None or self._db.client is not self._mongo:
            self._db = self._mongo[self.settings.mongodb_db]
        return self._db

    async def open(self) -> None:
        await self.broker.connect()
        await ensure_streams(self.broker.connection)
        self._mongo = create_store_client(self.settings.mongodb_url)
        await ensure_indexes(self.db)
        if self.settings.metrics_port:
            self._ops = OpsServer(self.settings.metrics_port, self.readiness)
            await self._ops.start()
            # Only where someone scrapes: the gauges are worthless without /metrics.
            self._lag = ConsumerLagPoller(self.broker.connection)
            self._lag.start()
        log.info("%s connected to %s", self.name, self.settings.nats_url)

    async def readiness(self) -> dict[str, bool]:
        nats_ok = self.broker.connection is not None and self.broker.connection.is_connected
        try:
            await self.db.command("ping")
            store_ok = True
        except Exception:
            store_ok = False
        return {"nats": nats_ok, "store": store_ok}

    async def close(self) -> None:
        if self._lag is not None:
            await self._lag.stop()
            self._lag = None
        if self._ops is not None:
            await self._ops.stop()
            self._ops = None
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
