"""Shapes of the sharing endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from pilot_shared.contracts import ShareRole


class ShareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "editor"}]})

    role: ShareRole


class Share(BaseModel):
    user_id: str
    username: str
    role: ShareRole
    created_at: datetime


class ShareList(BaseModel):
    owner_id: str
    items: list[Share]
