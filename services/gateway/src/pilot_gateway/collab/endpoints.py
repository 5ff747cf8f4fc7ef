"""WS /ws/workflow/{id}: edit a workflow together and watch it run.

Browsers cannot set headers on a WebSocket: the credential may come as `?access_token=`
(prefer a short-lived token from POST /api/auth/token there). Failures close the socket
with a code the client can act on: 4401 (no or bad credential), 4404 (no such workflow,
or not visible to you), 4429 (rate limited), 1013 (the bus is unreachable: retry).
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from pilot_shared import subjects
from pilot_shared.contracts import ExecutionEvent, WorkflowChange

from ..auth.service import UnauthorizedError
from ..deps import ResourcesDep, authenticate_connection
from ..errors import NotFoundError, PilotError
from ..limits import RateLimitedError
from ..request_id import current_request_id
from ..workflows.access import authorize_workflow
from ..workflows.store import WorkflowStore
from .feed import ChangeFeed
from .schemas import Hello
from .session import CollabSession

router = APIRouter()

UNAUTHORIZED = 4401
NOT_FOUND = 4404
RATE_LIMITED = 4429
TRY_AGAIN_LATER = 1013


def _bearer(websocket: WebSocket, access_token: str | None) -> str | None:
    header = websocket.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        return credential.strip()
    return access_token


@router.websocket("/ws/workflow/{workflow_id}")
async def workflow_socket(
    websocket: WebSocket,
    workflow_id: str,
    resources: ResourcesDep,
    access_token: str | None = None,
) -> None:
    await websocket.accept()
    try:
        caller = await authenticate_connection(
            websocket, resources, _bearer(websocket, access_token)
        )
        store = WorkflowStore.for_db(resources.db, ChangeFeed(resources.broker))
        found = await authorize_workflow(
            store.workflows, store.shares, caller, workflow_id, "viewer"
        )
    except UnauthorizedError as exc:
        await websocket.close(code=UNAUTHORIZED, reason=exc.detail[:120])
        return
    except RateLimitedError as exc:
        await websocket.close(code=RATE_LIMITED, reason=exc.detail[:120])
        return
    except NotFoundError as exc:
        await websocket.close(code=NOT_FOUND, reason=exc.detail[:120])
        return

    try:
        # Subscribe before saying hello: nothing saved after the hello's version is missed.
        executions = await resources.live.subscribe(
            subjects.execution_events(workflow_id), ExecutionEvent.model_validate_json
        )
    except PilotError as exc:
        await websocket.close(code=TRY_AGAIN_LATER, reason=exc.detail[:120])
        return
    try:
        changes = await resources.live.subscribe(
            subjects.workflow_events(workflow_id), WorkflowChange.model_validate_json
        )
    except PilotError as exc:
        await executions.close()
        await websocket.close(code=TRY_AGAIN_LATER, reason=exc.detail[:120])
        return
    try:
        latest = await store.workflows.get(workflow_id) or found.workflow
        session = CollabSession(websocket, resources, store, caller, workflow_id, found.access)
        await session.send(
            Hello(
                workflow_id=workflow_id,
                version=latest.version,
                access=found.access,
                user_id=caller.id,
                username=caller.user.username,
                request_id=current_request_id(),
            )
        )
        await session.run(executions, changes)
    finally:
        await executions.close()
        await changes.close()
