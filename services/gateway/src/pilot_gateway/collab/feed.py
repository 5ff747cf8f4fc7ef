"""Publishing workflow changes to `subjects.workflow_events(id)`, from which every gateway
relays them to the WebSocket clients of that workflow.

A change is saved before it is published. If the bus cannot take it, the save stands and
the change is only logged: clients notice the gap in version numbers and reload.
"""

from __future__ import annotations

import logging

from faststream.nats import NatsBroker

from pilot_shared import subjects
from pilot_shared.bus import publish
from pilot_shared.contracts import WorkflowChange, new_id

log = logging.getLogger(__name__)


class ChangeFeed:
    def __init__(self, broker: NatsBroker) -> None:
        self._broker = broker

    async def publish(self, change: WorkflowChange) -> None:
        # A saved version is published once whatever retries happen; sharing changes
        # carry no new version, so each is its own message.
        msg_id = (
            f"{change.workflow_id}:v{change.version}"
            if change.type == "workflow.updated"
            else new_id()
        )
        try:
            if not self._broker.connection.is_connected:
                raise ConnectionError("NATS is not connected")
            await publish(
                self._broker, change, subjects.workflow_events(change.workflow_id), msg_id
            )
        except Exception as exc:
            log.warning(
                "could not broadcast %s of workflow %s (v%d): %r",
                change.type,
                change.workflow_id,
                change.version,
                exc,
            )
