"""Shapes of /api/templates and GET /api/workflows/{id}/optimizations. The answers are
the planner's reply models (`pilot_shared.contracts.messages`); these are the requests,
and the examples the API docs show."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pilot_shared.contracts import UserPreferences

Language = Literal["en", "zh"]


class RecommendRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"prompt": "创建一个客户支持聊天机器人"},
                {"prompt": "Summarize each GitHub issue and email a digest", "limit": 5},
            ]
        },
    )

    prompt: str = Field(description="What the workflow should do, in English or Chinese")
    limit: int = Field(default=3, ge=1, le=20, description="How many templates to rank")


class InstantiateTemplateRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {},
                {
                    "prompt": "用 Slack 通知客服主管",
                    "user_preferences": {"complexity": "simple", "integrations": ["slack"]},
                },
            ]
        },
    )

    prompt: str = Field(
        default="",
        description="Optional specifics for the template (a model, a channel, a language), "
        "read as a generated workflow's prompt would be",
    )
    user_preferences: UserPreferences = Field(default_factory=UserPreferences)


def example(value: Any, description: str = "Successful Response") -> dict[int | str, Any]:
    return {200: {"description": description, "content": {"application/json": {"example": value}}}}


TEMPLATE_SUMMARY_EXAMPLE: dict[str, Any] = {
    "id": "customer_support",
    "name": "Customer support chatbot",
    "description": "Answers customer messages and routes unhappy customers to a human.",
    "tags": ["customer", "support", "chatbot", "help desk", "complaint", "refund"],
    "languages": ["en", "zh"],
    "node_types": ["condition", "input", "knowledge", "llm", "output", "tool"],
}
TEMPLATE_DETAIL_EXAMPLE: dict[str, Any] = {
    **TEMPLATE_SUMMARY_EXAMPLE,
    "nodes": [
        {"id": "input_1", "type": "input", "name": "Customer message", "config": {}},
        {
            "id": "llm_1",
            "type": "llm",
            "name": "Draft reply",
            "config": {"model": "gpt-4o-mini", "prompt": "{{ input.user_message }}"},
        },
        {
            "id": "condition_1",
            "type": "condition",
            "name": "Sentiment check",
            "config": {"mode": "llm_classify", "labels": ["negative"], "default_handle": "other"},
        },
        {"id": "output_1", "type": "output", "name": "Reply", "config": {}},
        {"id": "output_2", "type": "output", "name": "Escalate to a human", "config": {}},
    ],
    "connections": [
        {"source": "input_1", "target": "llm_1", "source_handle": None},
        {"source": "llm_1", "target": "condition_1", "source_handle": None},
        {"source": "condition_1", "target": "output_1", "source_handle": "other"},
        {"source": "condition_1", "target": "output_2", "source_handle": "negative"},
    ],
}
RECOMMENDATIONS_EXAMPLE: list[dict[str, Any]] = [
    {
        "template_id": "customer_support",
        "name": "客户支持聊天机器人",
        "score": 0.823,
        "reason": "提示中提到了客户支持、聊天机器人",
    },
    {
        "template_id": "rag_qa",
        "name": "知识库问答",
        "score": 0.012,
        "reason": "匹配度低：提示中没有用到它的关键词",
    },
]
OPTIMIZATIONS_EXAMPLE: list[dict[str, Any]] = [
    {
        "kind": "cheaper_model",
        "title": "Use gpt-4o-mini for Classify the ticket",
        "detail": "llm_1 does a simple task (llm) on gpt-4o; gpt-4o-mini does it well for "
        "about 17x less.",
        "node_ids": ["llm_1"],
        "patch": {"llm_1": {"config": {"model": "gpt-4o-mini"}}},
        "saving": "~17x cheaper per call",
    },
    {
        "kind": "add_retries",
        "title": "Retry Fetch orders on failure",
        "detail": "api_1 calls the network; a timeout or a 5xx fails the run. Retry up to 3 "
        "times with exponential backoff.",
        "node_ids": ["api_1"],
        "patch": {
            "api_1": {"retry": {"max_attempts": 3, "initial_delay_ms": 500, "multiplier": 2.0}}
        },
        "saving": "",
    },
]
