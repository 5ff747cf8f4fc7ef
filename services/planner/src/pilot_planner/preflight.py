"""Would a blueprint become a valid workflow? Run on LLM output before it is trusted, so
that a plausible-looking but broken plan falls back to the offline rules instead of
failing in the generator.

It builds a provisional workflow with node ids = step keys (the generator renames nodes
consistently, so validity carries over) and runs the shared graph validator on it.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from pilot_shared.contracts import (
    NODE_ADAPTER,
    NODE_ID_PATTERN,
    Connection,
    Node,
    Workflow,
    WorkflowBlueprint,
)
from pilot_shared.graph import GraphValidationError, unknown_template_names, validate_workflow

MAX_STEPS = 50


def blueprint_issues(blueprint: WorkflowBlueprint) -> list[str]:
    steps = blueprint.steps
    if not steps:
        return ["the blueprint has no steps"]
    if len(steps) > MAX_STEPS:
        return [f"the blueprint has {len(steps)} steps; the limit is {MAX_STEPS}"]
    issues: list[str] = []
    nodes: list[Node] = []
    seen: set[str] = set()
    for step in steps:
        if step.key in seen:
            issues.append(f"step {step.key!r}: duplicate key")
        seen.add(step.key)
        if not re.fullmatch(NODE_ID_PATTERN, step.key):
            issues.append(f"step {step.key!r}: keys must look like 'llm_1'")
            continue
        raw: dict[str, Any] = {
            "id": step.key,
            "type": step.type,
            "name": step.name,
            "config": step.config,
        }
        if step.retry is not None:
            raw["retry"] = step.retry
        if step.on_error is not None:
            raw["on_error"] = step.on_error
        try:
            node = NODE_ADAPTER.validate_python(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"][1:]) or "step"
            issues.append(f"step {step.key!r} ({step.type}): {where}: {first['msg']}")
            continue
        nodes.append(node)
        unknown = unknown_template_names(node)
        if unknown:
            issues.append(
                f"step {step.key!r}: templates read {', '.join(sorted(unknown))}; "
                "only input.<field> and nodes.<key>.output exist"
            )
    for edge in blueprint.edges:
        for end in (edge.source, edge.target):
            if end not in seen:
                issues.append(f"edge {edge.source}->{edge.target}: no step {end!r}")
    if issues:
        return issues
    workflow = Workflow(
        nodes=nodes,
        connections=[
            Connection(id=f"c{i}", source=e.source, target=e.target, source_handle=e.handle)
            for i, e in enumerate(blueprint.edges, start=1)
        ],
    )
    try:
        validate_workflow(workflow)
    except GraphValidationError as exc:
        return [str(issue) for issue in exc.issues]
    return []
