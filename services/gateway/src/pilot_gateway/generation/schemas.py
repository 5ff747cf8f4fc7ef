"""Shapes of POST /api/workflows/generate."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pilot_shared.contracts import UserPreferences, Workflow


class GenerateWorkflowRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "prompt": "创建一个客户支持聊天机器人",
                    "user_preferences": {
                        "complexity": "simple",
                        "integrations": ["slack", "email"],
                    },
                },
                {"prompt": "Summarize incoming emails and post the summary to Slack"},
            ]
        },
    )

    prompt: str = Field(description="What the workflow should do, in English or Chinese")
    user_preferences: UserPreferences = Field(default_factory=UserPreferences)
    planner: Literal["auto", "offline", "llm"] = Field(
        default="auto",
        description="auto: the LLM planner when an API key is configured, else offline rules",
    )


class GenerateWorkflowResponse(BaseModel):
    workflow_id: str
    workflow: Workflow
    generation_id: str = Field(description="Correlates the generation's events and logs")
