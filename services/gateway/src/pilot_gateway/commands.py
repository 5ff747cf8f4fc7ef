"""Publishing commands to the other services. A bus that cannot take the command is a
503 for the client, not a 500: the request can be retried once NATS is back."""

from __future__ import annotations

import logging

from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient

from pilot_shared.bus import publish
from pilot_shared.contracts import PilotModel

from .errors import ServiceUnavailableError

log = logging.getLogger(__name__)


class BusUnavailableError(ServiceUnavailableError):
    kind = "unavailable"


def require_connected(nc: NatsClient) -> None:
    """Fail fast: while nats-py reconnects it buffers publishes and waits out the publish
    timeout, which a client waiting on HTTP should not sit through."""
    if not nc.is_connected:
        raise BusUnavailableError("the message bus (NATS) is not connected")


async def send_command(broker: NatsBroker, message: PilotModel, subject: str, msg_id: str) -> None:
    require_connected(broker.connection)
    try:
        await publish(broker, message, subject, msg_id=msg_id)
    except Exception as exc:
        log.warning("publishing to %s failed: %r", subject, exc)
        raise BusUnavailableError(f"the message bus did not accept the command: {exc!r}") from exc
