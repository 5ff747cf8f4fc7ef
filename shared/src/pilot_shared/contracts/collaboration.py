"""Who may see a workflow besides its owner, its saved versions, and the changes that the
gateways broadcast to the clients collaborating on it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeAlias

from pydantic import Field

from .base import PilotModel, utcnow
from .workflow import Workflow

ShareRole: TypeAlias = Literal["viewer", "editor"]
ChangeKind: TypeAlias = Literal[
    "created", "generated", "updated", "replaced", "node_edited", "rolled_back", "imported"
]


class WorkflowShare(PilotModel):
    """One user's access to one workflow (one document each: the store cannot `$push`
    sub-documents)."""

    id: str = Field(description="<workflow_id>:<user_id>")
    workflow_id: str
    user_id: str
    role: ShareRole
    created_by: str
    created_at: datetime = Field(default_factory=utcnow)


def share_id(workflow_id: str, user_id: str) -> str:
    return f"{workflow_id}:{user_id}"


class WorkflowVersion(PilotModel):
    """A saved version of a workflow, whole, as it was saved (one document per version)."""

    id: str = Field(description="<workflow_id>:<version, 8 digits>")
    workflow_id: str
    version: int = Field(ge=1)
    change: ChangeKind = "updated"
    saved_by: str = "anonymous"
    saved_at: datetime = Field(default_factory=utcnow)
    workflow: Workflow


def version_id(workflow_id: str, version: int) -> str:
    return f"{workflow_id}:{version:08d}"


class WorkflowChange(PilotModel):
    """gateway -> gateways: a workflow was saved, deleted, or its sharing changed. Every
    gateway relays it to the WebSocket clients of that workflow that may see it."""

    type: Literal["workflow.updated", "workflow.deleted", "workflow.access_changed"]
    workflow_id: str
    version: int = Field(ge=1)
    previous_version: int | None = None
    change: ChangeKind | None = None
    node_id: str | None = None
    by: str = Field(description="id of the user who made the change")
    by_username: str = ""
    ts: datetime = Field(default_factory=utcnow)
    workflow: Workflow | None = None
