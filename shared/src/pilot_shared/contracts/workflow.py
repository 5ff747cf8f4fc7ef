"""The workflow document, as the API returns and accepts it (DESIGN.md §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from .base import PilotModel, new_id, utcnow
from .nodes import Connection, Node

WorkflowStatus = Literal["draft", "active", "archived"]


class GenerationInfo(PilotModel):
    """How a generated workflow came to be: which planner strategy, and why."""

    prompt: str = ""
    strategy: Literal["offline", "llm", "template", "manual"] = "manual"
    reason: str = ""
    intent: str | None = None
    language: str | None = None


class Workflow(PilotModel):
    id: str = Field(default_factory=new_id)
    name: str = Field(default="Untitled workflow", max_length=200)
    description: str = Field(default="", max_length=10_000)
    owner_id: str = "anonymous"
    version: int = Field(default=1, ge=1)
    status: WorkflowStatus = "draft"
    nodes: list[Node] = Field(default_factory=list)
    connections: list[Connection] = Field(default_factory=list)
    variables: dict[str, Any] = Field(default_factory=dict)
    estimated_cost: float = 0.0
    execution_time: str = ""
    generation: GenerationInfo | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


class WorkflowCreate(PilotModel):
    """What a client sends to create a workflow: the server owns id, version and timestamps."""

    name: str = Field(default="Untitled workflow", max_length=200)
    description: str = Field(default="", max_length=10_000)
    status: WorkflowStatus = "draft"
    nodes: list[Node] = Field(default_factory=list)
    connections: list[Connection] = Field(default_factory=list)
    variables: dict[str, Any] = Field(default_factory=dict)
