"""`WorkflowGenerator`: blueprint -> validated, laid-out, costed workflow (the original
plan's names: generate_workflow, create_nodes, connect_nodes)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from pilot_shared.contracts import (
    CONFIG_MODELS,
    NODE_ADAPTER,
    BlueprintEdge,
    BlueprintStep,
    Connection,
    GenerationInfo,
    Node,
    Workflow,
    WorkflowBlueprint,
    new_id,
)
from pilot_shared.graph import GraphValidationError, validate_workflow

from .errors import InvalidBlueprint
from .estimate import estimate
from .layout import layout
from .references import assign_ids, rewrite_loop_body, rewrite_refs
from .template_names import unknown_names

MAX_STEPS = 100
_DEFAULT_NAMES = {
    "input": "Input",
    "llm": "LLM",
    "condition": "Condition",
    "loop": "Loop",
    "api": "API call",
    "output": "Output",
    "knowledge": "Knowledge search",
    "tool": "Tool",
}


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where + ': ' if where else ''}{err['msg']}{more}"


class WorkflowGenerator:
    def generate_workflow(
        self,
        blueprint: WorkflowBlueprint,
        *,
        owner_id: str = "anonymous",
        prompt: str = "",
        workflow_id: str | None = None,
    ) -> Workflow:
        """Raises InvalidBlueprint (naming the step or node) when the blueprint does not
        make a valid workflow graph."""
        if not blueprint.steps:
            raise InvalidBlueprint("the blueprint has no steps")
        if len(blueprint.steps) > MAX_STEPS:
            raise InvalidBlueprint(
                f"the blueprint has {len(blueprint.steps)} steps; the limit is {MAX_STEPS}"
            )
        id_map = assign_ids(blueprint.steps)
        nodes = self.create_nodes(blueprint.steps, id_map)
        connections = self.connect_nodes(blueprint.edges, id_map)
        workflow = Workflow(
            id=workflow_id or new_id(),
            name=(blueprint.name or "Generated workflow")[:200],
            description=blueprint.description[:10_000],
            owner_id=owner_id,
            nodes=nodes,
            connections=connections,
            generation=GenerationInfo(
                prompt=prompt,
                strategy=blueprint.strategy,
                reason=blueprint.strategy_reason,
                intent=blueprint.intent.category,
                language=blueprint.intent.language,
            ),
        )
        self.validate(workflow)
        positions = layout(workflow)
        workflow.nodes = [
            n.model_copy(update={"position": positions[n.id]}) for n in workflow.nodes
        ]
        cost = estimate(workflow)
        workflow.estimated_cost = cost.cost_usd
        workflow.execution_time = cost.execution_time
        return workflow

    def create_nodes(
        self, steps: list[BlueprintStep], id_map: dict[str, str] | None = None
    ) -> list[Node]:
        id_map = id_map if id_map is not None else assign_ids(steps)
        return [self._node(step, id_map) for step in steps]

    def _node(self, step: BlueprintStep, id_map: dict[str, str]) -> Node:
        node_id = id_map[step.key]
        label = f"step {step.key!r} (node {node_id!r}, {step.type})"
        config = rewrite_refs(step.config, id_map)
        if step.type == "loop" and "body" in config:
            config["body"] = rewrite_loop_body(step, config["body"], id_map)
        # The per-type config model first, so that its message is about the config alone.
        try:
            CONFIG_MODELS[step.type].model_validate(config)
        except ValidationError as exc:
            raise InvalidBlueprint(f"{label}: invalid config: {_first_error(exc)}") from None
        raw: dict[str, Any] = {
            "id": node_id,
            "type": step.type,
            "name": step.name or f"{_DEFAULT_NAMES[step.type]} {node_id.rsplit('_', 1)[-1]}",
            "config": config,
        }
        if step.retry is not None:
            raw["retry"] = step.retry
        if step.on_error is not None:
            raw["on_error"] = step.on_error
        try:
            node = NODE_ADAPTER.validate_python(raw)
        except ValidationError as exc:
            raise InvalidBlueprint(f"{label}: {_first_error(exc)}") from None
        unknown = unknown_names(node)
        if unknown:
            raise InvalidBlueprint(
                f"{label}: templates read {', '.join(sorted(unknown))}; a run provides only "
                "input.<field>, nodes.<id>.output, and item/loop inside a loop"
            )
        return node

    def connect_nodes(self, edges: list[BlueprintEdge], id_map: dict[str, str]) -> list[Connection]:
        connections: list[Connection] = []
        seen: set[tuple[str, str, str | None]] = set()
        for edge in edges:
            for end in (edge.source, edge.target):
                if end not in id_map:
                    raise InvalidBlueprint(
                        f"edge {edge.source!r} -> {edge.target!r}: there is no step {end!r}"
                    )
            key = (id_map[edge.source], id_map[edge.target], edge.handle)
            if key in seen:
                continue  # a repeated edge adds nothing
            seen.add(key)
            connections.append(
                Connection(
                    id=f"c{len(connections) + 1}",
                    source=key[0],
                    target=key[1],
                    source_handle=key[2],
                )
            )
        return connections

    def validate(self, workflow: Workflow) -> None:
        try:
            validate_workflow(workflow)
        except GraphValidationError as exc:
            raise InvalidBlueprint(f"the workflow graph is invalid: {exc}") from None
