"""One client's collaboration session on one workflow.

It relays what happens to the workflow (saved edits from any client or REST call, and
every execution's events) and applies the client's own edits. An edit is saved only on
the version it was made on: a stale one is rejected with a conflict, never merged. Access
is checked again on every edit and whenever the workflow's sharing changes, so a user who
loses access stops receiving at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.websockets import WebSocket

from pilot_shared.contracts import ExecutionEvent, Workflow, WorkflowChange

from ..auth.schemas import Caller
from ..errors import PilotError
from ..live import LiveSubscription, SubscriptionClosed
from ..resources import GatewayResources
from ..workflows import service as workflows
from ..workflows.access import AccessLevel, access_level, authorize_workflow
from ..workflows.schemas import NodeUpdate, WorkflowUpdate
from ..workflows.store import WorkflowStore
from .schemas import (
    CLIENT_MESSAGE,
    EditAccepted,
    EditMessage,
    EditRejected,
    ErrorMessage,
    Pong,
)

log = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's).
SERVICE_RESTART = 1012  # the gateway is shutting down: reconnect
ACCESS_REVOKED = 4403
GONE = 4410


class SessionClosed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class CollabSession:
    def __init__(
        self,
        websocket: WebSocket,
        resources: GatewayResources,
        store: WorkflowStore,
        caller: Caller,
        workflow_id: str,
        access: AccessLevel,
    ) -> None:
        self.websocket = websocket
        self.resources = resources
        self.caller = caller
        self.workflow_id = workflow_id
        self.access: AccessLevel | None = access
        self._send_lock = asyncio.Lock()
        self._store = store
        self._workflows = store.workflows
        self._shares = store.shares

    async def send(self, message: BaseModel | str) -> None:
        text = message if isinstance(message, str) else message.model_dump_json()
        async with self._send_lock:  # frames from several tasks must not interleave
            await self.websocket.send_text(text)

    async def run(
        self,
        executions: LiveSubscription[ExecutionEvent],
        changes: LiveSubscription[WorkflowChange],
    ) -> None:
        tasks = [
            asyncio.create_task(self._relay_executions(executions)),
            asyncio.create_task(self._relay_changes(changes)),
            asyncio.create_task(self._receive()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                exc = task.exception()
                if isinstance(exc, SessionClosed):
                    await self._close(exc.code, exc.reason)
                elif exc is not None and not isinstance(exc, asyncio.CancelledError):
                    log.error("collaboration session on %s failed: %r", self.workflow_id, exc)
                    await self._close(1011, "internal error")
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):  # the client may be gone already
            await self.websocket.close(code=code, reason=reason[:120])

    # -- from the bus to the client -------------------------------------------------------

    async def _relay_executions(self, subscription: LiveSubscription[ExecutionEvent]) -> None:
        try:
            while True:
                event = await subscription.get(None)
                if event is not None:
                    await self.send(event)
        except SubscriptionClosed:
            raise SessionClosed(SERVICE_RESTART, "the gateway is shutting down") from None

    async def _relay_changes(self, subscription: LiveSubscription[WorkflowChange]) -> None:
        try:
            while True:
                change = await subscription.get(None)
                if change is None:
                    continue
                if change.type == "workflow.access_changed":
                    await self._recheck_access()
                await self.send(change)
                if change.type == "workflow.deleted":
                    raise SessionClosed(GONE, "the workflow was deleted")
        except SubscriptionClosed:
            raise SessionClosed(SERVICE_RESTART, "the gateway is shutting down") from None

    async def _recheck_access(self) -> None:
        workflow = await self._workflows.get(self.workflow_id)
        self.access = await access_level(self._shares, self.caller, workflow) if workflow else None
        if self.access is None:
            raise SessionClosed(ACCESS_REVOKED, "you no longer have access to this workflow")

    # -- from the client ------------------------------------------------------------------

    async def _receive(self) -> None:
        limit = self.resources.settings.max_ws_message_bytes
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None:
                raw = (message.get("bytes") or b"").decode("utf-8", errors="replace")
            if len(raw.encode()) > limit:
                await self.send(
                    ErrorMessage(
                        error="payload_too_large",
                        detail=f"messages are limited to {limit:,} bytes",
                    )
                )
                continue
            await self._handle(raw)

    async def _handle(self, raw: str) -> None:
        try:
            parsed = CLIENT_MESSAGE.validate_python(json.loads(raw))
        except ValueError as exc:  # JSONDecodeError and ValidationError are ValueErrors
            detail = (
                "; ".join(
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                    for e in exc.errors(include_url=False)
                )
                if isinstance(exc, ValidationError)
                else f"not JSON: {exc}"
            )
            await self.send(ErrorMessage(error="bad_message", detail=detail))
            return
        if isinstance(parsed, EditMessage):
            await self.send(await self._edit(parsed))
        else:
            await self.send(Pong(ref=parsed.ref))

    async def _edit(self, edit: EditMessage) -> EditAccepted | EditRejected:
        try:
            self.resources.limits.requests.check(self.caller.id)
            found = await authorize_workflow(
                self._workflows, self._shares, self.caller, self.workflow_id, "editor"
            )
            changes = self._changes(edit, found.workflow)
            saved = await workflows.save_version(
                self._store,
                found.workflow,
                changes,
                caller=self.caller,
                change="node_edited" if edit.node_id else "updated",
                based_on=edit.base_version,
                node_id=edit.node_id,
            )
        except PilotError as exc:
            return EditRejected(ref=edit.ref, error=exc.kind, detail=exc.detail, **exc.extra)
        return EditAccepted(ref=edit.ref, version=saved.version)

    def _changes(self, edit: EditMessage, workflow: Workflow) -> dict[str, Any]:
        try:
            if edit.node_id is not None:
                update = NodeUpdate.model_validate(edit.changes)
                return {"nodes": workflows.updated_nodes(workflow, edit.node_id, update)}
            return WorkflowUpdate.model_validate(edit.changes).changes()
        except ValidationError as exc:
            errors = [
                {"loc": ["changes", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False)
            ]
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
            raise workflows.InvalidNodeError(detail, extra={"errors": errors}) from None
