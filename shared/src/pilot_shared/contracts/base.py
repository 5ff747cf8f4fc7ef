"""The one base model every wire contract derives from."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from pydantic import BaseModel, ConfigDict


class PilotModel(BaseModel):
    """Strict about unknown fields so that a typo in a config is an error, not a silent no-op."""

    model_config = ConfigDict(
        extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


class OpenModel(BaseModel):
    """For documents that later issues extend: unknown fields are kept, not rejected."""

    model_config = ConfigDict(
        extra="allow", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid4().hex
