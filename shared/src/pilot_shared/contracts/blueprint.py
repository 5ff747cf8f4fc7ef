"""Planner output: what the prompt asks for, before it is a graph."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import PilotModel
from .nodes import NodeType


class WorkflowIntent(PilotModel):
    category: str = Field(description="e.g. customer_support, content_generation, data_analysis")
    confidence: float = Field(default=1.0, ge=0, le=1)
    language: Literal["en", "zh", "mixed"] = "en"
    summary: str = ""


class Entity(PilotModel):
    kind: str = Field(description="e.g. integration, model, channel, language, url")
    value: str
    text: str = ""


class BlueprintStep(PilotModel):
    key: str = Field(min_length=1, description="a planner-local name, unique in the blueprint")
    type: NodeType
    name: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    retry: dict[str, Any] | None = None
    on_error: dict[str, Any] | None = None


class BlueprintEdge(PilotModel):
    source: str
    target: str
    handle: str | None = None


class WorkflowBlueprint(PilotModel):
    name: str
    description: str = ""
    intent: WorkflowIntent
    entities: list[Entity] = Field(default_factory=list)
    steps: list[BlueprintStep]
    edges: list[BlueprintEdge] = Field(default_factory=list)
    strategy: Literal["offline", "llm", "template"] = "offline"
    strategy_reason: str = ""
