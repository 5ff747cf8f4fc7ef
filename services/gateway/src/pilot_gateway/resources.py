"""The gateway's long-lived clients: created in the app's lifespan, never at import time.

The FastStream broker is used as a client only (the gateway has no subscribers of its
own): it publishes commands with telemetry and metrics, and its nats-py connection serves
the core-NATS subscriptions that feed SSE and WebSocket clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared.bus import build_broker, ensure_streams
from pilot_shared.store import Document, create_store_client, ensure_indexes

from .auth.tokens import load_signing_secret
from .limits import Limits
from .live import LiveBus
from .settings import GatewaySettings

log = logging.getLogger(__name__)

# Draining waits for in-flight messages; against a dead server it would wait forever.
_CLOSE_TIMEOUT_S = 5.0


class GatewayResources:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.broker: NatsBroker = build_broker("gateway", settings)
        self._mongo: AsyncMongoClient[Document] | None = None
        self._live: LiveBus | None = None
        self._connected = False
        self._signing_secret: str | None = None
        self.limits = Limits(
            per_minute=settings.rate_limit_per_minute,
            burst=settings.rate_limit_burst,
            expensive_per_minute=settings.expensive_per_minute,
            expensive_burst=settings.expensive_burst,
            auth_failures_per_minute=settings.auth_failures_per_minute,
            max_concurrent_executions=settings.max_concurrent_executions,
        )

    @property
    def nats(self) -> NatsClient:
        return self.broker.connection

    @property
    def live(self) -> LiveBus:
        if self._live is None:
            raise RuntimeError("the gateway's NATS connection is not open")
        return self._live

    @property
    def mongo(self) -> AsyncMongoClient[Document]:
        if self._mongo is None:
            raise RuntimeError("the gateway's store client is not open")
        return self._mongo

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self.mongo[self.settings.mongodb_db]

    @property
    def signing_secret(self) -> str:
        if self._signing_secret is None:
            raise RuntimeError("the gateway's token signing secret is not loaded")
        return self._signing_secret

    async def open(self) -> None:
        try:
            await self.broker.connect()
            self._connected = True
            self._live = LiveBus(self.broker.connection)
            await ensure_streams(self.broker.connection)
            self._mongo = create_store_client(self.settings.mongodb_url)
            await ensure_indexes(self.db)
            configured = self.settings.jwt_secret
            self._signing_secret = (
                configured.get_secret_value()
                if configured is not None and configured.get_secret_value()
                else await load_signing_secret(self.db)
            )
        except BaseException:
            await self.close()
            raise
        log.info("gateway connected to %s", self.settings.nats_url)

    def begin_shutdown(self, loop: asyncio.AbstractEventLoop) -> None:
        """End live streams now (callable from a signal handler or another thread):
        the server waits for open responses before it runs the lifespan's shutdown."""
        if self._live is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: all ended
                loop.call_soon_threadsafe(self._live.stop)

    async def close(self) -> None:
        if self._live is not None:
            self._live.stop()
        if self._mongo is not None:
            mongo, self._mongo = self._mongo, None
            await mongo.close()
        if self._connected:
            self._connected = False
            try:
                if self.nats.is_connected:
                    await asyncio.wait_for(self.broker.stop(), _CLOSE_TIMEOUT_S)
                else:  # nothing to drain into a server that is gone
                    await self.nats.close()
            except Exception as exc:  # shutting down anyway: report, do not mask the exit
                log.warning("closing the NATS connection failed: %r", exc)
