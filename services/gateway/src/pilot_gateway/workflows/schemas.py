"""Request and response shapes of the workflow endpoints (the workflow document itself is
the shared `Workflow` contract)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from pilot_shared.contracts import Connection, Node, Workflow, WorkflowStatus


class WorkflowList(BaseModel):
    items: list[Workflow]
    skip: int
    limit: int


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
