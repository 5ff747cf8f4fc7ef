"""Uvicorn, told to end live streams as soon as shutdown begins.

Uvicorn waits for open responses before it runs the app's lifespan shutdown, and an SSE
stream never ends by itself: without this, every stop would wait out the grace period
and then cancel the streams with a traceback. Ending them first is safe because SSE
clients resume with Last-Event-ID.
"""

from __future__ import annotations

import asyncio
import socket
from types import FrameType

import uvicorn
from fastapi import FastAPI


class GatewayServer(uvicorn.Server):
    def __init__(self, app: FastAPI, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._app = app
        self._loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._end_live_streams()
        super().handle_exit(sig, frame)

    def begin_shutdown(self) -> None:
        """Stop serving, as a signal would; callable from any thread."""
        self._end_live_streams()
        self.should_exit = True

    def _end_live_streams(self) -> None:
        resources = getattr(self._app.state, "resources", None)
        # After the server has stopped, its loop is closed and there is nothing to end.
        if resources is not None and self._loop is not None and not self._loop.is_closed():
            resources.begin_shutdown(self._loop)
