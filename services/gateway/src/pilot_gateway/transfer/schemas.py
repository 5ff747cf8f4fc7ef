"""The exported form of a workflow: what `POST /api/workflows` accepts, plus where it came
from. No ids, owners or timestamps: an import is a new workflow of the importer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator

from pilot_shared.contracts import WorkflowCreate


class ExportFormat(StrEnum):
    json = "json"
    yaml = "yaml"


class ExportSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow_id: str
    version: int
    exported_at: datetime

    @field_validator("exported_at", mode="before")
    @classmethod
    def _a_timestamp_not_a_number(cls, value: object) -> object:
        # pydantic would read a number as seconds since 1970; the schema says date-time.
        # (Parsed here: after a before-validator, strict mode takes no strings.)
        if isinstance(value, str):
            return datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise ValueError("exported_at must be an ISO 8601 date-time")
        return value


class WorkflowExport(WorkflowCreate):
    exported_from: ExportSource | None = None
