"""Export a workflow as JSON or YAML; import one (a new workflow, owned by the importer)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from pilot_shared.contracts import Workflow

from ..deps import CallerDep, ViewableWorkflow, WorkflowStoreDep
from ..errors import COMMON_ERRORS, error_responses
from ..workflows.schemas import EXAMPLE_WORKFLOW
from . import service
from .schemas import ExportFormat, WorkflowExport

router = APIRouter(
    prefix="/api/workflows", tags=["import and export"], responses=error_responses(*COMMON_ERRORS)
)

_EXPORT_SCHEMA = {"$ref": "#/components/schemas/WorkflowExport"}
_YAML_EXAMPLE = """\
name: Customer support bot
nodes:
- id: input_1
  type: input
  config: {schema: {type: object, properties: {user_message: {type: string}}}}
- id: llm_1
  type: llm
  config: {prompt: 'Answer: {{ input.user_message }}'}
connections:
- {id: c1, source: input_1, target: llm_1}
"""


def _filename(name: str, fmt: ExportFormat) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:60] or "workflow"
    return f"{slug}.workflow.{fmt.value}"


@router.get(
    "/{workflow_id}/export",
    response_class=Response,
    response_model=WorkflowExport,
    responses={
        200: {
            "description": "The workflow as a document that POST /api/workflows/import takes",
            "content": {
                "application/json": {"schema": _EXPORT_SCHEMA},
                "application/yaml": {"schema": _EXPORT_SCHEMA},
            },
        },
        **error_responses(404),
    },
    summary="Export a workflow as JSON or YAML",
)
async def export_workflow(
    found: ViewableWorkflow,
    format: Annotated[ExportFormat, Query(description="`json` or `yaml`")] = ExportFormat.json,
) -> Response:
    text, media_type = service.render(service.export_document(found.workflow), format)
    filename = _filename(found.workflow.name, format)
    return Response(
        text,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _EXPORT_SCHEMA, "example": EXAMPLE_WORKFLOW},
            "application/yaml": {"schema": _EXPORT_SCHEMA, "example": _YAML_EXAMPLE},
        },
    }
}


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    response_model=Workflow,
    responses=error_responses(415),
    openapi_extra=_IMPORT_BODY,
    summary="Import a workflow from JSON or YAML",
)
async def import_workflow(request: Request, store: WorkflowStoreDep, caller: CallerDep) -> Workflow:
    """Takes what export produces (or any workflow JSON/YAML of the same shape). The graph
    is validated; the new workflow belongs to the caller."""
    return await service.import_workflow(
        store, await request.body(), request.headers.get("content-type", ""), caller
    )
