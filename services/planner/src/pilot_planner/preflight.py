"""Would a blueprint become a valid workflow? Run on LLM output before it is trusted, so
that a plausible-looking but broken plan falls back to the offline rules instead of
failing in the generator.

It builds a provisional workflow with node ids = step keys (the generator renames nodes
consistently, so validity carries over) and runs the shared graph validator on it.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, meta
from pydantic import ValidationError

from pilot_shared.contracts import NODE_ADAPTER, Connection, Node, Workflow, WorkflowBlueprint
from pilot_shared.contracts.nodes import NODE_ID_PATTERN
from pilot_shared.graph import GraphValidationError, validate_workflow

MAX_STEPS = 50
# What a template may read: the workflow input, upstream outputs, the loop item, and the
# sandbox's few globals.
TEMPLATE_ROOTS = frozenset({"input", "nodes", "item", "loop", "range", "len", "min", "max"})
_parser = Environment()


def _template_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if ("{{" in value or "{%" in value) else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _template_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _template_strings(v)]
    return []


def unknown_template_names(config: dict[str, Any], node_type: str) -> set[str]:
    """Names a node's templates read that no run will provide (e.g. `{{ user_message }}`
    where `{{ input.user_message }}` was meant)."""
    sources = _template_strings(config)
    if node_type == "condition":
        sources += [f"{{{{ {e} }}}}" for e in [config.get("expression")] if isinstance(e, str)]
        sources += [
            f"{{{{ {c['when']} }}}}"
            for c in config.get("cases") or []
            if isinstance(c, dict) and isinstance(c.get("when"), str)
        ]
    elif node_type == "loop" and isinstance(config.get("condition"), str):
        sources.append(f"{{{{ {config['condition']} }}}}")
    names: set[str] = set()
    for source in sources:
        try:
            names |= meta.find_undeclared_variables(_parser.parse(source))
        except TemplateSyntaxError:
            continue  # the graph validator reports syntax errors with the node id
    return names - TEMPLATE_ROOTS


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
            nodes.append(NODE_ADAPTER.validate_python(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"][1:]) or "step"
            issues.append(f"step {step.key!r} ({step.type}): {where}: {first['msg']}")
            continue
        unknown = unknown_template_names(step.config, step.type)
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
