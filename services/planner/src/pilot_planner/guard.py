"""The prompt-size guard. The gateway checks too; the planner checks again because the
bus accepts requests from anything that can publish."""

from __future__ import annotations

from .errors import PromptRejected

MAX_PROMPT_CHARS = 20_000


def check_prompt(prompt: str) -> str:
    if not isinstance(prompt, str) or not prompt.strip():
        raise PromptRejected("the prompt is empty: describe the workflow you want")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise PromptRejected(
            f"the prompt is {len(prompt)} characters long; the limit is {MAX_PROMPT_CHARS}"
        )
    return prompt
