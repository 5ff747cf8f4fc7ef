"""The JSON schema the LLM planner asks for, derived from the wire contracts: a blueprint
whose steps are a union on `type`, each with that node type's own config model, so that
a provider enforcing structured output cannot even produce an llm step with a condition's
config."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, create_model

from pilot_shared.contracts import (
    CONFIG_MODELS,
    NODE_TYPES,
    BlueprintEdge,
    OnError,
    PilotModel,
    RetryPolicy,
    WorkflowIntent,
)


def _step_model(node_type: str) -> type[BaseModel]:
    return create_model(
        f"{node_type.capitalize()}Step",
        __base__=PilotModel,
        key=(str, Field(description="unique in the blueprint, shaped like <type>_<n>")),
        type=(Literal[node_type], ...),  # type: ignore[arg-type]
        name=(str, Field(default="", description="a short name a person reads on the canvas")),
        config=(CONFIG_MODELS[node_type], ...),
        retry=(RetryPolicy | None, None),
        on_error=(OnError | None, None),
    )


@cache
def planned_blueprint_model() -> type[BaseModel]:
    steps = tuple(_step_model(t) for t in NODE_TYPES)
    step_union = Annotated[Union[steps], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
    return create_model(
        "WorkflowBlueprint",
        __base__=PilotModel,
        name=(str, ...),
        description=(str, ""),
        intent=(WorkflowIntent, ...),
        steps=(list[step_union], ...),
        edges=(list[BlueprintEdge], Field(default_factory=list)),
    )


@cache
def blueprint_schema() -> dict[str, Any]:
    return planned_blueprint_model().model_json_schema()
