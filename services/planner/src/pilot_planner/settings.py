"""Planner settings (prefix PILOT_)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pilot_shared.settings import PilotSettings


class PlannerSettings(PilotSettings):
    # "auto": the LLM planner when an API key is configured, else the offline rules.
    planner_strategy: Literal["auto", "offline", "llm"] = "auto"
    planner_llm_timeout_s: float = Field(default=20.0, gt=0, le=300)
    planner_llm_max_retries: int = Field(default=1, ge=0, le=5)
    # Times a wrong blueprint is sent back with its problems before falling back offline.
    planner_llm_repairs: int = Field(default=2, ge=0, le=5)
    # OpenAI, OpenRouter and vLLM accept json_schema; some local servers only json_object.
    planner_response_format: Literal["json_schema", "json_object"] = "json_schema"
    planner_concurrency: int = Field(default=8, ge=1, le=256)

    @classmethod
    def from_base(cls, settings: PilotSettings | None) -> PlannerSettings:
        """Accept the shared settings a launcher or test builds, keeping its values."""
        if settings is None:
            return cls()
        if isinstance(settings, cls):
            return settings
        return cls(**settings.model_dump())
