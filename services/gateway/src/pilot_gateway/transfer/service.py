"""Export and import of workflows as JSON or YAML."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from pilot_shared.contracts import Workflow, WorkflowCreate, utcnow

from ..auth.schemas import Caller
from ..errors import PilotError
from ..workflows import service as workflows
from ..workflows.store import WorkflowStore
from .schemas import ExportFormat, ExportSource, WorkflowExport

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")
JSON_TYPE = "application/json"
_EXPORT: TypeAdapter[WorkflowExport] = TypeAdapter(WorkflowExport)


class MalformedDocumentError(PilotError):
    status_code = 400
    kind = "malformed_document"


class UnsupportedMediaTypeError(PilotError):
    status_code = 415
    kind = "unsupported_media_type"


class InvalidImportError(PilotError):
    status_code = 422
    kind = "validation"


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without aliases: `*ref` can expand a small document into a huge one
    (a "billion laughs"), and workflows never need them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases (*name) are not accepted; write the value out")
        return super().compose_node(parent, index)


def export_document(workflow: Workflow) -> dict[str, Any]:
    export = WorkflowExport(
        **{name: getattr(workflow, name) for name in WorkflowCreate.model_fields},
        exported_from=ExportSource(
            workflow_id=workflow.id, version=workflow.version, exported_at=utcnow()
        ),
    )
    return export.model_dump(mode="json", by_alias=True)


def render(document: dict[str, Any], fmt: ExportFormat) -> tuple[str, str]:
    """(text, media type)."""
    if fmt is ExportFormat.yaml:
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True), YAML_TYPES[0]
    return json.dumps(document, ensure_ascii=False, indent=2), JSON_TYPE


def parse(body: bytes, content_type: str) -> Any:
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in (JSON_TYPE, *YAML_TYPES):
        raise UnsupportedMediaTypeError(
            f"send the workflow as {JSON_TYPE} or application/yaml, not {media or 'nothing'!r}"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedDocumentError("the document is not UTF-8 text") from None
    try:
        if media == JSON_TYPE:
            return json.loads(text)
        return yaml.load(text, Loader=_NoAliasLoader)
    except (ValueError, yaml.YAMLError) as exc:
        what = "JSON" if media == JSON_TYPE else "YAML"
        raise MalformedDocumentError(f"the document is not valid {what}: {exc}") from None


def validate(document: Any) -> WorkflowExport:
    # Strict, through JSON: "3" is not a version and `false` is not a number, whatever
    # lax parsing would make of them (YAML timestamps become ISO strings on the way).
    try:
        text = json.dumps(document, default=_iso)
    except (TypeError, ValueError) as exc:
        raise MalformedDocumentError(f"the document holds a value JSON cannot: {exc}") from None
    try:
        return _EXPORT.validate_json(text, strict=True)
    except ValidationError as exc:
        errors = [
            {"loc": ["body", *err["loc"]], "msg": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False)
        ]
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:10])
        raise InvalidImportError(
            f"the document is not a workflow: {detail}", extra={"errors": errors}
        ) from None


async def import_workflow(
    store: WorkflowStore, body: bytes, content_type: str, caller: Caller
) -> Workflow:
    export = validate(parse(body, content_type))
    create = WorkflowCreate(**{name: getattr(export, name) for name in WorkflowCreate.model_fields})
    return await workflows.create_workflow(store, create, caller, change="imported")
