"""Shapes of the version endpoints (a version itself is the shared WorkflowVersion)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from pilot_shared.contracts import ChangeKind


class VersionSummary(BaseModel):
    version: int
    change: ChangeKind
    saved_by: str
    saved_at: datetime
    name: str
    nodes: int


class VersionList(BaseModel):
    items: list[VersionSummary]
    skip: int
    limit: int
    total: int
