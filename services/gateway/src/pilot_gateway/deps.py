"""`Annotated` dependency aliases for the endpoints: one place to see what a handler can
ask for. Everything comes from the resources opened in the lifespan.

Authorization lives here too, so no route can forget it: a route that takes a
`ViewableWorkflow` / `EditableWorkflow` / `OwnedWorkflow` gets the workflow only when the
caller has that access (and a 404 when the caller may not even see it, so ids of other
users' workflows cannot be probed).
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient
from pymongo.asynchronous.database import AsyncDatabase
from starlette.requests import HTTPConnection, Request

from pilot_shared.repositories import (
    EventRepository,
    ExecutionRepository,
    NodeRunRepository,
    ShareRepository,
    UserRepository,
    WorkflowRepository,
)
from pilot_shared.store import Document

from .auth.schemas import Caller
from .auth.service import UnauthorizedError, authenticate
from .collab.feed import ChangeFeed
from .errors import ForbiddenError
from .limits import Limits
from .live import LiveBus
from .resources import GatewayResources
from .settings import GatewaySettings
from .workflows.access import AccessLevel, AuthorizedWorkflow, authorize_workflow
from .workflows.store import WorkflowStore


def get_resources(conn: HTTPConnection) -> GatewayResources:
    # HTTPConnection (not Request) so WebSocket routes can use the same dependencies.
    return cast(GatewayResources, conn.app.state.resources)


ResourcesDep = Annotated[GatewayResources, Depends(get_resources)]


def get_settings(resources: ResourcesDep) -> GatewaySettings:
    return resources.settings


def get_db(resources: ResourcesDep) -> AsyncDatabase[Document]:
    return resources.db


def get_broker(resources: ResourcesDep) -> NatsBroker:
    return resources.broker


def get_nats(resources: ResourcesDep) -> NatsClient:
    return resources.nats


def get_live(resources: ResourcesDep) -> LiveBus:
    return resources.live


def get_limits(resources: ResourcesDep) -> Limits:
    return resources.limits


SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
DatabaseDep = Annotated[AsyncDatabase[Document], Depends(get_db)]
BrokerDep = Annotated[NatsBroker, Depends(get_broker)]
NatsDep = Annotated[NatsClient, Depends(get_nats)]

# Pagination of every list endpoint, bounded once.
SkipParam = Annotated[int, Query(ge=0, le=1_000_000)]
LimitParam = Annotated[int, Query(ge=1, le=200)]
LiveDep = Annotated[LiveBus, Depends(get_live)]
LimitsDep = Annotated[Limits, Depends(get_limits)]


def get_workflows(db: DatabaseDep) -> WorkflowRepository:
    return WorkflowRepository(db)


def get_executions(db: DatabaseDep) -> ExecutionRepository:
    return ExecutionRepository(db)


def get_events(db: DatabaseDep) -> EventRepository:
    return EventRepository(db)


def get_node_runs(db: DatabaseDep) -> NodeRunRepository:
    return NodeRunRepository(db)


def get_users(db: DatabaseDep) -> UserRepository:
    return UserRepository(db)


def get_shares(db: DatabaseDep) -> ShareRepository:
    return ShareRepository(db)


WorkflowsDep = Annotated[WorkflowRepository, Depends(get_workflows)]
ExecutionsDep = Annotated[ExecutionRepository, Depends(get_executions)]
EventsDep = Annotated[EventRepository, Depends(get_events)]
NodeRunsDep = Annotated[NodeRunRepository, Depends(get_node_runs)]
UsersDep = Annotated[UserRepository, Depends(get_users)]
SharesDep = Annotated[ShareRepository, Depends(get_shares)]


def get_workflow_store(db: DatabaseDep, resources: ResourcesDep) -> WorkflowStore:
    return WorkflowStore.for_db(db, ChangeFeed(resources.broker))


WorkflowStoreDep = Annotated[WorkflowStore, Depends(get_workflow_store)]

# --- authentication -------------------------------------------------------------------

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key (`pilot_…`, from `pilot users create` or POST /api/users) "
    "or a token from POST /api/auth/token",
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client is not None else "unknown"


async def authenticate_connection(
    conn: HTTPConnection, resources: GatewayResources, credential: str | None
) -> Caller:
    """Authenticate and count the request against the caller's rate limit. Failures are
    counted per address, so guessing keys is slow as well as hopeless."""
    try:
        caller = await authenticate(credential, resources.db, resources.signing_secret)
    except UnauthorizedError:
        resources.limits.auth_failures.check(client_address(conn))
        raise
    resources.limits.requests.check(caller.id)
    conn.scope.setdefault("state", {})["user_id"] = caller.id
    return caller


async def get_caller(request: Request, resources: ResourcesDep, credentials: BearerDep) -> Caller:
    return await authenticate_connection(
        request, resources, credentials.credentials if credentials is not None else None
    )


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_stream_caller(
    request: Request,
    resources: ResourcesDep,
    credentials: BearerDep,
    access_token: Annotated[
        str | None,
        Query(
            description="For clients that cannot set headers (EventSource): a token from "
            "POST /api/auth/token. Prefer the Authorization header."
        ),
    ] = None,
) -> Caller:
    credential = credentials.credentials if credentials is not None else access_token
    return await authenticate_connection(request, resources, credential)


StreamCallerDep = Annotated[Caller, Depends(get_stream_caller)]


async def get_expensive_caller(caller: CallerDep, limits: LimitsDep) -> Caller:
    """Generations and executions: also counted against the budget for model calls."""
    limits.expensive.check(caller.id)
    return caller


ExpensiveCallerDep = Annotated[Caller, Depends(get_expensive_caller)]


async def get_admin(caller: CallerDep) -> Caller:
    if not caller.is_admin:
        raise ForbiddenError("this needs an admin's API key")
    return caller


AdminDep = Annotated[Caller, Depends(get_admin)]

# --- authorization on workflows -------------------------------------------------------


class _RequireWorkflow:
    def __init__(self, need: AccessLevel) -> None:
        self.need = need

    async def __call__(
        self, workflow_id: str, caller: CallerDep, workflows: WorkflowsDep, shares: SharesDep
    ) -> AuthorizedWorkflow:
        return await authorize_workflow(workflows, shares, caller, workflow_id, self.need)


ViewableWorkflow = Annotated[AuthorizedWorkflow, Depends(_RequireWorkflow("viewer"))]
EditableWorkflow = Annotated[AuthorizedWorkflow, Depends(_RequireWorkflow("editor"))]
OwnedWorkflow = Annotated[AuthorizedWorkflow, Depends(_RequireWorkflow("owner"))]


async def get_runnable_workflow(
    workflow_id: str, caller: ExpensiveCallerDep, workflows: WorkflowsDep, shares: SharesDep
) -> AuthorizedWorkflow:
    """Running needs edit access (a run spends the model budget), and counts against the
    caller's budget for expensive requests."""
    return await authorize_workflow(workflows, shares, caller, workflow_id, "editor")


RunnableWorkflow = Annotated[AuthorizedWorkflow, Depends(get_runnable_workflow)]
