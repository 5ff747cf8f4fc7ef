"""`Annotated` dependency aliases for the endpoints: one place to see what a handler can
ask for. Everything comes from the resources opened in the lifespan."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends
from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient
from pymongo.asynchronous.database import AsyncDatabase
from starlette.requests import HTTPConnection

from pilot_shared.repositories import (
    EventRepository,
    ExecutionRepository,
    NodeRunRepository,
    WorkflowRepository,
)
from pilot_shared.store import Document

from .live import LiveBus
from .resources import GatewayResources
from .settings import GatewaySettings


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


SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
DatabaseDep = Annotated[AsyncDatabase[Document], Depends(get_db)]
BrokerDep = Annotated[NatsBroker, Depends(get_broker)]
NatsDep = Annotated[NatsClient, Depends(get_nats)]
LiveDep = Annotated[LiveBus, Depends(get_live)]


def get_workflows(db: DatabaseDep) -> WorkflowRepository:
    return WorkflowRepository(db)


def get_executions(db: DatabaseDep) -> ExecutionRepository:
    return ExecutionRepository(db)


def get_events(db: DatabaseDep) -> EventRepository:
    return EventRepository(db)


def get_node_runs(db: DatabaseDep) -> NodeRunRepository:
    return NodeRunRepository(db)


WorkflowsDep = Annotated[WorkflowRepository, Depends(get_workflows)]
ExecutionsDep = Annotated[ExecutionRepository, Depends(get_executions)]
EventsDep = Annotated[EventRepository, Depends(get_events)]
NodeRunsDep = Annotated[NodeRunRepository, Depends(get_node_runs)]
