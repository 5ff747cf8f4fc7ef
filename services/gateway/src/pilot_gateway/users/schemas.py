"""Shapes of the user and API key endpoints. A key appears in exactly one response: the
one that created it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from pilot_shared.contracts import USERNAME_PATTERN, Role, User


class CreateUserRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"username": "alice"}]}
    )

    username: str = Field(pattern=USERNAME_PATTERN, description="Letters, digits, . _ -")
    role: Role = "user"


class CreatedUser(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "8c1d…",
                    "username": "alice",
                    "role": "user",
                    "created_at": "2025-01-01T00:00:00Z",
                    "api_key": "pilot_3f2a…_…",
                }
            ]
        }
    )

    id: str
    username: str
    role: Role
    created_at: datetime
    api_key: str = Field(description="Shown once: only its hash is stored")


class UserList(BaseModel):
    items: list[User]
    skip: int
    limit: int
    total: int


class CreateKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "ci"}]})

    name: str = Field(default="default", min_length=1, max_length=100)


class ApiKeyInfo(BaseModel):
    id: str = Field(description="The key's public id (its second part)")
    name: str
    created_at: datetime


class CreatedKey(ApiKeyInfo):
    api_key: str = Field(description="Shown once: only its hash is stored")
