"""Starting executions and reading them back.

Input is checked against the workflow's input schema *before* anything is stored or
queued, so a bad request costs nothing downstream (ARCHITECTURE.md, "How a run flows").
"""

from __future__ import annotations

from typing import Any

from faststream.nats import NatsBroker
from jsonschema import Draft202012Validator, SchemaError, ValidationError
from jsonschema.validators import validator_for

from pilot_shared import subjects, tracing
from pilot_shared.contracts import Execution, InputNode, RunRequest, Workflow, new_id
from pilot_shared.repositories import ExecutionRepository, NodeRunRepository

from ..commands import require_connected, send_command
from ..errors import PilotError
from .schemas import ExecutionDetail


class InvalidInputError(PilotError):
    status_code = 422
    kind = "invalid_input"


def _describe(error: ValidationError) -> tuple[list[str | int], str]:
    """Where the problem is (a path under input_data) and what it is."""
    loc: list[str | int] = ["input_data", *error.absolute_path]
    required = error.validator_value
    if error.validator == "required" and isinstance(required, list):
        missing = [
            p for p in required if isinstance(error.instance, dict) and p not in error.instance
        ]
        if missing:  # name the missing field itself, not its parent object
            loc.append(missing[0])
    return loc, error.message


def validate_input(workflow: Workflow, input_data: dict[str, Any]) -> None:
    problems: list[dict[str, Any]] = []
    for node in workflow.nodes:
        if not isinstance(node, InputNode) or not node.config.schema_:
            continue
        schema = node.config.schema_
        cls = validator_for(schema, default=Draft202012Validator)
        try:
            cls.check_schema(schema)
        except SchemaError as exc:
            raise InvalidInputError(
                f"the input schema of node {node.id!r} is not a valid JSON schema: {exc.message}",
                kind="invalid_workflow",
            ) from exc
        validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(input_data), key=lambda e: list(map(str, e.path)))
        for error in errors:
            loc, msg = _describe(error)
            problems.append({"loc": loc, "msg": msg, "node_id": node.id})
    if problems:
        detail = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in problems)
        raise InvalidInputError(
            f"input_data does not match the workflow's input schema: {detail}",
            extra={"errors": problems},
        )


async def create_execution(
    executions: ExecutionRepository,
    broker: NatsBroker,
    workflow: Workflow,
    input_data: dict[str, Any],
    owner_id: str,
) -> Execution:
    """The execution pins the version it runs (`workflow_version`) and belongs to the
    user who started it; the executor needs to know nothing about users."""
    validate_input(workflow, input_data)
    # Refuse before storing: an execution whose run cannot be requested would sit
    # "pending" forever.
    require_connected(broker.connection)
    execution = Execution(
        id=new_id(),
        workflow_id=workflow.id,
        workflow_version=workflow.version,
        owner_id=owner_id,
        status="pending",
        input_data=input_data,
        # the request's span: the run request, every executor step and every node run of
        # this execution join its trace, whichever process or message they come from
        trace_parent=tracing.current_traceparent(),
    )
    tracing.annotate_current({tracing.WORKFLOW_ID: workflow.id, tracing.EXECUTION_ID: execution.id})
    await executions.insert(execution)
    return execution


async def request_run(broker: NatsBroker, execution: Execution) -> None:
    # msg id = execution id: a retried request inside the duplicate window is one run.
    await send_command(
        broker,
        RunRequest(execution_id=execution.id, workflow_id=execution.workflow_id),
        subjects.RUN,
        msg_id=execution.id,
    )


async def execution_detail(node_runs: NodeRunRepository, execution: Execution) -> ExecutionDetail:
    runs = await node_runs.list(execution.id)
    return ExecutionDetail(**dict(execution), node_runs=runs)
