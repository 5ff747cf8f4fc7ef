"""Shapes of the execution endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pilot_shared.contracts import Execution, NodeRun


class ExecuteRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"input_data": {"user_message": "我需要帮助"}}]},
    )

    input_data: dict[str, Any] = Field(
        default_factory=dict, description="Validated against the input node's `config.schema`"
    )


class ExecuteAccepted(BaseModel):
    execution_id: str
    workflow_id: str
    status: Literal["running"] = "running"


class ExecutionDetail(Execution):
    """The execution document plus its log: one entry per node attempt."""

    node_runs: list[NodeRun] = Field(default_factory=list)


class ExecutionList(BaseModel):
    items: list[Execution]
    skip: int
    limit: int
    total: int
