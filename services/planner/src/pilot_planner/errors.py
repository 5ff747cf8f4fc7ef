"""Planner errors. Each one's message is safe to show to the user who sent the prompt."""

from __future__ import annotations


class PlanningError(ValueError):
    """A prompt that cannot be planned; retrying the same request will not help."""


class PromptRejected(PlanningError):
    """The prompt itself is unacceptable (empty, too long)."""


class LLMPlanError(PlanningError):
    """The LLM strategy produced nothing usable; the analyzer falls back to offline rules."""


class UnknownTemplate(PlanningError):
    """A template id that is not one of the built-in templates."""
