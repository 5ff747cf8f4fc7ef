"""The input node: checks the workflow input against the node's JSON schema and passes
it on unchanged."""

from __future__ import annotations

from typing import Any

from jsonschema import SchemaError
from jsonschema.validators import validator_for

from pilot_shared.contracts import InputNode, NodeTask

from ..outcome import EmitChunk, NodeFailure, NodeOutcome

_MAX_REPORTED_ERRORS = 5


async def handle_input(task: NodeTask, emit_chunk: EmitChunk) -> NodeOutcome:
    assert isinstance(task.node, InputNode)
    data: Any = task.context.get("input", {})
    schema = task.node.config.schema_
    if schema:
        problems = schema_problems(schema, data)
        if problems:
            raise NodeFailure(
                "validation", "input does not match the schema: " + "; ".join(problems)
            )
    return NodeOutcome(output=data, input=data)


def schema_problems(schema: dict[str, Any], data: Any, *, what: str = "input schema") -> list[str]:
    """Human-readable problems of `data` against `schema` (empty when it conforms)."""
    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise NodeFailure("validation", f"the {what} is invalid: {exc.message}") from None
    errors = sorted(cls(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    out = []
    for err in errors[:_MAX_REPORTED_ERRORS]:
        where = "/".join(str(p) for p in err.absolute_path)
        out.append(f"{where}: {err.message}" if where else err.message)
    if len(errors) > _MAX_REPORTED_ERRORS:
        out.append(f"and {len(errors) - _MAX_REPORTED_ERRORS} more")
    return out
