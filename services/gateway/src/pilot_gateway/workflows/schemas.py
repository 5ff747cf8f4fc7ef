"""Request and response shapes of the workflow endpoints (the workflow document itself is
the shared `Workflow` contract)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pilot_shared.contracts import (
    Connection,
    Node,
    OnError,
    Position,
    RetryPolicy,
    Workflow,
    WorkflowStatus,
)


class WorkflowList(BaseModel):
    items: list[Workflow]
    skip: int
    limit: int
    total: int = Field(description="How many workflows match the filters")


class WorkflowSort(StrEnum):
    """A field to sort by; a leading `-` sorts in descending order."""

    updated_desc = "-updated_at"
    updated_asc = "updated_at"
    created_desc = "-created_at"
    created_asc = "created_at"
    name_asc = "name"
    name_desc = "-name"


class Ownership(StrEnum):
    any = "any"
    mine = "mine"
    shared = "shared"


class WorkflowUpdate(BaseModel):
    """PATCH body: the fields to change; the others keep their values."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "Renamed", "status": "active"}]}
    )

    name: str | None = None
    description: str | None = None
    status: WorkflowStatus | None = None
    nodes: list[Node] | None = None
    connections: list[Connection] | None = None
    variables: dict[str, Any] | None = None

    def changes(self) -> dict[str, Any]:
        # Only what the client sent, as validated models (an explicit null is not a change).
        return {
            name: getattr(self, name)
            for name in self.model_fields_set
            if getattr(self, name) is not None
        }


class NodeUpdate(BaseModel):
    """PATCH body of one node (the editor's onNodeEdit). `config` is merged into the
    node's config key by key (a key set to null goes back to its default); the other
    fields replace the node's. The node's type cannot change (replace the workflow)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"config": {"prompt": "Answer briefly: {{ input.user_message }}"}},
                {"name": "Answer", "position": {"x": 300, "y": 40}, "timeout_s": 30},
            ]
        },
    )

    name: str | None = None
    position: Position | None = None
    config: dict[str, Any] | None = None
    retry: RetryPolicy | None = None
    timeout_s: float | None = Field(default=None, gt=0, le=3600)
    on_error: OnError | None = None


EXAMPLE_WORKFLOW: dict[str, Any] = {
    "name": "Customer support bot",
    "description": "Answers a customer message",
    "nodes": [
        {
            "id": "input_1",
            "type": "input",
            "name": "Message",
            "config": {
                "schema": {
                    "type": "object",
                    "properties": {"user_message": {"type": "string"}},
                    "required": ["user_message"],
                }
            },
        },
        {
            "id": "llm_1",
            "type": "llm",
            "name": "Answer",
            "position": {"x": 240, "y": 0},
            "config": {"model": "gpt-4o-mini", "prompt": "Answer: {{ input.user_message }}"},
        },
        {
            "id": "output_1",
            "type": "output",
            "name": "Reply",
            "position": {"x": 480, "y": 0},
            "config": {"value": "{{ nodes.llm_1.output }}"},
        },
    ],
    "connections": [
        {"id": "c1", "source": "input_1", "target": "llm_1"},
        {"id": "c2", "source": "llm_1", "target": "output_1"},
    ],
}
