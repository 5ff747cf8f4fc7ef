"""Messages of the collaboration WebSocket (`/ws/workflow/{id}`), told apart by `type`.

Client -> server: `edit` (a change made on `base_version`: one node's fields when
`node_id` is set, else workflow fields, as the PATCH endpoints take them) and `ping`.
Server -> client: `hello` once, then `workflow.updated` / `workflow.deleted` /
`workflow.access_changed` (WorkflowChange), every execution event of the workflow
(ExecutionEvent, `type` = `execution.*` / `node.*`), `edit.accepted` / `edit.rejected`
answering an edit (matched by its `ref`), `error` for an unreadable message, `pong`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EditMessage(_Message):
    type: Literal["edit"]
    ref: str | None = Field(default=None, max_length=100, description="Echoed in the answer")
    base_version: int = Field(ge=1, description="The version the change was made on")
    node_id: str | None = None
    changes: dict[str, Any]


class PingMessage(_Message):
    type: Literal["ping"]
    ref: str | None = Field(default=None, max_length=100)


ClientMessage: TypeAlias = Annotated[EditMessage | PingMessage, Field(discriminator="type")]
CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


class Hello(_Message):
    type: Literal["hello"] = "hello"
    workflow_id: str
    version: int
    access: str
    user_id: str
    username: str
    request_id: str | None = None


class EditAccepted(_Message):
    type: Literal["edit.accepted"] = "edit.accepted"
    ref: str | None
    version: int


class EditRejected(_Message):
    model_config = ConfigDict(extra="allow")

    type: Literal["edit.rejected"] = "edit.rejected"
    ref: str | None
    error: str
    detail: str


class ErrorMessage(_Message):
    model_config = ConfigDict(extra="allow")

    type: Literal["error"] = "error"
    error: str
    detail: str


class Pong(_Message):
    type: Literal["pong"] = "pong"
    ref: str | None = None
